"""ActivityRegularization."""

import math
import numbers

from fastdnn.layers.base import Layer


class ActivityRegularization(Layer):
    """The identity, adding l1·Σ|x| + l2·Σx² of its input to the loss, divided by the batch
    size as Keras 3 does (in fit and in evaluate; the loss gradient follows)."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        for name, value in [("l1", l1), ("l2", l2)]:
            if (not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value)
                    or value < 0):
                raise ValueError(f"ActivityRegularization: {name} must be a finite number >= 0; got {name}={value!r}")
        self.l1 = l1
        self.l2 = l2

    def _ops(self):
        return [{"kind": "activity_regularization", "l1": float(self.l1), "l2": float(self.l2)}]

    def get_config(self):
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}

"""GaussianNoise and GaussianDropout: regularization by random noise, in training only."""

import math
import numbers

from fastdnn import _random
from fastdnn.layers.base import Layer


class _NoiseLayer(Layer):
    """Draws its noise from `seed`, or from a seed drawn from the global generator when the
    layer is created (so fastdnn.utils.set_random_seed makes it reproducible). The draws are
    keyed by that seed, the optimizer step and the element, as Dropout's masks: the same on
    any thread count."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0):
            raise ValueError(f"{type(self).__name__}: seed must be None or an int >= 0; got seed={seed!r}")
        self.seed = seed
        self._engine_seed = int(seed) if seed is not None else _random.draw_seed()


def _fraction(value, name, allow_one):
    if (not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value)
            or not 0 <= value <= 1 or (value == 1 and not allow_one)):
        raise ValueError(f"Invalid value received for argument `{name}`. Expected a float value between 0 and 1"
                         f"{'' if allow_one else ' (fastdnn refuses 1, an infinite noise)'}. Received: {name}={value!r}")
    return float(value)


class GaussianNoise(_NoiseLayer):
    """In training adds N(0, stddev²) noise to every input: y = x + stddev·z; the identity
    at inference. stddev in [0, 1], as Keras requires."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.stddev = _fraction(stddev, "stddev", allow_one=True)

    def _ops(self):
        return [{"kind": "gaussian_noise", "stddev": self.stddev, "seed": self._engine_seed}]

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_NoiseLayer):
    """In training multiplies every input by 1 + √(rate/(1 − rate))·z, z ~ N(0, 1) (noise of
    mean 1); the identity at inference. rate in [0, 1); Keras takes 1 and then returns NaN."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _fraction(rate, "rate", allow_one=False)

    def _ops(self):
        return [{"kind": "gaussian_dropout", "rate": self.rate, "seed": self._engine_seed}]

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}

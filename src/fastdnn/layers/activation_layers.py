"""Activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax and RReLU."""

import warnings

import numpy as np

from fastdnn import _random
from fastdnn import constraints as constraints_module
from fastdnn import initializers as initializers_module
from fastdnn import regularizers as regularizers_module
from fastdnn.layers.base import Layer, weight_spec
from fastdnn.layers.core import _engine_regularizer, add_constraints, engine_constraint


class _ActivationLayer(Layer):
    """A layer that is one engine activation op; usable as Dense(..., activation=layer)."""

    def _activation_op(self):
        raise NotImplementedError

    def _ops(self):
        return [self._activation_op()]


class ReLU(_ActivationLayer):
    """y = x for x ≥ threshold (clipped at max_value), negative_slope·(x − threshold) below (Keras' ReLU)."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError(f"max_value of a ReLU layer cannot be a negative value. Received: {max_value}")
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"negative_slope of a ReLU layer cannot be a negative value. Received: {negative_slope}")
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope = float(negative_slope)
        self.threshold = float(threshold)

    def _activation_op(self):
        op = {"kind": "activation", "activation": "relu", "negative_slope": self.negative_slope,
              "threshold": self.threshold}
        if self.max_value is not None:
            op["max_value"] = self.max_value
        return op

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(_ActivationLayer):
    """y = x for x > 0, negative_slope·x below. Keras 3's default slope is 0.3 (the
    function activations.leaky_relu uses 0.2). Keras 2's `alpha=` is accepted with a warning."""

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.", DeprecationWarning, stacklevel=2)
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"The negative_slope value of a Leaky ReLU layer cannot be None or negative. Received: {negative_slope}")
        self.negative_slope = float(negative_slope)

    def _activation_op(self):
        return {"kind": "activation", "activation": "leaky_relu", "negative_slope": self.negative_slope}

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(_ActivationLayer):
    """y = x for x > 0, alpha·(eˣ − 1) below."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def _activation_op(self):
        return {"kind": "activation", "activation": "elu", "alpha": self.alpha}

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(_ActivationLayer):
    """Softmax over the last axis."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if axis not in (-1, 1):
            raise ValueError(f"fastdnn applies softmax over the features (axis=-1); got axis={axis}")
        self.axis = -1

    def _activation_op(self):
        return {"kind": "activation", "activation": "softmax"}

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class PReLU(Layer):
    """y = x for x > 0, α·x below, with α learned per feature (Keras starts it at zero:
    alpha_initializer='zeros'). shared_axes=[1] shares one α across the features."""

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers_module.get(alpha_initializer)
        self.alpha_regularizer = _engine_regularizer(alpha_regularizer)
        self.alpha_constraint = engine_constraint(alpha_constraint, 1, "alpha_constraint")
        shared = [] if shared_axes is None else list(np.atleast_1d(shared_axes))
        if any(a not in (1, -1) for a in shared):
            raise ValueError(f"fastdnn's PReLU can share alpha over the feature axis only; got shared_axes={shared_axes}")
        self.shared_axes = shared_axes
        self._shared = bool(shared)

    def _weight_specs(self, input_shape):
        shape = (1,) if self._shared else (input_shape[-1],)
        return [weight_spec("alpha", shape, self.alpha_initializer, True, self.alpha_regularizer)]

    def _ops(self):
        op = {"kind": "prelu", "shared_alpha": self._shared, "trainable": self.trainable}
        if self.alpha_regularizer is not None:
            op["alpha_l1"], op["alpha_l2"] = float(self.alpha_regularizer.l1), float(self.alpha_regularizer.l2)
        add_constraints(op, alpha=(self.alpha_constraint, 1))
        return [op]

    @property
    def alpha(self):
        return self._weights[0] if self.built else None

    def get_config(self):
        return {
            **super().get_config(),
            "alpha_initializer": initializers_module.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers_module.serialize(self.alpha_regularizer) if self.alpha_regularizer else None,
            "alpha_constraint": constraints_module.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        }


class RReLU(Layer):
    """Randomized leaky ReLU (Xu et al. 2015; not in Keras, so PyTorch's definition):
    in training the slope of each negative input is drawn from U[lower, upper];
    at inference it is (lower + upper)/2. Defaults 1/8 and 1/3, as PyTorch."""

    def __init__(self, lower=1.0 / 8.0, upper=1.0 / 3.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not lower <= upper:
            raise ValueError(f"RReLU needs lower <= upper; got lower={lower}, upper={upper}")
        self.lower, self.upper, self.seed = float(lower), float(upper), seed
        self._engine_seed = int(seed) if seed is not None else _random.draw_seed()

    def _ops(self):
        return [{"kind": "rrelu", "lower": self.lower, "upper": self.upper, "seed": self._engine_seed}]

    def get_config(self):
        return {**super().get_config(), "lower": self.lower, "upper": self.upper, "seed": self.seed}

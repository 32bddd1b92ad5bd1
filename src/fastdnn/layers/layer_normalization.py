"""LayerNormalization."""

import numbers
import warnings

from fastdnn import constraints as constraints_module
from fastdnn import initializers as initializers_module
from fastdnn import regularizers as regularizers_module
from fastdnn.layers.base import Layer, weight_spec
from fastdnn.layers.core import _engine_regularizer, add_constraints, engine_constraint


class LayerNormalization(Layer):
    """Normalizes each sample over its features: y = γ·(x − μ)/√(σ² + ε) + β, with μ and σ²
    (biased) the sample's own mean and variance; the same in training and inference.

    Keras 3's defaults: epsilon 1e-3, center and scale on; weights gamma, beta (trainable),
    with L1/L2 regularizers and the built-in constraints (applied by the engine after every
    optimizer step). `rms_scaling=True` (deprecated in Keras, with its warning) is Keras'
    y = γ·x/√(σ² + ε), without beta. Only axis=-1 of (batch, features) inputs.
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        rms_scaling = kwargs.pop("rms_scaling", False)
        if rms_scaling:
            warnings.warn("You passed `rms_scaling=True`, which is deprecated. This argument incorrectly scales the "
                          "input by the variance, not the root mean square. To correctly use RMS Normalization, "
                          "please use `keras.layers.RMSNormalization` instead.")
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            axes = list(axis)
        elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
            axes = [axis]
        else:
            raise TypeError("Expected an int or a list/tuple of ints for the argument 'axis', but received: %r" % (axis,))
        if axes not in ([-1], [1]):
            raise NotImplementedError(f"LayerNormalization in fastdnn normalizes the feature axis of (batch, features) "
                                      f"data only (axis=-1); got axis={axis!r}")
        if not (isinstance(epsilon, numbers.Real) and epsilon > 0):
            raise ValueError(f"LayerNormalization: epsilon must be a number > 0; got epsilon={epsilon!r}")
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.rms_scaling = bool(rms_scaling)
        self.beta_initializer = initializers_module.get(beta_initializer)
        self.gamma_initializer = initializers_module.get(gamma_initializer)
        self.beta_regularizer = _engine_regularizer(beta_regularizer)
        self.gamma_regularizer = _engine_regularizer(gamma_regularizer)
        self.beta_constraint = engine_constraint(beta_constraint, 1, "beta_constraint")
        self.gamma_constraint = engine_constraint(gamma_constraint, 1, "gamma_constraint")

    def build(self, input_shape):
        if len(tuple(input_shape)) != 2:
            raise NotImplementedError(f"LayerNormalization in fastdnn takes (batch, features) inputs; got input shape "
                                      f"{tuple(input_shape)}")
        super().build(input_shape)

    def _weight_specs(self, input_shape):
        features = (input_shape[-1],)
        specs = []
        if self.scale or self.rms_scaling:
            specs.append(weight_spec("gamma", features, self.gamma_initializer, True, self.gamma_regularizer))
        if self.center and not self.rms_scaling:
            specs.append(weight_spec("beta", features, self.beta_initializer, True, self.beta_regularizer))
        return specs

    def _ops(self):
        op = {"kind": "layer_normalization", "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
              "rms_scaling": self.rms_scaling, "trainable": self.trainable}
        for prefix, reg in [("gamma", self.gamma_regularizer), ("beta", self.beta_regularizer)]:
            if reg is not None:
                op[f"{prefix}_l1"], op[f"{prefix}_l2"] = float(reg.l1), float(reg.l2)
        # Only the weights the layer has (as _weight_specs) carry a constraint to the engine.
        has_gamma, has_beta = self.scale or self.rms_scaling, self.center and not self.rms_scaling
        add_constraints(op, gamma=(self.gamma_constraint if has_gamma else None, 1),
                        beta=(self.beta_constraint if has_beta else None, 1))
        return [op]

    def _named(self, name):
        return next((w for w in self._weights if w.name == name), None)

    gamma = property(lambda self: self._named("gamma"))
    beta = property(lambda self: self._named("beta"))

    def get_config(self):
        serialize_reg = lambda r: regularizers_module.serialize(r) if r is not None else None  # noqa: E731
        return {
            **super().get_config(),
            "axis": self.axis, "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            "beta_initializer": initializers_module.serialize(self.beta_initializer),
            "gamma_initializer": initializers_module.serialize(self.gamma_initializer),
            "beta_regularizer": serialize_reg(self.beta_regularizer),
            "gamma_regularizer": serialize_reg(self.gamma_regularizer),
            "beta_constraint": constraints_module.serialize(self.beta_constraint),
            "gamma_constraint": constraints_module.serialize(self.gamma_constraint),
        }

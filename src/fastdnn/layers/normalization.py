"""BatchNormalization."""

from fastdnn import constraints as constraints_module
from fastdnn import initializers as initializers_module
from fastdnn.layers.base import Layer, weight_spec
from fastdnn.layers.core import add_constraints, engine_constraint


class BatchNormalization(Layer):
    """Normalizes each feature over the batch: y = γ·(x − μ)/√(σ² + ε) + β.

    Keras 3's defaults and rules: momentum 0.99, epsilon 1e-3; in training μ, σ²
    are the batch mean and biased variance and the moving statistics move by
    moving·momentum + batch·(1 − momentum); at inference they are used instead.
    A layer with trainable=False runs in inference mode even inside fit(), as
    in Keras. Weights: gamma, beta, moving_mean, moving_variance. Only axis=-1
    (the features of a dense network) is supported; beta/gamma regularizers
    are not. beta_constraint / gamma_constraint take the built-in constraints.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        if axis not in (-1, 1, [-1], [1], (-1,), (1,)):
            raise ValueError(f"fastdnn normalizes the feature axis of (batch, features) data only; got axis={axis!r}")
        if not 0.0 <= float(momentum) <= 1.0:
            raise ValueError(f"momentum must be in [0, 1]; got momentum={momentum}")
        if not float(epsilon) > 0.0:
            raise ValueError(f"epsilon must be > 0; got epsilon={epsilon}")
        for arg, value in [("beta_regularizer", beta_regularizer), ("gamma_regularizer", gamma_regularizer)]:
            if value is not None:
                raise NotImplementedError(f"BatchNormalization: {arg} is not supported by fastdnn")
        self.axis = -1
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers_module.get(beta_initializer)
        self.gamma_initializer = initializers_module.get(gamma_initializer)
        self.moving_mean_initializer = initializers_module.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers_module.get(moving_variance_initializer)
        self.synchronized = synchronized
        self.beta_constraint = engine_constraint(beta_constraint, 1, "beta_constraint")
        self.gamma_constraint = engine_constraint(gamma_constraint, 1, "gamma_constraint")

    def _weight_specs(self, input_shape):
        features = (input_shape[-1],)
        specs = []
        if self.scale:
            specs.append(weight_spec("gamma", features, self.gamma_initializer))
        if self.center:
            specs.append(weight_spec("beta", features, self.beta_initializer))
        specs.append(weight_spec("moving_mean", features, self.moving_mean_initializer, trainable=False))
        specs.append(weight_spec("moving_variance", features, self.moving_variance_initializer, trainable=False))
        return specs

    def _ops(self):
        op = {"kind": "batch_normalization", "momentum": self.momentum, "epsilon": self.epsilon,
              "center": self.center, "scale": self.scale, "trainable": self.trainable}
        add_constraints(op, gamma=(self.gamma_constraint if self.scale else None, 1),
                        beta=(self.beta_constraint if self.center else None, 1))
        return [op]

    def _named(self, name):
        return next((w for w in self._weights if w.name == name), None)

    gamma = property(lambda self: self._named("gamma"))
    beta = property(lambda self: self._named("beta"))
    moving_mean = property(lambda self: self._named("moving_mean"))
    moving_variance = property(lambda self: self._named("moving_variance"))

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
            "center": self.center, "scale": self.scale,
            "beta_initializer": initializers_module.serialize(self.beta_initializer),
            "gamma_initializer": initializers_module.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers_module.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers_module.serialize(self.moving_variance_initializer),
            "beta_constraint": constraints_module.serialize(self.beta_constraint),
            "gamma_constraint": constraints_module.serialize(self.gamma_constraint),
        }


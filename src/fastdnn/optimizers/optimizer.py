"""Optimizers with Keras 3's names, arguments, defaults and update rules.

An optimizer object holds its settings and learning rate; the update itself
runs in the engine, which also keeps the optimizer's state (moments,
accumulators, iterations) next to the weights.

fastdnn departs from Keras 3 on purpose in one place: Keras 2's `lr=` and
`decay=` are accepted (with a DeprecationWarning) because the tutorials use
them; `decay` applies Keras 2's time-based decay lr / (1 + decay·iterations)
at every step.
"""

import numbers
import warnings

import numpy as np


class _LearningRate(float):
    """The current learning rate: a float that also has Keras variables' assign() and numpy()."""

    def __new__(cls, value, optimizer):
        obj = super().__new__(cls, value)
        obj._optimizer = optimizer
        return obj

    def assign(self, value):
        self._optimizer.learning_rate = value

    def numpy(self):
        return np.float32(self)


class Optimizer:
    """Base class: learning_rate (a float, a LearningRateSchedule or a callable),
    weight_decay, clipnorm, clipvalue, global_clipnorm. use_ema, loss_scale_factor
    and gradient_accumulation_steps are not supported."""

    _kind = None  # the engine's name

    def __init__(self, learning_rate, name, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, **kwargs):
        if "lr" in kwargs:
            warnings.warn("The `lr` argument is deprecated, use `learning_rate` instead.", DeprecationWarning, stacklevel=3)
            learning_rate = kwargs.pop("lr")
        decay = kwargs.pop("decay", 0.0) or 0.0
        if decay:
            warnings.warn(
                "The `decay` argument is Keras 2's; fastdnn applies it as Keras 2 did: "
                "lr / (1 + decay * iterations). In Keras 3 use a LearningRateSchedule "
                "(e.g. optimizers.schedules.InverseTimeDecay).", DeprecationWarning, stacklevel=3)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if use_ema or loss_scale_factor is not None or gradient_accumulation_steps is not None:
            raise NotImplementedError(
                "fastdnn's optimizers do not support use_ema, loss_scale_factor or gradient_accumulation_steps")
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError("Only one of `clipnorm` and `global_clipnorm` can be set. "
                             f"Received: clipnorm={clipnorm}, global_clipnorm={global_clipnorm}")
        self.name = name
        self.weight_decay = _non_negative("weight_decay", weight_decay)
        self.clipnorm = _non_negative("clipnorm", clipnorm)
        self.clipvalue = _non_negative("clipvalue", clipvalue)
        self.global_clipnorm = _non_negative("global_clipnorm", global_clipnorm)
        self.decay = _non_negative("decay", decay)
        self._network = None  # the engine network whose weights this optimizer updates
        self._iterations = 0
        self.learning_rate = learning_rate

    # --- the learning rate ------------------------------------------------------
    @property
    def learning_rate(self):
        """The learning rate of the next step (a schedule is evaluated at `iterations`)."""
        return _LearningRate(float(self._learning_rates(self.iterations, 1)[0]), self)

    @learning_rate.setter
    def learning_rate(self, value):
        from fastdnn.optimizers.schedules import LearningRateSchedule

        if getattr(self, "_schedule", None) is not None and not isinstance(value, LearningRateSchedule):
            raise TypeError("This optimizer was created with a `LearningRateSchedule` object as its "
                            "`learning_rate` constructor argument, hence its learning rate is not settable.")
        if isinstance(value, LearningRateSchedule) or (callable(value) and not isinstance(value, numbers.Real)):
            self._schedule, self._learning_rate = value, None
            return
        if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
            raise TypeError(f"learning_rate must be a number or a LearningRateSchedule; got {value!r}")
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"learning_rate must be a finite number >= 0; got {value}")
        self._schedule, self._learning_rate = None, float(value)

    lr = learning_rate  # Keras 2's name

    def _learning_rates(self, first_step, count):
        """float32 learning rates for optimizer steps first_step, ..., first_step + count − 1."""
        from fastdnn.optimizers.schedules import LearningRateSchedule, learning_rates

        steps = np.arange(first_step, first_step + count, dtype=np.int64)
        if isinstance(self._schedule, LearningRateSchedule):
            rates = learning_rates(self._schedule, steps)
        elif self._schedule is not None:  # a callable taking no arguments, as Keras allows
            rates = np.full(count, float(self._schedule()))
        else:
            rates = np.full(count, self._learning_rate)
        if self.decay:
            rates = rates / (1.0 + self.decay * steps)
        return rates.astype(np.float32)

    # --- state ---------------------------------------------------------------------
    @property
    def iterations(self):
        """Steps taken (Keras' optimizer.iterations)."""
        return int(self._network.iterations) if self._network is not None else self._iterations

    @iterations.setter
    def iterations(self, value):
        if self._network is not None:
            self._network.iterations = int(value)
        self._iterations = int(value)

    def _attach(self, network):
        if self._network is None and self._iterations:
            network.iterations = self._iterations
        self._network = network

    # --- engine and config -----------------------------------------------------
    def _hyper(self):
        """The optimizer-specific settings, by their Keras names."""
        return {}

    def _engine_spec(self):
        spec = {"kind": self._kind, **self._hyper()}
        for key in ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm"):
            value = getattr(self, key)
            if value is not None:
                spec[key] = value
        return spec

    def get_config(self):
        from fastdnn.optimizers import schedules

        lr = schedules.serialize(self._schedule) if self._schedule is not None else self._learning_rate
        config = {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                  "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                  "clipvalue": self.clipvalue, **self._hyper()}
        if self.decay:
            config["decay"] = self.decay
        return config

    @classmethod
    def from_config(cls, config):
        from fastdnn.optimizers import schedules

        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        with warnings.catch_warnings():  # a saved `decay` was warned about when it was set
            warnings.simplefilter("ignore", DeprecationWarning)
            return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, learning_rate={float(self.learning_rate):g}>"


def _non_negative(name, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)) or not np.isfinite(value) or value < 0:
        raise ValueError(f"`{name}` must be a finite number >= 0. Received: {name}={value!r}")
    return float(value)


def _in_unit(name, value, closed=True):
    ok = 0 <= value <= 1 if closed else 0 <= value < 1
    if not ok:
        raise ValueError(f"`{name}` must be in [0, 1{']' if closed else ')'}. Received: {name}={value}")
    return float(value)


class SGD(Optimizer):
    """Gradient descent with momentum: m ← μ·m − lr·g; w ← w + m (nesterov: w ← w + μ·m − lr·g)."""

    _kind = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name="SGD", **kwargs):
        if not isinstance(momentum, numbers.Real) or not 0 <= momentum <= 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm, **kwargs)

    def _hyper(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam with Keras' ε placement: w −= lr·√(1−β₂ᵗ)/(1−β₁ᵗ)·m/(√v + ε)."""

    _kind = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name="adam", **kwargs):
        self.beta_1, self.beta_2 = _in_unit("beta_1", beta_1, False), _in_unit("beta_2", beta_2, False)
        self.epsilon, self.amsgrad = _non_negative("epsilon", epsilon), bool(amsgrad)
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm, **kwargs)

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay w ← w − w·weight_decay·lr (Keras' default 0.004)."""

    _kind = "adamw"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None, name="adamw", **kwargs):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, name, **kwargs)


class RMSprop(Optimizer):
    """v ← ρv + (1−ρ)g²; w −= lr·g/√(v + ε) (centered: v − ḡ²; with momentum)."""

    _kind = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name="rmsprop", **kwargs):
        self.rho, self.momentum = _in_unit("rho", rho), _in_unit("momentum", momentum)
        self.epsilon, self.centered = _non_negative("epsilon", epsilon), bool(centered)
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm, **kwargs)

    def _hyper(self):
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """a += g²; w −= lr·g/√(a + ε), with a starting at initial_accumulator_value (0.1)."""

    _kind = "adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="adagrad", **kwargs):
        self.initial_accumulator_value = _non_negative("initial_accumulator_value", initial_accumulator_value)
        self.epsilon = _non_negative("epsilon", epsilon)
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm, **kwargs)

    def _hyper(self):
        return {"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta; Keras' default learning rate is 0.001 (the paper's method is learning_rate=1.0)."""

    _kind = "adadelta"

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name="adadelta", **kwargs):
        self.rho, self.epsilon = _in_unit("rho", rho), _non_negative("epsilon", epsilon)
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm, **kwargs)

    def _hyper(self):
        return {"rho": self.rho, "epsilon": self.epsilon}


class Adamax(Optimizer):
    """Adam with the infinity norm: u ← max(β₂u, |g|); w −= lr·m/((1−β₁ᵗ)(u + ε))."""

    _kind = "adamax"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="adamax", **kwargs):
        self.beta_1, self.beta_2 = _in_unit("beta_1", beta_1, False), _in_unit("beta_2", beta_2, False)
        self.epsilon = _non_negative("epsilon", epsilon)
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm, **kwargs)

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Nadam(Adamax):
    """Adam with Nesterov momentum and Keras' momentum schedule μₜ = β₁(1 − ½·0.96ᵗ)."""

    _kind = "nadam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="nadam", **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, name, **kwargs)


_BY_NAME = {cls.__name__.lower(): cls for cls in [SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam]}


def get(identifier):
    """An optimizer for a name ('sgd', 'Adam', ... case-insensitive), a config dict or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer '{identifier}'; known: {', '.join(sorted(_BY_NAME))}")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")


def serialize(optimizer):
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config):
    cls = _BY_NAME.get(str(config.get("class_name", "")).lower())
    if cls is None:
        raise ValueError(f"Unknown optimizer {config.get('class_name')!r}; known: {', '.join(sorted(_BY_NAME))}")
    return cls.from_config(config.get("config", {}))

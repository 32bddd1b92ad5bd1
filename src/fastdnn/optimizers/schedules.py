"""Learning-rate schedules, as keras.optimizers.schedules (Keras 3).

A schedule maps the optimizer step (iterations done so far, counted from 0, so
the first update uses step 0) to a learning rate. `schedule(step)` takes an int
and returns a float, or takes a 1-D NumPy array of steps and returns a float64
array: the training loop asks for a whole epoch's learning rates in one call
(`learning_rates` does that for any schedule, including a user's).

Formulas (lr0 = initial_learning_rate, s = step):
- ExponentialDecay:   lr0 · decay_rate^(s/decay_steps)
- InverseTimeDecay:   lr0 / (1 + decay_rate · s/decay_steps)
  (with staircase=True, s/decay_steps is floored in both)
- PiecewiseConstantDecay: values[0] for s <= boundaries[0], values[i] for
  boundaries[i-1] < s <= boundaries[i], values[-1] for s > boundaries[-1]
- PolynomialDecay:    (lr0 − end) · (1 − s/decay_steps)^power + end, s capped at decay_steps
  (cycle=True: decay_steps is stretched to the first multiple of itself >= s)
- CosineDecay:        lr0 · ((1 − alpha) · ½(1 + cos(π · min(s, decay_steps)/decay_steps)) + alpha),
  after an optional linear warmup from lr0 to warmup_target over warmup_steps
  (the decay then starts from warmup_target)
- CosineDecayRestarts: cosine decay over first_decay_steps, restarted with periods
  multiplied by t_mul and peaks by m_mul (SGDR)

Computed in float64 (Keras uses the dtype of initial_learning_rate, float32 for a
Python float). Deliberate difference: PiecewiseConstantDecay refuses boundaries
that are not strictly increasing, which Keras documents but does not check.
"""

import math

import numpy as np

from fastdnn import _serialization


def _steps(step):
    return np.asarray(step, dtype=np.float64)


def _result(values):
    """A float for a scalar step, a float64 array for an array of steps."""
    values = np.asarray(values, dtype=np.float64)
    return float(values) if values.ndim == 0 else values


def _check_positive(value, name):
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


class LearningRateSchedule:
    """Base class: subclasses implement `__call__(step)` and `get_config()`."""

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` in order to be serializable."
        )

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class _StepDecay(LearningRateSchedule):
    """What ExponentialDecay and InverseTimeDecay share: progress p = step/decay_steps,
    floored when staircase=True."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
        _check_positive(decay_steps, "decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name or type(self).__name__

    def _progress(self, step):
        p = _steps(step) / self.decay_steps
        return np.floor(p) if self.staircase else p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_StepDecay):
    """lr0 · decay_rate^(step/decay_steps); staircase=True floors step/decay_steps."""

    def __call__(self, step):
        return _result(self.initial_learning_rate * np.power(float(self.decay_rate), self._progress(step)))


class InverseTimeDecay(_StepDecay):
    """lr0 / (1 + decay_rate · step/decay_steps); staircase=True floors step/decay_steps."""

    def __call__(self, step):
        return _result(self.initial_learning_rate / (1.0 + self.decay_rate * self._progress(step)))


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[i] on the i-th interval of steps; a boundary step belongs to the interval it ends.

    boundaries=[100, 110], values=[1.0, 0.5, 0.1]: 1.0 for steps 0..100, 0.5 for 101..110, then 0.1.
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, "
                f"and values={values} of length {len(values)}."
            )
        if any(b >= c for b, c in zip(boundaries[:-1], boundaries[1:])):
            raise ValueError(f"`boundaries` must be strictly increasing. Received: boundaries={boundaries}")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        # side="left" gives i with boundaries[i-1] < step <= boundaries[i].
        index = np.searchsorted(np.asarray(self.boundaries, dtype=np.float64), _steps(step), side="left")
        return _result(np.asarray(self.values, dtype=np.float64)[index])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """(lr0 − end_learning_rate) · (1 − step/decay_steps)^power + end_learning_rate.

    Defaults end_learning_rate=0.0001, power=1.0, cycle=False. Without cycle the step
    is capped at decay_steps; with cycle, decay_steps becomes decay_steps·ceil(step/decay_steps)
    (·1 at step 0).
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                 name="PolynomialDecay"):
        _check_positive(decay_steps, "decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        s = _steps(step)
        if self.cycle:
            decay_steps = self.decay_steps * np.where(s == 0, 1.0, np.ceil(s / self.decay_steps))
        else:
            decay_steps = float(self.decay_steps)
            s = np.minimum(s, decay_steps)
        span = self.initial_learning_rate - self.end_learning_rate
        return _result(span * np.power(1.0 - s / decay_steps, self.power) + self.end_learning_rate)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


def _cosine(fraction, alpha):
    """(1 − alpha) · ½(1 + cos(π · fraction)) + alpha: 1 at fraction 0, alpha at fraction 1."""
    return (1.0 - alpha) * 0.5 * (1.0 + np.cos(math.pi * fraction)) + alpha


class CosineDecay(LearningRateSchedule):
    """Cosine decay from lr0 (or warmup_target) to alpha times it over decay_steps, then constant.

    Defaults alpha=0.0, warmup_target=None (no warmup), warmup_steps=0. With a
    warmup_target, steps < warmup_steps rise linearly:
    lr0 + (warmup_target − lr0) · step/warmup_steps; the decay then runs on
    step − warmup_steps from warmup_target.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None,
                 warmup_steps=0):
        _check_positive(decay_steps, "decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        s = _steps(step)
        if self.warmup_target is None:
            s = np.minimum(s, self.decay_steps)
            return _result(self.initial_learning_rate * _cosine(s / self.decay_steps, self.alpha))
        s = np.minimum(s, self.decay_steps + self.warmup_steps)
        lr0, target = self.initial_learning_rate, self.warmup_target
        warmup = lr0 + (target - lr0) * s / max(self.warmup_steps, 1)  # unused when warmup_steps == 0
        decay = target * _cosine((s - self.warmup_steps) / self.decay_steps, self.alpha)
        return _result(np.where(s < self.warmup_steps, warmup, decay))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR). Defaults t_mul=2.0, m_mul=1.0, alpha=0.0.

    Period i lasts first_decay_steps · t_mul^i steps and decays
    lr0 · ((1 − alpha) · m_mul^i · ½(1 + cos(π · fraction of the period)) + alpha).
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, name="SGDRDecay"):
        _check_positive(first_decay_steps, "first_decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self.t_mul = t_mul
        self.m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        fraction = _steps(step) / self.first_decay_steps  # in units of the first period
        if self.t_mul == 1.0:
            restart = np.floor(fraction)
            fraction = fraction - restart
        else:
            # Periods 1, t, t², ... end at (1 − t^k)/(1 − t): invert that geometric sum.
            t = self.t_mul
            restart = np.floor(np.log(1.0 - fraction * (1.0 - t)) / math.log(t))
            elapsed = (1.0 - t**restart) / (1.0 - t)
            fraction = (fraction - elapsed) / t**restart
        peak = self.m_mul**restart
        decayed = (1.0 - self.alpha) * peak * 0.5 * (1.0 + np.cos(math.pi * fraction)) + self.alpha
        return _result(self.initial_learning_rate * decayed)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "first_decay_steps": self.first_decay_steps,
                "t_mul": self.t_mul, "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


_CLASSES = [ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, PolynomialDecay, CosineDecay,
            CosineDecayRestarts]
_BY_NAME = {cls.__name__: cls for cls in _CLASSES}


def learning_rates(schedule, steps):
    """The float64 learning rates of `schedule` at the 1-D integer array `steps`.

    Tries one vectorized call; a user's schedule that only handles a single step
    (an `if step < 10:`, say) is called once per step instead.
    """
    steps = np.asarray(steps, dtype=np.int64)
    try:
        rates = np.asarray(schedule(steps), dtype=np.float64)
        if rates.shape == steps.shape:
            return rates
    except Exception:  # any failure means "not vectorizable": the per-step calls below decide
        pass
    return np.array([float(schedule(int(s))) for s in steps], dtype=np.float64)


def serialize(learning_rate_schedule):
    """Keras 3's form: {'module': 'keras.optimizers.schedules', 'class_name', 'config', 'registered_name'}."""
    return _serialization.serialize(learning_rate_schedule, "keras.optimizers.schedules", LearningRateSchedule)


def deserialize(config):
    """A schedule from serialize()'s dict (or {'class_name', 'config'})."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret learning rate schedule config: {config}")
    name = config["class_name"]
    if name not in _BY_NAME:
        raise ValueError(f"Unknown learning rate schedule: '{name}'. Known schedules: {sorted(_BY_NAME)}")
    return _BY_NAME[name].from_config(config.get("config") or {})

from fastdnn import _missing  # noqa: E402
__getattr__, __dir__ = _missing.hooks(globals(), hidden={"learning_rates"})

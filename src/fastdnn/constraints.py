"""Weight constraints, as keras.constraints (Keras 3).

A constraint projects a weight after every optimizer step (Keras:
`variable.assign(constraint(variable))` after `apply_gradients`). With ν the
L2 norm of `w` over `axis` (axis=0: for a Dense kernel (in, units), one norm per
unit, over its incoming weights) and ε = 1e-7 (backend.epsilon()):

- `MaxNorm(max_value=2, axis=0)`:  w · clip(ν, 0, max_value) / (ε + ν)
- `NonNeg()`:                      max(w, 0)
- `UnitNorm(axis=0)`:              w / (ε + ν)
- `MinMaxNorm(min_value=0.0, max_value=1.0, rate=1.0, axis=0)`:
                                   w · (rate · clip(ν, min_value, max_value) + (1 − rate) · ν) / (ε + ν)

Layers take them as `kernel_constraint` / `bias_constraint` (Dense),
`gamma_constraint` / `beta_constraint` (BatchNormalization, LayerNormalization) and
`alpha_constraint` (PReLU); the engine applies them in C++ after each step.
Calling a constraint on a NumPy array applies its formula there.

Differences from Keras: settings Keras would accept but cannot mean anything
(a negative max_value, min_value > max_value, rate outside [0, 1], an axis that
is not an int or a list of ints) raise ValueError when the constraint is made,
and an axis outside a weight's dimensions raises when a layer is given it
(Keras fails at the first training step). A user subclass that overrides
`__call__` cannot run inside the engine: a layer refuses it with a ValueError
naming the class (rather than ignoring it).
"""

import numbers as _numbers

import numpy as _np

from fastdnn import _serialization

_EPSILON = 1e-7  # Keras' backend.epsilon()


class Constraint:
    """Base class: a stateless projection `__call__(w)`; the base returns w unchanged."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _check_number(value, name, low=0.0, high=None):
    if (not isinstance(value, _numbers.Real) or isinstance(value, (bool, _np.bool_))
            or not _np.isfinite(value) or value < low or (high is not None and value > high)):
        expected = f"a number in [{low}, {high}]" if high is not None else f"a finite number >= {low}"
        raise ValueError(f"Invalid value for argument {name}: expected {expected}. Received: {name}={value!r}")
    return value


def _check_axis(axis):
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    if not axes or any(not isinstance(a, (int, _np.integer)) or isinstance(a, bool) for a in axes):
        raise ValueError(f"Invalid value for argument axis: expected an int or a non-empty list of ints. "
                         f"Received: axis={axis!r}")
    return axis


def _as_float_array(w):
    w = _np.asarray(w)
    return w if _np.issubdtype(w.dtype, _np.floating) else w.astype(_np.float32)


def _norms(w, axis):
    axis = tuple(axis) if isinstance(axis, list) else axis
    return _np.sqrt(_np.sum(_np.square(w), axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """Each norm over `axis` (per unit of a Dense kernel for axis=0) at most max_value."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = _check_number(max_value, "max_value")
        self.axis = _check_axis(axis)

    def __call__(self, w):
        w = _as_float_array(w)
        norms = _norms(w, self.axis)
        return w * (_np.clip(norms, 0, self.max_value) / (_EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Weights at least 0."""

    def __call__(self, w):
        return _np.maximum(_as_float_array(w), 0)


class UnitNorm(Constraint):
    """Each norm over `axis` equal to 1."""

    def __init__(self, axis=0):
        self.axis = _check_axis(axis)

    def __call__(self, w):
        w = _as_float_array(w)
        return w / (_EPSILON + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Each norm over `axis` moved towards [min_value, max_value]; rate=1.0 enforces it strictly."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = _check_number(min_value, "min_value")
        self.max_value = _check_number(max_value, "max_value")
        if min_value > max_value:
            raise ValueError(f"MinMaxNorm needs min_value <= max_value. Received: min_value={min_value}, "
                             f"max_value={max_value}")
        self.rate = _check_number(rate, "rate", 0.0, 1.0)
        self.axis = _check_axis(axis)

    def __call__(self, w):
        w = _as_float_array(w)
        norms = _norms(w, self.axis)
        desired = self.rate * _np.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


# Keras' snake-case names: the classes themselves, as Keras 3 exports them.
max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
min_max_norm = MinMaxNorm

_BY_NAME = {cls.__name__: cls for cls in (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)}
_BY_NAME.update({"constraint": Constraint, "max_norm": MaxNorm, "min_max_norm": MinMaxNorm,
                 "non_neg": NonNeg, "unit_norm": UnitNorm})


def _lookup(name):
    if name not in _BY_NAME:
        raise ValueError(f"Could not interpret constraint identifier: {name!r}. Known: {sorted(_BY_NAME)}")
    return _BY_NAME[name]


def serialize(constraint):
    """Keras 3's form: {'module': 'keras.constraints', 'class_name', 'config', 'registered_name'}; None gives None."""
    return _serialization.serialize(constraint, "keras.constraints", Constraint)


def deserialize(config, custom_objects=None):
    """A constraint from serialize()'s dict (or {'class_name', 'config'}), or from a name."""
    if isinstance(config, dict) and custom_objects and config.get("class_name") in custom_objects:
        return custom_objects[config["class_name"]].from_config(config.get("config") or {})
    return _serialization.deserialize(config, _lookup, "constraint")


def get(identifier):
    """A constraint from None (-> None), a name ('max_norm', 'NonNeg', ...), a config dict,
    a class (instantiated with defaults), or an instance or other callable (returned as is)."""
    return _serialization.get(identifier, deserialize, "constraint")


_BUILT_IN_CALLS = {MaxNorm.__call__, NonNeg.__call__, UnitNorm.__call__, MinMaxNorm.__call__, Constraint.__call__}


def _engine_spec(constraint, rank, argument):
    """The engine's description of `constraint` on a weight of `rank` dimensions (1 or 2), or None.

    The engine projects the weight in C++ after each step, so it can only run the built-in
    constraints: anything with its own __call__ is refused, naming the class.
    """
    if constraint is None:
        return None
    call = getattr(type(constraint), "__call__", None)
    if not isinstance(constraint, Constraint) or call not in _BUILT_IN_CALLS:
        name = getattr(constraint, "__qualname__", None) or type(constraint).__qualname__
        raise ValueError(
            f"{argument}={name}: fastdnn applies constraints inside its C++ engine and can run only the "
            f"built-in ones (MaxNorm, NonNeg, UnitNorm, MinMaxNorm); a custom __call__ cannot run there")
    if call is Constraint.__call__:
        return None  # the identity
    if call is NonNeg.__call__:
        return {"kind": "non_neg"}
    spec = {"kind": {MaxNorm.__call__: "max_norm", UnitNorm.__call__: "unit_norm",
                     MinMaxNorm.__call__: "min_max_norm"}[call]}
    spec["axis"] = _engine_axis(constraint.axis, rank, argument)
    if call is not UnitNorm.__call__:
        spec["max_value"] = float(constraint.max_value)
    if call is MinMaxNorm.__call__:
        spec["min_value"], spec["rate"] = float(constraint.min_value), float(constraint.rate)
    return spec


def _engine_axis(axis, rank, argument):
    """Keras' axis (an int or list, negative counting from the end) on a weight of `rank`
    dimensions -> 0 (norms over the rows), 1 (over the columns) or 'all'."""
    axes = set()
    for a in (axis if isinstance(axis, (list, tuple)) else [axis]):
        if not -rank <= a < rank:
            raise ValueError(f"{argument}: axis {a} is out of range for a weight of {rank} dimension(s) "
                             f"(expected an axis in [{-rank}, {rank - 1}])")
        axes.add(int(a) % rank)
    if len(axes) == rank:
        return "all"
    return axes.pop()


__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "max_norm", "min_max_norm",
           "non_neg", "unit_norm", "get", "serialize", "deserialize"]

from fastdnn import _missing  # noqa: E402
__getattr__, __dir__ = _missing.hooks(globals())

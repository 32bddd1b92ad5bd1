"""Weight regularizers, as keras.regularizers (Keras 3).

A regularizer adds a penalty on a weight to the training loss:

- `L1(l1=0.01)`:            l1 · Σ|w|
- `L2(l2=0.01)`:            l2 · Σw²
- `L1L2(l1=0.0, l2=0.0)`:   l1 · Σ|w| + l2 · Σw²

The engine applies the penalty (and its gradient) itself, reading the float
attributes `.l1` and `.l2` that every built-in regularizer has (0.0 when the
penalty is absent). Calling a regularizer on a NumPy array gives the penalty as
a Python float. `l1`, `l2` and `l1_l2` are the classes under their Keras 2
names, as Keras 3 exports them, so `l2(0.01)` works; note that this makes
`l1_l2()` default to no penalty at all (Keras 2's function defaulted to 0.01 each).

Names for `get`: 'l1', 'L1', 'l2', 'L2', 'l1l2', 'L1L2' (defaults as above), as
Keras 3. Deliberate difference: 'l1_l2' also works and means
L1L2(l1=0.01, l2=0.01), which is what Keras 3's documentation promises (Keras 3
itself raises ValueError for it). OrthogonalRegularizer is not supported.
"""

import math
import numbers

import numpy as np

from fastdnn import _serialization


def validate_float_arg(value, name):
    """`value` as a float, or ValueError naming the argument if it is not a finite number >= 0."""
    if (
        not isinstance(value, numbers.Real)
        or isinstance(value, (bool, np.bool_))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(
            f"Invalid value for argument {name}: expected a non-negative float. Received: {name}={value}"
        )
    return float(value)


class Regularizer:
    """Base class. A subclass implements `__call__(x)` -> penalty and `get_config()`.

    The engine only understands L1/L2 penalties, given by the attributes `l1` and `l2`.
    """

    def __call__(self, x):
        return 0.0

    def get_config(self):
        raise NotImplementedError(f"{self} does not implement get_config()")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _penalty(l1, l2, x):
    # Sums in float64: a penalty over a large kernel is a sum of ~1e6 terms.
    x = np.asarray(x)
    total = 0.0
    if l1:
        total += l1 * float(np.sum(np.abs(x), dtype=np.float64))
    if l2:
        total += l2 * float(np.sum(np.square(x, dtype=np.float64)))
    return total


class L1L2(Regularizer):
    """l1 · Σ|x| + l2 · Σx², defaults l1=0.0, l2=0.0 (None means 0.0)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = validate_float_arg(0.0 if l1 is None else l1, name="l1")
        self.l2 = validate_float_arg(0.0 if l2 is None else l2, name="l2")

    def __call__(self, x):
        return _penalty(self.l1, self.l2, x)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """l1 · Σ|x|, default l1=0.01 (None means the default)."""

    l2 = 0.0

    def __init__(self, l1=0.01):
        self.l1 = validate_float_arg(0.01 if l1 is None else l1, name="l1")

    def __call__(self, x):
        return _penalty(self.l1, 0.0, x)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """l2 · Σx², default l2=0.01 (None means the default)."""

    l1 = 0.0

    def __init__(self, l2=0.01):
        self.l2 = validate_float_arg(0.01 if l2 is None else l2, name="l2")

    def __call__(self, x):
        return _penalty(0.0, self.l2, x)

    def get_config(self):
        return {"l2": self.l2}


# Keras 2 names, exported by Keras 3 as the classes themselves.
l1 = L1
l2 = L2
l1_l2 = L1L2

_BY_NAME = {"L1": L1, "l1": L1, "L2": L2, "l2": L2, "L1L2": L1L2, "l1l2": L1L2}


def _lookup(name):
    if name == "l1_l2":
        return lambda: L1L2(l1=0.01, l2=0.01)  # see the module docstring
    if name not in _BY_NAME:
        raise ValueError(f"Unknown regularizer: '{name}'. Known regularizers: {sorted(_BY_NAME) + ['l1_l2']}")
    return _BY_NAME[name]


def serialize(regularizer):
    """Keras 3's form: {'module': 'keras.regularizers', 'class_name', 'config', 'registered_name'}.

    None gives None; a plain function gives its name.
    """
    return _serialization.serialize(regularizer, "keras.regularizers", Regularizer)


def deserialize(config):
    """A regularizer from serialize()'s dict (or {'class_name', 'config'}), or from a name."""
    return _serialization.deserialize(config, _lookup, "regularizer")


def get(identifier):
    """A regularizer from None (-> None), a name ('l2', 'L1L2', ...), a config dict,
    a class (instantiated with defaults), an instance or any callable (returned as is)."""
    return _serialization.get(identifier, deserialize, "regularizer")

from fastdnn import _missing  # noqa: E402
__getattr__, __dir__ = _missing.hooks(globals(), hidden={"validate_float_arg"})

"""Weight initializers, as keras.initializers (Keras 3).

An initializer is called as `init(shape, dtype=None)` and returns a NumPy array
(float32 unless `dtype` says otherwise). Names, arguments, defaults and formulas
are Keras 3's:

- `Zeros()`, `Ones()`, `Constant(value=0.0)`, `Identity(gain=1.0)`
- `RandomNormal(mean=0.0, stddev=0.05)`, `RandomUniform(minval=-0.05, maxval=0.05)`,
  `TruncatedNormal(mean=0.0, stddev=0.05)` (values beyond 2·stddev are redrawn)
- `VarianceScaling(scale=1.0, mode="fan_in", distribution="truncated_normal")`, with
  n = fan_in, fan_out or (fan_in + fan_out)/2 (at least 1):
  truncated_normal: stddev = sqrt(scale/n)/0.87962566103423978, truncated at 2·stddev
  (so the std after truncation is sqrt(scale/n)); untruncated_normal: stddev = sqrt(scale/n);
  uniform: U(−limit, limit) with limit = sqrt(3·scale/n).
- Glorot = (1, fan_avg), He = (2, fan_in), Lecun = (1, fan_in); *Normal are truncated
  normal, *Uniform uniform. E.g. glorot_uniform is U(±sqrt(6/(fan_in + fan_out))).
- `Orthogonal(gain=1.0)`.

Randomness. With `seed=None` each call draws fresh values from fastdnn's global
generator (`fastdnn._random`), so `set_random_seed(s)` makes a whole program
reproducible. With an integer seed every call returns the same values, as in Keras 3.
Deliberate difference: a Keras 3 *unseeded* initializer also fixes a hidden seed when
it is created and so repeats its values on every call (one instance shared by two
layers gives them identical weights); fastdnn's unseeded initializers do not repeat.
Random values come from NumPy, so they match Keras in distribution, not bitwise.
"""

import math
import numbers
import re

import numpy as np

from fastdnn import _random, _serialization


def compute_fans(shape):
    """(fan_in, fan_out) of a weight shape, as Keras computes them.

    () -> (1, 1); (n,) -> (n, n); (in, out) -> (in, out); longer shapes are
    convolution kernels (..., in, out) whose fans are multiplied by the
    receptive field size (the product of the leading dimensions).
    """
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive_field = math.prod(shape[:-2])
    return int(shape[-2] * receptive_field), int(shape[-1] * receptive_field)


def _shape(shape):
    return (int(shape),) if isinstance(shape, numbers.Integral) else tuple(int(s) for s in shape)


def _dtype(dtype):
    return np.dtype("float32" if dtype is None else dtype)


def _truncated_standard_normal(rng, size):
    """N(0, 1) samples with every |z| > 2 redrawn (what Keras' truncated_normal does)."""
    z = rng.standard_normal(math.prod(size))
    outside = np.flatnonzero(np.abs(z) > 2.0)
    while outside.size:  # ~4.6% per round, so a few rounds at most
        z[outside] = rng.standard_normal(outside.size)
        outside = outside[np.abs(z[outside]) > 2.0]
    return z.reshape(size)


class Initializer:
    """Base class: subclasses implement `__call__(shape, dtype=None)` and `get_config()`."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError("Initializer subclasses must implement the `__call__()` method.")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return self.__class__.from_config(self.get_config())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None):
        return np.zeros(_shape(shape), _dtype(dtype))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None):
        return np.ones(_shape(shape), _dtype(dtype))


class Constant(Initializer):
    """Every value equal to `value` (default 0.0); an array value is broadcast to the shape."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.broadcast_to(np.asarray(self.value, _dtype(dtype)), _shape(shape)).copy()

    def get_config(self):
        value = np.asarray(self.value)
        return {"value": value.item() if value.ndim == 0 else value.tolist()}


class Identity(Initializer):
    """gain · I for 2-D shapes (rectangular shapes get ones on the main diagonal).

    Keras' Identity forgets `gain` in get_config; fastdnn keeps it.
    """

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        return (self.gain * np.eye(*shape)).astype(_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


class RandomInitializer(Initializer):
    """Shared seed handling: None draws from the global generator, an int repeats its values."""

    def __init__(self, seed=None):
        if seed is not None and (not isinstance(seed, numbers.Integral) or isinstance(seed, bool)):
            raise ValueError(f"`seed` argument should be an integer or None. Received: seed={seed}")
        self.seed = None if seed is None else int(seed)

    def _rng(self):
        # A fresh generator per call for a seeded initializer, so every call gives the same values.
        return _random.generator() if self.seed is None else np.random.default_rng(self.seed)

    def get_config(self):
        return {"seed": self.seed}


class RandomNormal(RandomInitializer):
    """N(mean, stddev²) with defaults mean=0.0, stddev=0.05."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return self._rng().normal(self.mean, self.stddev, _shape(shape)).astype(_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """N(mean, stddev²) with values more than 2·stddev from the mean redrawn (defaults 0.0, 0.05).

    The std of the result is about 0.88·stddev.
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        z = _truncated_standard_normal(self._rng(), _shape(shape))
        return (self.mean + self.stddev * z).astype(_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """U[minval, maxval) with defaults minval=-0.05, maxval=0.05."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return self._rng().uniform(self.minval, self.maxval, _shape(shape)).astype(_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


class VarianceScaling(RandomInitializer):
    """Zero-mean values whose variance is scale/n (see the module docstring for the formulas).

    mode: "fan_in" (default), "fan_out" or "fan_avg"; distribution: "truncated_normal"
    (default; "normal" is accepted as its old name), "untruncated_normal" or "uniform".
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in self._MODES:
            raise ValueError(f"Invalid `mode` argument: {mode}. Please use one of {self._MODES}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(
                f"Invalid `distribution` argument: {distribution}. Please use one of {self._DISTRIBUTIONS}"
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        rng = self._rng()
        if self.distribution == "truncated_normal":
            # 0.8796... is the std of N(0, 1) truncated to [-2, 2]: dividing by it
            # makes the std after truncation sqrt(variance).
            values = math.sqrt(variance) / 0.87962566103423978 * _truncated_standard_normal(rng, shape)
        elif self.distribution == "untruncated_normal":
            values = rng.normal(0.0, math.sqrt(variance), shape)
        else:
            limit = math.sqrt(3.0 * variance)
            values = rng.uniform(-limit, limit, shape)
        return values.astype(_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "mode": self.mode, "distribution": self.distribution}


class _FixedVarianceScaling(VarianceScaling):
    """A VarianceScaling preset: only `seed` is an argument (and in the config)."""

    _preset = None  # (scale, mode, distribution)

    def __init__(self, seed=None):
        scale, mode, distribution = self._preset
        super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotUniform(_FixedVarianceScaling):
    """Glorot (Xavier) uniform: U(±sqrt(6/(fan_in + fan_out)))."""

    _preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Glorot (Xavier) normal: truncated normal with std sqrt(2/(fan_in + fan_out)) after truncation."""

    _preset = (1.0, "fan_avg", "truncated_normal")


class HeNormal(_FixedVarianceScaling):
    """He normal: truncated normal with std sqrt(2/fan_in) after truncation.

    (PyTorch's kaiming_normal_ is untruncated.)
    """

    _preset = (2.0, "fan_in", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """He uniform: U(±sqrt(6/fan_in))."""

    _preset = (2.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    """Lecun normal: truncated normal with std sqrt(1/fan_in) after truncation (pair it with selu)."""

    _preset = (1.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """Lecun uniform: U(±sqrt(3/fan_in))."""

    _preset = (1.0, "fan_in", "uniform")


class Orthogonal(RandomInitializer):
    """gain · Q, Q orthogonal from the QR decomposition of a normal matrix (rows or columns orthonormal).

    Shapes of rank > 2 are treated as a (prod(shape[:-1]), shape[-1]) matrix and reshaped back.
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        q, r = np.linalg.qr(self._rng().standard_normal((max(rows, cols), min(rows, cols))))
        q *= np.sign(np.diag(r))  # makes Q uniformly distributed over orthogonal matrices
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


# Lowercase aliases, as Keras exports them (they are the classes themselves).
zeros = Zeros
ones = Ones
constant = Constant
identity = Identity
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
he_normal = HeNormal
he_uniform = HeUniform
lecun_normal = LecunNormal
lecun_uniform = LecunUniform
orthogonal = Orthogonal
IdentityInitializer = Identity
OrthogonalInitializer = Orthogonal

_CLASSES = [Zeros, Ones, Constant, Identity, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
            GlorotUniform, GlorotNormal, HeNormal, HeUniform, LecunNormal, LecunUniform, Orthogonal]

def _snake_case(name):
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


# Keras' lookup table: class names, their snake_case names, and a few aliases (case-sensitive).
_BY_NAME = {cls.__name__: cls for cls in _CLASSES}
_BY_NAME.update({_snake_case(cls.__name__): cls for cls in _CLASSES})
_BY_NAME.update({"uniform": RandomUniform, "normal": RandomNormal, "one": Ones, "zero": Zeros,
                 "IdentityInitializer": Identity, "identity_initializer": Identity,
                 "OrthogonalInitializer": Orthogonal, "orthogonal_initializer": Orthogonal})


def _lookup(name):
    if name not in _BY_NAME:
        raise ValueError(f"Unknown initializer: '{name}'. Known initializers: {sorted(_BY_NAME)}")
    return _BY_NAME[name]


def serialize(initializer):
    """Keras 3's form: {'module': 'keras.initializers', 'class_name', 'config', 'registered_name'}.

    None gives None; a plain function gives its name.
    """
    return _serialization.serialize(initializer, "keras.initializers", Initializer)


def deserialize(config):
    """An initializer from serialize()'s dict (or {'class_name', 'config'}), or from a name."""
    return _serialization.deserialize(config, _lookup, "initializer")


def get(identifier):
    """An initializer from None (-> None), a name ('glorot_uniform', 'GlorotUniform', 'zeros', ...),
    a config dict, a class (instantiated with defaults), an instance or any callable (returned as is)."""
    return _serialization.get(identifier, deserialize, "initializer")

from fastdnn import _missing  # noqa: E402
__getattr__, __dir__ = _missing.hooks(globals(), hidden={"compute_fans"})

"""Activation functions by name, and as functions on NumPy arrays.

The functions run the engine's own kernels (float32), so what you plot or check
here is exactly what the network computes. `derivative(name, x)` gives f'(x)
from the engine's backward kernels. Names and defaults are Keras 3's
(keras.activations): note that `leaky_relu`'s slope is 0.2 here while the
LeakyReLU layer's default is 0.3, as in Keras.
"""

import numpy as np

from fastdnn._core import kernels as _kernels


def _run(engine_name, x, **params):
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 0:
        return _run(engine_name, x.reshape(1, 1), **params).reshape(())
    flat = np.ascontiguousarray(x).reshape(-1, x.shape[-1]) if x.ndim > 1 else x.reshape(1, -1)
    if flat.size == 0:
        return np.empty(x.shape, np.float32)
    return _kernels.activation_forward(engine_name, flat, **params).reshape(x.shape)


def _engine(name, **params):
    """Tags a function with the engine op that computes it."""

    def tag(fn):
        fn._engine = (name, params)
        return fn

    return tag


@_engine("linear")
def linear(x):
    """y = x"""
    return np.asarray(x, dtype=np.float32)


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """y = x for x > threshold (clipped to [0, max_value] when given), else negative_slope·(x − threshold)."""
    params = {"negative_slope": negative_slope, "threshold": threshold}
    if max_value is not None:
        params["max_value"] = max_value
    return _run("relu", x, **params)


relu._engine = ("relu", {})


@_engine("leaky_relu", negative_slope=0.2)
def leaky_relu(x, negative_slope=0.2):
    """y = x for x > 0, else negative_slope·x."""
    return _run("leaky_relu", x, negative_slope=negative_slope)


@_engine("relu6")
def relu6(x):
    """y = min(max(x, 0), 6)"""
    return _run("relu6", x)


@_engine("elu", alpha=1.0)
def elu(x, alpha=1.0):
    """y = x for x > 0, else alpha·(eˣ − 1)."""
    return _run("elu", x, alpha=alpha)


@_engine("selu")
def selu(x):
    """y = λ·elu(x, α) with λ = 1.0507009873554805, α = 1.6732632423543772."""
    return _run("selu", x)


@_engine("sigmoid")
def sigmoid(x):
    """y = 1/(1 + e⁻ˣ)"""
    return _run("sigmoid", x)


@_engine("tanh")
def tanh(x):
    """y = tanh x"""
    return _run("tanh", x)


@_engine("softmax")
def softmax(x, axis=-1):
    """y = e^(x − max)/Σ e^(x − max) along `axis`."""
    x = np.moveaxis(np.asarray(x, dtype=np.float32), axis, -1)
    return np.moveaxis(_run("softmax", x), -1, axis)


@_engine("softplus")
def softplus(x):
    """y = log(1 + eˣ)"""
    return _run("softplus", x)


@_engine("softsign")
def softsign(x):
    """y = x/(1 + |x|)"""
    return _run("softsign", x)


@_engine("silu")
def silu(x):
    """y = x·sigmoid(x)  (also called swish)"""
    return _run("silu", x)


swish = silu


def gelu(x, approximate=False):
    """y = x·Φ(x) (exact, with erf), or the tanh approximation when approximate=True."""
    return _run("gelu", x, approximate=bool(approximate))


gelu._engine = ("gelu", {})


@_engine("hard_sigmoid")
def hard_sigmoid(x):
    """y = relu6(x + 3)/6  (Keras 3's; Keras 2 used 0.2x + 0.5)"""
    return _run("hard_sigmoid", x)


@_engine("hard_silu")
def hard_silu(x):
    """y = x·hard_sigmoid(x)  (also called hard_swish)"""
    return _run("hard_silu", x)


hard_swish = hard_silu


@_engine("exponential")
def exponential(x):
    """y = eˣ"""
    return _run("exponential", x)


_ALL = {
    "linear": linear, "relu": relu, "leaky_relu": leaky_relu, "relu6": relu6, "elu": elu,
    "selu": selu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax, "softplus": softplus,
    "softsign": softsign, "silu": silu, "swish": swish, "gelu": gelu,
    "hard_sigmoid": hard_sigmoid, "hard_silu": hard_silu, "hard_swish": hard_swish,
    "exponential": exponential,
}


def get(identifier):
    """The activation function for a name (None → linear) or a function of this module."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _ALL.get(identifier)
        if fn is None:
            raise ValueError(f"Unknown activation '{identifier}'; known: {', '.join(sorted(_ALL))}")
        return fn
    if callable(identifier) and hasattr(identifier, "_engine"):
        return identifier
    if callable(identifier) and hasattr(identifier, "_activation_op"):  # an activation layer
        return identifier
    raise ValueError(
        f"Could not interpret activation {identifier!r}: fastdnn runs activations in C++, so it takes "
        f"their names ({', '.join(sorted(_ALL))}), the functions of fastdnn.activations, or an "
        "activation layer such as LeakyReLU(0.1)."
    )


def serialize(activation):
    """The name of an activation function."""
    fn = get(activation)
    if hasattr(fn, "_activation_op"):
        raise ValueError("an activation layer used as `activation=` is serialized by its layer")
    return fn.__name__


def deserialize(name):
    return get(name)


def op_spec(activation):
    """The engine op for an activation identifier (None for linear)."""
    fn = get(activation)
    if hasattr(fn, "_activation_op"):
        return fn._activation_op()
    name, params = fn._engine
    if name == "linear":
        return None
    return {"kind": "activation", "activation": name, **params}


def derivative(activation, x, **params):
    """f'(x) elementwise, from the engine's backward kernel (not defined for softmax)."""
    fn = get(activation)
    name, defaults = fn._engine
    if name == "softmax":
        raise ValueError("softmax is not elementwise: its derivative is a Jacobian")
    x = np.asarray(x, dtype=np.float32)
    flat = x.reshape(1, -1)
    kwargs = {**defaults, **params}
    y = _kernels.activation_forward(name, flat, **kwargs)
    return _kernels.activation_backward(name, flat, y, np.ones_like(flat), **kwargs).reshape(x.shape)

from fastdnn import _missing  # noqa: E402
__getattr__, __dir__ = _missing.hooks(globals(), hidden={"op_spec"})

"""The few keras.backend functions Keras programs call: clear_session, epsilon, floatx,
image_data_format, get_value / set_value (Keras 2's way to read and change a learning rate)."""

import numpy as np

from fastdnn.layers.base import reset_names


def clear_session(free_memory=True):
    """Resets layer and model names (dense, dense_1, ... start again)."""
    reset_names()


def epsilon():
    return 1e-7


def floatx():
    return "float32"


def set_floatx(value):
    if value != "float32":
        raise ValueError(f"fastdnn computes in float32 only; got {value!r}")


def image_data_format():
    return "channels_last"


def backend():
    return "fastdnn"


def get_value(x):
    """The value of a variable, learning rate or array, as NumPy."""
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


def set_value(x, value):
    """Assigns a variable or a learning rate (e.g. set_value(model.optimizer.lr, 0.001))."""
    if not hasattr(x, "assign"):
        raise TypeError(f"set_value needs a variable or a learning rate; got {type(x).__name__}")
    x.assign(value)

from fastdnn import _missing  # noqa: E402
__getattr__, __dir__ = _missing.hooks(globals(), hidden={"reset_names"})

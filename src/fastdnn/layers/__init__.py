"""Layers, as tf.keras.layers: the ones a dense network is made of."""

from fastdnn.layers.activity_regularization import ActivityRegularization
from fastdnn.layers.activation_layers import ELU, PReLU, ReLU, RReLU, LeakyReLU, Softmax
from fastdnn.layers.base import Layer
from fastdnn.layers.core import Activation, Dense, Flatten, Input, InputLayer
from fastdnn.layers.layer_normalization import LayerNormalization
from fastdnn.layers.merging import (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, add, average,
                                     concatenate, maximum, minimum, multiply, subtract)
from fastdnn.layers.noise import GaussianDropout, GaussianNoise
from fastdnn.layers.normalization import BatchNormalization
from fastdnn.layers.preprocessing import Normalization, Rescaling
from fastdnn.layers.regularization import AlphaDropout, Dropout
from fastdnn.layers.reshaping import Reshape

_CLASSES = {
    cls.__name__: cls
    for cls in [Activation, AlphaDropout, BatchNormalization, Dense, Dropout, ELU, Flatten, InputLayer,
                LeakyReLU, PReLU, ReLU, RReLU, Softmax]
    + [ActivityRegularization, GaussianDropout, GaussianNoise, LayerNormalization, Normalization, Rescaling]
    + [Add, Average, Concatenate, Maximum, Minimum, Multiply, Reshape, Subtract]
}


def serialize(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config):
    """A layer from {'class_name': ..., 'config': ...}."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"a layer config is a dict with 'class_name' and 'config'; got {config!r}")
    cls = _CLASSES.get(config["class_name"])
    if cls is None:
        raise ValueError(f"Unknown layer '{config['class_name']}'; known: {', '.join(sorted(_CLASSES))}")
    return cls.from_config(dict(config.get("config", {})))


__all__ = sorted(_CLASSES) + ["Input", "Layer", "serialize", "deserialize", "add", "average", "concatenate",
                              "maximum", "minimum", "multiply", "subtract"]

from fastdnn import _missing  # noqa: E402
__getattr__, __dir__ = _missing.hooks(globals())

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
    """Keras 3's form: {'module', 'class_name', 'config', 'registered_name'}. A class of the user's
    (a subclassed model, a layer subclass) is named by its module and qualified name, which
    deserialize() matches only against the classes passed in custom_objects."""
    entry = _class_entry(layer)
    return {"module": entry["module"], "class_name": entry["class_name"], "config": layer.get_config(),
            "registered_name": entry["registered_name"]}


def _class_entry(obj):
    cls = type(obj)
    if cls.__module__.startswith("fastdnn."):
        module = {"Functional": "keras.src.models.functional", "Sequential": "keras"}.get(cls.__name__, "keras.layers")
        return {"module": module, "class_name": cls.__name__,
                "registered_name": "Functional" if cls.__name__ == "Functional" else None}
    return {"module": cls.__module__, "class_name": cls.__name__, "registered_name": cls.__qualname__}


def deserialize(config, custom_objects=None):
    """A layer (or model) from {'class_name': ..., 'config': ...}: one of fastdnn's, or a class
    given in custom_objects (by its class or registered name). Nothing named by the config is
    imported: an unknown class is a ValueError."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"a layer config is a dict with 'class_name' and 'config'; got {str(config)[:200]}")
    cls = _class_for(config, custom_objects or {})
    inner = config.get("config", {})
    if not isinstance(inner, dict):
        raise ValueError(f"the config of layer class {config['class_name']!r} must be a dict; got {str(inner)[:200]}")
    if hasattr(cls, "_inner_graph"):  # a model used as a layer
        return cls.from_config(dict(inner), custom_objects=custom_objects)
    return cls.from_config(dict(inner))


def _class_for(config, custom_objects):
    name, registered = config["class_name"], config.get("registered_name")
    for key in (registered, name):
        if isinstance(key, str) and key in custom_objects:
            return custom_objects[key]
    if name in _CLASSES:
        return _CLASSES[name]
    if name in ("Functional", "Model", "Sequential"):
        from fastdnn import models

        return models.Sequential if name == "Sequential" else models.Functional
    if name in ("Lambda", "TFOpLambda", "SlicingOpLambda"):
        raise ValueError(f"The configuration holds a {name} layer: its function is Python code, and fastdnn never "
                         "runs code stored in a model configuration (nor runs a Lambda layer at all)")
    module = config.get("module")
    where = f" (module {module!r})" if isinstance(module, str) else ""
    raise ValueError(f"Unknown layer class {name!r}{where}. fastdnn's layers: {', '.join(sorted(_CLASSES))}. For a "
                     f"class of your own, pass it: custom_objects={{{name!r}: {name}}}")


__all__ = sorted(_CLASSES) + ["Input", "Layer", "serialize", "deserialize", "add", "average", "concatenate",
                              "maximum", "minimum", "multiply", "subtract"]

from fastdnn import _missing  # noqa: E402
__getattr__, __dir__ = _missing.hooks(globals())

"""Models, as tf.keras.models: Sequential, Model (the functional API and subclassed models; the
Trainer gives them compile, fit, evaluate and predict), and loading, cloning and rebuilding from JSON."""

from fastdnn.models.functional import Functional
from fastdnn.models.model import Model
from fastdnn.models.sequential import Sequential


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model saved by Sequential.save (fastdnn's format), compiled as it was saved."""
    from fastdnn import saving

    return saving.load_model(filepath, compile=compile)


def model_from_json(json_string, custom_objects=None):
    import json

    config = json.loads(json_string)
    return Sequential.from_config(config.get("config", config))


def clone_model(model):
    """A new model with the same layers' configuration and freshly initialized weights."""
    config = model.get_config()
    for layer in config["layers"]:
        layer["config"].pop("name", None)
    config.pop("name", None)
    return Sequential.from_config(config)


from fastdnn import _missing  # noqa: E402
__getattr__, __dir__ = _missing.hooks(globals())

"""Models, as tf.keras.models: Sequential, Model (the functional API and subclassed models; the
Trainer gives them compile, fit, evaluate and predict), and loading, cloning and rebuilding from JSON."""

from fastdnn.models import functional_config
from fastdnn.models.functional import Functional
from fastdnn.models.model import Model
from fastdnn.models.sequential import Sequential


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model saved by model.save (fastdnn's format), compiled as it was saved. A subclassed
    model (or a layer class of your own) needs its class: custom_objects={"Name": Name}; fastdnn
    never imports a class a file names. safe_mode is accepted: fastdnn's files hold no code."""
    from fastdnn import saving

    return saving.load_model(filepath, compile=compile, custom_objects=custom_objects)


def model_from_json(json_string, custom_objects=None):
    """The model (new weights) that model.to_json() describes: a Sequential, a functional model
    (Keras 3's or Keras 2's node format), or a class given in custom_objects."""
    import json

    from fastdnn import layers

    config = json.loads(json_string)
    if isinstance(config, dict) and "class_name" in config:
        return layers.deserialize(config, custom_objects)
    if functional_config.is_functional_config(config):
        return Functional.from_config(config, custom_objects)
    return Sequential.from_config(config, custom_objects)


def clone_model(model, input_tensors=None, clone_function=None, call_function=None, recursive=False, **kwargs):
    """A new model of the same structure with freshly initialized weights: a Sequential's layers
    get new names; a functional model keeps its layer names (as Keras 3), since its graph refers
    to them; a subclassed model is re-created from its configuration and built for the same
    inputs. input_tensors, clone_function and call_function are not supported."""
    if input_tensors is not None or clone_function is not None or call_function is not None:
        raise NotImplementedError("clone_model: fastdnn supports neither input_tensors, clone_function nor "
                                  "call_function")
    if kwargs:
        raise TypeError(f"clone_model() got unexpected keyword argument(s): {sorted(kwargs)}")
    if isinstance(model, Sequential):
        config = model.get_config()
        for layer in config["layers"]:
            layer["config"].pop("name", None)
        config.pop("name", None)
        return Sequential.from_config(config)
    clone = type(model).from_config(model.get_config())
    if not clone.built and model.built:
        graph = model._require_graph()
        shapes = [t.shape for t in graph.inputs]
        clone.build(shapes if isinstance(graph.input_struct, (list, tuple)) else shapes[0])
    return clone


from fastdnn import _missing  # noqa: E402
__getattr__, __dir__ = _missing.hooks(globals())

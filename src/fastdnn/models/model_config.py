"""Configuration, JSON and files for Model (functional and subclassed), as Keras 3's
Model.get_config / from_config / to_json / save (Functional overrides the configuration).

A subclassed model's configuration is `{"name", "trainable"}` plus the arguments its `__init__`
was called with (captured by Model.__new__, as Keras 3's Operation.__new__ does, when they are
plain JSON values), unless the class defines get_config itself. from_config calls the class
with that configuration, passing only what its `__init__` accepts (Keras 3 also passes `name`,
`trainable` and `dtype` to an `__init__(self)` and fails), then sets the name and trainable flag.
So Géron's `WideAndDeepModel(30, activation="relu", name="my_cool_model")` and the course's
no-argument `WideDeepModel()` reload with `custom_objects` and no get_config of their own.
"""

import inspect
import json

_PLAIN = (str, int, float, bool, type(None))


def init_arguments(cls, args, kwargs):
    """The keyword arguments a class's constructor got (defaults filled in, `**kwargs` expanded,
    `name` left out), or None when they cannot be stored as JSON (an object, *args) or do not fit
    the signature. Only for the user's subclasses: fastdnn's own classes have configurations."""
    if cls.__module__.startswith("fastdnn."):
        return None
    try:
        signature = inspect.signature(cls.__init__)
        bound = signature.bind(None, *args, **kwargs)
    except (TypeError, ValueError):
        return None
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    parameters = list(signature.parameters.values())
    arguments.pop(parameters[0].name, None)  # self
    for p in parameters[1:]:
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            if arguments.pop(p.name, ()):
                return None
        elif p.kind is inspect.Parameter.VAR_KEYWORD:
            arguments.update(arguments.pop(p.name, {}))
        elif p.kind is inspect.Parameter.POSITIONAL_ONLY:
            return None
    arguments.pop("name", None)
    return arguments if _is_plain(arguments) else None


def _is_plain(value):
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    return isinstance(value, _PLAIN) and not (isinstance(value, float) and value != value)


def _overrides(model, method):
    """True when the model's class (not fastdnn) defines `method`."""
    for cls in type(model).__mro__:
        if cls.__module__.startswith("fastdnn."):
            return False
        if method in vars(cls):
            return True
    return False


class ModelConfig:
    """get_config/from_config/to_json and save/save_weights/load_weights for Model."""

    def get_config(self):
        """A subclassed model's configuration: its name, trainable flag and the arguments its
        `__init__` was called with (a class that defines get_config extends {"name", "trainable"})."""
        config = {"name": self.name, "trainable": self.trainable}
        if not _overrides(self, "call") and _takes_inputs_outputs(type(self)):  # a functional subclass
            from fastdnn.models import functional_config

            return functional_config.get_config(self)
        if _overrides(self, "get_config"):
            return config
        arguments = self.__dict__.get("_init_arguments")
        if arguments is None:
            raise NotImplementedError(
                f"{type(self).__name__} was created with arguments fastdnn cannot store as JSON (objects, *args, "
                f"or positional-only arguments): define get_config() returning its __init__ arguments as plain "
                f"values (and from_config if they need converting)")
        return {**config, **arguments}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Model.from_config: a functional configuration rebuilds the graph (Functional, or a class
        whose __init__ takes (inputs, outputs, ...)); any other calls the class with it."""
        from fastdnn.models import functional_config
        from fastdnn.models.functional import functional_from_config

        if not isinstance(config, dict):
            raise ValueError(f"A model configuration is a dict; got {type(config).__name__}")
        if functional_config.is_functional_config(config) and _takes_inputs_outputs(cls):
            return functional_from_config(cls, config, custom_objects)
        config = dict(config)
        name, trainable = config.get("name"), config.get("trainable", True)
        accepted = _accepted(cls, config)
        model = cls(**accepted)
        if isinstance(name, str):
            model.name = name
        model.trainable = bool(trainable)
        return model

    def to_json(self, **kwargs):
        from fastdnn import layers as layers_module

        return json.dumps(layers_module.serialize(self), **kwargs)

    def save(self, filepath, overwrite=True, **kwargs):
        """One file with the configuration, the weights and the optimizer state, written
        atomically, in the format the name says: Keras 3's for ".keras", legacy Keras HDF5 for
        ".h5"/".hdf5" (both need h5py, the keras-files extra), else fastdnn's own (".fdnn": a zip
        of JSON and .npy arrays, no pickle, the one that resumes training exactly). A subclassed model
        is stored as its class's name and its configuration: load_model needs the class in
        custom_objects, and never imports anything the file names."""
        from fastdnn import saving

        saving.save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=True):
        from fastdnn import saving

        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False):
        from fastdnn import saving

        saving.load_weights(self, filepath)


def _takes_inputs_outputs(cls):
    if cls.__module__.startswith("fastdnn."):
        return True
    parameters = list(inspect.signature(cls.__init__).parameters)[1:3]
    return parameters == ["inputs", "outputs"]


def _accepted(cls, config):
    """The entries of `config` that cls.__init__ takes (all of them if it takes **kwargs); an
    entry other than name/trainable/dtype it does not take is an error, as in Keras."""
    parameters = inspect.signature(cls.__init__).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return config
    names = {p.name for p in parameters}
    unknown = sorted(set(config) - names - {"name", "trainable", "dtype"})
    if unknown:
        raise TypeError(f"Unable to revive {cls.__name__} from its config: its __init__ takes no {unknown}. "
                        f"Give {cls.__name__} a from_config(cls, config) classmethod, or make get_config return "
                        "its __init__ arguments")
    return {key: value for key, value in config.items() if key in names}

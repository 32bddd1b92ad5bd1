"""Keras 3's serialized form of initializers, regularizers and schedules:
{'module', 'class_name', 'config', 'registered_name'}."""

import inspect


def serialize(obj, module, base):
    """None gives None; a plain function gives its name; an instance of `base` its dict."""
    if obj is None:
        return None
    if not isinstance(obj, base):
        return getattr(obj, "__name__", repr(obj))
    return {"module": module, "class_name": type(obj).__name__, "config": obj.get_config(), "registered_name": None}


def deserialize(config, lookup, kind):
    """An object from serialize()'s dict (or {'class_name', 'config'}), or from a name.

    `lookup(name)` gives the class (or a factory) for a name, or raises ValueError.
    """
    if isinstance(config, str):
        return lookup(config)()
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret {kind} config: {config}")
    cls = lookup(config["class_name"])
    return cls.from_config(config.get("config") or {}) if inspect.isclass(cls) else cls()


def get(identifier, deserialize, kind):
    """Keras' get(): None gives None; a name or a config dict goes through `deserialize`; a class
    is instantiated with its defaults; an instance or any other callable is returned as is."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier: {identifier}")

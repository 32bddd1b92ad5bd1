"""The parts of fastdnn's model file (saving.py) for functional and subclassed models, for a
Sequential model holding one, and for per-output compile settings.

The manifest then also holds `model_class` (module, class_name, registered_name: Functional,
or the user's class by module and qualified name), and for a subclassed model `build_config`
(the input shapes its call() was traced for). Loading creates the model from its configuration
only through fastdnn's classes and the classes the caller passes in custom_objects: nothing the
file names is ever imported. It runs with a cap (fastdnn._budget) on the weights layers may
create: the float32 values the file's arrays really hold, so a forged configuration is refused,
naming the file, before a large allocation.

Compile settings: `loss` is one loss or a list (one per output); a dict of losses keyed by output
name is `loss_by_output` (a bare dict would read as one serialized loss); `loss_weights` is kept as
given (a number, list or dict of numbers); `metrics` (a list, each entry a metric or a list of
them) or `metrics_by_output`, and the same for weighted_metrics.
"""

import math
import warnings

from fastdnn import _budget


# --- writing ---------------------------------------------------------------------------------

def model_entries(model):
    """The manifest entries describing `model`: its configuration, and its class unless it is a
    Sequential (whose files have always held its configuration alone)."""
    from fastdnn import layers as layers_module
    from fastdnn.models import Sequential

    if isinstance(model, Sequential):
        return {"model": model.get_config()}
    entry = layers_module._class_entry(model)
    try:
        config = model.get_config()
    except NotImplementedError as e:
        warnings.warn(f"{type(model).__name__} is saved without its __init__ arguments, so load_model cannot "
                      f"re-create it ({e}); its weights can be loaded into a model you build with load_weights.",
                      UserWarning, stacklevel=4)
        config = {"name": model.name, "trainable": model.trainable, "init_arguments_not_stored": str(e)}
    entries = {"model": config, "model_class": entry}
    if type(model).__name__ != "Functional" or not type(model).__module__.startswith("fastdnn."):
        entries["build_config"] = {"input_shape": _jsonable(_input_shapes(model))}
    return entries


def _input_shapes(model):
    shapes = [t.shape for t in model._require_graph().inputs]
    structure = model._require_graph().input_struct
    return shapes if isinstance(structure, (list, tuple)) else shapes[0]


def _jsonable(value):
    return [_jsonable(v) for v in value] if isinstance(value, (list, tuple)) else value


def leaf_layers(model):
    """Every layer of `model` that the engine runs, nested models expanded, in a fixed order."""
    for layer in model._layers:
        if hasattr(layer, "_inner_graph"):
            yield from leaf_layers(layer)
        else:
            yield layer


def layer_seeds(model):
    """The random layers' engine seeds: by name for a Sequential (the format's first form), else
    by position among the leaf layers (a reloaded subclassed model's layers get new names)."""
    from fastdnn.models import Sequential

    if isinstance(model, Sequential) and not model._uses_heads:
        return {layer.name: layer._engine_seed for layer in model.layers if hasattr(layer, "_engine_seed")}
    return [getattr(layer, "_engine_seed", None) for layer in leaf_layers(model)]


def compile_config(model):
    from fastdnn import optimizers

    config = {"optimizer": optimizers.serialize(model.optimizer)}
    if isinstance(model.loss, dict):
        config["loss_by_output"] = {name: _loss_entry(v) for name, v in model.loss.items()}
    elif isinstance(model.loss, (list, tuple)):
        config["loss"] = [_loss_entry(v) for v in model.loss]
    else:
        config["loss"] = _loss_entry(model.loss)
    if model._loss_weights is not None:
        config["loss_weights"] = _plain_weights(model._loss_weights)
    for key, metrics in [("metrics", model._compiled_metrics), ("weighted_metrics", model._compiled_weighted_metrics)]:
        if isinstance(metrics, dict):
            config[f"{key}_by_output"] = {name: _metrics_entry(v) for name, v in metrics.items()}
        elif metrics:
            config[key] = [_metrics_entry(v) for v in metrics]
    return config


def _loss_entry(loss):
    from fastdnn import losses

    if loss is None or isinstance(loss, str):
        return loss
    return losses.serialize(losses.get(loss))


def _metrics_entry(entry):
    from fastdnn import metrics

    if isinstance(entry, (list, tuple)):
        return [_metrics_entry(m) for m in entry]
    return entry if entry is None or isinstance(entry, str) else metrics.serialize(entry)


def _plain_weights(weights):
    if isinstance(weights, dict):
        return {name: None if w is None else float(w) for name, w in weights.items()}
    if isinstance(weights, (list, tuple)):
        return [None if w is None else float(w) for w in weights]
    return float(weights)


# --- reading ---------------------------------------------------------------------------------

def needs_rebuild(manifest):
    """True for a file that the Sequential path cannot check layer by layer: a functional or
    subclassed model, or a Sequential holding a model or a class of the user's."""
    from fastdnn import layers as layers_module

    if "model_class" in manifest:
        return True
    config = manifest.get("model")
    entries = config.get("layers") if isinstance(config, dict) else None
    return isinstance(entries, list) and any(
        isinstance(e, dict) and e.get("class_name") not in layers_module._CLASSES for e in entries)


def rebuild(manifest, filepath, declared_shapes, custom_objects):
    """The model the manifest describes, built, its layers allowed no more weights than the
    file's arrays hold."""
    from fastdnn import layers as layers_module

    entry = manifest.get("model_class", {"class_name": "Sequential"})
    config = manifest["model"]
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) or not isinstance(config, dict):
        raise ValueError(f"{filepath} has a malformed model class or configuration")
    name = entry["class_name"]
    if "init_arguments_not_stored" in config:
        raise ValueError(f"{filepath} holds a {name} saved without its __init__ arguments "
                         f"({config['init_arguments_not_stored']}): define get_config() in {name}, or build the "
                         "model yourself and call model.load_weights on this file")
    custom = custom_objects or {}
    if not any(key in custom for key in (name, entry.get("registered_name"))) and name not in (
            "Functional", "Model", "Sequential"):
        raise ValueError(f"{filepath} holds a model of class {name!r} (module {entry.get('module')!r}), a class of "
                         f"your own: fastdnn never imports the classes a file names. Pass it: "
                         f"load_model(..., custom_objects={{{name!r}: {name}}})")
    values = sum(math.prod(shape) for shape in declared_shapes)
    with _budget.limited(values, filepath):
        model = layers_module.deserialize({**entry, "config": config}, custom_objects)
        if not model.built:
            shape = (manifest.get("build_config") or {}).get("input_shape")
            if shape is None:
                raise ValueError(f"{filepath} does not say which input shapes the {name} model was built for")
            model.build(_shape_structure(shape, filepath))
    return model


def _shape_structure(shape, filepath):
    """A saved input shape ([None, 8]) or list of shapes, as tuples; anything else is refused."""
    def one(s):
        if not isinstance(s, list) or not s or s[0] is not None or not all(
                isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in s[1:]):
            raise ValueError(f"{filepath} has a malformed input shape {str(s)[:100]}")
        return tuple(s)

    if isinstance(shape, list) and shape and isinstance(shape[0], list):
        return [one(s) for s in shape]
    return one(shape)


def restore_seeds(model, seeds, filepath):
    if isinstance(seeds, dict):  # a Sequential's, by layer name
        for layer in model.layers:
            if layer.name in seeds:
                layer._engine_seed = int(seeds[layer.name])
        return
    layers = list(leaf_layers(model))
    if not isinstance(seeds, list) or len(seeds) != len(layers):
        raise ValueError(f"{filepath} has {len(seeds) if isinstance(seeds, list) else 'no'} layer seeds for the "
                         f"{len(layers)} layers of its model")
    for layer, seed in zip(layers, seeds):
        if seed is not None and hasattr(layer, "_engine_seed"):
            if not isinstance(seed, int) or isinstance(seed, bool):
                raise ValueError(f"{filepath} has a malformed seed {seed!r} for layer {layer.name!r}")
            layer._engine_seed = seed


def compile_arguments(config, custom_objects=None):
    """compile()'s keyword arguments (but the optimizer) from compile_config()'s dict."""
    if "loss_by_output" in config:
        loss = {name: _revive_loss(v) for name, v in config["loss_by_output"].items()}
    elif isinstance(config.get("loss"), list):
        loss = [_revive_loss(v) for v in config["loss"]]
    else:
        loss = _revive_loss(config.get("loss"))
    arguments = {"loss": loss, "loss_weights": config.get("loss_weights")}
    for key in ("metrics", "weighted_metrics"):
        if f"{key}_by_output" in config:
            by_output = config[f"{key}_by_output"]
            arguments[key] = {name: _revive_metrics(v, custom_objects) for name, v in by_output.items()}
        else:
            arguments[key] = [_revive_metrics(v, custom_objects) for v in config.get(key) or []]
    return arguments


def _revive_loss(entry):
    from fastdnn import losses

    return entry if entry is None or isinstance(entry, str) else losses.deserialize(entry)


def _revive_metrics(entry, custom_objects):
    from fastdnn import metrics

    if isinstance(entry, list):
        return [_revive_metrics(m, custom_objects) for m in entry]
    return entry if entry is None or isinstance(entry, str) else metrics.deserialize(entry, custom_objects)

"""Keras 3's layer and model configurations (config.json of a .keras file) to fastdnn's and back.

fastdnn's layers take Keras' argument names, so a layer config mostly passes through; this module
handles the fields Keras writes that fastdnn has no use for. Each ignored field must hold the value
under which ignoring it changes nothing (a quantized or LoRA Dense, a ragged input, a renormalizing
BatchNormalization are refused by name); any other field a fastdnn layer does not take is refused by
the layer's own constructor (a TypeError, turned into a ValueError naming the file by the reader).
"""

_ANY = object()
# field -> the values under which fastdnn may ignore it (_ANY: any value)
IGNORED_FIELDS = {
    "quantization_config": (None,),   # Dense: not quantized
    "lora_rank": (None,),             # Dense: no LoRA adapter
    "lora_alpha": _ANY,               # Dense: read by Keras only when lora_rank is set
    "sparse": (False,),               # InputLayer
    "ragged": (False,),               # InputLayer
    "optional": (False,),             # InputLayer
    "renorm": (False,),               # BatchNormalization: no batch renormalization
    "renorm_clipping": _ANY,          # BatchNormalization: used only with renorm
    "renorm_momentum": _ANY,          # BatchNormalization: used only with renorm
}
# dtype policies fastdnn accepts (it computes in float32 whatever the policy; weights are cast)
FLOAT_POLICIES = {"float16", "bfloat16", "float32", "float64", "mixed_float16", "mixed_bfloat16"}
# VarianceScaling's axes arguments (Keras 3.12+): None is the (in, out) default fastdnn uses
_INITIALIZER_AXES = ("input_axes", "output_axes")


def layer_from_keras(entry):
    """A Keras layer entry {'module', 'class_name', 'config', ...} in the form fastdnn's
    layers.deserialize reads (other keys of the entry, such as a functional model's inbound_nodes,
    are kept)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ValueError(f"a layer entry is a dict with a 'config' dict; got {str(entry)[:200]}")
    name = entry.get("class_name")
    config = dict(entry["config"])
    if name in ("Sequential", "Functional", "Model"):
        raise ValueError(f"a nested {name} model inside a Keras file is not supported by fastdnn's reader")
    for field, allowed in IGNORED_FIELDS.items():
        if field in config:
            value = config.pop(field)
            if allowed is not _ANY and value not in allowed:
                raise ValueError(f"layer {config.get('name')!r} ({name}) has {field}={value!r}, which fastdnn "
                                 f"does not support (it reads files with {field}={allowed[0]!r})")
    if "dtype" in config:
        config["dtype"] = _dtype(config["dtype"], config.get("name"))
    for key, value in config.items():
        if key.endswith("_initializer") and isinstance(value, dict) and isinstance(value.get("config"), dict):
            inner = dict(value["config"])
            for axes in _INITIALIZER_AXES:
                if axes in inner:
                    if inner.pop(axes) is not None:
                        raise ValueError(f"layer {config.get('name')!r}: {key} with {axes} set is not supported")
            config[key] = {**value, "config": inner}
    return {**entry, "config": config}


def _dtype(policy, layer_name):
    name = policy.get("config", {}).get("name") if isinstance(policy, dict) else policy
    if name is None:
        return None
    if name not in FLOAT_POLICIES:
        raise ValueError(f"layer {layer_name!r} has dtype policy {name!r}; fastdnn reads float policies only "
                         f"({', '.join(sorted(FLOAT_POLICIES))}) and computes in float32")
    return "float32"


def model_from_keras(entry):
    """config.json's model entry -> (class entry, fastdnn config) for Sequential or Functional."""
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ValueError("its config.json is not a Keras model entry")
    name = entry.get("class_name")
    if name not in ("Sequential", "Functional", "Model"):
        raise ValueError(f"it holds a model of class {name!r}: fastdnn reads Keras Sequential and functional "
                         "models only")
    config = dict(entry["config"])
    config.pop("dtype", None)  # the model's policy: its layers carry their own
    if not isinstance(config.get("layers"), list):
        raise ValueError("its model configuration has no layer list")
    config["layers"] = [layer_from_keras(layer) for layer in config["layers"]]
    return {"class_name": "Sequential" if name == "Sequential" else "Functional"}, config


def model_to_keras(model):
    """The Keras 3 config.json entry of a fastdnn Sequential or Functional model."""
    from fastdnn import layers as layers_module
    from fastdnn.models import Sequential

    entry = layers_module._class_entry(model)
    if not entry["module"].startswith("keras"):
        raise ValueError(f"fastdnn writes Keras files for Sequential and functional models; "
                         f"{type(model).__name__} is a class of your own (save it as .fdnn)")
    config = model.get_config()
    for layer in config["layers"]:
        # Keras 3 warns on a layer's input shape argument; the model's build_input_shape says it
        layer["config"].pop("batch_input_shape", None)
    config.setdefault("trainable", model.trainable)
    out = {"module": entry["module"], "class_name": entry["class_name"], "config": config,
           "registered_name": entry["registered_name"]}
    if isinstance(model, Sequential):
        shape = model._build_shape
        if shape is None:
            shape = (None, *model.layers[0]._input_shape_arg) if model.layers[0]._input_shape_arg else None
        if shape is not None:
            config["build_input_shape"] = list(shape)
            out["build_config"] = {"input_shape": list(shape)}
    return out

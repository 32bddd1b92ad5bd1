"""The legacy Keras HDF5 model file (Keras 2 / tf.keras `model.save("x.h5")`, and Keras 3's
keras/src/legacy/saving/legacy_h5_format.py), read and written.

Layout: root attributes `model_config` (JSON: {"class_name", "config"}, layers as {"class_name",
"config"}), `training_config` (JSON: loss, metrics, ..., "optimizer_config"), `keras_version`,
`backend`; a group `model_weights` with the attribute `layer_names`, and one group per layer
(attribute `weight_names`, datasets at those names, e.g. "dense/kernel:0" or Keras 3's
"sequential/dense/kernel"). Weights are matched to the layers by order, as Keras does.

The optimizer's variables go to `optimizer_weights` (attribute `weight_names`), in the order
of Keras' optimizer.variables, as in .keras files (saving_keras: the optimizers whose variables map). Safety as saving_keras: attribute and dataset sizes are
checked against the file before they are read, the model is built under a cap of the weights
the file declares, and only fastdnn's layers are created.
"""

import json
import os

import numpy as np

from fastdnn import _budget, keras_config, saving_keras

_MAX_ATTRIBUTE_BYTES = 64 << 20


def is_hdf5(filepath):
    try:
        with open(filepath, "rb") as f:
            return f.read(8) == b"\x89HDF\r\n\x1a\n"
    except OSError:
        return False


def save_model(model, filepath, overwrite=True):
    h5py = saving_keras.h5py_module()
    entry = keras_config.model_to_keras(model)
    model_config = {"class_name": entry["class_name"], "config": _legacy(entry["config"])}
    from fastdnn._atomic import atomic_write

    with atomic_write(filepath, overwrite) as out:
        with h5py.File(out, "w") as f:
            f.attrs["keras_version"] = saving_keras.KERAS_VERSION
            f.attrs["backend"] = "fastdnn"
            f.attrs["model_config"] = json.dumps(model_config)
            if model.compiled:
                config = saving_keras._compile_config(model)
                optimizer = config.pop("optimizer")
                config["optimizer_config"] = {"class_name": optimizer["class_name"], "config": optimizer["config"]}
                f.attrs["training_config"] = json.dumps(config)
            group = f.create_group("model_weights")
            group.attrs["layer_names"] = [layer.name.encode("utf8") for layer in model.layers]
            group.attrs["backend"] = "fastdnn"
            group.attrs["keras_version"] = saving_keras.KERAS_VERSION
            for layer in sorted(model.layers, key=lambda layer: layer.name):
                layer_group = group.create_group(layer.name)
                names = [f"{model.name}/{layer.name}/{w.name}" for w in layer.weights]
                layer_group.attrs["weight_names"] = [n.encode("utf8") for n in names]
                for name, w in zip(names, layer.weights):
                    layer_group.create_dataset(name, data=np.asarray(w.value, dtype=np.float32))
            group.create_group("top_level_model_weights").attrs["weight_names"] = np.array([], dtype="S1")
            values = saving_keras._optimizer_variables(model) if model.compiled else None
            if values:
                prefix = getattr(model.optimizer, "name", "optimizer")
                names = [f"{prefix}/{i}" for i in range(len(values))]
                optimizer_group = f.create_group("optimizer_weights")
                optimizer_group.attrs["weight_names"] = [n.encode("utf8") for n in names]
                for name, value in zip(names, values):
                    optimizer_group.create_dataset(name, data=value)


def _legacy(config):
    """Keras' legacy configs: layers as {"class_name", "config"} without module/registered_name."""
    out = dict(config)
    out["layers"] = [{k: v for k, v in layer.items() if k not in ("module", "registered_name")}
                     for layer in config["layers"]]
    return out


def _stored_size(attrs, name):
    try:
        return attrs.get_id(name).get_storage_size()
    except RuntimeError:  # HDF5 reports an empty attribute's size as an error
        return 0


def _attribute(f, name, filepath):
    """A JSON root attribute, its stored size checked before it is read."""
    if name not in f.attrs:
        return None
    try:
        if _stored_size(f.attrs, name) > _MAX_ATTRIBUTE_BYTES:
            raise ValueError(f"{filepath}: its {name} attribute is implausibly large")
        value = f.attrs[name]
        value = value.decode("utf8") if isinstance(value, bytes) else value
        return json.loads(value)
    except (OSError, RuntimeError, KeyError, TypeError, UnicodeDecodeError, RecursionError) as e:
        raise ValueError(f"{filepath}: cannot read its {name} attribute ({e})") from None


def _names(group, attribute, filepath):
    try:
        if attribute not in group.attrs:
            return []
        if _stored_size(group.attrs, attribute) > _MAX_ATTRIBUTE_BYTES:
            raise ValueError(f"{filepath}: the {attribute} attribute is implausibly large")
        return [n.decode("utf8") if isinstance(n, bytes) else str(n) for n in np.asarray(group.attrs[attribute]).ravel()]
    except (OSError, RuntimeError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise ValueError(f"{filepath}: cannot read {attribute} ({e})") from None


def load_model(filepath, compile=True, custom_objects=None):
    from fastdnn import layers as layers_module

    h5py = saving_keras.h5py_module()
    filepath = os.fspath(filepath)
    weights = None
    try:
        weights = saving_keras._Weights(h5py, filepath, os.path.getsize(filepath), filepath)
        f = weights.file
        config = _attribute(f, "model_config", filepath)
        if config is None:
            raise ValueError(f"{filepath} holds no model_config: it is a weights file (build the model and call "
                             "load_weights)")
        class_entry, fastdnn_config = keras_config.model_from_keras(config)
        with _budget.limited(weights.values, filepath):
            model = layers_module.deserialize({**class_entry, "config": fastdnn_config}, custom_objects)
        if not model.built:
            raise ValueError("its model has no input shape")
        _load_weights(model, weights, f.get("model_weights"), filepath)
        training = _attribute(f, "training_config", filepath) if compile else None
        if training:
            training = dict(training)
            training["optimizer"] = training.pop("optimizer_config", None)
            saving_keras._compile(model, training, custom_objects)
            optimizer_group = f.get("optimizer_weights")
            if optimizer_group is not None:
                names = _names(optimizer_group, "weight_names", filepath)
                saving_keras._load_optimizer(model, weights, [f"optimizer_weights/{n}" for n in names])
        return model
    except (KeyError, TypeError, AttributeError, OverflowError, NotImplementedError, RecursionError) as e:
        raise ValueError(f"{filepath} has a configuration fastdnn cannot read ({e!r})") from None
    except (OSError, RuntimeError, EOFError) as e:
        if isinstance(e, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise
        raise ValueError(f"{filepath} is damaged ({e})") from None
    except ValueError as e:
        raise e if filepath in str(e) else ValueError(f"{filepath}: {e}") from None
    finally:
        if weights is not None:
            weights.close()


def _load_weights(model, weights, group, filepath):
    if group is None:
        raise ValueError(f"{filepath} has no model_weights group")
    saved = []
    for name in _names(group, "layer_names", filepath):
        layer_group = group.get(name)
        weight_names = _names(layer_group, "weight_names", filepath) if layer_group is not None else []
        if weight_names:
            saved.append((name, weight_names))
    mine = [layer for layer in model.layers if layer.weights]
    if len(saved) != len(mine):
        raise ValueError(f"{filepath} holds weights for {len(saved)} layers; the model has {len(mine)} layers with "
                         "weights")
    values = []
    for (name, weight_names), layer in zip(saved, mine):
        if len(weight_names) != len(layer.weights):
            raise ValueError(f"{filepath}: layer {name!r} holds {len(weight_names)} weights; {layer.name!r} has "
                             f"{len(layer.weights)}")
        values += [(w, weights.read(f"model_weights/{name}/{n}", w.shape)) for n, w in zip(weight_names, layer.weights)]
    for w, value in values:
        w.assign(value)

"""Keras 3's `.keras` file (keras/src/saving/saving_lib.py), read and written, and its
`.weights.h5` weights file.

A `.keras` file is a zip of metadata.json, config.json (the model's serialized configuration, with
its compile_config) and model.weights.h5, an HDF5 file holding each layer's variables at
`layers/<snake_case class name>[_<n>]/vars/<i>` (n counting the layers of the same class in the
model's layer order) and the optimizer's at `optimizer/vars/<i>`. h5py (the `keras-files` extra)
reads and writes the HDF5 part.

Safety, as fastdnn's own reader: the zip's members must be backed by the file's bytes; config.json
is size-capped JSON read with the standard parser; every layer is one of fastdnn's (Lambda and
unknown classes are refused by name); every HDF5 dataset's declared shape and type is checked
before it is read, and the model is built under a cap of the number of float values the weights
file declares, which itself must be backed by the file's bytes, so a forged configuration or
dataset header is refused before anything large is allocated. No pickle, no code execution.
"""

import datetime
import io
import json
import os
import re
import struct
import zipfile

import numpy as np

from fastdnn import _budget, keras_config
from fastdnn._atomic import atomic_write

_CONFIG, _METADATA, _WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
_MAX_JSON_BYTES = 64 << 20
KERAS_VERSION = "3.15.1"  # the Keras version whose layout fastdnn writes (metadata.json)
# fastdnn slot names in Keras' order of optimizer variables: one list per add_optimizer_variables call
_KERAS_SLOT_GROUPS = {"SGD": [["momentum"]], "Adam": [["momentum", "velocity"], ["velocity_hat"]],
                      "AdamW": [["momentum", "velocity"], ["velocity_hat"]],
                      "RMSprop": [["velocity"], ["momentum"], ["average_gradient"]],
                      "Adagrad": [["accumulator"]], "Adadelta": [["accumulated_grad", "accumulated_delta_var"]],
                      "Adamax": [["m", "norm"]],  # Keras calls Adamax's "m" "momentum"
                      "Nadam": [["momentum", "velocity"]]}  # then Keras' u_product, a scalar, last


def h5py_module():
    try:
        import h5py
    except ImportError:
        raise ImportError("Keras files (.keras, .h5, .weights.h5) need h5py: pip install \"fastdnn[keras-files]\" "
                          "(or save in fastdnn's own format, a .fdnn name)") from None
    return h5py


def is_keras_zip(filepath):
    """True for a zip holding config.json (Keras' .keras), False for anything else."""
    try:
        with zipfile.ZipFile(filepath) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError, EOFError, struct.error,
            OverflowError, UnicodeDecodeError, KeyError):
        return False  # not a readable zip: fastdnn's own reader says why, naming the file
    return _CONFIG in names and "fastdnn.json" not in names


def _snake_case(name):
    """keras.src.utils.naming.to_snake_case."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def layer_paths(model):
    """[(h5 group path, layer)] in Keras' order: a model's layers but its InputLayers."""
    used, out = {}, []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        name = _snake_case(type(layer).__name__)
        if name in used:
            used[name] += 1
            name = f"{name}_{used[name]}"
        else:
            used[name] = 0
        out.append((f"layers/{name}", layer))
    return out


# --- writing ---------------------------------------------------------------------------------

def _write_weights_h5(h5py, fileobj, model, with_optimizer):
    with h5py.File(fileobj, "w") as f:
        for path, layer in layer_paths(model):
            group = f.create_group(f"{path}/vars")
            group.attrs["name"] = layer.name
            for i, w in enumerate(layer.weights):
                group.create_dataset(str(i), data=np.asarray(w.value, dtype=np.float32))
        f.create_group("vars").attrs["name"] = model.name
        state = _optimizer_variables(model) if with_optimizer else None
        if state is not None:
            group = f.create_group("optimizer/vars")
            group.attrs["name"] = model.optimizer.name if hasattr(model.optimizer, "name") else "optimizer"
            for i, value in enumerate(state):
                group.create_dataset(str(i), data=value)


def _optimizer_variables(model):
    """Keras' optimizer variables of the model's optimizer: iterations, learning_rate, then the
    slots in Keras' order; None where fastdnn's slots do not map (other optimizers, schedules)."""
    from fastdnn import saving

    optimizer = model.optimizer
    groups = _KERAS_SLOT_GROUPS.get(type(optimizer).__name__)
    rate = getattr(optimizer, "learning_rate", None)
    if groups is None or not isinstance(rate, (int, float, np.floating)):
        return None
    state = saving._optimizer_state(model)
    slots, iterations = (state[0], state[1]) if state is not None else ({}, 0)
    count = len(model.trainable_weights)
    out = [np.array(iterations, dtype=np.int64), np.array(rate, dtype=np.float32)]
    for group in groups:
        present = [name for name in group if name in slots]
        for i in range(count):
            out += [np.asarray(slots[name][i], dtype=np.float32) for name in present]
    if state is None:  # never trained: Keras builds its slots (zeros) itself
        out += [np.zeros(w.shape, np.float32) for group in groups for w in model.trainable_weights
                for name in group if _slot_used(optimizer, name)]
    if type(optimizer).__name__ == "Nadam":
        out.append(np.array(state[2] if state is not None else 1.0, dtype=np.float32))
    return out


def _slot_used(optimizer, name):
    """Whether the optimizer's settings give it the slot `name` (as the engine's optimizer.cpp)."""
    if name == "momentum" and type(optimizer).__name__ in ("SGD", "RMSprop"):
        return getattr(optimizer, "momentum", 0) > 0
    if name == "velocity_hat":
        return bool(getattr(optimizer, "amsgrad", False))
    if name == "average_gradient":
        return bool(getattr(optimizer, "centered", False))
    return True


def _compile_config(model):
    """Keras' compile_config: fastdnn's entries, each serialized object named by its Keras module."""
    from fastdnn import saving_graph

    config = saving_graph.compile_config(model)

    def pick(key):
        return _with_module(config.get(key, config.get(f"{key}_by_output")),
                            "keras.losses" if key == "loss" else "keras.metrics")

    return {"optimizer": _with_module(config["optimizer"], "keras.optimizers"), "loss": pick("loss"),
            "loss_weights": config.get("loss_weights"), "metrics": pick("metrics"),
            "weighted_metrics": _with_module(config.get("weighted_metrics", config.get("weighted_metrics_by_output")),
                                             "keras.metrics"),
            "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}


def _with_module(value, module):
    """`value` with every serialized object in it ({'class_name', 'config'}) given a Keras module."""
    if isinstance(value, list):
        return [_with_module(v, module) for v in value]
    if isinstance(value, dict):
        if "class_name" in value and "config" in value:
            return {"module": module, "registered_name": None, **value}
        return {k: _with_module(v, module) for k, v in value.items()}
    return value


def save_model(model, filepath, overwrite=True):
    h5py = h5py_module()
    entry = keras_config.model_to_keras(model)
    if model.compiled:
        entry["compile_config"] = _compile_config(model)
    weights = io.BytesIO()
    _write_weights_h5(h5py, weights, model, with_optimizer=model.compiled)
    metadata = {"keras_version": KERAS_VERSION, "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    with atomic_write(filepath, overwrite) as f:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr(_METADATA, json.dumps(metadata))
            archive.writestr(_CONFIG, json.dumps(entry))
            archive.writestr(_WEIGHTS, weights.getvalue())


def save_weights(model, filepath, overwrite=True):
    h5py = h5py_module()
    weights = io.BytesIO()
    _write_weights_h5(h5py, weights, model, with_optimizer=model.compiled)
    with atomic_write(filepath, overwrite) as f:
        f.write(weights.getvalue())


# --- reading ---------------------------------------------------------------------------------

class _Weights:
    """An HDF5 weights file opened for reading; every dataset checked before it is read."""

    def __init__(self, h5py, fileobj, size, filepath):
        self.filepath = filepath
        try:
            self.file = h5py.File(fileobj, "r")
        except (OSError, ValueError) as e:
            raise ValueError(f"{filepath}: its weights are not a readable HDF5 file ({e})") from None
        self.h5py = h5py
        self.values, declared_bytes = 0, 0
        for path, dataset in self._datasets():
            if dataset.dtype.kind not in "fiu" or dataset.dtype.itemsize > 8:
                raise ValueError(f"{filepath}: {path} holds {dataset.dtype}, not numbers")
            count = int(np.prod(dataset.shape, dtype=np.float64))
            self.values += count
            declared_bytes += count * dataset.dtype.itemsize
        if declared_bytes > size:  # a forged dataset header declares more than the file holds
            raise ValueError(f"{filepath}: its weights declare {declared_bytes:,} bytes of data; the file holds "
                             f"{size:,}")

    def _datasets(self):
        found = []

        def visit(name, obj):
            if isinstance(obj, self.h5py.Dataset):
                found.append((name, obj))
            elif not isinstance(obj, self.h5py.Group):
                raise ValueError(f"{self.filepath}: {name} is neither a group nor a dataset")
        try:
            self.file.visititems(visit)
        except (OSError, RuntimeError, KeyError) as e:
            raise ValueError(f"{self.filepath}: its weights file is damaged ({e})") from None
        return found

    def read(self, path, shape):
        try:
            dataset = self.file.get(path)
        except (OSError, RuntimeError, KeyError) as e:
            raise ValueError(f"{self.filepath}: cannot read {path} ({e})") from None
        if not isinstance(dataset, self.h5py.Dataset):
            raise ValueError(f"{self.filepath} lacks the weight {path}")
        if tuple(dataset.shape) != tuple(shape):
            raise ValueError(f"{self.filepath}: {path} has shape {list(dataset.shape)}; the model expects "
                             f"{list(shape)}")
        try:
            return np.asarray(dataset[()], dtype=np.float32).reshape(shape)
        except (OSError, RuntimeError, ValueError, TypeError) as e:
            raise ValueError(f"{self.filepath}: cannot read {path} ({e})") from None

    def count(self, group):
        found = self.file.get(group)
        return len(found) if isinstance(found, self.h5py.Group) else 0

    def close(self):
        self.file.close()


def _load_layers(model, weights):
    values = []
    for path, layer in layer_paths(model):
        mine = layer.weights
        if weights.count(f"{path}/vars") != len(mine):
            raise ValueError(f"{weights.filepath}: {path}/vars holds {weights.count(path + '/vars')} weights; layer "
                             f"{layer.name!r} has {len(mine)}")
        values += [(w, weights.read(f"{path}/vars/{i}", w.shape)) for i, w in enumerate(mine)]
    for w, value in values:
        w.assign(value)


def _load_optimizer(model, weights, paths=None):
    """Carries Keras' optimizer variables (datasets `paths` in Keras' order, by default
    optimizer/vars/<i>) into fastdnn's slots where they map (a plus: a mismatch leaves the
    optimizer fresh, as Keras itself does with a warning)."""
    groups = _KERAS_SLOT_GROUPS.get(type(model.optimizer).__name__)
    if paths is None:
        paths = [f"optimizer/vars/{i}" for i in range(weights.count("optimizer/vars"))]
    if groups is None or len(paths) < 2:
        return
    names = [name for group in groups for name in group if _slot_used(model.optimizer, name)]
    trainable = model.trainable_weights
    nadam = type(model.optimizer).__name__ == "Nadam"
    if len(paths) != 2 + len(names) * len(trainable) + nadam:
        return
    iterations = int(weights.read(paths[0], ()).astype(np.int64))
    slots, index = {name: [None] * len(trainable) for name in names}, 2
    for group in groups:
        present = [name for name in group if name in slots]
        for i, w in enumerate(trainable):
            for name in present:
                slots[name][i] = weights.read(paths[index], w.shape)
                index += 1
    u_product = float(weights.read(paths[index], ())) if nadam else 1.0
    model._pending_optimizer_state = (slots, iterations, u_product)
    model.optimizer._iterations = iterations


def _open_zip(filepath):
    try:
        archive = zipfile.ZipFile(filepath, "r")
        size = os.path.getsize(filepath)
        stored = 0
        for info in archive.infolist():
            stored += info.compress_size
            ratio_ok = (info.file_size == info.compress_size if info.compress_type == zipfile.ZIP_STORED
                        else info.file_size <= 1100 * info.compress_size + 1024)
            if not ratio_ok or stored > size:
                raise ValueError(f"its member {info.filename} declares {info.file_size} bytes the file does not hold")
        for name in (_CONFIG, _WEIGHTS):
            archive.getinfo(name)
        if archive.getinfo(_CONFIG).file_size > _MAX_JSON_BYTES:
            raise ValueError("its config.json is implausibly large")
        entry = json.loads(archive.read(_CONFIG).decode("utf-8"))
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, UnicodeDecodeError, EOFError, OSError, RuntimeError,
            NotImplementedError, OverflowError, struct.error, RecursionError) as e:
        raise ValueError(f"{filepath} is not a readable Keras file ({e})") from None
    return archive, entry


def load_model(filepath, compile=True, custom_objects=None):
    from fastdnn import layers as layers_module

    h5py = h5py_module()
    filepath = os.fspath(filepath)
    archive, entry = _open_zip(filepath)
    weights = None
    try:
        class_entry, config = keras_config.model_from_keras(entry)
        stream = archive.open(_WEIGHTS)
        weights = _Weights(h5py, stream, archive.getinfo(_WEIGHTS).file_size, filepath)
        with _budget.limited(weights.values, filepath):
            model = layers_module.deserialize({**class_entry, "config": config}, custom_objects)
        if not model.built:
            raise ValueError("its model has no input shape (neither an InputLayer nor build_input_shape)")
        _load_layers(model, weights)
        compile_config = entry.get("compile_config")
        if compile and compile_config:
            _compile(model, compile_config, custom_objects)
            _load_optimizer(model, weights)
        return model
    except (KeyError, TypeError, AttributeError, OverflowError, NotImplementedError, RecursionError) as e:
        raise ValueError(f"{filepath} has a configuration fastdnn cannot read ({e!r})") from None
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, struct.error) as e:  # read by h5py from the zip
        raise ValueError(f"{filepath} is damaged ({e})") from None
    except ValueError as e:
        raise e if filepath in str(e) else ValueError(f"{filepath}: {e}") from None
    finally:
        if weights is not None:
            weights.close()
        archive.close()


def _compile(model, config, custom_objects):
    from fastdnn import optimizers, saving_graph

    optimizer = config.get("optimizer")
    if isinstance(optimizer, dict):
        optimizer = {"class_name": optimizer.get("class_name"), "config": optimizer.get("config", {})}
    plain = {"loss": config.get("loss"), "loss_weights": config.get("loss_weights"),
             "metrics": config.get("metrics"), "weighted_metrics": config.get("weighted_metrics")}
    for key in ("loss", "metrics", "weighted_metrics"):
        if isinstance(plain[key], dict) and "class_name" not in plain[key]:
            plain[f"{key}_by_output"] = plain.pop(key)
    model.compile(optimizer=optimizers.deserialize(optimizer),
                  **saving_graph.compile_arguments(plain, custom_objects))


def load_weights(model, filepath):
    h5py = h5py_module()
    filepath = os.fspath(filepath)
    if not model.built:
        raise ValueError("Build the model before loading weights into it")
    try:
        size = os.path.getsize(filepath)
        with open(filepath, "rb") as f:
            weights = _Weights(h5py, f, size, filepath)
            try:
                _load_layers(model, weights)
            finally:
                weights.close()
    except ValueError as e:
        raise e if filepath in str(e) else ValueError(f"{filepath}: {e}") from None

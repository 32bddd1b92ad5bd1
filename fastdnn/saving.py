"""fastdnn's model file: one zip holding fastdnn.json (configuration, compile
settings, training state) and the weights and optimizer state as .npy arrays.

No pickle anywhere: arrays are read only as little-endian float32 of the shape
the configuration declares, checked before any data is read. Files are written
to a temporary name in the same folder and renamed, so an interrupted save
never leaves a corrupt file behind.
"""

import io
import json
import os
import sys
import zipfile

import numpy as np

from fastdnn._atomic import atomic_write

FORMAT = "fastdnn"
VERSION = 1
_MANIFEST = "fastdnn.json"
_MAX_MANIFEST_BYTES = 64 << 20
_noted_foreign_suffix = False


def _note_suffix(filepath):
    """Keras names (.h5, .keras) get fastdnn's format all the same; say so once."""
    global _noted_foreign_suffix
    if not _noted_foreign_suffix and str(filepath).endswith((".h5", ".hdf5", ".keras")):
        _noted_foreign_suffix = True
        print(f"fastdnn: saving {os.path.basename(str(filepath))!r} in fastdnn's own format (a zip of JSON and "
              "NumPy arrays), not Keras' HDF5/.keras format; load it with fastdnn.models.load_model.",
              file=sys.stderr)


def _npy_bytes(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ascontiguousarray(array, dtype="<f4"), allow_pickle=False)
    return buffer.getvalue()


def _write_atomically(filepath, manifest, arrays, overwrite):
    with atomic_write(filepath, overwrite) as f:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr(_MANIFEST, json.dumps(manifest, indent=1))
            for name, array in arrays:
                archive.writestr(name, _npy_bytes(array))


def _weights_manifest(model):
    return [{"path": w.path, "shape": list(w.shape)} for w in model.weights]


def _layer_seeds(model):
    return {layer.name: layer._engine_seed for layer in model.layers if hasattr(layer, "_engine_seed")}


def save_model(model, filepath, overwrite=True):
    from fastdnn import losses, optimizers

    if not model.built:
        raise ValueError("Cannot save a model that has not been built: call build() or fit() first")
    _note_suffix(filepath)
    manifest = {"format": FORMAT, "version": VERSION, "kind": "model", "model": model.get_config(),
                "layer_seeds": _layer_seeds(model), "weights": _weights_manifest(model)}
    arrays = [(f"weights/{i:04d}.npy", w.value) for i, w in enumerate(model.weights)]
    if model.compiled:
        loss = model.loss if isinstance(model.loss, str) else losses.serialize(model.loss)
        metrics = [m if isinstance(m, str) else m.name for m in model._compiled_metrics]
        manifest["compile"] = {"optimizer": optimizers.serialize(model.optimizer), "loss": loss, "metrics": metrics}
        state = _optimizer_state(model)
        if state is not None:
            slots, iterations, u_product = state
            manifest["optimizer_state"] = {"iterations": iterations, "u_product": u_product,
                                           "slots": {name: [list(a.shape) for a in arrays_] for name, arrays_ in slots.items()}}
            for name, slot_arrays in slots.items():
                arrays += [(f"optimizer/{name}/{i:04d}.npy", a) for i, a in enumerate(slot_arrays)]
    _write_atomically(filepath, manifest, arrays, overwrite)


def _optimizer_state(model):
    """(slots, iterations, u_product) of the model's optimizer, or None before any training."""
    pending = getattr(model, "_pending_optimizer_state", None)
    net = model._network
    if net is not None and model.optimizer is not None and model.optimizer._network is net:
        return net.optimizer_slots(), int(net.iterations), float(net.u_product)
    return pending


def save_weights(model, filepath, overwrite=True):
    if not model.built:
        raise ValueError("Cannot save the weights of a model that has not been built")
    _note_suffix(filepath)
    manifest = {"format": FORMAT, "version": VERSION, "kind": "weights", "weights": _weights_manifest(model)}
    arrays = [(f"weights/{i:04d}.npy", w.value) for i, w in enumerate(model.weights)]
    _write_atomically(filepath, manifest, arrays, overwrite)


class _Archive:
    """A fastdnn file opened for reading, with every array checked against the manifest."""

    def __init__(self, filepath):
        self.filepath = os.fspath(filepath)
        try:
            self.zip = zipfile.ZipFile(self.filepath, "r")
            info = self.zip.getinfo(_MANIFEST)
            if info.file_size > _MAX_MANIFEST_BYTES:
                raise ValueError("its manifest is implausibly large")
            self.manifest = json.loads(self.zip.read(_MANIFEST).decode("utf-8"))
        except FileNotFoundError:
            raise
        except (zipfile.BadZipFile, KeyError, ValueError, UnicodeDecodeError, EOFError) as e:
            raise ValueError(f"{self.filepath} is not a readable fastdnn model file ({e})") from None
        if not isinstance(self.manifest, dict) or self.manifest.get("format") != FORMAT:
            raise ValueError(f"{self.filepath} is not a fastdnn model file")
        if self.manifest.get("version") != VERSION:
            raise ValueError(f"{self.filepath} has format version {self.manifest.get('version')}; "
                             f"this fastdnn reads version {VERSION}")

    def array(self, name, shape):
        """The float32 array `name`, which must have exactly `shape`."""
        shape = tuple(int(s) for s in shape)
        try:
            with self.zip.open(name) as f:
                version = np.lib.format.read_magic(f)
                reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                found_shape, fortran_order, dtype = reader(f)
                if dtype != np.dtype("<f4") or fortran_order or tuple(found_shape) != shape:
                    raise ValueError(f"{name} holds {dtype} {found_shape}; expected float32 {shape}")
                count = int(np.prod(shape, dtype=np.int64))
                data = f.read(count * 4)
        except KeyError:
            raise ValueError(f"{self.filepath} lacks the array {name}") from None
        except (zipfile.BadZipFile, EOFError, OSError) as e:
            raise ValueError(f"{self.filepath}: cannot read {name} ({e})") from None
        if len(data) != count * 4:
            raise ValueError(f"{self.filepath}: {name} is truncated")
        return np.frombuffer(data, dtype="<f4").reshape(shape).astype(np.float32)

    def close(self):
        self.zip.close()


def _load_weights_into(model, archive):
    declared = archive.manifest.get("weights")
    mine = model.weights
    if not isinstance(declared, list) or len(declared) != len(mine):
        raise ValueError(f"{archive.filepath} holds {len(declared) if isinstance(declared, list) else 'no'} weights; "
                         f"the model has {len(mine)}")
    values = []
    for i, (entry, w) in enumerate(zip(declared, mine)):
        if list(entry.get("shape", [])) != list(w.shape):
            raise ValueError(f"{archive.filepath}: weight {i} ({entry.get('path')}) has shape {entry.get('shape')}; "
                             f"the model's {w.path} has shape {list(w.shape)}")
        values.append(archive.array(f"weights/{i:04d}.npy", w.shape))
    expected = {f"weights/{i:04d}.npy" for i in range(len(mine))}
    extra = [n for n in archive.zip.namelist() if n.startswith("weights/") and n not in expected]
    if extra:
        raise ValueError(f"{archive.filepath} holds unexpected arrays: {extra[:5]}")
    for w, value in zip(mine, values):
        w.assign(value)


def load_weights(model, filepath):
    archive = _Archive(filepath)
    try:
        if not model.built:
            raise ValueError("Build the model before loading weights into it")
        _load_weights_into(model, archive)
    finally:
        archive.close()


def load_model(filepath, compile=True):
    from fastdnn import losses, models, optimizers

    archive = _Archive(filepath)
    try:
        m = archive.manifest
        if m.get("kind") != "model":
            raise ValueError(f"{filepath} holds weights only; build the model and call load_weights")
        model = models.Sequential.from_config(m["model"])
        for layer in model.layers:
            if layer.name in m.get("layer_seeds", {}):
                layer._engine_seed = int(m["layer_seeds"][layer.name])
        _load_weights_into(model, archive)
        if compile and m.get("compile"):
            c = m["compile"]
            loss = c["loss"] if isinstance(c["loss"], str) else losses.deserialize(c["loss"])
            model.compile(optimizer=optimizers.deserialize(c["optimizer"]), loss=loss, metrics=c.get("metrics"))
            state = m.get("optimizer_state")
            if state:
                slots = {name: [archive.array(f"optimizer/{name}/{i:04d}.npy", shape) for i, shape in enumerate(shapes)]
                         for name, shapes in state["slots"].items()}
                model._pending_optimizer_state = (slots, int(state["iterations"]), float(state["u_product"]))
                model.optimizer._iterations = int(state["iterations"])
        return model
    except (KeyError, TypeError) as e:
        raise ValueError(f"{filepath} has a malformed configuration ({e!r})") from None
    finally:
        archive.close()

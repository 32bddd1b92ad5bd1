"""fastdnn's model file (.fdnn, and any name Keras does not claim): one zip holding fastdnn.json
(configuration, compile settings, training state) and the weights and optimizer state as .npy
arrays. Keras' names go to Keras' formats: .keras and .weights.h5 (saving_keras.py), a model
under .h5/.hdf5 (saving_h5.py); load_model goes by the content, but for a .fdnn name.

No pickle anywhere: arrays are read only as little-endian float32 of the shape
the configuration declares, checked before any data is read. Before a layer is
built, the weights the configuration implies are compared with the arrays the
file declares and with the bytes the zip really holds, so a forged or damaged
configuration (a Dense layer of 10**12 units) is refused before it allocates
anything; a file holding any member fastdnn did not write (a pickle, an extra
array) is refused as well. Files are written
to a temporary name in the same folder and renamed, so an interrupted save
never leaves a corrupt file behind.
"""

import io
import json
import os
import struct
import warnings
import zipfile

import numpy as np

from fastdnn import saving_graph, saving_h5, saving_keras
from fastdnn._atomic import atomic_write

FORMAT = "fastdnn"
VERSION = 1
_MANIFEST = "fastdnn.json"
_MAX_MANIFEST_BYTES = 64 << 20
_noted_foreign_suffix = False


def keras_kind(filepath):
    """'keras' for a .keras name, 'weights' for .weights.h5 (Keras' formats, saving_keras.py), 'h5'
    for .h5/.hdf5 (legacy Keras HDF5, saving_h5.py);
    None for any other name (fastdnn's own format; its own suffix is .fdnn)."""
    name = str(os.fspath(filepath))
    if name.endswith(".weights.h5"):
        return "weights"
    if name.endswith((".h5", ".hdf5")):
        return "h5"
    return "keras" if name.endswith(".keras") else None


def note_suffix(filepath, stacklevel=4):
    """Weights saved under a legacy Keras name (.h5, .hdf5 but .weights.h5) get fastdnn's format
    (models under those names get legacy Keras HDF5): a UserWarning says so, once per process
    (ModelCheckpoint calls this when it is made, so the note never lands among the progress lines
    of fit). `stacklevel` as warnings.warn's, counted from here: 4 names the user's line."""
    global _noted_foreign_suffix
    name = str(filepath)
    if not _noted_foreign_suffix and keras_kind(name) == "h5":
        _noted_foreign_suffix = True
        warnings.warn(f"fastdnn writes {os.path.basename(str(filepath))!r} in its own format (a zip of JSON and "
                      "NumPy arrays), not Keras' HDF5/.keras format; load it with fastdnn.models.load_model.",
                      UserWarning, stacklevel=stacklevel)


def _npy_bytes(array):
    buffer = io.BytesIO()
    # (ascontiguousarray makes a 0-d array 1-d: the reshape keeps a scalar weight's shape ())
    contiguous = np.ascontiguousarray(array, dtype="<f4").reshape(np.shape(array))
    np.lib.format.write_array(buffer, contiguous, allow_pickle=False)
    return buffer.getvalue()


def _write_atomically(filepath, manifest, arrays, overwrite):
    with atomic_write(filepath, overwrite) as f:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr(_MANIFEST, json.dumps(manifest, indent=1))
            for name, array in arrays:
                archive.writestr(name, _npy_bytes(array))


def _weights_manifest(model):
    return [{"path": w.path, "shape": list(w.shape)} for w in model.weights]


def _not_chief(model):
    """Under an MPI strategy every rank holds the same model; only the chief (rank 0) writes it."""
    strategy = getattr(model, "_strategy", None)
    return strategy is not None and not strategy.is_chief


def save_model(model, filepath, overwrite=True):
    if _not_chief(model):
        return
    if not model.built:
        raise ValueError("Cannot save a model that has not been built: call build() or fit() first")
    if keras_kind(filepath) == "keras":
        return saving_keras.save_model(model, filepath, overwrite)
    if keras_kind(filepath) == "h5":
        return saving_h5.save_model(model, filepath, overwrite)
    manifest = {"format": FORMAT, "version": VERSION, "kind": "model", **saving_graph.model_entries(model),
                "layer_seeds": saving_graph.layer_seeds(model), "weights": _weights_manifest(model)}
    from fastdnn import _random

    # Where the shuffling stream stands: training resumed from this file goes on from here.
    manifest["shuffle_state"] = (model._shuffle_generator or _random.generator()).bit_generator.state
    arrays = [(f"weights/{i:04d}.npy", w.value) for i, w in enumerate(model.weights)]
    if model.compiled:
        manifest["compile"] = saving_graph.compile_config(model)
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
    if _not_chief(model):
        return
    if not model.built:
        raise ValueError("Cannot save the weights of a model that has not been built")
    if keras_kind(filepath) == "weights":
        return saving_keras.save_weights(model, filepath, overwrite)
    note_suffix(filepath)
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
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            raise
        except (zipfile.BadZipFile, KeyError, ValueError, UnicodeDecodeError, EOFError, OSError, RuntimeError,
                NotImplementedError, OverflowError, struct.error, zipfile.LargeZipFile) as e:
            # RuntimeError: a damaged flag bit says "encrypted"; NotImplementedError: an unknown compression
            raise ValueError(f"{self.filepath} is not a readable fastdnn model file ({e})") from None
        self._check_members()
        if not isinstance(self.manifest, dict) or self.manifest.get("format") != FORMAT:
            raise ValueError(f"{self.filepath} is not a fastdnn model file")
        if self.manifest.get("version") != VERSION:
            raise ValueError(f"{self.filepath} has format version {self.manifest.get('version')}; "
                             f"this fastdnn reads version {VERSION}")

    def _check_members(self):
        """Every member's declared size must be backed by bytes of the file (a forged size is
        refused here, before anything is allocated for it)."""
        archive_size = os.path.getsize(self.filepath)
        stored = 0
        for info in self.zip.infolist():
            stored += info.compress_size
            ratio_ok = (info.file_size == info.compress_size if info.compress_type == zipfile.ZIP_STORED
                        else info.file_size <= 1100 * info.compress_size + 1024)  # deflate's ratio is at most ~1032
            if not ratio_ok or stored > archive_size:
                raise ValueError(f"{self.filepath} is damaged: its member {info.filename} declares "
                                 f"{info.file_size} bytes that the file does not hold")

    def expect_only(self, names):
        """Refuses a file holding any member other than the manifest and `names`."""
        allowed = set(names) | {_MANIFEST}
        extra = [n for n in self.zip.namelist() if n not in allowed]
        if extra:
            raise ValueError(f"{self.filepath} holds members that fastdnn did not write (refused, never read): "
                             f"{extra[:5]}")

    def _read(self, name, shape, data):
        """Checks the .npy header of `name` against float32 `shape`; with data=True, returns the
        array (and checks that nothing follows it). Headers only ever get the literal parser."""
        shape = _shape(shape, self.filepath, name)
        count = int(np.prod(shape, dtype=np.int64))
        try:
            info = self.zip.getinfo(name)
        except KeyError:
            raise ValueError(f"{self.filepath} lacks the array {name}") from None
        if info.file_size < count * 4:
            raise ValueError(f"{self.filepath}: {name} holds {info.file_size} bytes, too few for float32 {list(shape)}")
        try:
            with self.zip.open(name) as f:
                version = np.lib.format.read_magic(f)
                reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                found_shape, fortran_order, dtype = reader(f)
                if dtype != np.dtype("<f4") or fortran_order or tuple(found_shape) != shape:
                    raise ValueError(f"{name} holds {dtype} {found_shape}"
                                     f"{' in Fortran order' if fortran_order else ''}; expected float32 {shape}")
                if not data:
                    return None
                buffer = f.read(count * 4)
                if f.read(1):
                    raise ValueError(f"{name} holds more data than float32 {shape}")
        except (ValueError, zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError, struct.error,
                SyntaxError, TypeError) as e:  # ValueError, SyntaxError, TypeError: a damaged .npy header
            raise ValueError(f"{self.filepath}: cannot read {name} ({e})") from None
        if len(buffer) != count * 4:
            raise ValueError(f"{self.filepath}: {name} is truncated")
        return np.frombuffer(buffer, dtype="<f4").reshape(shape).astype(np.float32)

    def array(self, name, shape):
        """The float32 array `name`, which must have exactly `shape`."""
        return self._read(name, shape, data=True)

    def check_headers(self, arrays):
        """Every declared array's .npy header says float32 of its declared shape (a pickled or
        foreign array is refused even where this load would not read it)."""
        for name, shape in arrays.items():
            self._read(name, shape, data=False)

    def close(self):
        self.zip.close()


def _shape(shape, filepath, what):
    """A declared shape as a tuple of ints >= 0, or a ValueError naming the file."""
    if not isinstance(shape, (list, tuple)) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
        raise ValueError(f"{filepath}: {what} has a malformed shape {shape!r}")
    return tuple(shape)


def _declared_arrays(archive, with_optimizer):
    """{member name: shape} of every array the manifest declares, each checked against the
    size of its zip member, so nothing is built for data the file does not hold."""
    m = archive.manifest
    declared = m.get("weights")
    if not isinstance(declared, list) or not all(isinstance(e, dict) for e in declared):
        raise ValueError(f"{archive.filepath} has a malformed weight list")
    arrays = {f"weights/{i:04d}.npy": _shape(e.get("shape"), archive.filepath, f"weight {i}")
              for i, e in enumerate(declared)}
    state = m.get("optimizer_state") if with_optimizer else None
    if state:
        slots = state.get("slots") if isinstance(state, dict) else None
        if not isinstance(slots, dict) or not all(isinstance(v, list) for v in slots.values()):
            raise ValueError(f"{archive.filepath} has a malformed optimizer state")
        for name, shapes in slots.items():
            for i, shape in enumerate(shapes):
                arrays[f"optimizer/{name}/{i:04d}.npy"] = _shape(shape, archive.filepath, f"optimizer/{name}/{i}")
    for name, shape in arrays.items():
        try:
            size = archive.zip.getinfo(name).file_size
        except KeyError:
            raise ValueError(f"{archive.filepath} lacks the array {name}") from None
        if size < 4 * int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"{archive.filepath}: {name} holds {size} bytes, too few for the declared "
                             f"float32 {list(shape)}")
    return arrays


def _implied_weight_shapes(config, filepath):
    """The weight shapes the model configuration implies, worked out from the layers'
    configurations without building them (building allocates the weights)."""
    from fastdnn import layers as layers_module

    if not isinstance(config, dict) or not isinstance(config.get("layers", []), list):
        raise ValueError(f"{filepath} has a malformed model configuration")
    from fastdnn import _random

    saved_generator = _random._generator  # a layer's constructor may draw a seed: leave no trace
    if saved_generator is not None:
        state = saved_generator.bit_generator.state
    try:
        shape, shapes = None, []
        for i, layer_config in enumerate(config.get("layers", [])):
            layer = layers_module.deserialize(layer_config)
            if isinstance(layer, layers_module.InputLayer):
                shape = (None, *layer._input_shape_arg)
                continue
            if shape is None:
                declared = layer._input_shape_arg
                if declared is None and config.get("build_input_shape"):
                    declared = tuple(config["build_input_shape"])[1:]
                if declared is None:
                    return None  # never built: no weights to load
                shape = (None, *declared)
            dims = shape[1:]
            if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0 for d in dims):
                raise ValueError(f"{filepath}: layer {i} has a malformed input shape {list(shape)}")
            shapes += [tuple(int(d) for d in spec[1]) for spec in layer._weight_specs(shape)]
            shape = layer.compute_output_shape(shape)
        return shapes
    finally:
        if saved_generator is not None:
            saved_generator.bit_generator.state = state
        _random._generator = saved_generator


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
    for w, value in zip(mine, values):
        w.assign(value)


def _generator_from(state, filepath):
    """A NumPy generator continuing the saved shuffling stream (PCG64, NumPy's default)."""
    generator = np.random.Generator(np.random.PCG64())
    if not isinstance(state, dict) or state.get("bit_generator") != "PCG64":
        raise ValueError(f"{filepath} has a malformed shuffle_state")
    try:
        generator.bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as e:
        raise ValueError(f"{filepath} has a malformed shuffle_state ({e})") from None
    return generator


def _naming(error, filepath):
    """`error` (a ValueError), its message prefixed with the file's name unless it names it."""
    return error if filepath in str(error) else ValueError(f"{filepath}: {error}")


def load_weights(model, filepath):
    if keras_kind(filepath) == "weights":
        return saving_keras.load_weights(model, filepath)
    archive = _Archive(filepath)
    try:
        if not model.built:
            raise ValueError("Build the model before loading weights into it")
        arrays = _declared_arrays(archive, with_optimizer=True)
        archive.expect_only(arrays)
        archive.check_headers(arrays)
        _load_weights_into(model, archive)
    except ValueError as e:
        raise _naming(e, archive.filepath) from None
    finally:
        archive.close()


def load_model(filepath, compile=True, custom_objects=None):
    from fastdnn import optimizers

    own = str(os.fspath(filepath)).endswith(".fdnn")  # otherwise by content: a fastdnn file named .keras loads
    if not own and saving_keras.is_keras_zip(filepath):
        return saving_keras.load_model(filepath, compile=compile, custom_objects=custom_objects)
    if not own and saving_h5.is_hdf5(filepath):
        return saving_h5.load_model(filepath, compile=compile, custom_objects=custom_objects)
    archive = _Archive(filepath)
    try:
        m = archive.manifest
        if m.get("kind") != "model":
            raise ValueError(f"{filepath} holds weights only; build the model and call load_weights")
        arrays = _declared_arrays(archive, with_optimizer=True)
        archive.expect_only(arrays)
        archive.check_headers(arrays)
        declared = [arrays[f"weights/{i:04d}.npy"] for i in range(len(m["weights"]))]
        if saving_graph.needs_rebuild(m):  # functional or subclassed: built under a cap on its weights
            model = saving_graph.rebuild(m, archive.filepath, declared, custom_objects)
        else:
            model = _sequential_from(m, archive.filepath, declared)
        saving_graph.restore_seeds(model, m.get("layer_seeds", {}), archive.filepath)
        _load_weights_into(model, archive)
        if compile and m.get("compile"):
            c = m["compile"]
            model.compile(optimizer=optimizers.deserialize(c["optimizer"]),
                          **saving_graph.compile_arguments(c, custom_objects))
            state = m.get("optimizer_state")
            if state:
                slots = {name: [archive.array(f"optimizer/{name}/{i:04d}.npy", shape) for i, shape in enumerate(shapes)]
                         for name, shapes in state["slots"].items()}
                model._pending_optimizer_state = (slots, int(state["iterations"]), float(state["u_product"]))
                model.optimizer._iterations = int(state["iterations"])
        if m.get("shuffle_state") is not None:
            model._shuffle_generator = _generator_from(m["shuffle_state"], archive.filepath)
        return model
    except (KeyError, TypeError, AttributeError, OverflowError, NotImplementedError, RecursionError) as e:
        raise ValueError(f"{filepath} has a malformed configuration ({e!r})") from None
    except ValueError as e:  # a layer refusing its configuration: say which file
        raise _naming(e, archive.filepath) from None
    finally:
        archive.close()


def _sequential_from(m, filepath, declared):
    """A plain Sequential model, its weights worked out from the layers' configurations and
    compared with the file's arrays before anything is built."""
    from fastdnn import models

    implied = _implied_weight_shapes(m["model"], filepath)
    if implied is not None and implied != declared:
        raise ValueError(f"{filepath}: its configuration implies {len(implied)} weights of "
                         f"{sum(int(np.prod(s, dtype=np.int64)) for s in implied)} parameters "
                         f"({[list(s) for s in implied[:6]]}...), but the file holds {len(declared)} arrays of "
                         f"{sum(int(np.prod(s, dtype=np.int64)) for s in declared)} "
                         f"({[list(s) for s in declared[:6]]}...): refused before building anything")
    return models.Sequential.from_config(m["model"])

from fastdnn import _missing  # noqa: E402
__getattr__, __dir__ = _missing.hooks(globals(), hidden={"FORMAT", "VERSION", "atomic_write"})

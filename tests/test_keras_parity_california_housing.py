"""fastdnn.datasets.california_housing.load_data against Keras 3's own
keras.datasets.california_housing.load_data, both given the same whole data
set: Keras' loader reads an .npz from get_file, which these tests point at a
file they write; fastdnn's load_arrays is pointed at the same arrays."""

import numpy as np
import pytest

from fastdnn.datasets import california_housing
from keras_reference import keras  # noqa: F401 - skips this module where Keras 3 is missing

from keras.src.datasets import california_housing as keras_california_housing  # noqa: E402

RNG = np.random.default_rng(11)
X = RNG.uniform(-120, 500, (1000, 8)).astype(np.float32)
Y = RNG.integers(14999, 500002, 1000).astype(np.float32)


def both(monkeypatch, tmp_path, x, y, **kwargs):
    npz = tmp_path / "california_housing.npz"
    np.savez(npz, x=x, y=y)
    monkeypatch.setattr(keras_california_housing, "get_file", lambda path, origin, file_hash: str(npz))
    monkeypatch.setattr(california_housing, "load_arrays", lambda path: (x, y))
    return california_housing.load_data(**kwargs), keras_california_housing.load_data(**kwargs)


def assert_same(ours, theirs):
    for a, b in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs", [
    {}, {"version": "small"}, {"seed": 7}, {"test_split": 0}, {"test_split": 0.33, "seed": 0},
    {"version": "small", "test_split": 0.5, "seed": 2024},
], ids=["defaults", "small", "seed", "no-test", "third", "small-half"])
def test_split_and_shuffle_match_keras(monkeypatch, tmp_path, kwargs):
    assert_same(*both(monkeypatch, tmp_path, X, Y, **kwargs))


def test_the_real_data_splits_as_keras_splits_it(monkeypatch, tmp_path):
    import test_california_housing_real as real
    if not real.present():
        pytest.skip(real.NOT_PRESENT)
    x, y = california_housing.load_arrays()
    assert_same(*both(monkeypatch, tmp_path, x, y))

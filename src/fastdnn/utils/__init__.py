"""Utilities, as tf.keras.utils."""

from fastdnn.utils.numerical import normalize, to_categorical
from fastdnn.utils.progbar import Progbar
from fastdnn.utils.seeding import set_random_seed

_PLOTS = ("plot_activations", "plot_history", "plot_model", "plot_weight_histograms", "show_images")


def __getattr__(name):
    # The plotting helpers load on first use, keeping `import fastdnn` quick.
    if name in _PLOTS:
        from fastdnn.utils import plotting
        return getattr(plotting, name)
    raise AttributeError(f"module 'fastdnn.utils' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_PLOTS))

"""Utilities, as tf.keras.utils."""

from fastdnn.utils.numerical import normalize, to_categorical
from fastdnn.utils.progbar import Progbar
from fastdnn.utils.seeding import set_random_seed
from fastdnn import _missing

_PLOTS = ("plot_activations", "plot_history", "plot_model", "plot_weight_histograms", "show_images")


def __getattr__(name):
    # The plotting helpers load on first use, keeping `import fastdnn` quick.
    if name in _PLOTS:
        from fastdnn.utils import plotting
        return getattr(plotting, name)
    raise _missing.error(__name__, name, _missing.public_names(globals(), lazy=_PLOTS))


_, __dir__ = _missing.hooks(globals(), lazy=_PLOTS)

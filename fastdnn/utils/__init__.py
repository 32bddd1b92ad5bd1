"""Utilities, as tf.keras.utils."""

from fastdnn.utils.numerical import normalize, to_categorical
from fastdnn.utils.progbar import Progbar
from fastdnn.utils.seeding import set_random_seed
from fastdnn.utils.plotting import plot_activations, plot_history, plot_model, plot_weight_histograms, show_images

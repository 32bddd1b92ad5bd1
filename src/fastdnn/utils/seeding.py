"""set_random_seed: one seed for initial weights, shuffling and dropout masks."""

import random

import numpy as np

from fastdnn import _random


def set_random_seed(seed):
    """Seeds Python's `random`, NumPy's global generator and fastdnn's own (Keras'
    keras.utils.set_random_seed): the same program then gives the same numbers."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"Expected `seed` argument to be a non-negative integer. Received: seed={seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    _random.set_seed(seed)

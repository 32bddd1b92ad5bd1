"""The one source of randomness behind fastdnn: initial weights, shuffling and
dropout seeds all draw from it, so `fastdnn.utils.set_random_seed(s)` makes a
program give the same numbers twice."""

import numpy as np

_generator = None  # made on first use: numpy.random costs ~15 ms to import


def set_seed(seed):
    """Restart the global generator from `seed` (an int >= 0)."""
    global _generator
    _generator = np.random.default_rng(seed)


def generator():
    """The global numpy Generator."""
    global _generator
    if _generator is None:
        _generator = np.random.default_rng()
    return _generator


def draw_seed():
    """A fresh 63-bit seed from the global generator (for a layer's dropout masks, ...)."""
    return int(generator().integers(0, 2**63 - 1))

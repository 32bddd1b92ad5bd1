"""The one source of randomness behind fastdnn: initial weights, shuffling and
dropout seeds all draw from it, so `fastdnn.utils.set_random_seed(s)` makes a
program give the same numbers twice."""

import numpy as np

_generator = np.random.default_rng()


def set_seed(seed):
    """Restart the global generator from `seed` (an int >= 0)."""
    global _generator
    _generator = np.random.default_rng(seed)


def generator():
    """The global numpy Generator."""
    return _generator


def draw_seed():
    """A fresh 63-bit seed from the global generator (for a layer's dropout masks, ...)."""
    return int(_generator.integers(0, 2**63 - 1))

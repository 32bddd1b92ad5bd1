"""Checks of fit's, evaluate's and predict's arguments, with Keras' defaults."""

import sys

import numpy as np

DEFAULT_BATCH_SIZE = 32


def positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def optional_positive_int(name, value):
    return None if value is None else positive_int(name, value)


def non_negative_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0; got {value!r}")
    return int(value)


def resolve_verbose(verbose):
    """Keras' verbose: "auto" is 1 on a terminal and 2 otherwise (fastdnn's rule for logs)."""
    if verbose == "auto":
        return 1 if getattr(sys.stdout, "isatty", lambda: False)() else 2
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2; got {verbose!r}")
    return int(verbose)

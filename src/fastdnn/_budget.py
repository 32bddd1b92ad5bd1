"""A cap on the weights layers may create while a model file is rebuilt.

A functional or subclassed model is rebuilt from a file by creating its layers and replaying
their calls, which builds them; a forged configuration (a Dense layer of 10**12 units) would
allocate before any check could compare it with the file. While `limited(values, filepath)` is
active, Layer.build asks `spend` first, and a layer whose weights would pass the number of
float32 values the file really holds is refused with a ValueError naming the file, before it
allocates anything."""

import contextlib
import contextvars

import numpy as np

_remaining = contextvars.ContextVar("fastdnn_weight_budget", default=None)


def spend(layer, shapes):
    """Counts the weights `layer` is about to create (their shapes) against the active cap."""
    budget = _remaining.get()
    if budget is None:
        return
    needed = sum(int(np.prod(s, dtype=np.float64)) for s in shapes)
    if needed > budget["values"]:
        raise ValueError(f"{budget['filepath']}: its configuration implies more weights than the file holds "
                         f"(layer {layer.name!r} would create {needed:,} values; {budget['values']:,} of the file's "
                         f"{budget['total']:,} are left): refused before building it")
    budget["values"] -= needed


@contextlib.contextmanager
def limited(values, filepath):
    token = _remaining.set({"values": int(values), "total": int(values), "filepath": str(filepath)})
    try:
        yield
    finally:
        _remaining.reset(token)

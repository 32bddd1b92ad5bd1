"""x and y as the engine takes them (Keras' data adapters, for NumPy arrays): checked,
flattened to (samples, features) float32, y shaped for the loss."""

import numpy as np

from fastdnn import _core


def require_finite(what, a):
    """Training on NaN or Inf would corrupt the weights for good: refuse the data before any step,
    naming the first bad row and column (the engine checks each batch too, but by then the
    earlier batches of the epoch would have been trained on). The engine's own check, run
    over the whole array: one vectorized pass, no temporary for float32 data."""
    if a.dtype.kind == "f":
        _core.require_finite(what, a)


def as_samples(a, what):
    """`a` as an array of numbers with a sample axis (a 1-D array: one feature per sample); a
    TypeError or ValueError naming `what` otherwise."""
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{what} must hold numbers; got an array of dtype {a.dtype}")
    if a.ndim == 0:
        raise ValueError(f"{what} must have a sample axis: an array of shape (samples, ...); got the scalar {a!r}")
    return a.reshape(-1, 1) if a.ndim == 1 else a


def fits_shape(a, sample_shape):
    """Whether `a`'s samples have `sample_shape`, or are those samples already flattened."""
    flattened = a.ndim == 2 and len(sample_shape) > 1 and a.shape[1] == int(np.prod(sample_shape))
    return a.shape[1:] == tuple(sample_shape) or flattened


def as_engine_rows(a, what):
    """`a` (checked) as (samples, features) float32 C-contiguous; float32 C-contiguous data is not copied."""
    if len(a) == 0:
        raise ValueError(f"{what} is empty: it needs at least one sample")
    return np.ascontiguousarray(a.reshape(len(a), -1), dtype=np.float32)


def prepare_x(model, x):
    """x as (samples, features) float32 C-contiguous (float32 C-contiguous x is not copied),
    checked against the model's input shape; builds the model for x's shape if it is not built."""
    if x is None:
        raise ValueError("x is None: fastdnn trains on NumPy arrays (x, y)")
    if isinstance(x, (list, tuple)) and x and isinstance(x[0], np.ndarray) and x[0].ndim > 1:
        raise NotImplementedError("fastdnn models have one input: pass x as one array")
    x = as_samples(x, "x")
    if not model.built:
        model.build((None, *x.shape[1:]))
    if not fits_shape(x, model._build_shape[1:]):
        first = model._layers[0].name if model._layers else model.name
        raise ValueError(
            f'Input 0 of layer "{first}" is incompatible with the layer: expected shape '
            f"{model._build_shape}, found shape {(None, *x.shape[1:])}")
    return as_engine_rows(x, "x")


def rows_of(x):
    """The sample count of an array, or of a list of arrays (one per model input)."""
    return len(x[0]) if isinstance(x, list) else len(x)


def take(x, index):
    """x[index] for an array, for each array of a list (None entries stay None), or None."""
    if x is None:
        return None
    if isinstance(x, list):
        return [None if a is None else a[index] for a in x]
    return x[index]


def as_list(x):
    return x if isinstance(x, list) else [x]


def prepare_y(out_shape, y, spec, rows):
    """y as the engine's loss `spec` takes it, for an output of shape `out_shape`: integer labels
    for the sparse loss, otherwise (samples, outputs) float32."""
    if y is None:
        raise ValueError("y is None: fit and evaluate need targets")
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"y must hold numbers; got an array of dtype {y.dtype}")
    if y.ndim == 0:
        raise ValueError(f"y must have a sample axis: an array of shape (samples, ...); got the scalar {y!r}")
    if len(y) != rows:
        raise ValueError(f"Data cardinality is ambiguous:\n  x sizes: {rows}\n  y sizes: {len(y)}\n"
                         "Make sure all arrays contain the same number of samples.")
    if spec["kind"] == "sparse_categorical_crossentropy":
        return y
    width = int(np.prod(out_shape[1:], dtype=np.int64))
    if y.ndim == 1 and width == 1:
        y = y.reshape(-1, 1)
    if y.ndim == 1 and spec["kind"] in ("categorical_crossentropy",):
        raise ValueError(
            f"categorical_crossentropy needs one-hot targets of shape ({rows}, {width}); got integer labels "
            "of shape ({rows},): use sparse_categorical_crossentropy, or fastdnn.utils.to_categorical(y)")
    return np.ascontiguousarray(y, dtype=np.float32)

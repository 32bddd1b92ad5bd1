"""to_categorical and normalize, as keras.utils (Keras 3, NumPy input)."""

import numpy as np


def _as_labels(x):
    """`x` as an int64 array, refusing labels that are not whole numbers >= 0."""
    x = np.asarray(x)
    if x.dtype.kind in "fc":
        bad = ~np.isfinite(x) | (x != np.round(x))
        if bad.any():
            raise ValueError(
                f"to_categorical expects integer class labels; got {x[bad].flat[0].item()} "
                f"at index {np.argwhere(bad)[0].tolist()}"
            )
    labels = x.astype(np.int64)
    if labels.size and labels.min() < 0:
        negative = labels < 0
        raise ValueError(
            f"to_categorical expects class labels >= 0; got {labels[negative].flat[0]} "
            f"at index {np.argwhere(negative)[0].tolist()}"
        )
    return labels


def to_categorical(x, num_classes=None):
    """One-hot encoding of integer class labels, as a float64 array.

    The output shape is x.shape + (num_classes,), except that a trailing axis of
    size 1 is dropped first: labels of shape (N, 1) give (N, num_classes).
    num_classes defaults to max(x) + 1 (None or 0 both mean "infer", as in Keras).

    Deliberate difference: Keras wraps a negative label round to the last classes,
    silently truncates 1.7 to class 1, and raises a bare IndexError for a label
    >= num_classes; fastdnn raises a ValueError that names the bad label.
    """
    labels = _as_labels(x)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    labels = labels.reshape(-1)
    if not num_classes:
        if labels.size == 0:
            raise ValueError("to_categorical cannot infer num_classes from an empty array; pass num_classes")
        num_classes = int(labels.max()) + 1
    if int(num_classes) != num_classes or num_classes <= 0:
        raise ValueError(f"num_classes must be a positive integer. Received: num_classes={num_classes}")
    num_classes = int(num_classes)
    if labels.size and labels.max() >= num_classes:
        raise ValueError(
            f"to_categorical got label {int(labels.max())}, but num_classes={num_classes} "
            f"allows only labels 0..{num_classes - 1}"
        )
    categorical = np.zeros((labels.size, num_classes))
    categorical[np.arange(labels.size), labels] = 1.0
    return categorical.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """x divided by its `order`-norm along `axis` (default L2 along the last axis).

    A zero norm is replaced by 1, so all-zero slices stay zero instead of becoming NaN.
    The dtype follows NumPy (float32 stays float32; integers give float64).
    Deliberate difference: Keras' NumPy path turns axis=0 into -1 when it re-expands
    the norm (wrong values or a broadcasting error); fastdnn divides along the axis
    it normed. axis=None uses the norm of the whole array as one vector.
    """
    x = np.asarray(x)
    if axis is None:
        norm = np.linalg.norm(x.reshape(-1), order)
        return x / (norm if norm != 0 else 1)
    norm = np.linalg.norm(x, order, axis, keepdims=True)
    norm[norm == 0] = 1
    return x / norm

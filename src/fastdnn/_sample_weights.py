"""sample_weight and class_weight as Keras 3 takes them (trainers/data_adapters), checked before
any step: one weight per sample, carried into the engine's loss, gradient and accuracy.

fastdnn's rules where Keras is silent or lax (the docstrings of fit/evaluate say so too):
- a weight must be finite and >= 0 (Keras takes any float; a negative weight turns descent into
  ascent on that sample, NaN poisons every weight): ValueError naming the sample;
- class_weight must give a weight to every class that occurs in y (Keras 3 quietly uses 1.0 for a
  missing class; Keras 2 raised): ValueError naming the missing classes.
"""

import numpy as np


def prepare(sample_weight, rows, what="sample_weight"):
    """sample_weight as float32 (rows,), or None; ValueError/TypeError for the wrong shape,
    dtype or value."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{what} must hold numbers; got an array of dtype {w.dtype}")
    if not (w.shape == (rows,) or w.shape == (rows, 1)):
        raise ValueError(f"{what} must hold one weight per sample, shape ({rows},) or ({rows}, 1); "
                         f"got shape {w.shape}")
    w = np.ascontiguousarray(w.reshape(rows), dtype=np.float32)
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        raise ValueError(f"{what}[{bad[0]}] = {w[bad[0]]}: sample weights must be finite and >= 0")
    return w


def from_class_weight(class_weight, y):
    """Keras' class_weight_to_sample_weights: the class of a row is its integer label, the argmax
    of a one-hot row, or the rounded value of a single (sigmoid) column."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be a dict {{class index: weight}}; got {type(class_weight).__name__}")
    weights = {}
    for key, value in class_weight.items():
        if isinstance(key, (bool, np.bool_)) or not isinstance(key, (int, np.integer)):
            raise TypeError(f"class_weight keys must be class indices (int); got {key!r}")
        value = float(value)
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"class_weight[{key}] = {value}: class weights must be finite and >= 0")
        weights[int(key)] = value
    y = np.asarray(y)
    if y.ndim > 1:
        y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else y.reshape(len(y))
    classes = np.round(y).astype(np.int64)
    seen = np.unique(classes)
    missing = [int(c) for c in seen if int(c) not in weights]
    if missing:
        raise ValueError(f"class_weight has no weight for class(es) {missing} found in y; give every class "
                         f"a weight (fastdnn refuses to guess 1.0 as Keras 3 does). Got keys {sorted(weights)}")
    lookup = np.zeros(int(seen.max()) - min(0, int(seen.min())) + 1, dtype=np.float32)
    offset = -min(0, int(seen.min()))
    for c in seen:
        lookup[int(c) + offset] = weights[int(c)]
    return np.ascontiguousarray(lookup[classes + offset], dtype=np.float32)


def refuse_both(sample_weight, class_weight):
    """Keras' error for a call given both (fit applies class_weight after validation_split)."""
    if class_weight is not None and sample_weight is not None:
        raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")


def for_training(sample_weight, class_weight, y, rows):
    """The per-sample weights fit / train_on_batch train with, or None."""
    refuse_both(sample_weight, class_weight)
    if class_weight is not None:
        return from_class_weight(class_weight, y)
    return prepare(sample_weight, rows)


"""Metrics, as keras.metrics: per-sample functions on NumPy arrays, stateful
Metric classes, and how compile(metrics=[...]) resolves its entries.

In fit/evaluate, the accuracy metrics are counted by the engine itself; other
metrics are computed here from the network's outputs (which makes fit call the
engine once per batch, so prefer the accuracy family when speed matters).
"""

import numpy as np

from fastdnn import losses as losses_module


def _labels(y_true, n):
    return np.asarray(y_true).reshape(n).astype(np.int64)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals the integer label, else 0.0."""
    y_pred = np.asarray(y_pred)
    return (np.argmax(y_pred, axis=-1) == _labels(y_true, len(y_pred))).astype(np.float32)


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals argmax(y_true), else 0.0."""
    return (np.argmax(y_pred, axis=-1) == np.argmax(y_true, axis=-1)).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """mean over the last axis of [(y_pred > threshold) == y_true]."""
    y_pred = np.asarray(y_pred, dtype=np.float32)
    y_true = np.asarray(y_true, dtype=np.float32).reshape(y_pred.shape)
    return ((y_pred > threshold).astype(np.float32) == y_true).mean(axis=-1, dtype=np.float32)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the true class (argmax of y_true) is among the k largest predictions."""
    return _in_top_k(np.argmax(y_true, axis=-1), np.asarray(y_pred), k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the integer label is among the k largest predictions."""
    y_pred = np.asarray(y_pred)
    return _in_top_k(_labels(y_true, len(y_pred)), y_pred, k)


def _in_top_k(labels, y_pred, k):
    target = y_pred[np.arange(len(y_pred)), labels]
    # As tf.math.in_top_k: ties with the k-th largest value count as in.
    return ((y_pred > target[:, None]).sum(axis=-1) < k).astype(np.float32)


mean_squared_error = mse = losses_module.mean_squared_error
mean_absolute_error = mae = losses_module.mean_absolute_error


class Metric:
    """A running mean of a per-sample function: update_state, result, reset_state."""

    def __init__(self, fn, name, **fn_kwargs):
        self._fn, self.name, self._fn_kwargs = fn, name, fn_kwargs
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            raise NotImplementedError("sample_weight is not supported by fastdnn")
        values = np.asarray(self._fn(y_true, y_pred, **self._fn_kwargs), dtype=np.float64)
        self._total += values.sum()
        self._count += values.size

    def result(self):
        return np.float32(self._total / self._count) if self._count else np.float32(0.0)

    def reset_state(self):
        self._total, self._count = 0.0, 0

    def get_config(self):
        return {"name": self.name, **self._fn_kwargs}


def _metric_class(class_name, fn, default_name, **defaults):
    def __init__(self, name=default_name, dtype=None, **kwargs):
        Metric.__init__(self, fn, name, **{**defaults, **kwargs})

    cls = type(class_name, (Metric,), {"__init__": __init__, "__doc__": f"Running mean of {fn.__name__}."})
    cls.fn = staticmethod(fn)
    return cls


SparseCategoricalAccuracy = _metric_class("SparseCategoricalAccuracy", sparse_categorical_accuracy, "sparse_categorical_accuracy")
CategoricalAccuracy = _metric_class("CategoricalAccuracy", categorical_accuracy, "categorical_accuracy")
BinaryAccuracy = _metric_class("BinaryAccuracy", binary_accuracy, "binary_accuracy", threshold=0.5)
TopKCategoricalAccuracy = _metric_class("TopKCategoricalAccuracy", top_k_categorical_accuracy, "top_k_categorical_accuracy", k=5)
SparseTopKCategoricalAccuracy = _metric_class(
    "SparseTopKCategoricalAccuracy", sparse_top_k_categorical_accuracy, "sparse_top_k_categorical_accuracy", k=5)
MeanSquaredError = _metric_class("MeanSquaredError", mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _metric_class("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error")

_BY_NAME = {
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "binary_accuracy": BinaryAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
}
# The metrics the engine counts itself.
ENGINE_METRICS = {
    SparseCategoricalAccuracy: "sparse_categorical_accuracy",
    CategoricalAccuracy: "categorical_accuracy",
    BinaryAccuracy: "binary_accuracy",
}


def get(identifier):
    """A Metric for a name, a function of this module or a Metric instance."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    if callable(identifier):
        for cls in set(_BY_NAME.values()):
            if cls.fn is identifier:
                return cls()
    known = ", ".join(sorted(set(_BY_NAME) | {"accuracy", "acc"}))
    raise ValueError(f"Unknown metric {identifier!r}; known: {known}")


def resolve(identifier, y_true_shape, y_pred_shape, loss_name=None):
    """A new Metric for one compile(metrics=...) entry, given the shapes of labels and predictions.

    "accuracy" / "acc" follow Keras 3 (trainers/compile_utils.py): a single output
    means binary accuracy; labels of lower rank than the predictions, or one
    column against several, mean sparse categorical accuracy; else categorical.
    The metric keeps the name it was asked for, so History says "acc" for "acc".
    """
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        if y_pred_shape[-1] == 1:
            cls = BinaryAccuracy
        elif len(y_true_shape) < len(y_pred_shape) or (y_true_shape[-1] == 1 and y_pred_shape[-1] > 1):
            cls = SparseCategoricalAccuracy
        else:
            cls = CategoricalAccuracy
        return cls(name=identifier)
    metric = get(identifier)
    if isinstance(identifier, str):  # Keras names a metric by the string it was given
        metric.name = identifier
    return metric


def serialize(metric):
    return metric.name

from fastdnn import _missing  # noqa: E402
__getattr__, __dir__ = _missing.hooks(globals(), hidden={"ENGINE_METRICS", "resolve"})

"""Metrics, as keras.metrics: per-sample functions on NumPy arrays, stateful Metric classes
(update_state / result / reset_state, sample_weight as Keras weighs it), and how
compile(metrics=[...]) resolves its entries.

In fit/evaluate, one accuracy metric is counted by the engine itself; the others are
updated here from the network's outputs, which the engine hands back for a whole epoch
(or a whole evaluation) per call: fit stays one engine call per epoch with any metric.
Differences from Keras: metric functions and custom metric functions receive NumPy
arrays, not tensors; state is accumulated in float64 (results are float32).
"""

import inspect

from fastdnn.layers.base import snake_case
from fastdnn.metrics.accuracy_metrics import (BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                                              SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy,
                                              binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
                                              sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)
from fastdnn.metrics.confusion_metrics import (AUC, FalseNegatives, FalsePositives, Precision, Recall,
                                               TrueNegatives, TruePositives)
from fastdnn.metrics.metric import Mean, MeanMetricWrapper, Metric, Sum
from fastdnn.metrics.probabilistic_metrics import (BinaryCrossentropy, CategoricalCrossentropy,
                                                   SparseCategoricalCrossentropy, binary_crossentropy,
                                                   categorical_crossentropy, sparse_categorical_crossentropy)
from fastdnn.metrics.regression_metrics import (MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
                                                RootMeanSquaredError, mean_absolute_error,
                                                mean_absolute_percentage_error, mean_squared_error)

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error

ALL_OBJECTS = (
    Metric, Mean, Sum, MeanMetricWrapper,
    MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    AUC, FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives,
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
)
# Keras' ALL_OBJECTS_DICT: each class by its name and its snake_case name, plus the short aliases.
_BY_NAME = {cls.__name__: cls for cls in ALL_OBJECTS}
_BY_NAME.update({snake_case(cls.__name__): cls for cls in ALL_OBJECTS})
_BY_NAME.update({"bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "mse": MeanSquaredError,
                 "MSE": MeanSquaredError, "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
                 "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError})
# Only the metrics that update from (y_true, y_pred) can be compiled by name.
_COMPILABLE = {name: cls for name, cls in _BY_NAME.items() if cls not in (Metric, Mean, Sum, MeanMetricWrapper)}

# A function of this module stands for its class (same name and result).
_CLASS_OF_FUNCTION = {
    sparse_categorical_accuracy: SparseCategoricalAccuracy, categorical_accuracy: CategoricalAccuracy,
    binary_accuracy: BinaryAccuracy, top_k_categorical_accuracy: TopKCategoricalAccuracy,
    sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy, mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError, mean_absolute_percentage_error: MeanAbsolutePercentageError,
    binary_crossentropy: BinaryCrossentropy, categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
}

# The metrics the engine counts itself.
ENGINE_METRICS = {
    SparseCategoricalAccuracy: "sparse_categorical_accuracy",
    CategoricalAccuracy: "categorical_accuracy",
    BinaryAccuracy: "binary_accuracy",
}


def get(identifier):
    """A Metric for a name (a class name, its snake_case or an alias: "AUC", "auc", "mse", ...),
    a class, a config dict {"class_name": ..., "config": ...}, a function of (y_true, y_pred)
    (wrapped in a MeanMetricWrapper) or a Metric instance (returned as is)."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier in _COMPILABLE:
            return _COMPILABLE[identifier]()
        known = ", ".join(sorted(set(_COMPILABLE) | {"accuracy", "acc"}))
        raise ValueError(f"Unknown metric {identifier!r}; known: {known}")
    if inspect.isclass(identifier) and issubclass(identifier, Metric):
        return identifier()
    if identifier in _CLASS_OF_FUNCTION:
        return _CLASS_OF_FUNCTION[identifier]()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def resolve(identifier, y_true_shape, y_pred_shape, loss_name=None):
    """A new Metric for one compile(metrics=...) entry, given the shapes of labels and predictions.

    "accuracy" / "acc" follow Keras 3 (trainers/compile_utils.py): a single output
    means binary accuracy; labels of lower rank than the predictions, or one
    column against several, mean sparse categorical accuracy; else categorical.
    As Keras 3.15 (get_metric), a metric keeps the string it was given as its name
    ("AUC" logs "AUC", "acc" logs "acc"); an object keeps its own name.
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
    if isinstance(identifier, str):
        metric.name = identifier
    return metric


def serialize(metric):
    """{"class_name": ..., "config": ...} for a Metric (Keras' layout), or the name of a function
    (or of a MeanMetricWrapper around one, which cannot be rebuilt from a config)."""
    if isinstance(metric, Metric) and type(metric) is not MeanMetricWrapper:
        return {"class_name": type(metric).__name__, "config": metric.get_config()}
    return getattr(metric, "__name__", getattr(metric, "name", metric))


def deserialize(config, custom_objects=None):
    """A Metric from serialize()'s dict (or a name)."""
    if isinstance(config, str):
        return get(config)
    classes = {**_BY_NAME, **(custom_objects or {})}
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in classes:
        raise ValueError(f"Unknown metric class {name!r} in {config!r}")
    return classes[name].from_config(dict(config.get("config", {})))

from fastdnn import _missing  # noqa: E402
__getattr__, __dir__ = _missing.hooks(globals(), hidden={"ALL_OBJECTS", "ENGINE_METRICS", "resolve", "snake_case"})

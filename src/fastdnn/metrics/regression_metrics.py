"""Regression metrics, as keras.metrics: MeanSquaredError, MeanAbsoluteError,
MeanAbsolutePercentageError, RootMeanSquaredError."""

import numpy as np

from fastdnn import losses as losses_module
from fastdnn.metrics.metric import Mean, MeanMetricWrapper, numeric, squeeze_or_expand_to_same_rank

EPSILON = 1e-7  # keras.backend.epsilon()

mean_squared_error = losses_module.mean_squared_error
mean_absolute_error = losses_module.mean_absolute_error


def mean_absolute_percentage_error(y_true, y_pred):
    """100 · mean over the last axis of |y − p| / max(|y|, ε)."""
    y_pred = np.asarray(y_pred, dtype=np.float32)
    y_true = np.asarray(y_true, dtype=np.float32)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return 100.0 * np.mean(np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), EPSILON)), axis=-1)


class MeanSquaredError(MeanMetricWrapper):
    """Running mean of mean_squared_error."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Running mean of mean_absolute_error."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Running mean of mean_absolute_percentage_error."""

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """sqrt of the running (weighted) mean of the per-sample mean squared error."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = numeric(y_true, "y_true"), numeric(y_pred, "y_pred")
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if y_true.shape != y_pred.shape or y_pred.ndim == 0:
            raise ValueError(f"{self.name}: y_true and y_pred must have the same shape, with a sample axis; got "
                             f"{y_true.shape} and {y_pred.shape}")
        super().update_state(np.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self):
        return np.float32(np.sqrt(super().result()))

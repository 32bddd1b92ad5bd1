"""Accuracy metrics, as keras.metrics: per-sample functions on NumPy arrays and their
running-mean classes. In fit/evaluate the engine counts one of them itself (see
models.Sequential._loss_and_metrics); the others are updated from the network's outputs."""

import numpy as np

from fastdnn.metrics.metric import MeanMetricWrapper, class_labels


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals the integer label, else 0.0."""
    y_pred = np.asarray(y_pred)
    return (np.argmax(y_pred, axis=-1) == class_labels(y_true, y_pred)).astype(np.float32)


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
    return _in_top_k(class_labels(y_true, y_pred), y_pred, k)


def _in_top_k(labels, y_pred, k):
    target = y_pred[np.arange(len(y_pred)), labels]
    # As tf.math.in_top_k: ties with the k-th largest value count as in.
    return ((y_pred > target[:, None]).sum(axis=-1) < k).astype(np.float32)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """Running mean of sparse_categorical_accuracy."""

    sparse_labels = True

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, dtype=dtype)


class CategoricalAccuracy(MeanMetricWrapper):
    """Running mean of categorical_accuracy."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """Running mean of binary_accuracy."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name, dtype=dtype, threshold=threshold)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """Running mean of top_k_categorical_accuracy."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """Running mean of sparse_top_k_categorical_accuracy."""

    sparse_labels = True

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name, dtype=dtype, k=k)

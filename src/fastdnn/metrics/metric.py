"""The Metric base class and the reductions every metric builds on, as keras.metrics:
Metric, Mean, Sum, MeanMetricWrapper.

State is kept in Python floats (float64) and results are returned as float32, as
Keras' float32 metric variables return them; fastdnn's accumulation is in
float64, so long runs drift less than Keras' float32 sums (a difference below
Keras' own rounding).
"""

import numpy as np

from fastdnn.layers.base import snake_case, unique_name


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Keras' rule (losses/loss.py): where the ranks differ by one and the longer array ends in a
    dimension of 1, that dimension is squeezed (or, for a 1-D partner, the partner expanded)."""
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1 and expand_rank_1:
            x2 = x2[..., None]
        else:
            x1 = x1[..., 0]
    if x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1 and expand_rank_1:
            x1 = x1[..., None]
        else:
            x2 = x2[..., 0]
    return x1, x2


def numeric(value, what, dtype=np.float64):
    """`value` as a NumPy array of numbers, else TypeError naming `what`."""
    a = np.asarray(value)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{what} must hold numbers; got an array of dtype {a.dtype}")
    return a.astype(dtype, copy=False)


def broadcast_weights(sample_weight, shape, what="sample_weight"):
    try:
        return np.broadcast_to(sample_weight, shape)
    except ValueError:
        raise ValueError(f"{what} of shape {np.shape(sample_weight)} cannot be broadcast to the values' shape "
                         f"{tuple(shape)}: pass one weight per sample, shape ({shape[0] if shape else 1},)") from None


def class_labels(y_true, y_pred):
    """Integer labels for the rows of y_pred (shape (n,) or (n, 1)), each in [0, classes)."""
    y_pred = np.asarray(y_pred)
    labels = np.asarray(y_true)
    if labels.size != len(y_pred) or (labels.ndim == 2 and labels.shape[1] != 1) or labels.ndim > 2:
        raise ValueError(f"integer labels must have shape ({len(y_pred)},) or ({len(y_pred)}, 1) for predictions "
                         f"of shape {y_pred.shape}; got {labels.shape}")
    labels = labels.reshape(len(y_pred))
    classes = y_pred.shape[-1]
    if labels.dtype.kind == "f" and not np.all(labels == np.floor(labels)):
        raise ValueError("integer labels must be whole numbers; got fractional values")
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels must be in [0, {classes}) for {classes} classes; got values in "
                         f"[{labels.min()}, {labels.max()}]")
    return labels.astype(np.int64)


class Metric:
    """Keras' Metric: state updated by update_state(...), read by result(), cleared by
    reset_state(). Subclasses implement the three. Without a name, the snake-cased class name,
    made unique as Keras makes it (auc, auc_1, ...; backend.clear_session() restarts the count)."""

    def __init__(self, dtype=None, name=None):
        self.name = name or unique_name(snake_case(type(self).__name__))
        self._dtype = dtype or "float32"

    @property
    def dtype(self):
        return self._dtype

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement update_state()")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must implement result()")

    def reset_state(self):
        raise NotImplementedError(f"{type(self).__name__} must implement reset_state()")

    def __call__(self, *args, **kwargs):
        """As Keras: update_state(*args, **kwargs), then the result."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def reduce_to_samplewise_values(values, sample_weight, reduce_fn):
    """Keras' reduction_metrics.reduce_to_samplewise_values: per-sample values (reduced with
    `reduce_fn` over the axes the weights do not have), multiplied by their weights."""
    values = numeric(values, "values")
    if sample_weight is not None:
        sample_weight = numeric(sample_weight, "sample_weight")
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim, values_ndim = sample_weight.ndim, values.ndim
        if values_ndim > weight_ndim:
            values = reduce_fn(values, axis=tuple(range(weight_ndim, values_ndim)))
        sample_weight = broadcast_weights(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, weight_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The running (weighted) sum of the values: update_state(values, sample_weight=None)."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(dtype=dtype, name=name)
        self.reset_state()

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(values, sample_weight, np.sum)
        self._total += float(np.sum(values))

    def reset_state(self):
        self._total = 0.0

    def result(self):
        return np.float32(self._total)


class Mean(Metric):
    """The running weighted mean of per-sample values: Σ w·v / Σ w (0 before any weight),
    values of more than one axis first averaged over the axes past the weights'."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(dtype=dtype, name=name)
        self.reset_state()

    def update_state(self, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight, np.mean)
        self._total += float(np.sum(values))
        if sample_weight is not None:
            self._count += float(np.sum(sample_weight))
        else:
            self._count += values.shape[0] if values.ndim >= 1 else 1

    def reset_state(self):
        self._total, self._count = 0.0, 0.0

    def result(self):
        return np.float32(self._total / self._count) if self._count else np.float32(0.0)


class MeanMetricWrapper(Mean):
    """The running mean of fn(y_true, y_pred, **kwargs), a function of NumPy arrays returning one
    value per sample. y_true and y_pred must have the same shape once Keras' rank rule is applied
    (a trailing axis of 1 may be missing on either), except for the sparse functions, which take
    integer labels; fastdnn refuses other shapes where Keras would broadcast."""

    sparse_labels = False  # y_true holds class indices, not values shaped like y_pred

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)
        self._fn, self._fn_kwargs = fn, kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = numeric(y_true, "y_true", np.float32), numeric(y_pred, "y_pred", np.float32)
        if y_pred.ndim == 0 or y_true.ndim == 0:
            raise ValueError(f"{self.name}: y_true and y_pred need a sample axis; got shapes {y_true.shape} "
                             f"and {y_pred.shape}")
        if len(y_true) != len(y_pred):
            raise ValueError(f"{self.name}: y_true and y_pred must have the same number of samples; got shapes "
                             f"{y_true.shape} and {y_pred.shape}")
        if self.sparse_labels:
            y_true = class_labels(y_true, y_pred)
        else:
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
            if y_true.shape != y_pred.shape:
                raise ValueError(f"{self.name}: y_true and y_pred must have the same shape; got {y_true.shape} "
                                 f"and {y_pred.shape}")
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, **self._fn_kwargs}

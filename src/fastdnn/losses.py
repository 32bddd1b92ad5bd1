"""Losses, as keras.losses: functions (per-sample losses on NumPy arrays, for checking),
classes (the mean over the batch, Keras' "sum_over_batch_size"), and names.

In a model, the loss runs in the engine. As in Keras' TensorFlow backend, a
cross-entropy on the output of a softmax (sigmoid) last layer is computed from
its logits: the same gradient, no clipping at 1e-7. The functions below compute
what Keras' NumPy backend computes, with the clipping.
"""

import numpy as np

EPSILON = 1e-7  # keras.backend.epsilon()


def _f(a):
    return np.asarray(a, dtype=np.float32)


def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """−Σ y·log p over the last axis; p renormalized and clipped to [ε, 1−ε] unless from_logits."""
    _no_smoothing(label_smoothing)
    y_true, y_pred = _f(y_true), _f(y_pred)
    if from_logits:
        return -(y_true * _log_softmax(y_pred)).sum(axis=-1)
    p = np.clip(y_pred / y_pred.sum(axis=-1, keepdims=True), EPSILON, 1 - EPSILON)
    return -(y_true * np.log(p)).sum(axis=-1)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """categorical_crossentropy with integer labels, shape (N,) or (N, 1)."""
    if ignore_class is not None:
        raise NotImplementedError("ignore_class is not supported by fastdnn")
    y_pred = _f(y_pred)
    labels = np.asarray(y_true).reshape(len(y_pred)).astype(np.int64)
    onehot = np.eye(y_pred.shape[-1], dtype=np.float32)[labels]
    return categorical_crossentropy(onehot, y_pred, from_logits=from_logits)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """−mean over the last axis of y·log p + (1−y)·log(1−p), p clipped to [ε, 1−ε] (or σ(z))."""
    _no_smoothing(label_smoothing)
    y_true, y_pred = _f(y_true), _f(y_pred)
    if from_logits:
        per_entry = np.maximum(y_pred, 0) - y_pred * y_true + np.log1p(np.exp(-np.abs(y_pred)))
    else:
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        per_entry = -(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))
    return per_entry.mean(axis=-1)


def mean_squared_error(y_true, y_pred):
    """mean over the last axis of (y − p)²"""
    return np.square(_f(y_pred) - _f(y_true)).mean(axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean over the last axis of |y − p|"""
    return np.abs(_f(y_pred) - _f(y_true)).mean(axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """mean over the last axis of e²/2 where |e| ≤ delta, else delta·|e| − delta²/2 (e = p − y)"""
    e = _f(y_pred) - _f(y_true)
    a = np.abs(e)
    return np.where(a <= delta, 0.5 * e * e, delta * a - 0.5 * delta * delta).mean(axis=-1)


def log_cosh(y_true, y_pred):
    """mean over the last axis of log(cosh(p − y)), as e + softplus(−2e) − log 2"""
    e = _f(y_pred) - _f(y_true)
    return (e + np.logaddexp(np.float32(0), -2 * e) - np.log(np.float32(2))).mean(axis=-1)


def kl_divergence(y_true, y_pred):
    """Σ over the last axis of y·log(y/p), y and p clipped to [ε, 1]"""
    y, p = np.clip(_f(y_true), EPSILON, 1), np.clip(_f(y_pred), EPSILON, 1)
    return (y * np.log(y / p)).sum(axis=-1)


def poisson(y_true, y_pred):
    """mean over the last axis of p − y·log(p + ε)"""
    p = _f(y_pred)
    return (p - _f(y_true) * np.log(p + np.float32(EPSILON))).mean(axis=-1)


def _hinge_labels(y):
    """Keras: labels that are all 0 or 1 become −1 or 1; others are kept."""
    return 2 * y - 1 if np.all((y == 0) | (y == 1)) else y


def hinge(y_true, y_pred):
    """mean over the last axis of max(1 − y·p, 0), y in {−1, 1} (0/1 labels are converted)"""
    return np.maximum(1 - _hinge_labels(_f(y_true)) * _f(y_pred), 0).mean(axis=-1)


def squared_hinge(y_true, y_pred):
    """mean over the last axis of max(1 − y·p, 0)², y in {−1, 1} (0/1 labels are converted)"""
    return np.square(np.maximum(1 - _hinge_labels(_f(y_true)) * _f(y_pred), 0)).mean(axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 · mean over the last axis of |y − p| / max(|y|, ε)"""
    y = _f(y_true)
    return 100 * (np.abs(y - _f(y_pred)) / np.maximum(np.abs(y), np.float32(EPSILON))).mean(axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean over the last axis of (log(max(p, ε) + 1) − log(max(y, ε) + 1))²"""
    eps = np.float32(EPSILON)
    d = np.log(np.maximum(_f(y_pred), eps) + 1) - np.log(np.maximum(_f(y_true), eps) + 1)
    return np.square(d).mean(axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """−Σ over the last axis of l2_normalize(y)·l2_normalize(p), each x·min(1/‖x‖, 1/ε)"""
    _last_axis_only(axis)

    def normalize(x):
        with np.errstate(divide="ignore"):
            inv = 1 / np.sqrt(np.square(x).sum(axis=-1, keepdims=True))
        return x * np.minimum(inv, np.float32(1 / EPSILON))

    return -(normalize(_f(y_true)) * normalize(_f(y_pred))).sum(axis=-1)


def _last_axis_only(axis):
    if axis not in (-1, None):
        raise NotImplementedError(f"fastdnn computes cosine similarity over the last axis only (axis=-1); got axis={axis}")


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
bce = BCE = binary_crossentropy


def _no_smoothing(label_smoothing):
    if label_smoothing:
        raise NotImplementedError("label_smoothing is not supported by fastdnn")


class Loss:
    """A loss object: __call__(y_true, y_pred) is the mean of the per-sample losses."""

    fn = None

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None, **fn_kwargs):
        if reduction not in ("sum_over_batch_size", "auto", None):
            raise NotImplementedError(f"fastdnn reduces losses by 'sum_over_batch_size' only; got reduction={reduction!r}")
        self.name = name or _snake(type(self).__name__)
        self.reduction = "sum_over_batch_size"
        self._fn_kwargs = fn_kwargs

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The mean of the per-sample losses; with sample_weight (one per sample), Σ w·loss divided
        by the number of samples (Keras' "sum_over_batch_size", not by Σw)."""
        values = type(self).fn(y_true, y_pred, **self._fn_kwargs)
        if sample_weight is None:
            return np.float32(values.mean())
        weights = np.asarray(sample_weight, dtype=np.float32)
        if weights.size != values.size:
            raise ValueError(f"sample_weight must hold one weight per sample ({values.size}); got shape {weights.shape}")
        return np.float32((values.reshape(-1) * weights.reshape(-1)).sum() / values.size)

    @property
    def from_logits(self):
        return self._fn_kwargs.get("from_logits", False)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _snake(name):
    import re

    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


class SparseCategoricalCrossentropy(Loss):
    fn = staticmethod(sparse_categorical_crossentropy)

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size", name=None, **kwargs):
        if ignore_class is not None:
            raise NotImplementedError("ignore_class is not supported by fastdnn")
        super().__init__(name=name or "sparse_categorical_crossentropy", reduction=reduction, from_logits=from_logits, **kwargs)


class CategoricalCrossentropy(Loss):
    fn = staticmethod(categorical_crossentropy)

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size", name=None, **kwargs):
        _no_smoothing(label_smoothing)
        super().__init__(name=name or "categorical_crossentropy", reduction=reduction, from_logits=from_logits, **kwargs)


class BinaryCrossentropy(Loss):
    fn = staticmethod(binary_crossentropy)

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size", name=None, **kwargs):
        _no_smoothing(label_smoothing)
        super().__init__(name=name or "binary_crossentropy", reduction=reduction, from_logits=from_logits, **kwargs)


class MeanSquaredError(Loss):
    fn = staticmethod(mean_squared_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", **kwargs):
        super().__init__(name=name, reduction=reduction, **kwargs)


class MeanAbsoluteError(Loss):
    fn = staticmethod(mean_absolute_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", **kwargs):
        super().__init__(name=name, reduction=reduction, **kwargs)


class Huber(Loss):
    fn = staticmethod(huber)

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        """As Keras; fastdnn's get_config also stores delta (Keras 3's drops it)."""
        super().__init__(name=name, reduction=reduction, delta=float(delta))


class LogCosh(Loss):
    fn = staticmethod(log_cosh)

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(name=name, reduction=reduction)


class KLDivergence(Loss):
    fn = staticmethod(kl_divergence)

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(name=name, reduction=reduction)


class Poisson(Loss):
    fn = staticmethod(poisson)

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(name=name, reduction=reduction)


class Hinge(Loss):
    fn = staticmethod(hinge)

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(name=name, reduction=reduction)


class SquaredHinge(Loss):
    fn = staticmethod(squared_hinge)

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(name=name, reduction=reduction)


class MeanAbsolutePercentageError(Loss):
    fn = staticmethod(mean_absolute_percentage_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error", dtype=None):
        super().__init__(name=name, reduction=reduction)


class MeanSquaredLogarithmicError(Loss):
    fn = staticmethod(mean_squared_logarithmic_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(name=name, reduction=reduction)


class CosineSimilarity(Loss):
    """As Keras, over the last axis only (axis=-1; another axis raises NotImplementedError)."""

    fn = staticmethod(cosine_similarity)

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        _last_axis_only(axis)
        super().__init__(name=name, reduction=reduction)


# name → (engine kind, class); Keras' names, aliases (and Keras 2's legacy ones) and class names.
_BY_NAME = {
    "sparse_categorical_crossentropy": ("sparse_categorical_crossentropy", SparseCategoricalCrossentropy),
    "categorical_crossentropy": ("categorical_crossentropy", CategoricalCrossentropy),
    "binary_crossentropy": ("binary_crossentropy", BinaryCrossentropy),
    "mean_squared_error": ("mean_squared_error", MeanSquaredError),
    "mse": ("mean_squared_error", MeanSquaredError),
    "MSE": ("mean_squared_error", MeanSquaredError),
    "mean_absolute_error": ("mean_absolute_error", MeanAbsoluteError),
    "mae": ("mean_absolute_error", MeanAbsoluteError),
    "MAE": ("mean_absolute_error", MeanAbsoluteError),
    "bce": ("binary_crossentropy", BinaryCrossentropy),
    "BCE": ("binary_crossentropy", BinaryCrossentropy),
    "huber": ("huber", Huber),
    "log_cosh": ("log_cosh", LogCosh),
    "logcosh": ("log_cosh", LogCosh),
    "kl_divergence": ("kl_divergence", KLDivergence),
    "kld": ("kl_divergence", KLDivergence),
    "KLD": ("kl_divergence", KLDivergence),
    "kullback_leibler_divergence": ("kl_divergence", KLDivergence),
    "poisson": ("poisson", Poisson),
    "hinge": ("hinge", Hinge),
    "squared_hinge": ("squared_hinge", SquaredHinge),
    "mean_absolute_percentage_error": ("mean_absolute_percentage_error", MeanAbsolutePercentageError),
    "mape": ("mean_absolute_percentage_error", MeanAbsolutePercentageError),
    "MAPE": ("mean_absolute_percentage_error", MeanAbsolutePercentageError),
    "mean_squared_logarithmic_error": ("mean_squared_logarithmic_error", MeanSquaredLogarithmicError),
    "msle": ("mean_squared_logarithmic_error", MeanSquaredLogarithmicError),
    "MSLE": ("mean_squared_logarithmic_error", MeanSquaredLogarithmicError),
    "cosine_similarity": ("cosine_similarity", CosineSimilarity),
}
_BY_NAME.update({cls.__name__: (kind, cls) for kind, cls in list(_BY_NAME.values())})
_FUNCTIONS = {
    sparse_categorical_crossentropy: "sparse_categorical_crossentropy",
    categorical_crossentropy: "categorical_crossentropy",
    binary_crossentropy: "binary_crossentropy",
    mean_squared_error: "mean_squared_error",
    mean_absolute_error: "mean_absolute_error",
    huber: "huber",
    log_cosh: "log_cosh",
    kl_divergence: "kl_divergence",
    poisson: "poisson",
    hinge: "hinge",
    squared_hinge: "squared_hinge",
    mean_absolute_percentage_error: "mean_absolute_percentage_error",
    mean_squared_logarithmic_error: "mean_squared_logarithmic_error",
    cosine_similarity: "cosine_similarity",
}
_CLASSES = {}
for _name, (_, _cls) in _BY_NAME.items():
    _CLASSES.setdefault(_cls, _name)  # the first name listed: the engine's
AUTO = ("crossentropy", "ce")  # Keras 3 compile() picks the cross-entropy from the shapes


def get(identifier):
    """A loss object for a name, a function of this module, a dict or a Loss instance."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier][1]()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier) and identifier in _FUNCTIONS:
        return _BY_NAME[_FUNCTIONS[identifier]][1]()
    known = ", ".join(sorted(set(_BY_NAME) | set(AUTO)))
    raise ValueError(
        f"Could not interpret loss {identifier!r}: fastdnn computes losses in C++, so it takes their names "
        f"({known}), the functions and classes of fastdnn.losses."
    )


def engine_spec(loss):
    """The engine's loss description for a Loss object."""
    kind = _CLASSES.get(type(loss))
    if kind is None:
        raise ValueError(f"fastdnn cannot run the custom loss {loss!r} in its engine")
    spec = {"kind": _BY_NAME[kind][0], "from_logits": bool(loss.from_logits)}
    if isinstance(loss, Huber):
        spec["delta"] = loss._fn_kwargs["delta"]
    return spec


def serialize(loss):
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config):
    classes = {cls.__name__: cls for cls in _CLASSES}
    cls = classes.get(config.get("class_name"))
    if cls is None:
        raise ValueError(f"Unknown loss class {config.get('class_name')!r}; known: {', '.join(sorted(classes))}")
    return cls.from_config(dict(config.get("config", {})))

from fastdnn import _missing  # noqa: E402
__getattr__, __dir__ = _missing.hooks(globals(), hidden={"AUTO", "EPSILON", "engine_spec"})

"""Plain NumPy float64 references for the metrics, written from Keras' formulas
(keras/src/metrics/confusion_metrics.py, metrics_utils.py, reduction_metrics.py,
regression_metrics.py), not from fastdnn's code: the confusion counts are direct
comparisons y_pred > t for every threshold (fastdnn counts buckets), the means are
Σ w·v / Σ w over the samples.

Every function takes the whole data at once: a stateful metric updated with several
slices must give the same result, because its state is a sum.
"""

import numpy as np

EPSILON = 1e-7  # keras.backend.epsilon()


def sample_weights(n, sample_weight):
    return np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).reshape(n)


def confusion(y_true, y_pred, thresholds, sample_weight=None):
    """(tp, fp, tn, fn), each of shape (T,): Σ over the entries of w·[label]·[y_pred > t] etc.,
    the weight of a sample repeated over its columns."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(y_true.shape)
    w = np.broadcast_to(sample_weights(len(y_true), sample_weight).reshape(-1, *[1] * (y_true.ndim - 1)),
                        y_true.shape)
    positive = (y_true != 0).ravel()
    w = w.ravel()
    out = []
    for predicate in ("tp", "fp", "tn", "fn"):
        counts = []
        for t in thresholds:
            above = y_pred.ravel() > t
            hit = {"tp": positive & above, "fp": ~positive & above,
                   "tn": ~positive & ~above, "fn": positive & ~above}[predicate]
            counts.append(np.sum(w[hit]))
        out.append(np.array(counts))
    return tuple(out)


def precision(y_true, y_pred, threshold=0.5, sample_weight=None):
    tp, fp, _, _ = confusion(y_true, y_pred, [threshold], sample_weight)
    return tp[0] / (tp[0] + fp[0]) if tp[0] + fp[0] else 0.0


def recall(y_true, y_pred, threshold=0.5, sample_weight=None):
    tp, _, _, fn = confusion(y_true, y_pred, [threshold], sample_weight)
    return tp[0] / (tp[0] + fn[0]) if tp[0] + fn[0] else 0.0


def top_k_mask(y_pred, k):
    """True for the k largest values of each row."""
    ranks = np.argsort(np.argsort(-np.asarray(y_pred), axis=-1, kind="stable"), axis=-1, kind="stable")
    return ranks < k


def auc_thresholds(num_thresholds=200, thresholds=None):
    """Keras' AUC thresholds: −ε, then i/(T−1) for i = 1..T−2 (or the given ones, sorted), then 1 + ε."""
    inner = sorted(thresholds) if thresholds is not None else \
        [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return np.array([-EPSILON] + list(inner) + [1 + EPSILON])


def _div(a, b):
    return np.where(b != 0, a / np.where(b != 0, b, 1), 0.0)


def auc_from_counts(tp, fp, tn, fn, curve="ROC", summation_method="interpolation"):
    """The Riemann sum over consecutive thresholds (Keras' AUC.result), or, for PR with
    interpolation, Davis & Goadrich's interpolated precision (Keras' interpolate_pr_auc)."""
    if curve == "PR" and summation_method == "interpolation":
        total = 0.0
        for i in range(len(tp) - 1):
            dtp, p0, p1 = tp[i] - tp[i + 1], tp[i] + fp[i], tp[i + 1] + fp[i + 1]
            slope = dtp / max(p0 - p1, 0) if max(p0 - p1, 0) else 0.0
            intercept = tp[i + 1] - slope * p1
            ratio = p0 / p1 if p0 > 0 and p1 > 0 else 1.0
            denominator = max(tp[i + 1] + fn[i + 1], 0)
            total += slope * (dtp + intercept * np.log(ratio)) / denominator if denominator else 0.0
        return total
    recall_ = _div(tp, tp + fn)
    x, y = (_div(fp, fp + tn), recall_) if curve == "ROC" else (recall_, _div(tp, tp + fp))
    pick = {"interpolation": lambda a, b: (a + b) / 2, "minoring": np.minimum, "majoring": np.maximum}
    return float(np.sum((x[:-1] - x[1:]) * pick[summation_method](y[:-1], y[1:])))


def auc(y_true, y_pred, num_thresholds=200, curve="ROC", summation_method="interpolation", thresholds=None,
        multi_label=False, from_logits=False, sample_weight=None):
    """Keras' AUC on all the data at once. Predictions are expected in [0, 1] (Keras clips them
    to it on its evenly-spaced path; the reference does not need to)."""
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if from_logits:
        y_pred = 1 / (1 + np.exp(-y_pred))
    t = auc_thresholds(num_thresholds, thresholds)
    if not multi_label:
        return auc_from_counts(*confusion(y_true, y_pred, t, sample_weight), curve, summation_method)
    y_true = np.asarray(y_true)
    areas = [auc_from_counts(*confusion(y_true[:, j], y_pred[:, j], t, sample_weight), curve, summation_method)
             for j in range(y_pred.shape[1])]
    return float(np.mean(areas))


def weighted_mean(per_sample, sample_weight=None):
    """Keras' Mean: Σ w·v / Σ w over the samples."""
    w = sample_weights(len(per_sample), sample_weight)
    return float(np.sum(w * per_sample) / np.sum(w))


def root_mean_squared_error(y_true, y_pred, sample_weight=None):
    """sqrt of the weighted mean over the samples of mean_j (p − y)²."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(y_true.shape)
    per_sample = ((y_pred - y_true) ** 2).reshape(len(y_true), -1).mean(axis=1)
    return float(np.sqrt(weighted_mean(per_sample, sample_weight)))


def mean_absolute_percentage_error(y_true, y_pred, sample_weight=None):
    """weighted mean of 100 · mean_j |y − p| / max(|y|, ε)."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(y_true.shape)
    per_entry = np.abs(y_true - y_pred) / np.maximum(np.abs(y_true), EPSILON)
    return weighted_mean(100 * per_entry.reshape(len(y_true), -1).mean(axis=1), sample_weight)


def binary_crossentropy(y_true, y_pred, from_logits=False, sample_weight=None):
    """weighted mean of −mean_j [y log p + (1 − y) log(1 − p)], p clipped to [ε, 1 − ε] (or σ(z))."""
    y_true = np.asarray(y_true, dtype=np.float64)
    z = np.asarray(y_pred, dtype=np.float64).reshape(y_true.shape)
    p = 1 / (1 + np.exp(-z)) if from_logits else np.clip(z, EPSILON, 1 - EPSILON)
    per_entry = -(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))
    return weighted_mean(per_entry.reshape(len(y_true), -1).mean(axis=1), sample_weight)


def categorical_crossentropy(y_true, y_pred, from_logits=False, sample_weight=None):
    """weighted mean of −Σ_j y log p, p = y_pred renormalized and clipped to [ε, 1 − ε] (or softmax(z))."""
    y_true = np.asarray(y_true, dtype=np.float64)
    z = np.asarray(y_pred, dtype=np.float64)
    if from_logits:
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
    else:
        p = np.clip(z / z.sum(axis=1, keepdims=True), EPSILON, 1 - EPSILON)
    return weighted_mean(-(y_true * np.log(p)).sum(axis=1), sample_weight)


def sparse_categorical_crossentropy(labels, y_pred, from_logits=False, sample_weight=None):
    y_pred = np.asarray(y_pred)
    onehot = np.eye(y_pred.shape[1])[np.asarray(labels).reshape(-1)]
    return categorical_crossentropy(onehot, y_pred, from_logits, sample_weight)

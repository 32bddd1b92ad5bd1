"""Metrics over the confusion matrix, as keras.metrics (keras/src/metrics/confusion_metrics.py):
TruePositives, FalsePositives, TrueNegatives, FalseNegatives, Precision, Recall, AUC.

A prediction counts as positive at threshold t when y_pred > t; y_true is read as a bool
(nonzero = positive). Counts are weighted by sample_weight and summed over every entry of
y_pred (every class of a multi-output prediction, unless class_id picks one, or AUC's
multi_label keeps the labels apart). The counts for all thresholds come from one pass:
each entry's bucket (how many thresholds lie below it) is counted with np.bincount, and a
reversed cumulative sum turns the buckets into "above threshold j" counts. Evenly spaced
thresholds (AUC's default) use Keras' own bucket formula ceil(p·(T−1)) − 1 on p clipped to
[0, 1], so entries that sit exactly on a threshold fall on the same side as in Keras.
"""

import numbers

import numpy as np

from fastdnn.metrics.metric import Metric, broadcast_weights, numeric, squeeze_or_expand_to_same_rank

NEG_INF = -1e10  # Keras' metrics_utils.NEG_INF: the threshold under every top_k prediction
EPSILON = 1e-7  # keras.backend.epsilon(): AUC's end thresholds are −ε and 1 + ε


def parse_thresholds(thresholds, default):
    """The thresholds as a list of floats, each in [0, 1] (ValueError otherwise)."""
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]
    if not values:
        raise ValueError("thresholds must hold at least one value in [0, 1]; got an empty list")
    invalid = [t for t in values if not isinstance(t, numbers.Real) or isinstance(t, bool) or not 0 <= t <= 1]
    if invalid:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return [float(t) for t in values]


def evenly_distributed(thresholds):
    """Keras' is_evenly_distributed_thresholds: at least 3, equal to i / (T − 1) within ε."""
    t = np.asarray(thresholds, dtype=np.float64)
    return len(t) >= 3 and bool(np.allclose(t, np.arange(len(t)) / (len(t) - 1), atol=EPSILON))


def _filter_top_k(y_pred, k):
    """y_pred with every value outside the k largest of its row set to NEG_INF."""
    top = np.argpartition(-y_pred, k - 1, axis=-1)[..., :k]
    mask = np.zeros(y_pred.shape, dtype=bool)
    np.put_along_axis(mask, top, True, axis=-1)
    return np.where(mask, y_pred, NEG_INF)


def prepare(name, y_true, y_pred, sample_weight, top_k=None, class_id=None):
    """(labels as bool, predictions as float64, weights or None), all of one shape, as Keras'
    update_confusion_matrix_variables reads them; ValueError for shapes that do not match."""
    y_true, y_pred = numeric(y_true, "y_true"), numeric(y_pred, "y_pred")
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{name}: y_true must have the shape of y_pred (binary or one-hot labels, not class "
                         f"indices); got y_true {y_true.shape} and y_pred {y_pred.shape}")
    if y_pred.ndim == 0:
        raise ValueError(f"{name}: y_true and y_pred need a sample axis; got scalars")
    weights = None
    if sample_weight is not None:
        weights = numeric(sample_weight, "sample_weight")[..., None]
        _, weights = squeeze_or_expand_to_same_rank(y_true, weights, expand_rank_1=False)
        weights = broadcast_weights(weights, y_pred.shape)
    if top_k is not None:
        if top_k > y_pred.shape[-1]:
            raise ValueError(f"{name}: top_k={top_k} is more than the {y_pred.shape[-1]} predictions per sample")
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError("When class_id is provided, y_pred must be a 2D array with shape (num_samples, "
                             f"num_classes), found shape: {y_pred.shape}")
        if not 0 <= class_id < y_pred.shape[-1]:
            raise ValueError(f"{name}: class_id={class_id} is outside [0, {y_pred.shape[-1]}) for predictions "
                             f"of shape {y_pred.shape}")
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
        if weights is not None:
            weights = weights[..., class_id, None]
    return y_true != 0, y_pred, weights


def _buckets(y_pred, thresholds, evenly, with_epsilon):
    """For each prediction, 1 + the index of the highest threshold it exceeds (0: none)."""
    if evenly:
        p = np.clip(y_pred, 0.0, 1.0)
        bucket = np.ceil(p * (len(thresholds) - 1)) - 1
        if with_epsilon:
            bucket = np.maximum(bucket, 0)
        bucket = np.where(np.isnan(p), -1, bucket)
        return bucket.astype(np.int64) + 1
    # Thresholds here are ascending: the number below p is the count that p exceeds.
    bucket = np.searchsorted(np.asarray(thresholds, dtype=np.float64), y_pred, side="left")
    return np.where(np.isnan(y_pred), 0, bucket)


def _above(bucket, weights, selected, num_thresholds, lanes):
    """Σ weights (1 for None) of the selected entries above each threshold: (T,) or, per lane
    (column), (T, lanes)."""
    if lanes is not None:
        bucket = bucket + (num_thresholds + 1) * np.arange(lanes)
    bins = (num_thresholds + 1) * (lanes or 1)
    counts = np.bincount(bucket[selected], weights=None if weights is None else weights[selected], minlength=bins)
    if lanes is None:
        return np.cumsum(counts[::-1])[::-1][1:]
    counts = counts.reshape(lanes, num_thresholds + 1)
    return np.cumsum(counts[:, ::-1], axis=1)[:, ::-1][:, 1:].T


def confusion_counts(labels, y_pred, weights, thresholds, evenly=False, with_epsilon=False, multi_label=False):
    """{"tp", "fp", "tn", "fn"}: weighted counts per threshold ((T,), or (T, labels) for
    multi_label), the thresholds in the order given."""
    thresholds = np.asarray(thresholds, dtype=np.float64)
    lanes = y_pred.shape[-1] if multi_label else None
    if not evenly:  # any order: count against the sorted thresholds, then put them back
        order = np.argsort(thresholds, kind="stable")
        thresholds = thresholds[order]
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    bucket = _buckets(y_pred, thresholds, evenly, with_epsilon)
    tp = _above(bucket, w, labels, len(thresholds), lanes)
    fp = _above(bucket, w, ~labels, len(thresholds), lanes)
    axis = 0 if multi_label else None
    if w is None:
        all_positive = labels.sum(axis=axis, dtype=np.float64)
        all_negative = (labels.shape[0] if multi_label else labels.size) - all_positive
    else:
        all_positive, all_negative = (w * labels).sum(axis=axis), (w * ~labels).sum(axis=axis)
    counts = {"tp": tp, "fp": fp, "tn": all_negative - fp, "fn": all_positive - tp}
    if not evenly:
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        counts = {k: v[inverse] for k, v in counts.items()}
    return counts


def _divide_no_nan(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


def _scalar_or_vector(values):
    values = np.asarray(values, dtype=np.float32)
    return values[0] if values.size == 1 else values


class _ThresholdedCounts(Metric):
    """The confusion counts a metric keeps, at its thresholds."""

    _kept = ()

    def __init__(self, thresholds, default_threshold, top_k, class_id, name, dtype):
        super().__init__(dtype=dtype, name=name)
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral) or top_k < 1):
            raise ValueError(f"top_k must be a positive integer or None; got {top_k!r}")
        if class_id is not None and (isinstance(class_id, bool) or not isinstance(class_id, numbers.Integral)
                                     or class_id < 0):
            raise ValueError(f"class_id must be a non-negative integer or None; got {class_id!r}")
        if isinstance(thresholds, (tuple, np.ndarray)):  # a config stays JSON: lists of floats
            thresholds = np.asarray(thresholds, dtype=np.float64).tolist()
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        self.thresholds = parse_thresholds(thresholds, default_threshold)
        self._evenly = evenly_distributed(self.thresholds)
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels, y_pred, weights = prepare(self.name, y_true, y_pred, sample_weight, self.top_k, self.class_id)
        counts = confusion_counts(labels, y_pred, weights, self.thresholds, self._evenly,
                                  with_epsilon=self.thresholds[0] < 0 or self.thresholds[-1] > 1)
        for key in self._kept:
            self._counts[key] += counts[key]

    def reset_state(self):
        self._counts = {key: np.zeros(len(self.thresholds)) for key in self._kept}


class _ConfusionMatrixConditionCount(_ThresholdedCounts):
    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds, 0.5, None, None, name, dtype)

    def result(self):
        return _scalar_or_vector(self._counts[self._kept[0]])

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """The weighted count of y_true = 1 with y_pred > threshold (thresholds=None: 0.5; a list
    gives one count per threshold)."""

    _kept = ("tp",)


class FalsePositives(_ConfusionMatrixConditionCount):
    """The weighted count of y_true = 0 with y_pred > threshold."""

    _kept = ("fp",)


class TrueNegatives(_ConfusionMatrixConditionCount):
    """The weighted count of y_true = 0 with y_pred ≤ threshold."""

    _kept = ("tn",)


class FalseNegatives(_ConfusionMatrixConditionCount):
    """The weighted count of y_true = 1 with y_pred ≤ threshold."""

    _kept = ("fn",)


class _PrecisionOrRecall(_ThresholdedCounts):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        # With top_k, a prediction outside the k largest is NEG_INF and every other one counts.
        super().__init__(thresholds, 0.5 if top_k is None else NEG_INF, top_k, class_id, name, dtype)

    def result(self):
        tp, other = self._counts["tp"], self._counts[self._kept[1]]
        return _scalar_or_vector(_divide_no_nan(tp, tp + other))

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_PrecisionOrRecall):
    """tp / (tp + fp) at each threshold (0 when nothing is predicted positive); top_k counts only
    each row's k largest predictions, class_id only that column."""

    _kept = ("tp", "fp")


class Recall(_PrecisionOrRecall):
    """tp / (tp + fn) at each threshold (0 when there is no positive label)."""

    _kept = ("tp", "fn")


# The spellings Keras' AUCCurve.from_str and AUCSummationMethod.from_str accept.
_CURVES = {"roc": "ROC", "ROC": "ROC", "pr": "PR", "PR": "PR", "prgain": "PRGAIN", "PRGAIN": "PRGAIN"}
_SUMMATIONS = {name: name.lower() for name in ("interpolation", "Interpolation", "majoring", "Majoring",
                                               "minoring", "Minoring")}


def _choice(value, choices, what):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f'Invalid AUC {what} value: "{value}". Expected values are '
                         f'{sorted(set(choices.values()))}')
    return choices[value]


class AUC(Metric):
    """The area under the ROC or PR curve, from the confusion counts at num_thresholds thresholds
    (−ε, 1/(T−1), ..., (T−2)/(T−1), 1 + ε; or −ε, the given `thresholds` sorted, 1 + ε), summed by
    `summation_method` ("interpolation": trapezoids, or Davis & Goadrich's interpolation for PR;
    "majoring"/"minoring": the larger/smaller neighbour). multi_label=True keeps one curve per
    column and averages their areas (weighted by label_weights); otherwise every entry is one
    binary prediction (label_weights weighting each column's entries). from_logits applies a
    sigmoid to y_pred first."""

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            given = sorted(parse_thresholds(thresholds, None))
            self.num_thresholds = len(given) + 2
            self._evenly = evenly_distributed([0.0] + given + [1.0])
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, numbers.Integral) \
                    or num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. Received: "
                                 f"num_thresholds={num_thresholds!r}")
            self.num_thresholds = int(num_thresholds)
            given = [(i + 1) * 1.0 / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)]
            self._evenly = True
        self._thresholds = np.array([0.0 - EPSILON] + given + [1.0 + EPSILON])
        self.curve = _choice(curve, _CURVES, "curve")
        self.summation_method = _choice(summation_method, _SUMMATIONS, "summation method")
        super().__init__(dtype=dtype, name=name)
        self.multi_label, self.num_labels = bool(multi_label), num_labels
        if num_labels is not None and not multi_label:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        self.label_weights = None
        if label_weights is not None:
            self.label_weights = numeric(label_weights, "label_weights")
            if self.label_weights.ndim != 1 or np.any(self.label_weights < 0):
                raise ValueError(f"label_weights must be a 1-D array of non-negative weights; got "
                                 f"{label_weights!r}")
        self._from_logits = from_logits
        self._num_labels = num_labels
        self.reset_state()

    @property
    def thresholds(self):
        return list(self._thresholds)

    def reset_state(self):
        shape = (self.num_thresholds, self._num_labels) if self.multi_label and self._num_labels else \
            (self.num_thresholds,)
        self._counts = None if self.multi_label and not self._num_labels else \
            {k: np.zeros(shape) for k in ("tp", "fp", "tn", "fn")}

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels, y_pred, weights = prepare(self.name, y_true, y_pred, sample_weight)
        if self._from_logits:
            y_pred = 1.0 / (1.0 + np.exp(-y_pred))
        if self.multi_label:
            if y_pred.ndim != 2:
                raise ValueError(f"`y_pred` must have rank 2 when `multi_label=True`. Found rank {y_pred.ndim}. "
                                 f"Full shape received for `y_pred`: {y_pred.shape}")
            if self._num_labels is None:
                self._num_labels = y_pred.shape[1]
                self.reset_state()
            if y_pred.shape[1] != self._num_labels:
                raise ValueError(f"{self.name}: y_pred has {y_pred.shape[1]} labels; this AUC was built for "
                                 f"{self._num_labels}")
        elif self.label_weights is not None:
            label_weights = broadcast_weights(self.label_weights, y_pred.shape, "label_weights")
            weights = label_weights if weights is None else weights * label_weights
        counts = confusion_counts(labels, y_pred, weights, self._thresholds, self._evenly, with_epsilon=True,
                                  multi_label=self.multi_label)
        for key in self._counts:
            self._counts[key] += counts[key]

    def _average(self, per_threshold_terms):
        if not self.multi_label:
            return np.float32(per_threshold_terms.sum())
        by_label = per_threshold_terms.sum(axis=0)
        if self.label_weights is None:
            return np.float32(by_label.mean())
        return np.float32(_divide_no_nan((by_label * self.label_weights).sum(), self.label_weights.sum()))

    def interpolate_pr_auc(self):
        """Davis & Goadrich (2006): precision interpolated between the thresholds along the recall axis."""
        tp, fp, fn = self._counts["tp"], self._counts["fp"], self._counts["fn"]
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = np.where((p[:-1] > 0) & (p[1:] > 0), _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        increments = _divide_no_nan(prec_slope * (dtp + intercept * np.log(safe_p_ratio)),
                                    np.maximum(tp[1:] + fn[1:], 0))
        return self._average(increments)

    def result(self):
        if self._counts is None:  # multi_label, nothing seen yet
            return np.float32(0.0)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        tp, fp, tn, fn = (self._counts[k] for k in ("tp", "fp", "tn", "fn"))
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, _divide_no_nan(tp, tp + fp)
        else:  # PRGAIN
            scaling = _divide_no_nan(tp + fn, tn + fp)
            recall_gain = np.where(tp == 0, 0.0, 1.0 - scaling * _divide_no_nan(fn, tp))
            x = np.maximum(recall_gain, 0.0)
            y = np.where(tp == 0, 1.0, 1.0 - scaling * _divide_no_nan(fp, tp))
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._average((x[:-1] - x[1:]) * heights)

    def get_config(self):
        label_weights = None if self.label_weights is None else self.label_weights.tolist()
        config = {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels, "label_weights": label_weights, "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


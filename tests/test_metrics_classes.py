"""fastdnn.metrics' stateful classes against the NumPy float64 references in
tests/reference_metrics.py: update_state over several slices (with and without
sample_weight) must give the reference's value over the whole data; plus names,
configs and bad input.

Tolerances: the states are float64 sums of float32 inputs and the result is rounded to
float32 (2^-24 ≈ 6e-8 relative), so counts and ratios of counts get RTOL_COUNTS = 1e-6.
The per-sample functions (cross-entropies, MAPE) run in float32 as Keras' do (a log or a
division: a few units of 2^-24 per value, summed in float64), so RTOL_MEANS = 1e-5.
"""

import numpy as np
import pytest

import reference_metrics as ref
from fastdnn import metrics

RTOL_COUNTS = 1e-6
RTOL_MEANS = 1e-5


def data(seed=0, n=90, width=3):
    rng = np.random.default_rng(seed)
    y_true = (rng.random((n, width)) > 0.6).astype(np.float32)
    y_pred = rng.random((n, width)).astype(np.float32)
    sample_weight = rng.uniform(0.0, 2.0, n).astype(np.float32)
    return y_true, y_pred, sample_weight


def in_slices(metric, y_true, y_pred, sample_weight=None, parts=3):
    """update_state over `parts` consecutive slices, then the result."""
    bounds = np.linspace(0, len(y_true), parts + 1).astype(int)
    for a, b in zip(bounds[:-1], bounds[1:]):
        metric.update_state(y_true[a:b], y_pred[a:b], None if sample_weight is None else sample_weight[a:b])
    return np.asarray(metric.result())


WEIGHTED = pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])


@WEIGHTED
@pytest.mark.parametrize("kwargs", [
    {}, {"curve": "PR"}, {"curve": "PR", "summation_method": "majoring"},
    {"curve": "ROC", "summation_method": "minoring"}, {"num_thresholds": 7}, {"thresholds": [0.6, 0.1, 0.35]},
])
def test_auc_matches_the_reference(kwargs, weighted):
    y_true, y_pred, w = data()
    w = w if weighted else None
    expected = ref.auc(y_true, y_pred, sample_weight=w, **kwargs)
    np.testing.assert_allclose(in_slices(metrics.AUC(**kwargs), y_true, y_pred, w), expected, rtol=RTOL_COUNTS)


@WEIGHTED
def test_auc_multi_label_averages_one_curve_per_column(weighted):
    y_true, y_pred, w = data(1)
    w = w if weighted else None
    expected = ref.auc(y_true, y_pred, multi_label=True, sample_weight=w)
    np.testing.assert_allclose(in_slices(metrics.AUC(multi_label=True), y_true, y_pred, w), expected,
                               rtol=RTOL_COUNTS)


def test_auc_from_logits_applies_a_sigmoid_first():
    y_true, y_pred, _ = data(2)
    logits = (y_pred - 0.5) * 8
    expected = ref.auc(y_true, logits, from_logits=True)
    np.testing.assert_allclose(in_slices(metrics.AUC(from_logits=True), y_true, logits), expected, rtol=RTOL_COUNTS)


def test_predictions_exactly_on_a_threshold_count_as_below_it():
    y_true = np.array([1, 0, 1, 0, 1], np.float32)
    y_pred = np.array([0.0, 0.5, 0.5, 1.0, 0.25], np.float32)  # on AUC(num_thresholds=5)'s thresholds
    auc = metrics.AUC(num_thresholds=5)
    auc.update_state(y_true, y_pred)
    tp, fp, tn, fn = ref.confusion(y_true, y_pred, ref.auc_thresholds(5))
    for key, expected in zip(("tp", "fp", "tn", "fn"), (tp, fp, tn, fn)):
        np.testing.assert_array_equal(auc._counts[key], expected, err_msg=key)


def test_auc_of_a_perfect_ranking_is_one_and_of_a_reversed_one_is_zero():
    y_true = np.array([0, 0, 1, 1], np.float32)
    assert metrics.AUC()(y_true, np.array([0.1, 0.2, 0.8, 0.9])) == pytest.approx(1.0)
    assert metrics.AUC()(y_true, np.array([0.9, 0.8, 0.2, 0.1])) == pytest.approx(0.0)


@WEIGHTED
@pytest.mark.parametrize("cls, which", [(metrics.TruePositives, 0), (metrics.FalsePositives, 1),
                                        (metrics.TrueNegatives, 2), (metrics.FalseNegatives, 3)])
@pytest.mark.parametrize("thresholds", [None, 0.3, [0.2, 0.9, 0.5], [0.0, 0.5, 1.0]])
def test_confusion_counts_match_the_reference(cls, which, thresholds, weighted):
    y_true, y_pred, w = data(3)
    w = w if weighted else None
    levels = [0.5] if thresholds is None else np.atleast_1d(thresholds)
    expected = ref.confusion(y_true, y_pred, levels, w)[which]
    result = in_slices(cls(thresholds=thresholds), y_true, y_pred, w)
    np.testing.assert_allclose(result, expected if len(levels) > 1 else expected[0], rtol=RTOL_COUNTS)


@WEIGHTED
@pytest.mark.parametrize("cls, fn", [(metrics.Precision, ref.precision), (metrics.Recall, ref.recall)])
@pytest.mark.parametrize("threshold", [None, 0.7])
def test_precision_and_recall_match_the_reference(cls, fn, threshold, weighted):
    y_true, y_pred, w = data(4)
    w = w if weighted else None
    expected = fn(y_true, y_pred, 0.5 if threshold is None else threshold, w)
    np.testing.assert_allclose(in_slices(cls(thresholds=threshold), y_true, y_pred, w), expected, rtol=RTOL_COUNTS)


@pytest.mark.parametrize("cls, fn", [(metrics.Precision, ref.precision), (metrics.Recall, ref.recall)])
def test_top_k_counts_only_each_rows_k_largest_predictions(cls, fn):
    y_true, y_pred, _ = data(5, width=5)
    keep = ref.top_k_mask(y_pred, 2)
    expected = fn(y_true, np.where(keep, 1.0, 0.0), 0.5)  # in the top 2: positive; else negative
    np.testing.assert_allclose(in_slices(cls(top_k=2), y_true, y_pred), expected, rtol=RTOL_COUNTS)


@pytest.mark.parametrize("cls, fn", [(metrics.Precision, ref.precision), (metrics.Recall, ref.recall)])
def test_class_id_counts_only_that_column(cls, fn):
    y_true, y_pred, w = data(6)
    expected = fn(y_true[:, 1], y_pred[:, 1], 0.5, w)
    np.testing.assert_allclose(in_slices(cls(class_id=1), y_true, y_pred, w), expected, rtol=RTOL_COUNTS)


def test_precision_with_several_thresholds_returns_one_value_each():
    y_true, y_pred, _ = data(7)
    result = in_slices(metrics.Precision(thresholds=[0.3, 0.8]), y_true, y_pred)
    np.testing.assert_allclose(result, [ref.precision(y_true, y_pred, 0.3), ref.precision(y_true, y_pred, 0.8)],
                               rtol=RTOL_COUNTS)


def test_precision_is_zero_when_nothing_is_predicted_positive():
    assert metrics.Precision()(np.array([1.0, 0.0]), np.array([0.1, 0.2])) == 0.0


@WEIGHTED
@pytest.mark.parametrize("cls, fn, sparse, logits", [
    (metrics.RootMeanSquaredError, ref.root_mean_squared_error, False, False),
    (metrics.MeanAbsolutePercentageError, ref.mean_absolute_percentage_error, False, False),
    (metrics.BinaryCrossentropy, ref.binary_crossentropy, False, False),
    (metrics.CategoricalCrossentropy, ref.categorical_crossentropy, False, False),
    (metrics.SparseCategoricalCrossentropy, ref.sparse_categorical_crossentropy, True, False),
    (metrics.BinaryCrossentropy, ref.binary_crossentropy, False, True),
    (metrics.CategoricalCrossentropy, ref.categorical_crossentropy, False, True),
    (metrics.SparseCategoricalCrossentropy, ref.sparse_categorical_crossentropy, True, True),
])
def test_mean_metrics_match_the_reference(cls, fn, sparse, logits, weighted):
    y_true, y_pred, w = data(8)
    w = w if weighted else None
    if cls is metrics.CategoricalCrossentropy or sparse:
        y_true = np.eye(3, dtype=np.float32)[np.argmax(y_pred + np.random.default_rng(0).random(y_pred.shape), 1)]
    if sparse:
        y_true = np.argmax(y_true, axis=1)
    if logits:
        y_pred = (y_pred - 0.5) * 6
    kwargs = {"from_logits": True} if logits else {}
    expected = fn(y_true, y_pred, sample_weight=w, **kwargs)
    np.testing.assert_allclose(in_slices(cls(**kwargs), y_true, y_pred, w), expected, rtol=RTOL_MEANS)


def test_mean_and_sum_weigh_their_values():
    values, w = np.array([1.0, 2.0, 6.0]), np.array([1.0, 0.0, 3.0])
    mean, total = metrics.Mean(), metrics.Sum()
    mean.update_state(values, sample_weight=w)
    total.update_state(values, sample_weight=w)
    assert mean.result() == pytest.approx(19 / 4)
    assert total.result() == pytest.approx(19.0)


def test_reset_state_clears_the_counts():
    y_true, y_pred, _ = data(9)
    auc = metrics.AUC()
    auc.update_state(y_true, y_pred)
    auc.reset_state()
    auc.update_state(y_true[:30], y_pred[:30])
    assert auc.result() == pytest.approx(ref.auc(y_true[:30], y_pred[:30]), rel=RTOL_COUNTS)


# --- names and configs -----------------------------------------------------------------------

@pytest.mark.parametrize("identifier, cls", [
    ("AUC", metrics.AUC), ("auc", metrics.AUC), ("Precision", metrics.Precision), ("recall", metrics.Recall),
    ("true_positives", metrics.TruePositives), ("RootMeanSquaredError", metrics.RootMeanSquaredError),
    ("mape", metrics.MeanAbsolutePercentageError), ("bce", metrics.BinaryCrossentropy),
    ("binary_crossentropy", metrics.BinaryCrossentropy), ("mse", metrics.MeanSquaredError),
])
def test_names_resolve_to_keras_classes(identifier, cls):
    assert type(metrics.get(identifier)) is cls


def test_default_names_are_keras_snake_case_names_made_unique():
    import fastdnn

    fastdnn.backend.clear_session()
    assert [metrics.AUC().name, metrics.AUC().name] == ["auc", "auc_1"]
    assert metrics.Precision().name == "precision"
    assert metrics.RootMeanSquaredError().name == "root_mean_squared_error"
    assert metrics.TruePositives().name == "true_positives"


@pytest.mark.parametrize("metric", [
    metrics.AUC(num_thresholds=50, curve="PR", summation_method="minoring", name="pr", from_logits=True),
    metrics.AUC(thresholds=[0.2, 0.4], multi_label=True),
    metrics.Precision(thresholds=[0.2, 0.7], class_id=2), metrics.Recall(top_k=3),
    metrics.FalseNegatives(thresholds=0.3), metrics.BinaryCrossentropy(from_logits=True),
    metrics.SparseCategoricalCrossentropy(name="scce"), metrics.RootMeanSquaredError(),
    metrics.MeanAbsolutePercentageError(), metrics.BinaryAccuracy(threshold=0.7),
])
def test_config_round_trips(metric):
    again = metrics.deserialize(metrics.serialize(metric))
    assert type(again) is type(metric)
    assert again.get_config() == metric.get_config()


def test_a_custom_function_is_a_running_mean_named_after_it():
    def doubled_error(y_true, y_pred):
        return 2 * np.abs(y_true - y_pred).mean(axis=-1)

    m = metrics.get(doubled_error)
    m.update_state(np.zeros((2, 1)), np.array([[1.0], [3.0]]))
    assert (m.name, float(m.result())) == ("doubled_error", 4.0)


# --- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize("make, message", [
    (lambda: metrics.AUC(num_thresholds=1), "num_thresholds"),
    (lambda: metrics.AUC(num_thresholds=0), "num_thresholds"),
    (lambda: metrics.AUC(num_thresholds=2.5), "num_thresholds"),
    (lambda: metrics.AUC(curve="ROCK"), "curve"),
    (lambda: metrics.AUC(summation_method="trapezoid"), "summation"),
    (lambda: metrics.AUC(thresholds=[0.5, 1.5]), r"\[0, 1\]"),
    (lambda: metrics.AUC(num_labels=3), "multi_label"),
    (lambda: metrics.Precision(thresholds=-0.1), r"\[0, 1\]"),
    (lambda: metrics.Recall(thresholds=[0.2, None]), r"\[0, 1\]"),
    (lambda: metrics.TruePositives(thresholds=[]), "at least one"),
    (lambda: metrics.Precision(top_k=0), "top_k"),
    (lambda: metrics.Recall(class_id=-1), "class_id"),
])
def test_bad_settings_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("metric, y_true, y_pred, message", [
    (metrics.AUC(), np.zeros(4), np.zeros((4, 3)), "shape of y_pred"),  # class indices, not one-hot
    (metrics.Precision(), np.zeros((4, 2)), np.zeros((4, 3)), "shape of y_pred"),
    (metrics.Recall(class_id=5), np.zeros((4, 3)), np.zeros((4, 3)), "class_id=5"),
    (metrics.Precision(top_k=4), np.zeros((4, 3)), np.zeros((4, 3)), "top_k=4"),
    (metrics.RootMeanSquaredError(), np.zeros((4, 2)), np.zeros((4, 3)), "same shape"),
    (metrics.MeanAbsolutePercentageError(), np.zeros(3), np.zeros((4, 1)), "same number of samples"),
    (metrics.SparseCategoricalCrossentropy(), np.array([0, 3]), np.full((2, 3), 1 / 3), r"\[0, 3\)"),
    (metrics.SparseCategoricalCrossentropy(), np.array([0, -1]), np.full((2, 3), 1 / 3), r"\[0, 3\)"),
    (metrics.AUC(multi_label=True), np.zeros(4), np.zeros(4), "rank 2"),
])
def test_bad_shapes_or_labels_raise_value_error(metric, y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        metric.update_state(y_true, y_pred)


def test_sample_weight_that_does_not_broadcast_raises_value_error():
    with pytest.raises(ValueError, match="sample_weight of shape"):
        metrics.AUC().update_state(np.zeros((4, 1)), np.zeros((4, 1)), sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="sample_weight of shape"):
        metrics.RootMeanSquaredError().update_state(np.zeros(4), np.zeros(4), sample_weight=np.ones(3))


def test_non_numeric_input_raises_type_error():
    with pytest.raises(TypeError, match="y_pred must hold numbers"):
        metrics.AUC().update_state(np.zeros(2), np.array(["a", "b"]))

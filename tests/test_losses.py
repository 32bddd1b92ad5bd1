"""K.loss and K.accuracy_hits against the float64 reference (Keras 3 semantics, mean over the batch).

Error budgets, u = 2^-24, B rows, C columns:
  loss value: a mean of B·C non-negative terms, each a few roundings (log, product): relative
              (B·C + 16)·u — the worst-case bound for a float32 sum of n non-negative terms is n·u.
  gradient:   per element a few operations plus, for renormalised probabilities / log-softmax, a
              C-term row sum: (C + 16)·u relative to the size of the terms combined in that row
              (|g| + max_row|g|), plus 4u/(B·C) absolute for the σ(z) − y / p − y cancellations.
The reference's gradients are themselves checked against central differences of its loss values.
"""

import numpy as np
import pytest

import reference as ref
from fastdnn._core import kernels as K
from helpers import U32, assert_within, f32, numeric_grad

SHAPES = [(1, 7), (13, 10), (512, 33)]
CATEGORICAL = ["sparse_categorical_crossentropy", "categorical_crossentropy"]


def _loss_budget(value, b, c):
    return (b * c + 16) * U32 * abs(value) + 1e-30


def _grad_budget(grad, b, c):
    g = np.abs(np.asarray(grad, dtype=np.float64))
    return (c + 16) * U32 * (g + g.max(axis=-1, keepdims=True)) + 4 * U32 / (b * c)


def _softmax_probs(rng, b, c):
    return f32(ref.softmax(1.5 * rng.standard_normal((b, c))))


def _case(name, from_logits, rng, b, c):
    """(y_true, y_pred) for a loss: predictions well inside the clipping range."""
    if name == "sparse_categorical_crossentropy":
        y_true = rng.integers(0, c, size=b)
        y_pred = f32(1.5 * rng.standard_normal((b, c))) if from_logits else _softmax_probs(rng, b, c)
    elif name == "categorical_crossentropy":
        y_true = f32(ref.one_hot(rng.integers(0, c, size=b), c))
        y_pred = f32(1.5 * rng.standard_normal((b, c))) if from_logits else _softmax_probs(rng, b, c)
    elif name == "binary_crossentropy":
        y_true = f32(rng.integers(0, 2, size=(b, c)))
        z = 2 * rng.standard_normal((b, c))
        y_pred = f32(z) if from_logits else f32(ref.sigmoid(z))
    else:  # regression losses
        y_true = f32(rng.standard_normal((b, c)))
        y_pred = f32(rng.standard_normal((b, c)))
    return y_true, y_pred


LOSS_CASES = [
    ("sparse_categorical_crossentropy", False),
    ("sparse_categorical_crossentropy", True),
    ("categorical_crossentropy", False),
    ("categorical_crossentropy", True),
    ("binary_crossentropy", False),
    ("binary_crossentropy", True),
    ("mean_squared_error", False),
    ("mean_absolute_error", False),
]
LOSS_IDS = [f"{n}{'-logits' if fl else ''}" for n, fl in LOSS_CASES]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name, from_logits", LOSS_CASES, ids=LOSS_IDS)
def test_loss_value_matches_reference(name, from_logits, shape):
    y_true, y_pred = _case(name, from_logits, np.random.default_rng(601), *shape)
    value, _ = K.loss(name, y_true, y_pred, from_logits=from_logits)
    want, _ = ref.loss(name, y_true, y_pred, from_logits)
    assert isinstance(value, float)
    assert_within(value, want, _loss_budget(want, *shape))


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name, from_logits", LOSS_CASES, ids=LOSS_IDS)
def test_loss_gradient_matches_reference(name, from_logits, shape):
    y_true, y_pred = _case(name, from_logits, np.random.default_rng(602), *shape)
    _, grad = K.loss(name, y_true, y_pred, from_logits=from_logits)
    _, want = ref.loss(name, y_true, y_pred, from_logits)
    assert grad.dtype == np.float32 and grad.shape == y_pred.shape
    assert_within(grad, want, _grad_budget(want, *shape))


@pytest.mark.parametrize("name, from_logits", LOSS_CASES, ids=LOSS_IDS)
def test_reference_loss_gradient_matches_finite_differences(name, from_logits):
    # float64 central differences, h = 1e-6, inputs away from clipping bounds and |p − y| kinks.
    rng = np.random.default_rng(603)
    y_true, y_pred = _case(name, from_logits, rng, 5, 4)
    y_pred = y_pred.astype(np.float64)
    if name == "mean_absolute_error":
        y_pred = np.where(np.abs(y_pred - y_true) < 1e-2, y_pred + 0.1, y_pred)
    _, grad = ref.loss(name, y_true, y_pred, from_logits)
    fd = numeric_grad(lambda p: ref.loss(name, y_true, p, from_logits)[0], y_pred)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", CATEGORICAL)
def test_reference_crossentropy_gradient_through_renormalisation_matches_finite_differences(name):
    # Unnormalised positive "probabilities": the gradient includes the p/Σp renormalisation.
    rng = np.random.default_rng(604)
    y_pred = rng.uniform(0.2, 2.0, size=(5, 4))
    y_true = rng.integers(0, 4, 5) if name.startswith("sparse") else ref.one_hot(rng.integers(0, 4, 5), 4)
    _, grad = ref.loss(name, y_true, y_pred)
    fd = numeric_grad(lambda p: ref.loss(name, y_true, p)[0], y_pred)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_categorical_crossentropy_renormalises_unnormalised_probabilities(shape):
    rng = np.random.default_rng(605)
    b, c = shape
    y_true = f32(ref.one_hot(rng.integers(0, c, b), c))
    y_pred = f32(rng.uniform(0.05, 3.0, size=shape))  # rows do not sum to 1
    value, grad = K.loss("categorical_crossentropy", y_true, y_pred)
    want_value, want_grad = ref.categorical_crossentropy(y_true, y_pred)
    assert_within(value, want_value, _loss_budget(want_value, b, c))
    assert_within(grad, want_grad, _grad_budget(want_grad, b, c))


@pytest.mark.parametrize("from_logits", [False, True], ids=["probs", "logits"])
def test_categorical_crossentropy_with_soft_targets_matches_reference(from_logits):
    rng = np.random.default_rng(606)
    y_true = f32(rng.dirichlet(np.ones(10), size=13))
    y_pred = f32(1.5 * rng.standard_normal((13, 10))) if from_logits else _softmax_probs(rng, 13, 10)
    value, grad = K.loss("categorical_crossentropy", y_true, y_pred, from_logits=from_logits)
    want_value, want_grad = ref.categorical_crossentropy(y_true, y_pred, from_logits)
    assert_within(value, want_value, _loss_budget(want_value, 13, 10))
    assert_within(grad, want_grad, _grad_budget(want_grad, 13, 10))


@pytest.mark.parametrize("from_logits", [False, True], ids=["probs", "logits"])
def test_binary_crossentropy_with_soft_targets_matches_reference(from_logits):
    rng = np.random.default_rng(607)
    y_true = f32(rng.uniform(0, 1, size=(13, 7)))
    z = 2 * rng.standard_normal((13, 7))
    y_pred = f32(z) if from_logits else f32(ref.sigmoid(z))
    value, grad = K.loss("binary_crossentropy", y_true, y_pred, from_logits=from_logits)
    want_value, want_grad = ref.binary_crossentropy(y_true, y_pred, from_logits)
    assert_within(value, want_value, _loss_budget(want_value, 13, 7))
    assert_within(grad, want_grad, _grad_budget(want_grad, 13, 7))


def test_binary_crossentropy_with_single_output_column_matches_reference():
    rng = np.random.default_rng(608)
    y_true = f32(rng.integers(0, 2, size=(33, 1)))
    y_pred = f32(ref.sigmoid(2 * rng.standard_normal((33, 1))))
    value, grad = K.loss("binary_crossentropy", y_true, y_pred)
    want_value, want_grad = ref.binary_crossentropy(y_true, y_pred)
    assert_within(value, want_value, _loss_budget(want_value, 33, 1))
    assert_within(grad, want_grad, _grad_budget(want_grad, 33, 1))


def test_binary_crossentropy_from_logits_is_stable_for_large_logits():
    z = f32([[1000.0, -1000.0, 100.0, -100.0, 30.0, -30.0]])
    y = f32([[0.0, 1.0, 0.0, 1.0, 1.0, 0.0]])
    value, grad = K.loss("binary_crossentropy", y, z, from_logits=True)
    want_value, want_grad = ref.binary_crossentropy(y, z, from_logits=True)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert_within(value, want_value, _loss_budget(want_value, 1, 6))
    assert_within(grad, want_grad, _grad_budget(want_grad, 1, 6))


@pytest.mark.parametrize("name", CATEGORICAL)
def test_crossentropy_from_logits_is_stable_for_large_logits(name):
    z = f32([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 999.0], [50.0, 60.0, 70.0]])
    labels = np.array([2, 0, 1])
    y = labels if name.startswith("sparse") else f32(ref.one_hot(labels, 3))
    value, grad = K.loss(name, y, z, from_logits=True)
    want_value, want_grad = ref.loss(name, y, z, from_logits=True)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert_within(value, want_value, _loss_budget(want_value, 3, 3))
    assert_within(grad, want_grad, _grad_budget(want_grad, 3, 3))


@pytest.mark.parametrize("name", CATEGORICAL)
def test_crossentropy_on_probabilities_clips_at_epsilon_with_zero_gradient(name):
    # True-class probability 0 → −log(1e-7) ≈ 16.118 and no gradient (the clip is flat there), in
    # every entry of the row (renormalisation's gradient flows through the clipped entry only).
    p = f32([[0.0, 0.5, 0.5], [0.2, 0.3, 0.5]])
    labels = np.array([0, 2])
    y = labels if name.startswith("sparse") else f32(ref.one_hot(labels, 3))
    value, grad = K.loss(name, y, p)
    want_value, want_grad = ref.loss(name, y, p)
    np.testing.assert_allclose(want_value, (-np.log(1e-7) - np.log(0.5)) / 2)
    assert_within(value, want_value, _loss_budget(want_value, 2, 3))
    np.testing.assert_array_equal(grad[0], 0.0)
    assert_within(grad, want_grad, _grad_budget(want_grad, 2, 3))


def test_binary_crossentropy_on_probabilities_clips_at_epsilon_with_zero_gradient():
    p = f32([[0.0, 1.0, 0.25]])
    y = f32([[1.0, 0.0, 1.0]])
    value, grad = K.loss("binary_crossentropy", y, p)
    want_value, want_grad = ref.binary_crossentropy(y, p)
    np.testing.assert_allclose(want_value, (2 * -np.log(1e-7) - np.log(0.25)) / 3)
    assert_within(value, want_value, _loss_budget(want_value, 1, 3))
    np.testing.assert_array_equal(grad[0, :2], 0.0)
    assert_within(grad, want_grad, _grad_budget(want_grad, 1, 3))


@pytest.mark.parametrize("name", CATEGORICAL)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_crossentropy_gradient_through_softmax_equals_fused_logits_gradient(name, shape):
    # For p = softmax(z): J_softmaxᵀ·∂L/∂p = (softmax(z) − y)/B, the fused from_logits gradient.
    rng = np.random.default_rng(609)
    b, c = shape
    z = f32(1.5 * rng.standard_normal(shape))
    labels = rng.integers(0, c, b)
    y = labels if name.startswith("sparse") else f32(ref.one_hot(labels, c))
    p = K.activation_forward("softmax", z)
    _, dp = K.loss(name, y, p)
    dz = K.activation_backward("softmax", z, p, dp)
    want = (ref.softmax(z) - ref.one_hot(labels, c)) / b
    # dp has entries up to 1/(B·p_true); the JVP p·(dp − Σ dp·p) cancels them back to O(1/B):
    # (C + 16)·u times the size of the cancelled terms, Σ|dp·p| ≤ 2/B per row.
    bound = (c + 16) * U32 * 4 / b + 4 * U32 * np.abs(want)
    assert_within(dz, want, bound)


def test_categorical_crossentropy_with_soft_targets_through_softmax_equals_fused_gradient():
    rng = np.random.default_rng(610)
    z = f32(1.5 * rng.standard_normal((13, 10)))
    y = f32(rng.dirichlet(np.ones(10), size=13))
    p = K.activation_forward("softmax", z)
    _, dp = K.loss("categorical_crossentropy", y, p)
    dz = K.activation_backward("softmax", z, p, dp)
    want = (ref.softmax(z) * y.sum(axis=1, keepdims=True) - y) / 13
    assert_within(dz, want, (10 + 16) * U32 * 4 / 13 + 4 * U32 * np.abs(want))


def test_sparse_labels_of_shape_b_by_1_equal_shape_b():
    rng = np.random.default_rng(611)
    labels = rng.integers(0, 10, 13)
    z = f32(rng.standard_normal((13, 10)))
    a = K.loss("sparse_categorical_crossentropy", labels, z, from_logits=True)
    b = K.loss("sparse_categorical_crossentropy", labels[:, None], z, from_logits=True)
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("label_dtype", [np.float32, np.float64, np.int32, np.uint8])
def test_sparse_labels_of_any_numeric_dtype_are_accepted(label_dtype):
    rng = np.random.default_rng(612)
    labels = rng.integers(0, 10, 13)
    z = f32(rng.standard_normal((13, 10)))
    value, grad = K.loss("sparse_categorical_crossentropy", labels.astype(label_dtype), z, from_logits=True)
    want_value, want_grad = ref.sparse_categorical_crossentropy(labels, z, True)
    assert_within(value, want_value, _loss_budget(want_value, 13, 10))
    assert_within(grad, want_grad, _grad_budget(want_grad, 13, 10))


@pytest.mark.parametrize("bad", [-1, 10, 2.5, float("nan")], ids=["-1", "C", "2.5", "nan"])
def test_sparse_label_out_of_range_raises_value_error_naming_y_true(bad):
    labels = np.array([0, 3, bad, 9], dtype=np.float64)
    with pytest.raises(ValueError, match="y_true"):
        K.loss("sparse_categorical_crossentropy", labels, np.zeros((4, 10)), from_logits=True)


def test_unknown_loss_name_raises_value_error():
    with pytest.raises(ValueError, match="no_such_loss"):
        K.loss("no_such_loss", np.zeros((4, 3)), np.zeros((4, 3)))


@pytest.mark.parametrize("name", ["categorical_crossentropy", "binary_crossentropy", "mean_squared_error", "mean_absolute_error"])
def test_loss_with_y_true_shape_not_matching_y_pred_raises_value_error_naming_y_true(name):
    with pytest.raises(ValueError, match="y_true"):
        K.loss(name, np.zeros((4, 2)), np.full((4, 3), 0.5))


def test_sparse_loss_with_wrong_number_of_labels_raises_value_error_naming_y_true():
    with pytest.raises(ValueError, match="y_true"):
        K.loss("sparse_categorical_crossentropy", np.zeros(5), np.full((4, 3), 0.5))


def test_loss_with_empty_batch_raises_value_error():
    with pytest.raises(ValueError):
        K.loss("mean_squared_error", np.zeros((0, 3)), np.zeros((0, 3)))


def test_loss_with_non_numeric_prediction_raises_type_error():
    with pytest.raises(TypeError):
        K.loss("mean_squared_error", np.zeros((2, 3)), np.full((2, 3), "x"))


def test_loss_of_non_contiguous_inputs_equals_contiguous_copies():
    rng = np.random.default_rng(613)
    y_true = f32(rng.standard_normal((13, 66)))[:, ::2]
    y_pred = f32(rng.standard_normal((33, 13))).T
    a = K.loss("mean_squared_error", y_true, y_pred)
    b = K.loss("mean_squared_error", np.ascontiguousarray(y_true), np.ascontiguousarray(y_pred))
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])


# ----------------------------------------------------------------------------------------------
# accuracy_hits
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_sparse_categorical_accuracy_hits_count_argmax_equal_label(shape):
    rng = np.random.default_rng(614)
    b, c = shape
    y_pred = f32(rng.standard_normal(shape))
    labels = np.where(rng.random(b) < 0.5, y_pred.argmax(axis=1), rng.integers(0, c, b))
    got = K.accuracy_hits("sparse_categorical_accuracy", labels, y_pred)
    assert got == ref.accuracy_hits("sparse_categorical_accuracy", labels, y_pred)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_categorical_accuracy_hits_count_argmax_agreement(shape):
    rng = np.random.default_rng(615)
    b, c = shape
    y_pred = f32(rng.standard_normal(shape))
    labels = np.where(rng.random(b) < 0.5, y_pred.argmax(axis=1), rng.integers(0, c, b))
    y_true = f32(ref.one_hot(labels, c))
    got = K.accuracy_hits("categorical_accuracy", y_true, y_pred)
    assert got == ref.accuracy_hits("categorical_accuracy", y_true, y_pred)


@pytest.mark.parametrize("shape", [(1, 1), (13, 1), (13, 7), (512, 33)], ids=str)
@pytest.mark.parametrize("threshold", [0.5, 0.3])
def test_binary_accuracy_hits_sum_row_means_of_thresholded_agreement(shape, threshold):
    rng = np.random.default_rng(616)
    y_pred = f32(rng.random(shape))
    y_true = f32(rng.integers(0, 2, shape))
    got = K.accuracy_hits("binary_accuracy", y_true, y_pred, threshold=threshold)
    want = ref.accuracy_hits("binary_accuracy", y_true, y_pred, threshold)
    # B row means of C-term 0/1 counts: each mean rounds once, the sum adds B roundings
    np.testing.assert_allclose(got, want, rtol=(shape[0] + 2) * U32, atol=0)


def test_binary_accuracy_threshold_is_strict_greater_than():
    # p > threshold: a prediction exactly at the threshold counts as 0.
    got = K.accuracy_hits("binary_accuracy", f32([[0.0, 1.0]]), f32([[0.5, 0.5]]))
    assert got == 0.5


def test_sparse_accuracy_accepts_labels_of_shape_b_by_1():
    rng = np.random.default_rng(617)
    y_pred = f32(rng.standard_normal((13, 7)))
    labels = rng.integers(0, 7, 13)
    a = K.accuracy_hits("sparse_categorical_accuracy", labels, y_pred)
    assert a == K.accuracy_hits("sparse_categorical_accuracy", labels[:, None], y_pred)


def test_unknown_accuracy_metric_raises_value_error():
    with pytest.raises(ValueError, match="no_such_metric"):
        K.accuracy_hits("no_such_metric", np.zeros((4, 3)), np.zeros((4, 3)))

"""K.loss for Keras' other losses (Huber ... CosineSimilarity), and every loss kernel with
sample_weight, against the float64 references in reference_losses.py.

Error budgets, u = 2^-24: the new kernels read the float32 inputs (the references get the same
values) and compute everything in double, so the returned loss (a double) differs from the float64
reference only by double roundings: (B·C + 16)·2^-53 relative to Σ_r w_r·|L_r|/B plus the size of
the terms that cancel inside a row (bounded here by M = Σ_r w_r·Σ_j |entries|, see _magnitude). Each
gradient entry is a double rounded once to float32: u relative, 2u allowed for the double work before.
The crossentropy / MSE / MAE kernels keep test_losses.py's float32 budgets, scaled by the largest weight.
"""

import numpy as np
import pytest

import reference as ref
import reference_losses as rl
from fastdnn._core import kernels as K
from helpers import U32, assert_within, f32, numeric_grad
from test_losses import _case, _grad_budget, _loss_budget

U64 = 2.0**-53
NEW = list(rl.PER_ROW)
SHAPES = [(1, 7), (13, 10), (512, 33)]


def _new_case(name, rng, b, c):
    """(y_true, y_pred) in the loss's usual domain, with entries on both sides of its kinks."""
    if name == "kl_divergence":
        return f32(rng.dirichlet(np.ones(c), size=b)), f32(rng.dirichlet(np.ones(c), size=b))
    if name == "poisson":
        return f32(rng.poisson(2.0, size=(b, c))), f32(np.exp(rng.standard_normal((b, c))))
    if name in ("hinge", "squared_hinge"):
        return f32(rng.integers(0, 2, size=(b, c))), f32(1.5 * rng.standard_normal((b, c)))
    if name == "mean_squared_logarithmic_error":
        return f32(np.abs(rng.standard_normal((b, c)))), f32(rng.standard_normal((b, c)) + 0.5)
    return f32(2 * rng.standard_normal((b, c))), f32(2 * rng.standard_normal((b, c)))


def _magnitude(name, y, p, w=None):
    """Σ_r w_r·(|L_r| + Σ_j |p_j|·|∂L_r/∂p_j|)/B: the size of what the row sums add up (a bound on
    the terms that can cancel), used to scale the double rounding budget of the loss value."""
    b = len(p)
    w = np.ones(b) if w is None else np.asarray(w, dtype=np.float64)
    per = np.array([abs(rl.loss(name, y[r:r + 1], p[r:r + 1])[0]) for r in range(b)])
    _, g = rl.loss(name, y, p)
    terms = per + (np.abs(g) * b * (1.0 + np.abs(np.asarray(p, np.float64)))).sum(axis=-1)
    return float((w * terms).sum() / b) + 1e-300


def _value_budget(name, y, p, b, c, w=None):
    return (b * c + 16) * U64 * _magnitude(name, y, p, w) * 8


def _new_grad_budget(want):
    return 2 * U32 * np.abs(want) + 1e-37


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", NEW)
def test_loss_value_matches_reference(name, shape):
    y, p = _new_case(name, np.random.default_rng(701), *shape)
    value, _ = K.loss(name, y, p)
    want, _ = rl.loss(name, y, p)
    assert isinstance(value, float)
    assert_within(value, want, _value_budget(name, y, p, *shape))


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", NEW)
def test_loss_gradient_matches_reference(name, shape):
    y, p = _new_case(name, np.random.default_rng(702), *shape)
    _, grad = K.loss(name, y, p)
    _, want = rl.loss(name, y, p)
    assert grad.dtype == np.float32 and grad.shape == p.shape
    assert_within(grad, want, _new_grad_budget(want))


def _away_from_kinks(name, y, p):
    """p moved off the points where the loss has no derivative (central differences straddle them)."""
    p = np.array(p, dtype=np.float64)
    if name == "huber":
        e = p - y
        p = np.where(np.abs(np.abs(e) - 1.0) < 1e-2, p + 0.05, p)
    elif name in ("hinge", "squared_hinge"):
        t = rl._hinge_labels(np.asarray(y, np.float64))
        p = np.where(np.abs(1.0 - t * p) < 1e-2, p + 0.05 * t, p)
    elif name == "mean_absolute_percentage_error":
        p = np.where(np.abs(p - y) < 1e-2, p + 0.05, p)
    elif name == "mean_squared_logarithmic_error":
        p = np.where(np.abs(p - rl.EPSILON) < 1e-2, p + 0.05, p)
    elif name == "kl_divergence":
        p = np.clip(p, 0.02, 0.98)
    return p


@pytest.mark.parametrize("name", NEW)
def test_reference_gradient_matches_finite_differences(name):
    # float64 central differences, h = 1e-6 (helpers.numeric_grad: rtol 1e-6), away from kinks.
    y, p = _new_case(name, np.random.default_rng(703), 5, 4)
    y = np.asarray(y, np.float64)
    p = _away_from_kinks(name, y, p)
    w = np.array([0.5, 2.0, 0.0, 1.0, 3.0])
    _, grad = rl.loss(name, y, p, sample_weight=w)
    fd = numeric_grad(lambda q: rl.loss(name, y, q, sample_weight=w)[0], p)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-7)


def test_huber_uses_delta():
    y, p = f32([[0.0, 0.0, 0.0]]), f32([[0.5, 2.0, -4.0]])
    value, grad = K.loss("huber", y, p, delta=2.5)
    want, want_grad = rl.loss("huber", y, p, delta=2.5)
    np.testing.assert_allclose(want, (0.125 + 2.0 + (2.5 * 4 - 0.5 * 2.5**2)) / 3)
    assert_within(value, want, 64 * U64 * abs(want))
    assert_within(grad, want_grad, _new_grad_budget(want_grad))


def test_hinge_converts_binary_labels_but_not_signed_ones():
    p = f32([[0.3, -0.4]])
    binary, _ = K.loss("hinge", f32([[1.0, 0.0]]), p)
    signed, _ = K.loss("hinge", f32([[1.0, -1.0]]), p)
    np.testing.assert_allclose(binary, signed, rtol=1e-15)
    np.testing.assert_allclose(signed, ((1 - 0.3) + (1 - 0.4)) / 2, rtol=1e-6)
    # one label outside {0, 1} anywhere in the batch: no conversion for any row (Keras' all())
    mixed, _ = K.loss("hinge", f32([[1.0, 0.0], [0.5, 1.0]]), f32([[0.3, -0.4], [0.0, 0.0]]))
    want, _ = rl.loss("hinge", f32([[1.0, 0.0], [0.5, 1.0]]), f32([[0.3, -0.4], [0.0, 0.0]]))
    np.testing.assert_allclose(want, ((0.7 + 1.0) / 2 + 1.0) / 2)
    np.testing.assert_allclose(mixed, want, rtol=1e-12)


def test_kl_divergence_clips_y_true_and_y_pred_with_no_gradient_outside():
    y, p = f32([[0.0, 1.0, 0.5]]), f32([[0.5, 0.0, 1.5]])
    value, grad = K.loss("kl_divergence", y, p)
    want, want_grad = rl.loss("kl_divergence", y, p)
    np.testing.assert_allclose(want, 1e-7 * np.log(1e-7 / 0.5) + np.log(1 / 1e-7) + 0.5 * np.log(0.5), rtol=1e-12)
    # the engine's ε is 1e-7 rounded to float32 (1.2e-8 relative above 1e-7): log(1/ε) moves by that
    assert_within(value, want, 2e-8 * abs(want))
    np.testing.assert_array_equal(grad[0, 1:], 0.0)
    assert_within(grad, want_grad, _new_grad_budget(want_grad))


def test_mape_divides_by_epsilon_where_y_true_is_zero():
    value, _ = K.loss("mean_absolute_percentage_error", f32([[0.0, 2.0]]), f32([[1e-3, 1.0]]))
    np.testing.assert_allclose(value, 100 * (np.float32(1e-3) / 1e-7 + 0.5) / 2, rtol=1e-6)


def test_msle_replaces_non_positive_predictions_with_epsilon():
    value, grad = K.loss("mean_squared_logarithmic_error", f32([[1.0, 1.0]]), f32([[-3.0, 0.0]]))
    np.testing.assert_allclose(value, (np.log(1 + 1e-7) - np.log(2.0)) ** 2, rtol=1e-6)
    np.testing.assert_array_equal(grad, 0.0)


def test_cosine_similarity_of_a_zero_prediction_is_zero_with_the_clipped_gradient():
    y, p = f32([[3.0, 4.0]]), f32([[0.0, 0.0]])
    value, grad = K.loss("cosine_similarity", y, p)
    assert value == 0.0
    np.testing.assert_allclose(grad, [[-0.6 / 1e-7, -0.8 / 1e-7]], rtol=1e-6)


def test_cosine_similarity_is_minus_one_for_parallel_vectors():
    value, _ = K.loss("cosine_similarity", f32([[1.0, 2.0, 2.0]]), f32([[2.0, 4.0, 4.0]]))
    np.testing.assert_allclose(value, -1.0, rtol=1e-7)


def test_unknown_loss_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown loss 'hubber'.*huber"):
        K.loss("hubber", f32([[1.0]]), f32([[1.0]]))


@pytest.mark.parametrize("name", NEW)
def test_from_logits_is_refused_for_the_other_losses(name):
    with pytest.raises(ValueError, match="from_logits"):
        K.loss(name, f32([[1.0]]), f32([[1.0]]), from_logits=True)


# ---- sample_weight ---------------------------------------------------------------------------

OLD_CASES = [("sparse_categorical_crossentropy", False), ("sparse_categorical_crossentropy", True),
             ("categorical_crossentropy", False), ("categorical_crossentropy", True),
             ("binary_crossentropy", False), ("binary_crossentropy", True),
             ("mean_squared_error", False), ("mean_absolute_error", False)]


def _weights(rng, b):
    w = rng.uniform(0.0, 3.0, size=b)
    w[::3] = 0.0
    return f32(w)


@pytest.mark.parametrize("name", NEW)
def test_weighted_new_loss_matches_reference(name):
    rng = np.random.default_rng(704)
    y, p = _new_case(name, rng, 13, 10)
    w = _weights(rng, 13)
    value, grad = K.loss(name, y, p, sample_weight=w)
    want, want_grad = rl.loss(name, y, p, sample_weight=w)
    assert_within(value, want, _value_budget(name, y, p, 13, 10, w))
    assert_within(grad, want_grad, _new_grad_budget(want_grad))


@pytest.mark.parametrize("name, from_logits", OLD_CASES, ids=[f"{n}{'-logits' if l else ''}" for n, l in OLD_CASES])
def test_weighted_crossentropy_and_regression_losses_match_reference(name, from_logits):
    rng = np.random.default_rng(705)
    y, p = _case(name, from_logits, rng, 13, 10)
    w = _weights(rng, 13)
    value, grad = K.loss(name, y, p, from_logits=from_logits, sample_weight=w)
    want, want_grad = rl.loss(name, y, p, sample_weight=w, from_logits=from_logits)
    assert_within(value, want, _loss_budget(want, 13, 10) * 3)
    assert_within(grad, want_grad, _grad_budget(want_grad, 13, 10) * 3)


@pytest.mark.parametrize("name", NEW + ["mean_squared_error", "binary_crossentropy"])
def test_zero_weight_row_has_zero_gradient_and_no_loss(name):
    rng = np.random.default_rng(706)
    y, p = _new_case(name, rng, 4, 3) if name in NEW else _case(name, False, rng, 4, 3)
    w = f32([1.0, 0.0, 1.0, 1.0])
    value, grad = K.loss(name, y, p, sample_weight=w)
    np.testing.assert_array_equal(grad[1], 0.0)
    kept = [0, 2, 3]
    if name not in ("hinge", "squared_hinge"):  # their label conversion looks at the whole batch
        rest, rest_grad = K.loss(name, y[kept], p[kept])
        np.testing.assert_allclose(value, rest * 3 / 4, rtol=1e-6)  # Σ w·L / 4 rows, not / Σw
        np.testing.assert_allclose(grad[kept], rest_grad * 3 / 4, rtol=1e-5, atol=1e-30)


@pytest.mark.parametrize("name", NEW + ["sparse_categorical_crossentropy"])
def test_unit_weights_give_the_unweighted_result_bitwise(name):
    rng = np.random.default_rng(707)
    y, p = _new_case(name, rng, 9, 5) if name in NEW else _case(name, True, rng, 9, 5)
    value, grad = K.loss(name, y, p)
    wvalue, wgrad = K.loss(name, y, p, sample_weight=np.ones(9))
    assert value == wvalue
    np.testing.assert_array_equal(grad, wgrad)


@pytest.mark.parametrize("bad, match", [
    (np.ones(3), r"shape \(4,\) or \(4, 1\)"),
    (np.ones((4, 2)), r"shape \(4,\) or \(4, 1\)"),
    (np.array([1.0, -1.0, 1.0, 1.0]), r"sample_weight\[1\].*finite and >= 0"),
    (np.array([1.0, 1.0, np.nan, 1.0]), r"sample_weight\[2\].*finite"),
    (np.array([1.0, 1.0, 1.0, np.inf]), r"sample_weight\[3\].*finite"),
])
def test_bad_sample_weight_is_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        K.loss("huber", f32(np.zeros((4, 2))), f32(np.ones((4, 2))), sample_weight=bad)

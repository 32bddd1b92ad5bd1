"""Batch normalisation kernels against the float64 reference (Keras 3 semantics, biased variance).

Error budgets, with u = 2^-24 and N rows (per column; helpers.assert_within):
  mean      (N+2)·u·mean|x|                  an N-term sum and a division
  var       2(N+4)·u·mean(x²)                covers both E[x²]−E[x]² and the two-pass Σ(x−μ)²/N
  inv_std   s·(½·e_var/(var+ε) + 4u)         first-order propagation through (var+ε)^−½, plus rsqrt
  xhat      e_mean·s + |x−μ|·e_inv + 3u·|x̂|  propagation of the above through (x−μ)·s
  y         |γ|·e_xhat + 3u·(|γx̂| + |β|)
Backward sums are N-term sums: (N+k)·u times the sum of the magnitudes of their terms.
"""

import numpy as np
import pytest

import reference as ref
from fastdnn._core import kernels as K
from helpers import U32, assert_within, f32, numeric_grad

SHAPES = [(1, 7), (2, 13), (7, 13), (33, 7), (13, 1), (512, 300)]


def _batch(rng, n, c):
    """Columns with different offsets and scales, so a mixed-up axis cannot go unnoticed."""
    offset = rng.uniform(-3, 3, size=c)
    scale = rng.uniform(0.5, 3, size=c)
    return f32(offset + scale * rng.standard_normal((n, c)))


def _params(rng, c):
    return f32(rng.uniform(0.5, 2, size=c) * rng.choice([-1, 1], size=c)), f32(rng.standard_normal(c))


def _forward_budgets(x, gamma, beta, eps):
    x = x.astype(np.float64)
    n = x.shape[0]
    y, xhat, mean, var, s = ref.batchnorm_forward_train(x, gamma, beta, eps)
    e_mean = (n + 2) * U32 * np.abs(x).mean(axis=0) + 1e-30
    e_var = 2 * (n + 4) * U32 * (x**2).mean(axis=0) + 1e-30
    e_inv = s * (0.5 * e_var / (var + eps) + 4 * U32)
    e_xhat = e_mean * s + np.abs(x - mean) * e_inv + 3 * U32 * np.abs(xhat)
    g = 1.0 if gamma is None else np.abs(gamma.astype(np.float64))
    b = 0.0 if beta is None else np.abs(beta.astype(np.float64))
    e_y = g * e_xhat + 3 * U32 * (g * np.abs(xhat) + b) + 1e-30
    return dict(y=e_y, xhat=e_xhat + 1e-30, mean=e_mean, var=e_var, inv_std=e_inv)


OUTPUTS = ["y", "xhat", "mean", "var", "inv_std"]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("affine", [True, False], ids=["gamma-beta", "no-gamma-beta"])
@pytest.mark.parametrize("output", OUTPUTS)
def test_batchnorm_forward_train_matches_reference(shape, affine, output):
    rng = np.random.default_rng(301)
    x = _batch(rng, *shape)
    gamma, beta = _params(rng, shape[1]) if affine else (None, None)
    got = dict(zip(OUTPUTS, K.batchnorm_forward_train(x, gamma, beta)))
    want = dict(zip(OUTPUTS, ref.batchnorm_forward_train(x, gamma, beta, 1e-3)))
    assert got[output].dtype == np.float32
    assert_within(got[output], want[output], _forward_budgets(x, gamma, beta, 1e-3)[output])


@pytest.mark.parametrize("epsilon", [1e-5, 0.1, 2.0])
def test_batchnorm_forward_train_uses_given_epsilon(epsilon):
    rng = np.random.default_rng(302)
    x = _batch(rng, 33, 7)
    gamma, beta = _params(rng, 7)
    budgets = _forward_budgets(x, gamma, beta, epsilon)
    got = K.batchnorm_forward_train(x, gamma, beta, epsilon=epsilon)
    want = ref.batchnorm_forward_train(x, gamma, beta, epsilon)
    for name, g, w in zip(OUTPUTS, got, want):
        assert_within(g, w, budgets[name], err_msg=name)


def test_batchnorm_variance_is_biased():
    # Two rows a, b: biased variance (a−b)²/4 (Keras), not the unbiased (a−b)²/2 (PyTorch's running var).
    x = np.array([[1.0, -2.0], [3.0, 6.0]])
    _, _, mean, var, _ = K.batchnorm_forward_train(x)
    np.testing.assert_array_equal(mean, [2.0, 2.0])
    np.testing.assert_array_equal(var, [1.0, 16.0])


def test_batchnorm_constant_column_gives_nonnegative_variance_and_finite_output():
    # A feature that is constant over the batch (common: always-zero border pixels, saturated units)
    # must not give a negative variance through cancellation, nor NaN/inf outputs.
    rng = np.random.default_rng(303)
    x = _batch(rng, 512, 5)
    x[:, 2] = np.float32(123.456)
    gamma, beta = _params(rng, 5)
    y, xhat, mean, var, inv_std = K.batchnorm_forward_train(x, gamma, beta)
    assert np.all(var >= 0)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(xhat)) and np.all(np.isfinite(inv_std))
    budgets = _forward_budgets(x, gamma, beta, 1e-3)
    assert_within(y, ref.batchnorm_forward_train(x, gamma, beta, 1e-3)[0], budgets["y"])


def _moving_budget(moving, batch, momentum):
    """Two products and a sum, each rounded once (4u per term); and rounding momentum to float32
    (m' = m(1+δ), |δ| ≤ u) shifts the result by δ·m·(moving − batch): the 1 − m cancellation makes
    that absolute, not relative to the small (1 − m) term."""
    moving, batch = moving.astype(np.float64), batch.astype(np.float64)
    return (
        4 * U32 * (np.abs(moving) * momentum + np.abs(batch) * (1 - momentum))
        + 2 * U32 * momentum * np.abs(moving - batch)
        + 1e-30
    )


@pytest.mark.parametrize("momentum", [0.99, 0.9, 0.0, 1.0])
@pytest.mark.parametrize("c", [1, 13, 300])
def test_batchnorm_update_moving_matches_keras_convention(momentum, c):
    rng = np.random.default_rng(304)
    mm, mean = f32(rng.standard_normal(c)), f32(rng.standard_normal(c))
    mv, var = f32(rng.uniform(0.1, 3, c)), f32(rng.uniform(0.1, 3, c))
    got_m, got_v = K.batchnorm_update_moving(mm, mv, mean, var, momentum=momentum)
    want_m, want_v = ref.batchnorm_update_moving(mm, mv, mean, var, momentum)
    bound_m = _moving_budget(mm, mean, momentum)
    bound_v = _moving_budget(mv, var, momentum)
    assert_within(got_m, want_m, bound_m)
    assert_within(got_v, want_v, bound_v)


def test_batchnorm_update_moving_default_momentum_is_0_99():
    mm, mv, mean, var = np.zeros(3), np.ones(3), np.ones(3), np.full(3, 3.0)
    got_m, got_v = K.batchnorm_update_moving(mm, mv, mean, var)
    assert_within(got_m, np.full(3, 0.01), _moving_budget(mm, mean, 0.99))
    assert_within(got_v, np.full(3, 0.99 + 0.03), _moving_budget(mv, var, 0.99))


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("affine", [True, False], ids=["gamma-beta", "no-gamma-beta"])
def test_batchnorm_forward_infer_matches_reference(shape, affine):
    rng = np.random.default_rng(305)
    n, c = shape
    x = _batch(rng, n, c)
    gamma, beta = _params(rng, c) if affine else (None, None)
    mm, mv = f32(rng.standard_normal(c)), f32(rng.uniform(0.1, 4, c))
    got = K.batchnorm_forward_infer(x, gamma, beta, mm, mv)
    want = ref.batchnorm_forward_infer(x, gamma, beta, mm, mv)
    # y = x·inv + (β − μ·inv) with inv = γ/√(v+ε): about six roundings, each relative to the size of
    # the terms it combines (the two forms differ only in where the cancellation x − μ happens).
    inv = (1.0 if gamma is None else np.abs(gamma.astype(np.float64))) / np.sqrt(mv + 1e-3)
    b = 0.0 if beta is None else np.abs(beta)
    bound = 6 * U32 * (np.abs(x) * inv + np.abs(mm) * inv + b) + 1e-30
    assert_within(got, want, bound)


def test_batchnorm_forward_infer_uses_given_epsilon():
    rng = np.random.default_rng(306)
    x = _batch(rng, 7, 13)
    mm, mv = f32(rng.standard_normal(13)), f32(rng.uniform(0.01, 0.1, 13))
    got = K.batchnorm_forward_infer(x, None, None, mm, mv, epsilon=0.5)
    want = ref.batchnorm_forward_infer(x, None, None, mm, mv, epsilon=0.5)
    bound = 6 * U32 * (np.abs(x) + np.abs(mm)) / np.sqrt(mv + 0.5)
    assert_within(got, want, bound)


def _backward_budgets(dy, xhat, inv_std, gamma):
    dy, xhat, s = dy.astype(np.float64), xhat.astype(np.float64), inv_std.astype(np.float64)
    n = dy.shape[0]
    g = 1.0 if gamma is None else np.abs(gamma.astype(np.float64))
    sum_abs_dy = np.abs(dy).sum(axis=0)
    sum_abs_dyx = np.abs(dy * xhat).sum(axis=0)
    e_dx = g * s / n * (n + 6) * U32 * (n * np.abs(dy) + sum_abs_dy + np.abs(xhat) * sum_abs_dyx)
    return e_dx + 1e-30, (n + 2) * U32 * sum_abs_dyx + 1e-30, (n + 1) * U32 * sum_abs_dy + 1e-30


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("affine", [True, False], ids=["gamma", "no-gamma"])
@pytest.mark.parametrize("output", ["dx", "dgamma", "dbeta"])
def test_batchnorm_backward_matches_reference(shape, affine, output):
    rng = np.random.default_rng(307)
    x = _batch(rng, *shape)
    gamma = _params(rng, shape[1])[0] if affine else None
    _, xhat, _, _, inv_std = K.batchnorm_forward_train(x, gamma)
    dy = f32(rng.standard_normal(shape))
    got = dict(zip(["dx", "dgamma", "dbeta"], K.batchnorm_backward(dy, xhat, inv_std, gamma)))
    want = dict(zip(["dx", "dgamma", "dbeta"], ref.batchnorm_backward(dy, xhat, inv_std, gamma)))
    budgets = dict(zip(["dx", "dgamma", "dbeta"], _backward_budgets(dy, xhat, inv_std, gamma)))
    assert got[output].dtype == np.float32
    assert_within(got[output], want[output], budgets[output])


@pytest.mark.parametrize("shape", [(2, 3), (7, 5), (13, 1)], ids=str)
@pytest.mark.parametrize("affine", [True, False], ids=["gamma", "no-gamma"])
def test_reference_batchnorm_backward_is_gradient_of_training_forward(shape, affine):
    # Validates the reference itself: the full derivative through the batch mean and variance equals
    # central differences of L = Σ dy·y(x, γ, β) (float64, h = 1e-6: error ≪ 1e-6 relative).
    rng = np.random.default_rng(308)
    x = _batch(rng, *shape).astype(np.float64)
    gamma, beta = (p.astype(np.float64) for p in _params(rng, shape[1]))
    if not affine:
        gamma = beta = None
    dy = rng.standard_normal(shape)
    eps = 1e-3
    _, xhat, _, _, inv_std = ref.batchnorm_forward_train(x, gamma, beta, eps)
    dx, dgamma, dbeta = ref.batchnorm_backward(dy, xhat, inv_std, gamma)
    loss = lambda x_, g_, b_: (dy * ref.batchnorm_forward_train(x_, g_, b_, eps)[0]).sum()  # noqa: E731
    np.testing.assert_allclose(numeric_grad(lambda v: loss(v, gamma, beta), x), dx, rtol=1e-6, atol=1e-8)
    g_ = np.ones(shape[1]) if gamma is None else gamma
    b_ = np.zeros(shape[1]) if beta is None else beta
    np.testing.assert_allclose(numeric_grad(lambda v: loss(x, v, b_), g_), dgamma, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(numeric_grad(lambda v: loss(x, g_, v), b_), dbeta, rtol=1e-6, atol=1e-8)


def test_batchnorm_backward_of_a_single_row_batch_is_zero_input_gradient():
    # With one row, x − μ = 0 whatever x is, so y = β and dy/dx = 0.
    rng = np.random.default_rng(309)
    x = _batch(rng, 1, 13)
    gamma, _ = _params(rng, 13)
    _, xhat, _, _, inv_std = K.batchnorm_forward_train(x, gamma)
    dx, _, dbeta = K.batchnorm_backward(f32(rng.standard_normal((1, 13))), xhat, inv_std, gamma)
    np.testing.assert_array_equal(dx, np.zeros((1, 13), np.float32))


@pytest.mark.parametrize("dtype", [np.float64, np.int64])
def test_batchnorm_forward_train_converts_other_numeric_dtypes(dtype):
    rng = np.random.default_rng(310)
    x = (rng.standard_normal((33, 7)) * 5).astype(dtype)
    gamma, beta = (np.ones(7, dtype=dtype), np.arange(7).astype(dtype))
    got = K.batchnorm_forward_train(x, gamma, beta)
    want = ref.batchnorm_forward_train(f32(x), f32(gamma), f32(beta), 1e-3)
    budgets = _forward_budgets(f32(x), f32(gamma), f32(beta), 1e-3)
    for name, g, w in zip(OUTPUTS, got, want):
        assert g.dtype == np.float32
        assert_within(g, w, budgets[name], err_msg=name)


def test_batchnorm_forward_train_of_non_contiguous_input_equals_contiguous_copy():
    rng = np.random.default_rng(311)
    x = _batch(rng, 33, 14)[:, ::2]
    gamma, beta = (p[::2] for p in _params(rng, 14))
    got = K.batchnorm_forward_train(x, gamma, beta)
    want = K.batchnorm_forward_train(np.ascontiguousarray(x), np.ascontiguousarray(gamma), np.ascontiguousarray(beta))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_batchnorm_backward_of_non_contiguous_inputs_equals_contiguous_copies():
    rng = np.random.default_rng(312)
    x = _batch(rng, 13, 33).T  # (33, 13), Fortran order
    _, xhat, _, _, inv_std = K.batchnorm_forward_train(np.ascontiguousarray(x))
    dy = f32(rng.standard_normal((13, 33))).T
    xhat_f = np.asfortranarray(xhat)
    got = K.batchnorm_backward(dy, xhat_f, inv_std)
    want = K.batchnorm_backward(np.ascontiguousarray(dy), xhat, inv_std)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_batchnorm_forward_infer_of_non_contiguous_input_equals_contiguous_copy():
    rng = np.random.default_rng(313)
    x = _batch(rng, 7, 26)[:, ::2]
    mm, mv = f32(rng.standard_normal(13)), f32(rng.uniform(0.1, 2, 13))
    want = K.batchnorm_forward_infer(np.ascontiguousarray(x), None, None, mm, mv)
    np.testing.assert_array_equal(K.batchnorm_forward_infer(x, None, None, mm, mv), want)


@pytest.mark.parametrize("which", ["gamma", "beta"])
def test_batchnorm_forward_train_with_wrong_parameter_length_raises_value_error_naming_it(which):
    params = {"gamma": np.ones(3), "beta": np.zeros(3)}
    params[which] = np.ones(4)
    with pytest.raises(ValueError, match=which):
        K.batchnorm_forward_train(np.ones((5, 3)), params["gamma"], params["beta"])


@pytest.mark.parametrize("which", ["moving_mean", "moving_variance"])
def test_batchnorm_forward_infer_with_wrong_statistics_length_raises_value_error_naming_it(which):
    stats = {"moving_mean": np.zeros(3), "moving_variance": np.ones(3)}
    stats[which] = np.ones(2)
    with pytest.raises(ValueError, match=which):
        K.batchnorm_forward_infer(np.ones((5, 3)), None, None, stats["moving_mean"], stats["moving_variance"])


def test_batchnorm_backward_with_dy_shape_not_matching_xhat_raises_value_error():
    with pytest.raises(ValueError):
        K.batchnorm_backward(np.ones((5, 3)), np.ones((5, 4)), np.ones(4))


def test_batchnorm_backward_with_wrong_inv_std_length_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="inv_std"):
        K.batchnorm_backward(np.ones((5, 3)), np.ones((5, 3)), np.ones(2))


def test_batchnorm_update_moving_with_mismatched_lengths_raises_value_error():
    with pytest.raises(ValueError):
        K.batchnorm_update_moving(np.zeros(3), np.ones(3), np.zeros(4), np.ones(4))


@pytest.mark.parametrize("momentum", [-0.1, 1.5, float("nan")])
def test_batchnorm_update_moving_with_momentum_outside_unit_interval_raises_value_error(momentum):
    with pytest.raises(ValueError, match="momentum"):
        K.batchnorm_update_moving(np.zeros(3), np.ones(3), np.zeros(3), np.ones(3), momentum)


def test_batchnorm_forward_train_with_empty_batch_raises_value_error():
    with pytest.raises(ValueError):
        K.batchnorm_forward_train(np.ones((0, 3)))


def test_batchnorm_forward_infer_with_empty_batch_raises_value_error():
    with pytest.raises(ValueError):
        K.batchnorm_forward_infer(np.ones((0, 3)), None, None, np.zeros(3), np.ones(3))


@pytest.mark.parametrize("bad", [np.array([[object()] * 3] * 4), np.full((4, 3), "x")], ids=["object", "str"])
def test_batchnorm_forward_train_with_non_numeric_input_raises_type_error(bad):
    with pytest.raises(TypeError):
        K.batchnorm_forward_train(bad)

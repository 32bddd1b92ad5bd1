"""The kernels of Normalization, Rescaling, GaussianNoise, GaussianDropout, ActivityRegularization
and LayerNormalization against the float64 references in reference_layers.py, plus finite-difference
checks of the references' hand-derived backward passes.

Error budgets (u = 2^-24, per element; helpers.assert_within):
  normalization   (x − m)/d: the difference, √v and the quotient each rounded once: 3u·|y|;
                  invert m + x·d: the product and √v (u·|x·d| each) and the sum (u·|y|).
  rescaling       x·s + o: the product and the sum: 2u·(|x·s| + |o|).
  layernorm fwd   the kernel sums a row in double and rounds x̂, μ, s once each (u relative);
                  y = γ·x̂ + β adds two float32 roundings: 3u·(|γ·x̂| + |β|).
  layernorm bwd   the kernel gets the float32 x̂, μ, s of the forward (u relative each) and works
                  in double: the error is a few u times the magnitudes of the terms of
                  s·(g − mean g − c·mean(g·c)); 8u·s·(|g| + mean|g| + |c|·mean|g·c| + mean|g|·|c|)
                  covers it twice over. dγ, dβ: N-term float32 sums, (N+2)u·Σ|terms|.
  activity        the penalty is summed in double: 1e-12 relative; the backward's three terms
                  are each rounded once or twice: 4u·(|dy| + scale·l1 + 2·scale·l2·|x|).
Finite differences (float64, h = 1e-6) of the reference forward functions agree with the
hand-derived backward passes to ~1e-9 relative; they are compared with rtol 1e-6.
"""

import numpy as np
import pytest

import reference_layers as ref
from fastdnn import _core
from fastdnn._core import kernels as K
from helpers import U32, assert_within, f32, numeric_grad

SHAPES = [(1, 7), (2, 13), (7, 13), (33, 7), (13, 1), (300, 64)]
ids = lambda s: "x".join(map(str, s))  # noqa: E731


def _batch(rng, n, c):
    """Columns with different offsets and scales, so a mixed-up axis cannot go unnoticed."""
    return f32(rng.uniform(-3, 3, size=c) + rng.uniform(0.5, 3, size=c) * rng.standard_normal((n, c)))


# --- Normalization -----------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES, ids=ids)
@pytest.mark.parametrize("invert", [False, True], ids=["normalize", "invert"])
def test_normalization_forward_matches_reference(shape, invert):
    rng = np.random.default_rng(1)
    x = _batch(rng, *shape)
    mean, variance = f32(rng.normal(0, 2, shape[1])), f32(rng.uniform(0.1, 5, shape[1]))
    y, d = K.normalization_forward(x, mean, variance, invert=invert)
    want = ref.normalization_forward(x, mean, variance, invert=invert)
    d64 = np.sqrt(variance.astype(np.float64))
    bound = 3 * U32 * (np.abs(x * d64) + np.abs(want)) if invert else 3 * U32 * np.abs(want)
    assert_within(y, want, bound + 1e-30)


def test_normalization_denominator_is_at_least_epsilon():
    # A constant feature (variance 0) is divided by ε = 1e-7, as Keras does, not by 0.
    x = f32([[1.0, 2.0]])
    y, d = K.normalization_forward(x, f32([1.0, 1.0]), f32([0.0, 4.0]))
    np.testing.assert_array_equal(d, f32([1e-7, 2.0]))
    np.testing.assert_array_equal(y, f32([[0.0, 0.5]]))


@pytest.mark.parametrize("invert", [False, True], ids=["normalize", "invert"])
def test_normalization_backward_matches_reference_and_finite_differences(invert):
    rng = np.random.default_rng(2)
    x, dy = _batch(rng, 9, 5), f32(rng.standard_normal((9, 5)))
    mean, variance = f32(rng.normal(0, 2, 5)), f32(rng.uniform(0.1, 5, 5))
    _, d = K.normalization_forward(x, mean, variance, invert=invert)
    got = K.normalization_backward(dy, d, invert=invert)
    want = ref.normalization_backward(dy, variance, invert=invert)
    assert_within(got, want, 3 * U32 * np.abs(want) + 1e-30)
    numeric = numeric_grad(lambda v: (ref.normalization_forward(v, mean, variance, invert=invert) * dy).sum(), x)
    np.testing.assert_allclose(want, numeric, rtol=1e-6, atol=1e-9)


# --- Rescaling ----------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES, ids=ids)
def test_rescaling_forward_and_backward_match_reference(shape):
    rng = np.random.default_rng(3)
    x, dy = _batch(rng, *shape), f32(rng.standard_normal(shape))
    scale, offset = f32(rng.normal(0, 2, shape[1])), f32(rng.normal(0, 2, shape[1]))
    want = ref.rescaling_forward(x, scale, offset)
    assert_within(K.rescaling_forward(x, scale, offset), want,
                  2 * U32 * (np.abs(x * scale.astype(np.float64)) + np.abs(offset)) + 1e-30)
    want_dx = ref.rescaling_backward(dy, scale)
    assert_within(K.rescaling_backward(dy, scale), want_dx, U32 * np.abs(want_dx) + 1e-30)


def test_rescaling_reference_backward_matches_finite_differences():
    rng = np.random.default_rng(3)
    x, dy, scale, offset = (rng.standard_normal((4, 5)), rng.standard_normal((4, 5)), rng.normal(0, 2, 5),
                            rng.normal(0, 2, 5))
    numeric = numeric_grad(lambda v: (ref.rescaling_forward(v, scale, offset) * dy).sum(), x)
    np.testing.assert_allclose(ref.rescaling_backward(dy, scale), numeric, rtol=1e-6, atol=1e-9)


# --- LayerNormalization --------------------------------------------------------------------

def _ln_params(rng, c):
    return f32(rng.uniform(0.5, 2, c) * rng.choice([-1, 1], c)), f32(rng.standard_normal(c))


@pytest.mark.parametrize("shape", SHAPES, ids=ids)
@pytest.mark.parametrize("mode", ["gamma-beta", "no-gamma-beta", "rms"])
def test_layernorm_forward_matches_reference(shape, mode):
    rng = np.random.default_rng(4)
    x = _batch(rng, *shape)
    gamma, beta = _ln_params(rng, shape[1]) if mode != "no-gamma-beta" else (None, None)
    beta = None if mode == "rms" else beta
    rms = mode == "rms"
    y, xhat, mean, s = K.layernorm_forward(x, gamma, beta, 1e-3, rms)
    want_y, want_xhat, want_mean, want_s = ref.layernorm_forward(x, gamma, beta, 1e-3, rms)
    g = 1.0 if gamma is None else np.abs(gamma.astype(np.float64))
    b = 0.0 if beta is None else np.abs(beta.astype(np.float64))
    assert_within(y, want_y, 3 * U32 * (g * np.abs(want_xhat) + b) + 1e-30)
    assert_within(xhat, want_xhat, 2 * U32 * np.abs(want_xhat) + 1e-30)
    assert_within(mean, want_mean, U32 * np.abs(want_mean) + 1e-30)
    assert_within(s, want_s, U32 * want_s)


@pytest.mark.parametrize("epsilon", [1e-5, 0.1, 2.0])
def test_layernorm_forward_uses_given_epsilon(epsilon):
    rng = np.random.default_rng(5)
    x = _batch(rng, 6, 4)
    y, _, _, s = K.layernorm_forward(x, None, None, epsilon)
    want_y, _, _, want_s = ref.layernorm_forward(x, None, None, epsilon)
    assert_within(s, want_s, U32 * want_s)
    assert_within(y, want_y, 3 * U32 * np.abs(want_y) + 1e-30)


def test_layernorm_normalizes_each_row_not_each_column():
    # Rows with different offsets come out with mean 0 and (biased) variance 1/(1 + ε/σ²).
    x = f32([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]])
    y, _, mean, _ = K.layernorm_forward(x, None, None, 1e-3)
    np.testing.assert_allclose(mean, [2.0, 20.0], rtol=1e-7)
    np.testing.assert_allclose(y.mean(axis=1), [0.0, 0.0], atol=1e-6)
    var = np.array([2 / 3, 200 / 3])
    np.testing.assert_allclose((y.astype(np.float64) ** 2).mean(axis=1), var / (var + 1e-3), rtol=1e-6)


def _ln_backward_budget(x, dy, gamma, rms):
    _, xhat, mean, s = ref.layernorm_forward(x, gamma, None, 1e-3, rms)
    g = np.abs(dy * (1.0 if gamma is None else gamma.astype(np.float64)))
    c = np.abs((x - mean[:, None]) * s[:, None])
    terms = g + g.mean(axis=1, keepdims=True) + c * (g * (c + np.abs(xhat))).mean(axis=1, keepdims=True) \
        + (np.abs(xhat) + np.abs(mean * s)[:, None]) * (g * np.abs(xhat)).mean(axis=1, keepdims=True)
    return 8 * U32 * s[:, None] * terms + 1e-30


@pytest.mark.parametrize("shape", SHAPES, ids=ids)
@pytest.mark.parametrize("mode", ["gamma", "no-gamma", "rms"])
def test_layernorm_backward_matches_reference(shape, mode):
    rng = np.random.default_rng(6)
    n, c = shape
    x, dy = _batch(rng, n, c), f32(rng.standard_normal(shape))
    gamma = _ln_params(rng, c)[0] if mode != "no-gamma" else None
    rms = mode == "rms"
    _, xhat, mean, s = K.layernorm_forward(x, gamma, None, 1e-3, rms)
    dx, dgamma, dbeta = K.layernorm_backward(dy, xhat, mean, s, gamma, rms)
    want_dx, want_dgamma, want_dbeta = ref.layernorm_backward(dy, x, gamma, 1e-3, rms)
    _, want_xhat, _, _ = ref.layernorm_forward(x, gamma, None, 1e-3, rms)
    assert_within(dx, want_dx, _ln_backward_budget(x.astype(np.float64), dy.astype(np.float64), gamma, rms))
    assert_within(dgamma, want_dgamma, (n + 2) * U32 * np.abs(dy * want_xhat).sum(axis=0) + 1e-30)
    assert_within(dbeta, want_dbeta, (n + 2) * U32 * np.abs(dy).sum(axis=0) + 1e-30)


@pytest.mark.parametrize("rms", [False, True], ids=["standard", "rms"])
def test_layernorm_reference_backward_matches_finite_differences(rms):
    rng = np.random.default_rng(7)
    x, dy = rng.normal(0.5, 2, (4, 6)), rng.standard_normal((4, 6))
    gamma, beta = rng.uniform(0.5, 2, 6), None if rms else rng.standard_normal(6)
    dx, dgamma, dbeta = ref.layernorm_backward(dy, x, gamma, 1e-3, rms)
    loss = lambda v, g, b: (ref.layernorm_forward(v, g, b, 1e-3, rms)[0] * dy).sum()  # noqa: E731
    np.testing.assert_allclose(dx, numeric_grad(lambda v: loss(v, gamma, beta), x), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dgamma, numeric_grad(lambda g: loss(x, g, beta), gamma), rtol=1e-6, atol=1e-9)
    if not rms:
        np.testing.assert_allclose(dbeta, numeric_grad(lambda b: loss(x, gamma, b), beta), rtol=1e-6, atol=1e-9)


def test_layernorm_kernel_rejects_gamma_of_the_wrong_length():
    with pytest.raises(ValueError, match="gamma"):
        K.layernorm_forward(np.ones((2, 3)), np.ones(4))


# --- ActivityRegularization -----------------------------------------------------------------

@pytest.mark.parametrize("l1, l2", [(0.01, 0.0), (0.0, 0.02), (0.3, 0.7)])
def test_activity_penalty_and_backward_match_reference(l1, l2):
    rng = np.random.default_rng(8)
    x, dy = _batch(rng, 40, 9), f32(rng.standard_normal((40, 9)))
    x[0, 0] = 0.0  # sign(0) = 0, as Keras' (torch's) |x| gradient
    want = ref.activity_penalty(x, l1, l2)
    assert abs(K.activity_penalty(x, l1, l2) - want) <= 1e-12 * abs(want)
    scale = 1.0 / 40
    want_dx = ref.activity_regularization_backward(dy, x, l1, l2, scale)
    got = K.activity_regularization_backward(dy, x, l1, l2, scale)
    assert_within(got, want_dx, 4 * U32 * (np.abs(dy) + scale * l1 + 2 * scale * l2 * np.abs(x)) + 1e-30)
    assert got[0, 0] == dy[0, 0] + np.float32(2 * scale * l2) * x[0, 0]


def test_activity_reference_backward_matches_finite_differences():
    rng = np.random.default_rng(9)
    x = rng.normal(0, 1, (5, 4))  # no entry within h of 0 (|x| is not differentiable there)
    dy = rng.standard_normal((5, 4))
    numeric = numeric_grad(lambda v: (v * dy).sum() + ref.activity_penalty(v, 0.3, 0.7) / 5, x)
    np.testing.assert_allclose(ref.activity_regularization_backward(dy, x, 0.3, 0.7, 1 / 5), numeric,
                               rtol=1e-6, atol=1e-9)


# --- GaussianNoise / GaussianDropout --------------------------------------------------------
# Statistical bounds: over n independent N(0, 1) draws, the sample mean has standard error
# 1/√n and the sample variance √(2/n); a tail fraction p has √(p(1−p)/n). Every bound below is
# 5 standard errors, which a correct generator exceeds with probability < 1e-6. The draws are a
# pure function of (seed, stream), so the test is deterministic: it cannot flake, and a bias of
# a tenth of the bound at these sizes would already be a real defect.

N_DRAWS = 1 << 20


def _assert_standard_normal(z):
    n = z.size
    z = z.astype(np.float64)
    assert abs(z.mean()) < 5 / np.sqrt(n)
    assert abs(z.var() - 1.0) < 5 * np.sqrt(2 / n)
    for threshold, p in [(1.0, 0.31731050786291415), (1.959963984540054, 0.05), (3.0, 0.0026997960632601866)]:
        assert abs(np.mean(np.abs(z) > threshold) - p) < 5 * np.sqrt(p * (1 - p) / n), threshold


def test_standard_normal_has_zero_mean_unit_variance_and_normal_tails():
    _assert_standard_normal(K.standard_normal(N_DRAWS, seed=11, stream=3))


def test_standard_normal_depends_on_seed_and_stream_and_nothing_else():
    a = K.standard_normal(1000, seed=1, stream=0)
    np.testing.assert_array_equal(a, K.standard_normal(1000, seed=1, stream=0))
    assert np.mean(a == K.standard_normal(1000, seed=2, stream=0)) < 0.01
    assert np.mean(a == K.standard_normal(1000, seed=1, stream=1)) < 0.01
    # Element i does not depend on how many are drawn (the counter is the element index).
    np.testing.assert_array_equal(K.standard_normal(13, seed=1, stream=0), a[:13])


def test_gaussian_noise_adds_stddev_times_the_engine_normals():
    rng = np.random.default_rng(10)
    x = _batch(rng, 64, 33)
    z = K.standard_normal(x.size, seed=5, stream=7).reshape(x.shape).astype(np.float64)
    y = K.gaussian_noise_forward(x, 0.3, seed=5, stream=7)
    want = x + np.float32(0.3) * z
    assert_within(y, want, 2 * U32 * (np.abs(x) + np.abs(0.3 * z)) + 1e-30)


def test_gaussian_noise_has_the_stddev_it_was_given():
    y = K.gaussian_noise_forward(np.full(N_DRAWS, 2.0, np.float32), 0.5, seed=3, stream=1)
    _assert_standard_normal((y.astype(np.float64) - 2.0) / 0.5)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_gaussian_dropout_mask_has_mean_one_and_the_keras_variance(rate):
    x = np.full(N_DRAWS, 3.0, np.float32)
    y, mask = K.gaussian_dropout_forward(x, rate, seed=4, stream=2)
    sigma = ref.gaussian_dropout_stddev(rate)
    _assert_standard_normal((mask.astype(np.float64) - 1.0) / sigma)
    assert_within(y, 3.0 * mask.astype(np.float64), U32 * np.abs(3.0 * mask) + 1e-30)


def test_gaussian_dropout_mask_is_one_plus_sigma_times_the_engine_normals():
    z = K.standard_normal(1000, seed=8, stream=9).astype(np.float64)
    _, mask = K.gaussian_dropout_forward(np.ones(1000, np.float32), 0.2, seed=8, stream=9)
    want = 1.0 + np.float32(ref.gaussian_dropout_stddev(0.2)) * z
    assert_within(mask, want, 2 * U32 * (1 + np.abs(want)))


def test_gaussian_dropout_gradient_is_the_mask():
    rng = np.random.default_rng(12)
    x, dy = _batch(rng, 16, 8), f32(rng.standard_normal((16, 8)))
    _, mask = K.gaussian_dropout_forward(x, 0.4, seed=1, stream=2)
    want = dy.astype(np.float64) * mask
    assert_within(K.mask_backward(dy, mask), want, U32 * np.abs(want) + 1e-30)


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5])
def test_gaussian_dropout_kernel_rejects_rate_outside_0_1(rate):
    with pytest.raises(ValueError, match="rate"):
        K.gaussian_dropout_forward(np.ones(3), rate)


def test_noise_kernels_are_bitwise_identical_on_1_and_2_threads(restore_threads):
    x = f32(np.random.default_rng(13).standard_normal((300, 1000)))  # several parallel chunks
    results = []
    for threads in (1, 2):
        _core.set_num_threads(threads)
        results.append((K.standard_normal(x.size, 3, 4), K.gaussian_noise_forward(x, 0.7, 3, 4),
                        *K.gaussian_dropout_forward(x, 0.3, 3, 4), K.activity_penalty(x, 0.1, 0.2)))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


# --- bad input at the binding boundary --------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda: K.normalization_forward(np.ones((2, 3)), np.ones(2), np.ones(3)), ValueError, "mean"),
    (lambda: K.normalization_forward(np.ones((2, 3)), np.ones(3), np.ones(3), epsilon=0.0), ValueError, "epsilon"),
    (lambda: K.normalization_forward(np.ones(3), np.ones(3), np.ones(3)), ValueError, "x"),
    (lambda: K.normalization_backward(np.ones((2, 3)), np.ones(4)), ValueError, "denominator"),
    (lambda: K.rescaling_forward(np.ones((2, 3)), np.ones(3), np.ones(2)), ValueError, "offset"),
    (lambda: K.rescaling_forward(np.array([["a", "b"]]), np.ones(2), np.ones(2)), TypeError, "x has dtype"),
    (lambda: K.layernorm_forward(np.ones((2, 3)), None, None, 0.0), ValueError, "epsilon"),
    (lambda: K.layernorm_backward(np.ones((2, 3)), np.ones((2, 4)), np.ones(2), np.ones(2)), ValueError, "xhat"),
    (lambda: K.layernorm_backward(np.ones((2, 3)), np.ones((2, 3)), np.ones(3), np.ones(2)), ValueError, "mean"),
    (lambda: K.activity_regularization_backward(np.ones(3), np.ones(4)), ValueError, "shape"),
    (lambda: K.activity_penalty(np.ones(3), l1=-1.0), ValueError, "l1"),
    (lambda: K.standard_normal(0), ValueError, "n"),
    (lambda: K.gaussian_noise_forward(np.ones(3), -0.5), ValueError, "stddev"),
    (lambda: K.gaussian_noise_forward(np.ones(3), 0.5, seed=-1), ValueError, "seed"),
    (lambda: K.gaussian_dropout_forward(np.zeros((0, 3)), 0.5), ValueError, "x"),
])
def test_layer_kernels_reject_bad_input_naming_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()

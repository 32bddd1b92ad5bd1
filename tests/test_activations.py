"""Activation kernels (K.activation_forward / backward, PReLU) against the float64 reference.

Elementwise error budget (u = 2^-24): a float32 evaluation of f is a handful of correctly rounded
operations plus a libm/vectorised transcendental of a few ulp, so |error| ≤ 16u·|f(x)| relative;
formulas that subtract nearly equal terms (e^x − 1, 1 + erf(x/√2) for x ≪ 0, 1 − tanh², y + α)
lose relative accuracy but keep an absolute error ≲ a few u times the size of the terms, i.e.
4u·max(1, |x|) here. Backward multiplies by dy: budget 16u·|dy·f′| + 4u·|dy|·max(1, |x|).
Softmax divides by a C-term sum of positive terms: relative budget (C + 16)u.
"""

import numpy as np
import pytest

import reference as ref
from fastdnn._core import kernels as K
from helpers import (
    U32,
    assert_within,
    away_from,
    elementwise_numeric_derivative,
    f32,
    numeric_grad,
    results_at_varied_addresses,
)

# (name, keyword params, kinks to keep finite-difference samples away from)
CASES = [
    ("linear", {}, []),
    ("relu", {}, [0.0]),
    ("relu", {"negative_slope": 0.1}, [0.0]),
    ("relu", {"max_value": 2.5}, [0.0, 2.5]),
    ("relu", {"threshold": 0.5}, [0.5]),
    ("relu", {"threshold": -0.75, "max_value": 4.0}, [-0.75, 0.0, 4.0]),
    ("relu", {"negative_slope": 0.1, "max_value": 2.5, "threshold": 0.5}, [0.5, 2.5]),
    ("leaky_relu", {}, [0.0]),
    ("leaky_relu", {"negative_slope": 0.05}, [0.0]),
    ("relu6", {}, [0.0, 6.0]),
    ("elu", {}, [0.0]),
    ("elu", {"alpha": 0.5}, [0.0]),
    ("selu", {}, [0.0]),
    ("sigmoid", {}, []),
    ("tanh", {}, []),
    ("softmax", {}, []),
    ("softplus", {}, []),
    ("softsign", {}, [0.0]),
    ("swish", {}, []),
    ("silu", {}, []),
    ("gelu", {}, []),
    ("gelu", {"approximate": True}, []),
    ("hard_sigmoid", {}, [-3.0, 3.0]),
    ("hard_swish", {}, [-3.0, 3.0]),
    ("hard_silu", {}, [-3.0, 3.0]),
    ("exponential", {}, []),
]
CASE_IDS = [name + "".join(f"-{k}={v}" for k, v in p.items()) for name, p, _ in CASES]
SHAPES = [(1, 7), (13, 33), (512, 300)]


def _inputs(rng, shape):
    # 3·N(0,1) covers both sides of every kink (including 6 for relu6 and ±3 for the hard ones).
    return f32(3 * rng.standard_normal(shape))


def _forward_budget(name, x, y_ref):
    x = x.astype(np.float64)
    if name == "softmax":
        return (x.shape[-1] + 16) * U32 * np.abs(y_ref) + 1e-37
    return 16 * U32 * np.abs(y_ref) + 4 * U32 * np.maximum(1.0, np.abs(x))


def _backward_budget(name, x, y, dy, dx_ref, params=None):
    x, y, dy = (a.astype(np.float64) for a in (x, y, dy))
    if name == "softmax":
        # y·(dy − Σ y·dy): a C-term sum, then a subtraction and a product
        return (x.shape[-1] + 16) * U32 * y * (np.abs(dy) + np.abs(y * dy).sum(axis=-1, keepdims=True)) + 1e-37
    terms = np.maximum(1.0, np.abs(x))
    if name == "gelu" and (params or {}).get("approximate"):
        # ½x(1 − t²)·k′(x) with k′ = √(2/π)(1 + 3·0.044715x²): 1 − t² cancels (t → ±1), so a tanh
        # good to ~4 ulp leaves an absolute error ≤ 8u in it, multiplied by ½|x|·k′(x) (grows like
        # |x|³): 4·(½|x|k′) ≥ 2·that below, i.e. 16u·½|x|k′ in total.
        k_prime = np.sqrt(2 / np.pi) * (1 + 3 * 0.044715 * x**2)
        terms = np.maximum(terms, 4 * 0.5 * np.abs(x) * k_prime)
    return 16 * U32 * np.abs(dx_ref) + 4 * U32 * np.abs(dy) * terms + 1e-37


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name, params, kinks", CASES, ids=CASE_IDS)
def test_activation_forward_matches_reference(name, params, kinks, shape):
    x = _inputs(np.random.default_rng(401), shape)
    got = K.activation_forward(name, x, **params)
    want = ref.activation_forward(name, x, **params)
    assert got.dtype == np.float32 and got.shape == x.shape
    assert_within(got, want, _forward_budget(name, x, want))


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name, params, kinks", CASES, ids=CASE_IDS)
def test_activation_backward_matches_reference(name, params, kinks, shape):
    rng = np.random.default_rng(402)
    x = _inputs(rng, shape)
    y = K.activation_forward(name, x, **params)
    dy = f32(rng.standard_normal(shape))
    got = K.activation_backward(name, x, y, dy, **params)
    want = ref.activation_backward(name, x, y, dy, **params)
    assert got.dtype == np.float32 and got.shape == x.shape
    assert_within(got, want, _backward_budget(name, x, y, dy, want, params))


def _fd_backward(name, params, x, dy):
    """dy·f′(x) by central differences of the float64 reference forward (h = 1e-6)."""
    if name == "softmax":
        return numeric_grad(lambda v: (dy * ref.softmax(v)).sum(), x)
    return dy * elementwise_numeric_derivative(lambda v: ref.activation_forward(name, v, **params), x)


@pytest.mark.parametrize("name, params, kinks", CASES, ids=CASE_IDS)
def test_reference_activation_derivative_matches_finite_differences(name, params, kinks):
    # Validates the reference's hand-written derivatives (so the kernel test above is meaningful).
    # Samples stay ≥ 1e-2 from kinks; h = 1e-6 gives error ≲ 1e-9 relative in float64.
    rng = np.random.default_rng(403)
    x = away_from(3 * rng.standard_normal((5, 7)), kinks)
    dy = rng.standard_normal((5, 7))
    want = _fd_backward(name, params, x, dy)
    got = ref.activation_backward(name, x, ref.activation_forward(name, x, **params), dy, **params)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name, params, kinks", CASES, ids=CASE_IDS)
def test_activation_backward_matches_finite_differences_of_reference(name, params, kinks):
    # The kernel's dy·f′(x) vs central differences of the float64 forward: the FD error (≲ 1e-9) is
    # negligible next to the float32 budget used for the reference comparison.
    rng = np.random.default_rng(404)
    x = f32(away_from(3 * rng.standard_normal((5, 7)), kinks))
    dy = f32(rng.standard_normal((5, 7)))
    y = K.activation_forward(name, x, **params)
    got = K.activation_backward(name, x, y, dy, **params)
    want = _fd_backward(name, params, x.astype(np.float64), dy.astype(np.float64))
    assert_within(got, want, _backward_budget(name, x, y, dy, want, params) + 1e-8)


@pytest.mark.parametrize("name, params, kinks", CASES, ids=CASE_IDS)
def test_activation_forward_is_bitwise_reproducible_across_calls(name, params, kinks):
    # Same input → same bits, whatever the address (alignment) of the freshly allocated output.
    x = _inputs(np.random.default_rng(415), (13, 33))
    outputs = results_at_varied_addresses(lambda: K.activation_forward(name, x, **params), x.size)
    assert len({out.ctypes.data % 64 for out in outputs}) > 1  # the alignments really did vary
    for out in outputs[1:]:
        np.testing.assert_array_equal(out, outputs[0])


@pytest.mark.parametrize("name, params, kinks", CASES, ids=CASE_IDS)
def test_activation_backward_is_bitwise_reproducible_across_calls(name, params, kinks):
    rng = np.random.default_rng(416)
    x = _inputs(rng, (13, 33))
    dy = f32(rng.standard_normal((13, 33)))
    y = K.activation_forward(name, x, **params)
    outputs = results_at_varied_addresses(lambda: K.activation_backward(name, x, y, dy, **params), x.size)
    assert len({out.ctypes.data % 64 for out in outputs}) > 1
    for out in outputs[1:]:
        np.testing.assert_array_equal(out, outputs[0])


def test_leaky_relu_default_negative_slope_is_0_2():
    x = np.array([[-1.0, -2.5, 4.0]])
    np.testing.assert_allclose(K.activation_forward("leaky_relu", x), [[-0.2, -0.5, 4.0]], rtol=2 * U32)


def test_hard_sigmoid_is_keras3_relu6_form_not_keras2_linear_form():
    # Keras 2: 0.2x + 0.5 (0.9 at x = 2); Keras 3: relu6(x + 3)/6 (5/6 at x = 2).
    x = np.array([[-4.0, -3.0, 0.0, 2.0, 3.0, 4.0]])
    want = np.array([[0.0, 0.0, 0.5, 5 / 6, 1.0, 1.0]])
    np.testing.assert_allclose(K.activation_forward("hard_sigmoid", x), want, rtol=4 * U32, atol=0)


def test_gelu_default_is_exact_erf_form():
    # At x = 1: exact 0.8413447, tanh form 0.8411920 — they differ by 1.8e-4 ≫ budget.
    x = np.array([[1.0, -1.0, 2.0]])
    want = ref.gelu(x, approximate=False)
    assert_within(K.activation_forward("gelu", x), want, _forward_budget("gelu", x, want))


@pytest.mark.parametrize("alias, canonical", [("silu", "swish"), ("hard_silu", "hard_swish")])
def test_activation_alias_gives_identical_results(alias, canonical):
    rng = np.random.default_rng(405)
    x = _inputs(rng, (13, 33))
    dy = f32(rng.standard_normal((13, 33)))
    y = K.activation_forward(canonical, x)
    np.testing.assert_array_equal(K.activation_forward(alias, x), y)
    np.testing.assert_array_equal(
        K.activation_backward(alias, x, y, dy), K.activation_backward(canonical, x, y, dy)
    )


EXTREME = np.array([[-1000.0, -100.0, -30.0, -1e-30, 0.0, 1e-30, 30.0, 100.0, 1000.0]])


@pytest.mark.parametrize(
    "name, params, kinks", [c for c in CASES if c[0] != "exponential"], ids=[i for i in CASE_IDS if "exponential" not in i]
)
def test_activation_forward_is_finite_and_correct_for_extreme_inputs(name, params, kinks):
    got = K.activation_forward(name, EXTREME, **params)
    want = ref.activation_forward(name, EXTREME, **params)
    assert np.all(np.isfinite(got))
    assert_within(got, want, _forward_budget(name, EXTREME, want))


@pytest.mark.parametrize(
    "name, params, kinks", [c for c in CASES if c[0] != "exponential"], ids=[i for i in CASE_IDS if "exponential" not in i]
)
def test_activation_backward_is_finite_and_correct_for_extreme_inputs(name, params, kinks):
    x = f32(EXTREME[:, [0, 1, 2, 6, 7, 8]])  # not at the kink 0
    dy = np.ones_like(x)
    y = K.activation_forward(name, x, **params)
    got = K.activation_backward(name, x, y, dy, **params)
    want = ref.activation_backward(name, x, ref.activation_forward(name, x, **params), dy, **params)
    assert np.all(np.isfinite(got))
    assert_within(got, want, _backward_budget(name, x, y, dy, want, params))


@pytest.mark.parametrize("name", ["sigmoid", "swish"])
def test_sigmoid_is_relatively_accurate_in_the_left_tail(name):
    # keras-semantics.md 2.3 asks for the stable split form σ(x) = eˣ/(1 + eˣ) for x < 0, which is
    # good to a few ulp *relative* to σ(x) however small (down to the float32 normal range,
    # σ(−80) ≈ 1.8e-35); a form like ½(1 + tanh(x/2)) or 1 − σ(−x) only holds an absolute ~u.
    # swish = x·σ(x) inherits it.
    x = f32(np.linspace(-80.0, 0.0, 321)[None, :])
    got = K.activation_forward(name, x)
    np.testing.assert_allclose(got, ref.activation_forward(name, x), rtol=16 * U32, atol=0)


def test_softmax_is_stable_for_large_logits():
    z = np.array(
        [
            [1000.0, 999.0, 0.0, -1000.0],
            [-1000.0, -1000.0, -1000.0, -1000.0],
            [1000.0, 1000.0, 1000.0, 999.0],
            [88.0, 89.0, 90.0, 91.0],
        ]
    )
    got = K.activation_forward("softmax", z)
    want = ref.softmax(z)
    assert np.all(np.isfinite(got))
    assert_within(got, want, _forward_budget("softmax", z, want))


def test_softmax_rows_sum_to_one():
    x = _inputs(np.random.default_rng(406), (512, 300))
    # a 300-term sum of float32 values that each carry ≤ (C+16)u relative error
    np.testing.assert_allclose(K.activation_forward("softmax", x).sum(axis=1, dtype=np.float64), 1.0, rtol=0, atol=(300 + 16) * U32)


def test_softmax_backward_is_stable_for_large_logits():
    z = f32([[1000.0, 999.0, 0.0, -1000.0], [1000.0, 1000.0, 1000.0, 999.0]])
    y = K.activation_forward("softmax", z)
    dy = f32([[1.0, -2.0, 3.0, 0.5], [0.25, -1.0, 2.0, 1.0]])
    got = K.activation_backward("softmax", z, y, dy)
    want = ref.softmax_backward(ref.softmax(z), dy)
    assert np.all(np.isfinite(got))
    assert_within(got, want, _backward_budget("softmax", z, y, dy, want))


def test_unknown_activation_name_raises_value_error_listing_known_names():
    with pytest.raises(ValueError) as info:
        K.activation_forward("no_such_activation", np.ones((2, 3)))
    message = str(info.value)
    missing = [name for name in ref.ACTIVATION_NAMES if name not in message]
    assert not missing, f"names not listed: {missing} in {message!r}"


def test_unknown_activation_name_in_backward_raises_value_error():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="no_such_activation"):
        K.activation_backward("no_such_activation", x, x, x)


def test_approximate_on_relu_raises_value_error():
    with pytest.raises(ValueError, match="approximate"):
        K.activation_forward("relu", np.ones((2, 3)), approximate=True)


def test_unknown_activation_keyword_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="bogus_setting"):
        K.activation_forward("relu", np.ones((2, 3)), bogus_setting=1.0)


def test_unknown_activation_keyword_in_backward_raises_value_error_naming_it():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="bogus_setting"):
        K.activation_backward("elu", x, x, x, bogus_setting=1.0)


@pytest.mark.parametrize(
    "name, params",
    [
        ("elu", {"negative_slope": 0.1}),
        ("tanh", {"negative_slope": 0.1}),
        ("sigmoid", {"alpha": 2.0}),
        ("relu", {"alpha": 0.1}),
        ("relu6", {"max_value": 3.0}),
        ("gelu", {"threshold": 1.0}),
        # Keras 2 spelled LeakyReLU's slope `alpha`; silently ignoring it would train with 0.2.
        ("leaky_relu", {"alpha": 0.1}),
    ],
    ids=lambda v: v if isinstance(v, str) else ",".join(v),
)
def test_activation_keyword_that_does_not_apply_raises_value_error(name, params):
    # Same rule the kernel already applies to `approximate` on relu: a parameter the activation does
    # not have must not be silently ignored.
    with pytest.raises(ValueError):
        K.activation_forward(name, np.ones((2, 3)), **params)


@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.int8])
def test_activation_forward_converts_other_numeric_dtypes(dtype):
    x = (np.random.default_rng(407).standard_normal((7, 13)) * 3).astype(dtype)
    got = K.activation_forward("elu", x)
    want = ref.activation_forward("elu", f32(x))
    assert got.dtype == np.float32
    assert_within(got, want, _forward_budget("elu", f32(x), want))


@pytest.mark.parametrize("name", ["tanh", "elu", "hard_swish"])
def test_activation_of_non_contiguous_input_equals_contiguous_copy(name):
    rng = np.random.default_rng(408)
    x = _inputs(rng, (13, 66))[:, ::2]
    dy = _inputs(rng, (33, 13)).T
    xc, dyc = np.ascontiguousarray(x), np.ascontiguousarray(dy)
    y = K.activation_forward(name, xc)
    np.testing.assert_array_equal(K.activation_forward(name, x), y)
    np.testing.assert_array_equal(
        K.activation_backward(name, x, np.asfortranarray(y), dy), K.activation_backward(name, xc, y, dyc)
    )


def test_softmax_of_non_contiguous_input_is_row_wise_on_the_logical_rows():
    # Checked against the reference rather than bitwise: softmax's bits also depend on the output
    # buffer's alignment (see test_activation_forward_is_bitwise_reproducible_across_calls).
    rng = np.random.default_rng(417)
    for x in (_inputs(rng, (13, 66))[:, ::2], _inputs(rng, (33, 13)).T):
        want = ref.softmax(x)
        assert_within(K.activation_forward("softmax", x), want, _forward_budget("softmax", x, want))


def test_activation_backward_with_mismatched_shapes_raises_value_error():
    with pytest.raises(ValueError):
        K.activation_backward("tanh", np.ones((2, 3)), np.ones((2, 3)), np.ones((3, 2)))


def test_activation_forward_with_empty_batch_raises_value_error():
    with pytest.raises(ValueError):
        K.activation_forward("relu", np.ones((0, 3)))


@pytest.mark.parametrize("bad", [np.array([[object()] * 3] * 2), np.full((2, 3), "x")], ids=["object", "str"])
def test_activation_forward_with_non_numeric_input_raises_type_error(bad):
    with pytest.raises(TypeError):
        K.activation_forward("relu", bad)


# ----------------------------------------------------------------------------------------------
# PReLU
# ----------------------------------------------------------------------------------------------


def _prelu_case(rng, shape, shared):
    x = _inputs(rng, shape)
    alpha = f32(rng.uniform(-0.5, 0.5, size=1 if shared else shape[1]))
    return x, alpha


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("shared", [False, True], ids=["per-feature", "shared"])
def test_prelu_forward_matches_reference(shape, shared):
    x, alpha = _prelu_case(np.random.default_rng(409), shape, shared)
    got = K.prelu_forward(x, alpha)
    want = ref.prelu_forward(x, alpha)
    # one product, correctly rounded
    assert_within(got, want, U32 * np.abs(want) + 1e-37)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("shared", [False, True], ids=["per-feature", "shared"])
def test_prelu_backward_input_gradient_matches_reference(shape, shared):
    rng = np.random.default_rng(410)
    x, alpha = _prelu_case(rng, shape, shared)
    dy = f32(rng.standard_normal(shape))
    dx, _ = K.prelu_backward(x, alpha, dy)
    want, _ = ref.prelu_backward(x, alpha, dy)
    assert_within(dx, want, U32 * np.abs(want) + 1e-37)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("shared", [False, True], ids=["per-feature", "shared"])
def test_prelu_backward_alpha_gradient_matches_reference(shape, shared):
    rng = np.random.default_rng(411)
    x, alpha = _prelu_case(rng, shape, shared)
    dy = f32(rng.standard_normal(shape))
    _, dalpha = K.prelu_backward(x, alpha, dy)
    _, want = ref.prelu_backward(x, alpha, dy)
    assert dalpha.shape == alpha.shape
    # an n-term sum (n = rows, or rows·columns when shared) of products: (n+1)u·Σ|terms|
    terms = np.abs(dy.astype(np.float64) * np.minimum(x, 0))
    n, total = (x.size, terms.sum()) if shared else (x.shape[0], terms.sum(axis=0))
    assert_within(dalpha, want, (n + 1) * U32 * total + 1e-37)


@pytest.mark.parametrize("shared", [False, True], ids=["per-feature", "shared"])
def test_reference_prelu_backward_matches_finite_differences(shared):
    rng = np.random.default_rng(412)
    x = away_from(3 * rng.standard_normal((5, 7)), [0.0])
    alpha = rng.uniform(-0.5, 0.5, size=1 if shared else 7)
    dy = rng.standard_normal((5, 7))
    dx, dalpha = ref.prelu_backward(x, alpha, dy)
    np.testing.assert_allclose(numeric_grad(lambda v: (dy * ref.prelu_forward(v, alpha)).sum(), x), dx, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(numeric_grad(lambda v: (dy * ref.prelu_forward(x, v)).sum(), alpha), dalpha, rtol=1e-6, atol=1e-8)


def test_prelu_with_zero_alpha_is_relu():
    # Keras' PReLU alpha_initializer is "zeros": a fresh layer is a ReLU.
    x = _inputs(np.random.default_rng(413), (13, 33))
    np.testing.assert_array_equal(K.prelu_forward(x, np.zeros(33)), np.maximum(x, 0))


@pytest.mark.parametrize("alpha_shape", [(2,), (34,), (1, 33), (33, 1)], ids=str)
def test_prelu_with_wrong_alpha_shape_raises_value_error_naming_alpha(alpha_shape):
    with pytest.raises(ValueError, match="alpha"):
        K.prelu_forward(np.ones((4, 33)), np.ones(alpha_shape))


def test_prelu_backward_with_mismatched_dy_raises_value_error():
    with pytest.raises(ValueError):
        K.prelu_backward(np.ones((4, 3)), np.ones(3), np.ones((4, 2)))


def test_prelu_forward_of_non_contiguous_input_equals_contiguous_copy():
    rng = np.random.default_rng(414)
    x = _inputs(rng, (13, 66))[:, ::2]
    alpha = f32(rng.uniform(-0.5, 0.5, 66))[::2]
    np.testing.assert_array_equal(
        K.prelu_forward(x, alpha), K.prelu_forward(np.ascontiguousarray(x), np.ascontiguousarray(alpha))
    )


def test_prelu_forward_with_empty_batch_raises_value_error():
    with pytest.raises(ValueError):
        K.prelu_forward(np.ones((0, 3)), np.ones(3))

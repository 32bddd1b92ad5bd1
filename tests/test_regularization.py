"""K.regularize (Keras L1/L2/L1L2 regularizers) against the float64 reference.

Budgets, u = 2^-24: the penalty is a sum of n non-negative terms l1·|w| + l2·w², so its float32
(or better) evaluation is within (n + 4)·u relative (worst-case summation bound n·u, plus the
products). The gradient l1·sign(w) + 2·l2·w is a few roundings per element: 4u relative to the
terms' magnitudes.
"""

import numpy as np
import pytest

import reference as ref
from fastdnn._core import kernels as K
from helpers import U32, assert_within, f32, numeric_grad

SHAPES = [(7,), (1, 7), (13, 33), (300, 100)]
COEFFS = [(0.01, 0.0), (0.0, 0.01), (0.003, 0.02), (0.0, 0.0), (1.5, 0.25)]


def _weights(rng, shape):
    return f32(rng.standard_normal(shape) * 0.5)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("l1, l2", COEFFS, ids=lambda v: str(v))
def test_regularize_penalty_matches_reference(shape, l1, l2):
    w = _weights(np.random.default_rng(701), shape)
    penalty, _ = K.regularize(w, l1, l2)
    want, _ = ref.regularize(w, l1, l2)
    assert isinstance(penalty, float)
    bound = (w.size + 4) * U32 * want + 1e-300
    assert_within(penalty, want, bound)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("l1, l2", COEFFS, ids=lambda v: str(v))
def test_regularize_gradient_matches_reference(shape, l1, l2):
    w = _weights(np.random.default_rng(702), shape)
    _, grad = K.regularize(w, l1, l2)
    _, want = ref.regularize(w, l1, l2)
    assert grad.dtype == np.float32 and grad.shape == w.shape
    bound = 4 * U32 * (l1 + 2 * l2 * np.abs(w.astype(np.float64))) + 1e-37
    assert_within(grad, want, bound)


@pytest.mark.parametrize("l1, l2", [(0.01, 0.0), (0.003, 0.02), (0.0, 0.05)], ids=str)
def test_reference_regularize_gradient_matches_finite_differences(l1, l2):
    rng = np.random.default_rng(703)
    w = rng.standard_normal((5, 7))
    w = np.where(np.abs(w) < 1e-2, 0.1, w)  # |w| has a kink at 0
    _, grad = ref.regularize(w, l1, l2)
    np.testing.assert_allclose(numeric_grad(lambda v: ref.regularize(v, l1, l2)[0], w), grad, rtol=1e-6, atol=1e-9)


def test_regularize_l1_gradient_at_zero_weight_is_zero():
    # Keras uses sign(w) (ops.sign), and sign(0) = 0: exactly-zero weights get no L1 push.
    w = f32([[0.0, -0.0, 0.5, -0.5]])
    _, grad = K.regularize(w, 0.1, 0.0)
    np.testing.assert_array_equal(grad, f32([[0.0, 0.0, 0.1, -0.1]]))


def test_regularize_penalty_of_known_weights():
    # 0.1·(3+2+1+0+1+2+3) + 0.2·(9+4+1+0+1+4+9) = 1.2 + 5.6 = 6.8 (all values exact in float32)
    w = np.arange(-3, 4, dtype=np.float64)
    penalty, _ = K.regularize(w, 0.1, 0.2)
    np.testing.assert_allclose(penalty, 6.8, rtol=16 * U32)


@pytest.mark.parametrize("dtype", [np.float64, np.int32])
def test_regularize_converts_other_numeric_dtypes(dtype):
    w = (np.random.default_rng(704).standard_normal((13, 7)) * 3).astype(dtype)
    penalty, grad = K.regularize(w, 0.01, 0.02)
    want_p, want_g = ref.regularize(f32(w), 0.01, 0.02)
    assert grad.dtype == np.float32
    assert_within(penalty, want_p, (w.size + 4) * U32 * want_p)
    assert_within(grad, want_g, 4 * U32 * (0.01 + 0.04 * np.abs(f32(w).astype(np.float64))))


def test_regularize_of_non_contiguous_weights_equals_contiguous_copy():
    w = _weights(np.random.default_rng(705), (13, 66))[:, ::2]
    a = K.regularize(w, 0.01, 0.02)
    b = K.regularize(np.ascontiguousarray(w), 0.01, 0.02)
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("l1, l2", [(-0.1, 0.0), (0.0, -1.0), (float("nan"), 0.0), (0.0, float("inf"))], ids=str)
def test_regularize_with_negative_or_non_finite_coefficient_raises_value_error(l1, l2):
    with pytest.raises(ValueError):
        K.regularize(np.ones(3), l1, l2)


def test_regularize_of_empty_weights_raises_value_error():
    with pytest.raises(ValueError):
        K.regularize(np.zeros(0), 0.1, 0.1)


def test_regularize_of_non_numeric_weights_raises_type_error():
    with pytest.raises(TypeError):
        K.regularize(np.full(3, "w"), 0.1, 0.1)

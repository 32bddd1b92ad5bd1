"""K.dense_forward / K.dense_backward against the float64 reference.

Error budgets (helpers.assert_dot_close): every output is a K-term float32 dot product, possibly plus
a bias, so |error| ≤ (K+1)·2^-24·(|x|·|W| + |b|) elementwise (Higham's a-priori bound, one extra term
for the bias addition / final rounding). dbias is a B-term sum: |error| ≤ (B+1)·2^-24·Σ|dy|.
"""

import numpy as np
import pytest

import reference as ref
from fastdnn._core import kernels as K
from helpers import assert_dot_close, f32, numeric_grad

# (batch, in, out): batch 1, odd widths, and 512×300 → 100 (≥ 2^21 multiply-adds, so tiled).
SHAPES = [(1, 7, 13), (7, 13, 33), (33, 7, 1), (13, 1, 7), (512, 300, 100)]


def _layer(rng, batch, n_in, n_out):
    x = f32(rng.standard_normal((batch, n_in)))
    kernel = f32(rng.standard_normal((n_in, n_out)) / np.sqrt(n_in))
    bias = f32(rng.standard_normal(n_out))
    return x, kernel, bias


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_dense_forward_with_bias_matches_reference(shape):
    x, kernel, bias = _layer(np.random.default_rng(201), *shape)
    got = K.dense_forward(x, kernel, bias)
    bound = np.abs(x).astype(np.float64) @ np.abs(kernel) + np.abs(bias)
    assert_dot_close(got, ref.dense_forward(x, kernel, bias), bound, shape[1] + 1)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_dense_forward_without_bias_matches_reference(shape):
    x, kernel, _ = _layer(np.random.default_rng(202), *shape)
    got = K.dense_forward(x, kernel)
    bound = np.abs(x).astype(np.float64) @ np.abs(kernel)
    assert_dot_close(got, ref.dense_forward(x, kernel), bound, shape[1])


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_dense_backward_input_gradient_matches_reference(shape):
    rng = np.random.default_rng(203)
    x, kernel, _ = _layer(rng, *shape)
    dy = f32(rng.standard_normal((shape[0], shape[2])))
    dx, _, _ = K.dense_backward(x, kernel, dy)
    want, _, _ = ref.dense_backward(x, kernel, dy)
    bound = np.abs(dy).astype(np.float64) @ np.abs(kernel).T
    assert_dot_close(dx, want, bound, shape[2])


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_dense_backward_kernel_gradient_matches_reference(shape):
    rng = np.random.default_rng(204)
    x, kernel, _ = _layer(rng, *shape)
    dy = f32(rng.standard_normal((shape[0], shape[2])))
    _, dkernel, _ = K.dense_backward(x, kernel, dy)
    _, want, _ = ref.dense_backward(x, kernel, dy)
    bound = np.abs(x).astype(np.float64).T @ np.abs(dy)
    assert_dot_close(dkernel, want, bound, shape[0])


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_dense_backward_bias_gradient_is_column_sum_of_dy(shape):
    rng = np.random.default_rng(205)
    x, kernel, _ = _layer(rng, *shape)
    dy = f32(rng.standard_normal((shape[0], shape[2])))
    _, _, dbias = K.dense_backward(x, kernel, dy, use_bias=True)
    _, _, want = ref.dense_backward(x, kernel, dy)
    assert dbias.shape == (shape[2],)
    assert_dot_close(dbias, want, np.abs(dy).astype(np.float64).sum(axis=0), shape[0])


def test_dense_backward_without_bias_returns_none_for_dbias():
    rng = np.random.default_rng(206)
    x, kernel, _ = _layer(rng, 7, 13, 33)
    dy = f32(rng.standard_normal((7, 33)))
    assert K.dense_backward(x, kernel, dy, use_bias=False)[2] is None


def test_dense_backward_is_gradient_of_forward():
    # Σ dy·(xW + b) is bilinear, so its finite differences are exact up to float64 rounding; this
    # validates the reference's formulas (and hence the kernel tests above) independently.
    rng = np.random.default_rng(207)
    x, kernel, bias = (a.astype(np.float64) for a in _layer(rng, 5, 4, 3))
    dy = rng.standard_normal((5, 3))
    dx, dkernel, dbias = ref.dense_backward(x, kernel, dy)

    np.testing.assert_allclose(
        numeric_grad(lambda v: (dy * ref.dense_forward(v, kernel, bias)).sum(), x), dx, rtol=1e-6, atol=1e-9
    )
    np.testing.assert_allclose(
        numeric_grad(lambda v: (dy * ref.dense_forward(x, v, bias)).sum(), kernel), dkernel, rtol=1e-6, atol=1e-9
    )
    np.testing.assert_allclose(
        numeric_grad(lambda v: (dy * ref.dense_forward(x, kernel, v)).sum(), bias), dbias, rtol=1e-6, atol=1e-9
    )


@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.int32])
def test_dense_forward_converts_other_numeric_dtypes(dtype):
    rng = np.random.default_rng(208)
    x = (rng.standard_normal((7, 13)) * 4).astype(dtype)
    kernel = (rng.standard_normal((13, 5)) * 4).astype(dtype)
    bias = (rng.standard_normal(5) * 4).astype(dtype)
    got = K.dense_forward(x, kernel, bias)
    assert got.dtype == np.float32
    x32, k32, b32 = f32(x), f32(kernel), f32(bias)
    bound = np.abs(x32).astype(np.float64) @ np.abs(k32) + np.abs(b32)
    assert_dot_close(got, ref.dense_forward(x32, k32, b32), bound, 14)


def test_dense_forward_of_non_contiguous_inputs_equals_contiguous_copies():
    rng = np.random.default_rng(209)
    x = f32(rng.standard_normal((7, 26)))[:, ::2]
    kernel = f32(rng.standard_normal((5, 13))).T
    bias = f32(rng.standard_normal(10))[::2]
    want = K.dense_forward(np.ascontiguousarray(x), np.ascontiguousarray(kernel), np.ascontiguousarray(bias))
    np.testing.assert_array_equal(K.dense_forward(x, kernel, bias), want)


def test_dense_backward_of_non_contiguous_inputs_equals_contiguous_copies():
    rng = np.random.default_rng(210)
    x = f32(rng.standard_normal((7, 26)))[:, ::2]
    kernel = f32(rng.standard_normal((5, 13))).T
    dy = f32(rng.standard_normal((5, 7))).T
    got = K.dense_backward(x, kernel, dy)
    want = K.dense_backward(*(np.ascontiguousarray(a) for a in (x, kernel, dy)))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_dense_forward_with_kernel_rows_not_matching_x_columns_raises_value_error_naming_kernel():
    with pytest.raises(ValueError, match="kernel"):
        K.dense_forward(np.ones((4, 3)), np.ones((2, 5)))


def test_dense_forward_with_wrong_bias_length_raises_value_error_naming_bias():
    with pytest.raises(ValueError, match="bias"):
        K.dense_forward(np.ones((4, 3)), np.ones((3, 5)), np.ones(4))


def test_dense_backward_with_kernel_rows_not_matching_x_columns_raises_value_error_naming_kernel():
    with pytest.raises(ValueError, match="kernel"):
        K.dense_backward(np.ones((4, 3)), np.ones((2, 5)), np.ones((4, 5)))


@pytest.mark.parametrize("dy_shape", [(4, 4), (3, 5), (20,)], ids=str)
def test_dense_backward_with_wrong_dy_shape_raises_value_error_naming_dy(dy_shape):
    with pytest.raises(ValueError, match="dy"):
        K.dense_backward(np.ones((4, 3)), np.ones((3, 5)), np.ones(dy_shape))


def test_dense_forward_with_empty_batch_raises_value_error():
    with pytest.raises(ValueError):
        K.dense_forward(np.ones((0, 3)), np.ones((3, 5)))


def test_dense_backward_with_empty_batch_raises_value_error():
    with pytest.raises(ValueError):
        K.dense_backward(np.ones((0, 3)), np.ones((3, 5)), np.ones((0, 5)))


@pytest.mark.parametrize("bad", [np.array([[object()] * 3] * 4), np.full((4, 3), "x")], ids=["object", "str"])
def test_dense_forward_with_non_numeric_x_raises_type_error(bad):
    with pytest.raises(TypeError):
        K.dense_forward(bad, np.ones((3, 5)))


def test_dense_forward_with_non_numeric_kernel_raises_type_error():
    with pytest.raises(TypeError):
        K.dense_forward(np.ones((4, 3)), np.full((3, 5), "w"))


def test_dense_forward_with_one_dimensional_x_raises_value_error():
    with pytest.raises(ValueError):
        K.dense_forward(np.ones(3), np.ones((3, 5)))

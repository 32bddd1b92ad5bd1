"""K.gemm (c = op(a)·op(b) + beta·c, BLAS-shaped) on every tile backend against the float64 reference.

Error budget: each element is a (k+1)-term float32 sum, the k products plus beta·c, so whatever the
order or FMA use its error is ≤ (k+2)·2^-24·(Σ|a·b| + |beta·c|) (Higham §3.1; the +1 is the rounding
of beta·c, the other +1 the final rounding, as in helpers.assert_dot_close). A wrong, missing or
doubled term is O(1) against that bound, and cannot hide in it.
"""

import itertools

import numpy as np
import pytest

import fastdnn
import reference as ref
from fastdnn._core import kernels as K
from helpers import assert_dot_close, f32

BACKENDS = K.gemm_backends()
TRANSPOSES = list(itertools.product([False, True], repeat=2))

# Every size 1..37 in each dimension, the other two from a few small ones: covers the microkernel's
# row counts 1..8, partial and whole 16- and 32-column panels, and k = 1.
_OTHERS = [(1, 1), (17, 5), (33, 37), (8, 32)]
TINY_SHAPES = sorted(
    {(s, x, y) for s in range(1, 38) for x, y in _OTHERS}
    | {(x, s, y) for s in range(1, 38) for x, y in _OTHERS}
    | {(x, y, s) for s in range(1, 38) for x, y in _OTHERS}
)
# (m, n, k): depths across the AVX-512 kernel's 128-deep blocks, and products that matmul cuts into tiles.
LARGER_SHAPES = [(9, 33, 129), (17, 47, 257), (40, 100, 300), (200, 300, 100), (256, 140, 784)]


def _stored(rng, rows, cols, transposed, row_pad=0, col_offset=0):
    """A (rows, cols) operand, or its transpose's storage, as a row-strided view when padded or offset."""
    r, c = (cols, rows) if transposed else (rows, cols)
    big = f32(rng.standard_normal((r, c + row_pad + col_offset)))
    return big[:, col_offset : col_offset + c]


def _expected(a, b, c0, beta, transpose_a, transpose_b):
    product = ref.matmul(a, b, transpose_a, transpose_b)
    bound = ref.matmul(np.abs(a), np.abs(b), transpose_a, transpose_b)
    if beta != 0:
        product = product + beta * c0.astype(np.float64)
        bound = bound + abs(beta) * np.abs(c0.astype(np.float64))
    return product, bound


def _run_and_check(rng, m, n, k, transpose_a, transpose_b, backend, beta, pad=0, offset=0):
    a = _stored(rng, m, k, transpose_a, pad, offset)
    b = _stored(rng, k, n, transpose_b, pad, offset)
    c = _stored(rng, m, n, False, pad, offset)
    c0 = c.copy()
    K.gemm(a, b, c, beta=beta, transpose_a=transpose_a, transpose_b=transpose_b, backend=backend)
    want, bound = _expected(a, b, c0, beta, transpose_a, transpose_b)
    assert_dot_close(np.ascontiguousarray(c), want, bound, k + 1)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("transposes", TRANSPOSES, ids=lambda t: "".join("T" if x else "N" for x in t))
def test_gemm_of_every_tiny_shape_matches_reference(backend, transposes):
    rng = np.random.default_rng(201)
    for m, n, k in TINY_SHAPES:
        _run_and_check(rng, m, n, k, *transposes, backend, beta=0.0)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("transposes", TRANSPOSES, ids=lambda t: "".join("T" if x else "N" for x in t))
@pytest.mark.parametrize("shape", LARGER_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_gemm_of_larger_shapes_matches_reference(backend, transposes, shape):
    _run_and_check(np.random.default_rng(202), *shape, *transposes, backend, beta=0.0)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("transposes", TRANSPOSES, ids=lambda t: "".join("T" if x else "N" for x in t))
@pytest.mark.parametrize("beta", [1.0, 0.5, -2.0])
def test_gemm_adds_beta_times_c(backend, transposes, beta):
    rng = np.random.default_rng(203)
    for shape in [(1, 1, 1), (7, 33, 5), (37, 17, 130), (200, 300, 100)]:
        _run_and_check(rng, *shape, *transposes, backend, beta=beta)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("transposes", TRANSPOSES, ids=lambda t: "".join("T" if x else "N" for x in t))
@pytest.mark.parametrize("offset", [1, 2, 3, 16])
def test_gemm_of_strided_misaligned_views_matches_reference(backend, transposes, offset):
    # Leading dimensions larger than the widths, and first elements off the 64-byte lines.
    rng = np.random.default_rng(204)
    for shape in [(5, 7, 3), (33, 31, 37), (64, 100, 140)]:
        for beta in (0.0, 1.0):
            _run_and_check(rng, *shape, *transposes, backend, beta=beta, pad=5, offset=offset)


@pytest.mark.parametrize("backend", BACKENDS)
def test_gemm_writes_only_inside_c(backend):
    rng = np.random.default_rng(205)
    parent = f32(rng.standard_normal((40, 50)))
    before = parent.copy()
    a, b = f32(rng.standard_normal((30, 20))), f32(rng.standard_normal((20, 33)))
    K.gemm(a, b, parent[3:33, 7:40], beta=1.0, backend=backend)
    outside = np.ones(parent.shape, bool)
    outside[3:33, 7:40] = False
    np.testing.assert_array_equal(parent[outside], before[outside])


@pytest.mark.parametrize("backend", BACKENDS)
def test_gemm_with_beta_zero_ignores_nan_in_c(backend):
    rng = np.random.default_rng(206)
    a, b = f32(rng.standard_normal((9, 20))), f32(rng.standard_normal((20, 35)))
    c = np.full((9, 35), np.nan, np.float32)
    K.gemm(a, b, c, beta=0.0, backend=backend)
    want, bound = _expected(a, b, None, 0.0, False, False)
    assert_dot_close(c, want, bound, 21)


@pytest.mark.parametrize("backend", BACKENDS)
def test_gemm_with_empty_inner_size_scales_c_by_beta(backend):
    c = np.arange(6, dtype=np.float32).reshape(2, 3)
    K.gemm(np.ones((2, 0), np.float32), np.ones((3, 0), np.float32), c, beta=0.5, transpose_b=True, backend=backend)
    np.testing.assert_array_equal(c, np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5)


def test_gemm_returns_c_itself():
    c = np.zeros((2, 2), np.float32)
    assert K.gemm(np.ones((2, 3), np.float32), np.ones((3, 2), np.float32), c) is c


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("transposes", TRANSPOSES, ids=lambda t: "".join("T" if x else "N" for x in t))
# Shapes that matmul cuts into several tiles: by rows, by columns.
@pytest.mark.parametrize("shape", [(1024, 1000, 10), (32, 1000, 784), (256, 300, 784)], ids=str)
def test_gemm_is_bitwise_identical_on_one_two_and_three_threads(backend, shape, transposes, restore_threads):
    rng = np.random.default_rng(207)
    m, n, k = shape
    a, b = _stored(rng, m, k, transposes[0]), _stored(rng, k, n, transposes[1])
    c0 = f32(rng.standard_normal((m, n)))
    results = []
    for threads in (1, 2, 3):
        fastdnn.set_num_threads(threads)
        c = c0.copy()
        K.gemm(a, b, c, beta=1.0, transpose_a=transposes[0], transpose_b=transposes[1], backend=backend)
        results.append(c)
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])


@pytest.mark.skipif("avx512" not in BACKENDS, reason="this build has no AVX-512 kernel")
@pytest.mark.parametrize("transposes", TRANSPOSES, ids=lambda t: "".join("T" if x else "N" for x in t))
def test_avx512_rows_do_not_depend_on_the_tiling(transposes):
    # Each element is one FMA chain in k order, so a row block computed alone (other tiles,
    # other panels) is bitwise the block of the whole product.
    rng = np.random.default_rng(208)
    m, n, k = 512, 300, 784
    a, b = _stored(rng, m, k, transposes[0]), _stored(rng, k, n, transposes[1])
    whole = K.matmul(a, b, *transposes, backend="avx512")
    rows = slice(13, 50)
    a_rows = a[:, rows] if transposes[0] else a[rows]
    np.testing.assert_array_equal(K.matmul(a_rows, b, *transposes, backend="avx512"), whole[rows])


def test_gemm_with_unknown_backend_raises_value_error():
    with pytest.raises(ValueError, match="backend"):
        K.gemm(np.ones((2, 2), np.float32), np.ones((2, 2), np.float32), np.zeros((2, 2), np.float32), backend="mkl")


def test_matmul_with_unknown_backend_raises_value_error():
    with pytest.raises(ValueError, match="backend"):
        K.matmul(np.ones((2, 2)), np.ones((2, 2)), backend="blas")


def test_gemm_with_c_of_wrong_shape_raises_value_error():
    with pytest.raises(ValueError, match=r"c must have shape \(2, 3\)"):
        K.gemm(np.ones((2, 4), np.float32), np.ones((4, 3), np.float32), np.zeros((3, 2), np.float32))


def test_gemm_with_float64_c_raises_type_error():
    with pytest.raises(TypeError, match="c must be a float32"):
        K.gemm(np.ones((2, 4), np.float32), np.ones((4, 3), np.float32), np.zeros((2, 3)))


def test_gemm_with_read_only_c_raises_value_error():
    c = np.zeros((2, 3), np.float32)
    c.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        K.gemm(np.ones((2, 4), np.float32), np.ones((4, 3), np.float32), c)


def test_gemm_with_column_strided_c_raises_value_error():
    c = np.zeros((2, 6), np.float32)[:, ::2]
    with pytest.raises(ValueError, match="rows must be contiguous"):
        K.gemm(np.ones((2, 4), np.float32), np.ones((4, 3), np.float32), c)


def test_gemm_with_c_overlapping_a_raises_value_error():
    buffer = np.ones((4, 4), np.float32)
    with pytest.raises(ValueError, match="overlap"):
        K.gemm(buffer[:, :2], np.ones((2, 2), np.float32), buffer[:, 2:])


def test_gemm_with_mismatched_inner_sizes_raises_value_error():
    with pytest.raises(ValueError, match="do not chain"):
        K.gemm(np.ones((2, 4), np.float32), np.ones((5, 3), np.float32), np.zeros((2, 3), np.float32))


@pytest.mark.parametrize("beta", [float("nan"), float("inf")])
def test_gemm_with_non_finite_beta_raises_value_error(beta):
    with pytest.raises(ValueError, match="beta"):
        K.gemm(np.ones((2, 4), np.float32), np.ones((4, 3), np.float32), np.zeros((2, 3), np.float32), beta=beta)


@pytest.mark.skipif(not {"avx512", "avx2"} <= set(BACKENDS), reason="this build lacks AVX-512 or AVX2")
@pytest.mark.parametrize("transposes", TRANSPOSES, ids=lambda t: "".join("T" if x else "N" for x in t))
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_avx2_and_avx512_kernels_give_the_same_bits(transposes, beta):
    # Both compute each element as the same FMA chain in k order from beta·c; only the blocking differs.
    rng = np.random.default_rng(209)
    for m, n, k in [(7, 45, 300), (37, 33, 5), (200, 100, 300)]:
        a, b = _stored(rng, m, k, transposes[0]), _stored(rng, k, n, transposes[1])
        c0 = f32(rng.standard_normal((m, n)))
        results = {}
        for backend in ("avx512", "avx2"):
            results[backend] = c0.copy()
            K.gemm(a, b, results[backend], beta=beta, transpose_a=transposes[0], transpose_b=transposes[1],
                   backend=backend)
        np.testing.assert_array_equal(results["avx512"], results["avx2"])

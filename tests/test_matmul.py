"""K.matmul against the float64 reference.

Error budget: a K-term float32 dot product has |error| ≤ (K+1)·2^-24·(|A|·|B|) elementwise whatever
the summation order or tiling (helpers.assert_dot_close), so a wrong, missing or doubled tile
(an O(1) error) cannot hide inside it.
"""

import numpy as np
import pytest

import fastdnn
import reference as ref
from fastdnn._core import kernels as K
from helpers import assert_dot_close, f32

# (M, K, N): batch 1, odd widths, inner size 1, exactly 2^21 = 64·128·256 (the tiling threshold),
# and products far above it (several output tiles, odd N).
SHAPES = [
    (1, 7, 13),
    (7, 13, 33),
    (33, 1, 7),
    (13, 33, 1),
    (64, 128, 256),
    (256, 784, 300),
    (300, 512, 17),
]


def _operands(rng, m, k, n, transpose_a, transpose_b):
    a = f32(rng.standard_normal((k, m) if transpose_a else (m, k)))
    b = f32(rng.standard_normal((n, k) if transpose_b else (k, n)))
    return a, b


def _check(got, a, b, transpose_a=False, transpose_b=False):
    want = ref.matmul(a, b, transpose_a, transpose_b)
    bound = ref.matmul(np.abs(a), np.abs(b), transpose_a, transpose_b)
    k = a.shape[0] if transpose_a else a.shape[1]
    assert_dot_close(got, want, bound, k)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("transpose_a", [False, True], ids=["a", "aT"])
@pytest.mark.parametrize("transpose_b", [False, True], ids=["b", "bT"])
def test_matmul_matches_reference(shape, transpose_a, transpose_b):
    rng = np.random.default_rng(101)
    a, b = _operands(rng, *shape, transpose_a, transpose_b)
    got = K.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b)
    _check(got, a, b, transpose_a, transpose_b)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("transposes", [(False, False), (True, False), (False, True), (True, True)])
def test_naive_matmul_matches_reference(shape, transposes):
    rng = np.random.default_rng(102)
    a, b = _operands(rng, *shape, *transposes)
    got = K.matmul(a, b, transpose_a=transposes[0], transpose_b=transposes[1], naive=True)
    _check(got, a, b, *transposes)


def test_matmul_output_is_new_float32_c_contiguous_array():
    rng = np.random.default_rng(103)
    a, b = f32(rng.standard_normal((7, 13))), f32(rng.standard_normal((13, 33)))
    got = K.matmul(a, b)
    assert got.dtype == np.float32 and got.shape == (7, 33) and got.flags.c_contiguous
    assert not np.shares_memory(got, a) and not np.shares_memory(got, b)


def test_matmul_of_nonnegative_integers_is_exact():
    # Small integers: every product and partial sum is an integer < 2^24, hence exact in float32.
    rng = np.random.default_rng(104)
    a = rng.integers(0, 8, size=(256, 784))
    b = rng.integers(0, 8, size=(784, 300))
    np.testing.assert_array_equal(K.matmul(a, b), (a @ b).astype(np.float32))


# (100, 200, 100) and (200, 300, 100), W4's and W2's, are the small products cut in two tiles.
@pytest.mark.parametrize("shape", [(256, 784, 300), (64, 128, 256), (7, 13, 33), (100, 200, 100), (200, 300, 100)],
                         ids=str)
@pytest.mark.parametrize("naive", [False, True])
def test_matmul_is_bitwise_identical_with_one_two_and_three_threads(shape, naive, restore_threads):
    rng = np.random.default_rng(105)
    m, k, n = shape
    a, b = f32(rng.standard_normal((m, k))), f32(rng.standard_normal((k, n)))
    fastdnn.set_num_threads(1)
    one = K.matmul(a, b, naive=naive)
    for threads in (2, 3):
        fastdnn.set_num_threads(threads)
        np.testing.assert_array_equal(one, K.matmul(a, b, naive=naive))


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.int64, np.float16, np.bool_])
def test_matmul_converts_other_numeric_dtypes_to_float32(dtype):
    rng = np.random.default_rng(106)
    a = (rng.standard_normal((7, 13)) * 3).astype(dtype)
    b = (rng.standard_normal((13, 5)) * 3).astype(dtype)
    got = K.matmul(a, b)
    assert got.dtype == np.float32
    _check(got, f32(a), f32(b))


def _strided_operands(kind, rng):
    big_a = f32(rng.standard_normal((66, 70)))
    big_b = f32(rng.standard_normal((70, 66)))
    if kind == "column-stride":  # a is (66, 35) with a stride of 2 elements between columns
        return big_a[:, ::2], big_b[:35, :33]
    if kind == "row-stride":  # b is (35, 66) taking every other row
        return big_a[:, :35], big_b[::2, :]
    if kind == "transposed":  # Fortran-ordered views
        return big_b.T, big_a.T
    raise KeyError(kind)


@pytest.mark.parametrize("kind", ["column-stride", "row-stride", "transposed"])
def test_matmul_of_non_contiguous_inputs_equals_contiguous_copies(kind):
    a, b = _strided_operands(kind, np.random.default_rng(107))
    assert not (a.flags.c_contiguous and b.flags.c_contiguous)
    want = K.matmul(np.ascontiguousarray(a), np.ascontiguousarray(b))
    np.testing.assert_array_equal(K.matmul(a, b), want)


def test_matmul_with_mismatched_inner_sizes_raises_value_error():
    with pytest.raises(ValueError):
        K.matmul(np.ones((4, 3)), np.ones((5, 2)))


def test_matmul_with_mismatched_inner_sizes_after_transpose_raises_value_error():
    with pytest.raises(ValueError):
        K.matmul(np.ones((4, 3)), np.ones((3, 2)), transpose_a=True)


def test_matmul_with_empty_batch_raises_value_error():
    with pytest.raises(ValueError, match="empty"):
        K.matmul(np.ones((0, 3)), np.ones((3, 2)))


@pytest.mark.parametrize("bad", [np.array([[object()]]), np.array([["a", "b"]])], ids=["object", "str"])
def test_matmul_of_non_numeric_dtype_raises_type_error(bad):
    with pytest.raises(TypeError):
        K.matmul(bad, np.ones((bad.shape[1], 2)))


def test_matmul_of_one_dimensional_operand_raises_value_error():
    with pytest.raises(ValueError):
        K.matmul(np.ones(3), np.ones((3, 2)))

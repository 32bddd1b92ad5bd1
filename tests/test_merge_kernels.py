"""The merging kernels (kernels/merge.h) against the NumPy float64 references in
tests/reference_merge.py: forward, backward, and the accumulating backward a DAG uses
where a tensor has several readers.

Tolerances: concatenate, subtract, maximum and minimum only move or negate float32 values,
so they must match exactly. A sum or product of at most 4 float32 values rounds at most
3 times (relative error <= 3·2^-24 ~ 2e-7 of the largest term), and Average's division
once more: rtol 1e-6 with a 1e-6 floor for cancellation near zero is a tight bound.
"""

import numpy as np
import pytest

from fastdnn._core import kernels as K
from reference_merge import merge_backward, merge_forward

ELEMENTWISE = ["add", "subtract", "multiply", "average", "maximum", "minimum"]
EXACT = {"concatenate", "subtract", "maximum", "minimum"}


def inputs_for(kind, rng, rows=6, width=8, count=3):
    count = 2 if kind == "subtract" else count
    return [rng.normal(size=(rows, width)).astype(np.float32) for _ in range(count)]


def close(got, want, kind):
    if kind in EXACT:
        np.testing.assert_array_equal(got, want.astype(np.float32))
    else:
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", ELEMENTWISE)
def test_elementwise_merge_forward_matches_reference(kind):
    xs = inputs_for(kind, np.random.default_rng(1))
    close(K.merge_forward(kind, xs), merge_forward(kind, xs), kind)


@pytest.mark.parametrize("kind", ELEMENTWISE)
def test_elementwise_merge_backward_matches_reference(kind):
    rng = np.random.default_rng(2)
    xs = inputs_for(kind, rng)
    dy = rng.normal(size=xs[0].shape).astype(np.float32)
    for got, want in zip(K.merge_backward(kind, dy, xs), merge_backward(kind, dy, xs)):
        close(got, want, kind)


@pytest.mark.parametrize("kind", ELEMENTWISE + ["concatenate"])
def test_accumulating_backward_adds_to_the_existing_gradient(kind):
    rng = np.random.default_rng(3)
    xs = inputs_for(kind, rng)
    dy = rng.normal(size=(6, 8 * len(xs) if kind == "concatenate" else 8)).astype(np.float32)
    into = [rng.normal(size=x.shape).astype(np.float32) for x in xs]
    for got, start, want in zip(K.merge_backward(kind, dy, xs, into=into), into, merge_backward(kind, dy, xs)):
        np.testing.assert_allclose(got, start + want, rtol=1e-6, atol=1e-6)


def test_concatenate_joins_along_the_last_axis():
    xs = [np.arange(6, dtype=np.float32).reshape(2, 3), 10 + np.arange(4, dtype=np.float32).reshape(2, 2)]
    np.testing.assert_array_equal(K.merge_forward("concatenate", xs), [[0, 1, 2, 10, 11], [3, 4, 5, 12, 13]])


@pytest.mark.parametrize("blocks", [1, 2, 3])
def test_concatenate_over_blocks_matches_reference(blocks):
    rng = np.random.default_rng(4)
    xs = [rng.normal(size=(5, w)).astype(np.float32) for w in (6, 12, 3 * blocks)]
    close(K.merge_forward("concatenate", xs, blocks), merge_forward("concatenate", xs, blocks), "concatenate")
    dy = rng.normal(size=(5, sum(x.shape[1] for x in xs))).astype(np.float32)
    for got, want in zip(K.merge_backward("concatenate", dy, xs, blocks), merge_backward("concatenate", dy, xs, blocks)):
        close(got, want, "concatenate")


def test_concatenate_over_blocks_interleaves_the_blocks():
    # Two (1, 2, 2) tensors joined on the last axis: block 0 of each, then block 1 of each.
    a = np.array([[1, 2, 3, 4]], np.float32)
    b = np.array([[5, 6, 7, 8]], np.float32)
    np.testing.assert_array_equal(K.merge_forward("concatenate", [a, b], 2), [[1, 2, 5, 6, 3, 4, 7, 8]])


def test_multiply_gradient_is_the_product_of_the_others_even_at_zero():
    xs = [np.array([[0.0, 2.0]], np.float32), np.array([[3.0, 0.0]], np.float32), np.array([[5.0, 7.0]], np.float32)]
    dy = np.ones((1, 2), np.float32)
    got = K.merge_backward("multiply", dy, xs)
    np.testing.assert_array_equal(got[0], [[15.0, 0.0]])
    np.testing.assert_array_equal(got[1], [[0.0, 14.0]])
    np.testing.assert_array_equal(got[2], [[0.0, 0.0]])


@pytest.mark.parametrize("kind", ["maximum", "minimum"])
def test_extreme_gradient_goes_to_the_first_input_holding_a_tie(kind):
    xs = [np.array([[1.0, 4.0]], np.float32), np.array([[1.0, 4.0]], np.float32), np.array([[1.0, 4.0]], np.float32)]
    got = K.merge_backward(kind, np.array([[2.0, 3.0]], np.float32), xs)
    np.testing.assert_array_equal(got[0], [[2.0, 3.0]])
    np.testing.assert_array_equal(got[1], [[0.0, 0.0]])
    np.testing.assert_array_equal(got[2], [[0.0, 0.0]])


@pytest.mark.parametrize("kind", ["add", "multiply", "maximum"])
def test_large_merges_split_across_threads_match_reference(kind, restore_threads):
    import fastdnn

    fastdnn.set_num_threads(2)
    rng = np.random.default_rng(5)
    xs = inputs_for(kind, rng, rows=1200, width=500)  # 600k elements: above the parallel threshold
    close(K.merge_forward(kind, xs), merge_forward(kind, xs), kind)
    dy = rng.normal(size=xs[0].shape).astype(np.float32)
    for got, want in zip(K.merge_backward(kind, dy, xs), merge_backward(kind, dy, xs)):
        close(got, want, kind)


def test_subtract_kernel_refuses_three_inputs():
    xs = inputs_for("add", np.random.default_rng(6))
    with pytest.raises(ValueError, match="subtract takes exactly 2 inputs"):
        K.merge_forward("subtract", xs)


def test_elementwise_kernel_refuses_unequal_widths():
    with pytest.raises(ValueError, match=r"xs\[1\] must have shape"):
        K.merge_forward("add", [np.ones((2, 3), np.float32), np.ones((2, 4), np.float32)])

"""Shared test utilities: float32 error budgets and finite differences (float64)."""

import numpy as np

U32 = 2.0**-24  # unit roundoff of float32 (half an ulp at 1.0)


def f32(a):
    """What the kernels compute on: the input rounded to float32 (the reference gets the same values)."""
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32))


def assert_dot_close(got, ref, absbound, k):
    """|got − ref| ≤ (k+1)·u·absbound elementwise.

    A k-term float32 dot product computed in any summation order (with or without FMA) has error
    ≤ γ_k·Σ|a_i·b_i| ≈ k·u·(|A|·|B|) (Higham, Accuracy and Stability, §3.1); rounding the result to
    float32 adds one more u·|C| ≤ u·(|A|·|B|). Dividing by |A|·|B| turns this into an absolute test.
    """
    assert got.dtype == np.float32
    assert got.shape == ref.shape
    scale = np.where(absbound > 0, absbound, 1.0)
    np.testing.assert_allclose(got / scale, ref / scale, rtol=0, atol=(k + 1) * U32)


def numeric_grad(f, x, h=1e-6):
    """Central-difference gradient of a scalar float64 function f at x (float64 array).

    Truncation error h²/6·|f'''| ≈ 1e-13 and cancellation error ~1e-16·|f|/h ≈ 1e-10·|f|, so
    comparisons against it use rtol 1e-6 with a small atol.
    """
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        fp = f(x)
        flat[i] = old - h
        fm = f(x)
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * h)
    return g


def elementwise_numeric_derivative(f, x, h=1e-6):
    """Central difference f'(x) ≈ (f(x+h) − f(x−h))/2h for an elementwise float64 function."""
    x = np.asarray(x, dtype=np.float64)
    return (f(x + h) - f(x - h)) / (2 * h)


def away_from(x, points, gap=1e-2):
    """x with every entry closer than `gap` to one of `points` moved `gap` away (avoids kinks)."""
    x = np.array(x, dtype=np.float64)
    for p in points:
        near = np.abs(x - p) < gap
        x[near] = p + np.where(x[near] >= p, gap, -gap)
    return x


def assert_within(got, want, bound, err_msg=""):
    """|got − want| ≤ bound elementwise (bound: an array or scalar error budget, > 0).

    Implemented as assert_allclose on got/bound vs want/bound with atol 1, so a failure report shows
    the offending entries in units of their own error budget (|difference| > 1 means over budget).
    """
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    bound = np.broadcast_to(np.asarray(bound, dtype=np.float64), want.shape)
    assert np.all(bound > 0)
    np.testing.assert_allclose(got / bound, want / bound, rtol=0, atol=1.0, err_msg=err_msg)


def results_at_varied_addresses(f, out_size, n=16):
    """n results of f(), kept alive, with differently sized arrays allocated in between.

    Fresh output arrays then start at different addresses modulo 64 bytes (checked by the caller
    if needed), so a kernel whose result depends on its output buffer's alignment (e.g. a SIMD loop
    with a scalar peel) gives different bits for identical inputs.
    """
    keep, outs = [], []
    for i in range(n):
        keep.append(np.empty(out_size + 4 * (i % 4) + 1, np.float32))
        outs.append(f())
    return outs

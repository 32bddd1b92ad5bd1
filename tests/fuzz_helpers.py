"""Shared pieces of the property-based fuzzing of the Python/C++ boundary (tests/test_fuzz_*.py).

The property every fuzz case checks: a call either returns what the NumPy reference
returns, or raises one of ALLOWED whose message names an argument. Crashes are caught
by running the risky cases in a subprocess (run_isolated).
"""

import collections
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

ALLOWED = (ValueError, TypeError, IndexError, OverflowError, MemoryError)

# Cases run per entry point, over the whole session (printed by the test_zz_* reports).
COUNTS = collections.Counter()

# Reproducible in CI: the same examples every run. Generating arrays with hypothesis is
# slower than the default health check allows on a loaded 2-core machine: too_slow only.
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])

TESTS_DIR = Path(__file__).resolve().parent
U32 = float(np.finfo(np.float32).eps)


def expect_error_or_result(entry, names, call):
    """Runs call(); returns (True, result) or (False, exception) for an allowed exception that names
    one of `names`. Any other exception fails the test."""
    COUNTS[entry] += 1
    try:
        return True, call()
    except ALLOWED as e:
        message = str(e)
        assert any(n in message for n in names), f"{entry}: {type(e).__name__}({message!r}) names none of {names}"
        return False, e


NUMERIC_DTYPES = [np.float32, np.float64, np.float16, np.int8, np.int32, np.int64, np.uint8, np.bool_]
BAD_DTYPES = [np.complex64, object, "U3", "S2"]


@st.composite
def layouts(draw, a):
    """`a` (float32) re-laid out: as is, non-contiguous, negative strides or Fortran order."""
    kind = draw(st.sampled_from(["c", "strided", "reversed", "fortran"]))
    if kind == "strided" and a.ndim:
        big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
        big[..., ::2] = a
        return big[..., ::2]
    if kind == "reversed" and a.ndim:
        return a[::-1].copy()[::-1]
    if kind == "fortran":
        return np.asfortranarray(a)
    return a


def as_dtype(a, dtype):
    """float32 values `a` in `dtype` (integers and bools as their rounded values), without warnings."""
    if dtype == np.bool_:
        return a > 0
    if np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
        return np.clip(np.round(a), info.min, info.max).astype(dtype)
    return a.astype(dtype)


@st.composite
def float_arrays(draw, shape, low=-3.0, high=3.0):
    """A finite float32 array of `shape` (drawn fast from a seed, not element by element)."""
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)


@st.composite
def benign(draw, a):
    """`a` in another numeric dtype and/or layout; returns (the argument, the float32 values the kernel sees)."""
    dtype = draw(st.sampled_from(NUMERIC_DTYPES))
    b = as_dtype(a, dtype)
    with np.errstate(all="ignore"):
        seen = b.astype(np.float32)
    return draw(layouts(b)), seen


def bad_values(shape):
    """Arguments that are never a valid array of `shape`: wrong types, dtypes, ranks, widths, sizes."""
    n = int(np.prod(shape)) if shape else 1
    rows = shape[0] if shape else 1
    wrong = [
        None, "x", 3, [["a", "b"]], [[1, 2], [3]], {"a": 1},
        np.zeros(shape, np.complex64), np.full(shape, "ab"), np.empty(shape, object),
        np.float32(1.0), np.zeros(()),
        np.zeros(tuple(shape) + (2,), np.float32),
        np.zeros((rows, (shape[1] if len(shape) > 1 else 1) + 1), np.float32),
        np.zeros((0,) + tuple(shape[1:]), np.float32),
        np.zeros((n + 1,), np.float32),
    ]
    return st.sampled_from(range(len(wrong))).map(lambda i: wrong[i])


def run_isolated(snippet, expected_lines, timeout=120):
    """Runs `snippet` in a fresh interpreter from the tests folder (so the installed package is imported,
    not the source tree) and checks that it exits cleanly and printed `expected_lines`."""
    code = textwrap.dedent(snippet)
    done = subprocess.run([sys.executable, "-c", code], cwd=TESTS_DIR, timeout=timeout, capture_output=True, text=True)
    assert done.returncode == 0, f"exit code {done.returncode}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    lines = done.stdout.splitlines()
    if expected_lines is None:  # only: no crash, and every call ended as returned or an allowed exception
        assert not any("Traceback" in line for line in lines), done.stdout
    else:
        assert lines == expected_lines, "\n".join(lines)
    return lines


def print_outcomes(calls):
    """For run_isolated snippets: runs each call and prints "returned" or the type of the
    allowed exception it raised (any other exception fails the snippet with a traceback)."""
    for call in calls:
        try:
            call()
            print("returned")
        except (ValueError, TypeError, IndexError, OverflowError, MemoryError) as e:
            print(type(e).__name__)


def report(prefix):
    rows = sorted((k, v) for k, v in COUNTS.items() if k.startswith(prefix))
    print(f"\nfuzz cases per entry point ({prefix}*): {sum(v for _, v in rows)} in all")
    for k, v in rows:
        print(f"  {k:45s} {v}")
    return rows

"""The workloads' matrix products at one thread: fastdnn's tile backends next to torch.mm and NumPy.

    python benchmarks/gemm_shapes.py                 # every shape, three layouts, about 1-2 minutes
    python benchmarks/gemm_shapes.py --repeats 11    # more timed windows per figure
    python benchmarks/gemm_shapes.py --shapes 32x100x100,1024x784x1000

Each shape M×K×N (forward X·W: batch × in × out, and the backward products dense.cpp computes)
is timed in three layouts, as fastdnn's Dense uses them:
  NN  C = A·B      A stored (M,K), B stored (K,N)   forward        y = x·W
  NT  C = A·Bᵀ     A stored (M,K), B stored (N,K)   input grad     dx = dy·Wᵀ
  TN  C = Aᵀ·B     A stored (K,M), B stored (K,N)   weight grad    dW = xᵀ·dy
through fastdnn._core.kernels.matmul with backend "avx512" (the register-blocked kernel, when
the build has it) and "eigen" (Eigen 3.4, the previous kernel and today's fallback), torch.mm
(MKL or oneDNN) and NumPy's matmul (its BLAS), all at one thread and all allocating their output.

A figure is the median over `--repeats` windows of ~20 ms of back-to-back calls, in GFLOP/s
(2·M·N·K per call, Python call overhead included). Two rates are printed: by wall-clock time and
by the thread's CPU time. On a quiet machine they agree; on a shared one the CPU-time rate is the
less disturbed estimate (it does not count time the thread waited for a core), so read that one
there and report the load average printed at the top.
"""

import argparse
import os
import statistics
import time

# NumPy's BLAS reads its thread count when it loads: one thread, set before numpy is imported.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402

import fastdnn  # noqa: E402
from fastdnn._core import kernels  # noqa: E402

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # the environment variables above already hold NumPy to one thread
    threadpool_limits = None

SHAPES = [
    (32, 100, 100),
    (32, 784, 100),
    (100, 32, 100),
    (784, 32, 100),
    (200, 784, 300),
    (200, 300, 100),
    (32, 784, 1000),
    (1024, 784, 1000),
    (784, 1024, 1000),
    (1024, 1000, 10),
]
LAYOUTS = ("NN", "NT", "TN")
WINDOW_SECONDS = 0.02


def operands(m, k, n, layout, rng):
    """float32 A and B stored as the layout says, and the flags (transpose_a, transpose_b)."""
    transpose_a, transpose_b = layout == "TN", layout == "NT"
    a = rng.standard_normal((k, m) if transpose_a else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if transpose_b else (k, n)).astype(np.float32)
    return a, b, transpose_a, transpose_b


def candidates(a, b, transpose_a, transpose_b):
    """name -> a no-argument callable computing op(a)·op(b) once."""
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    ta = ta.t() if transpose_a else ta
    tb = tb.t() if transpose_b else tb
    na = a.T if transpose_a else a
    nb = b.T if transpose_b else b
    found = {}
    for backend in kernels.gemm_backends():
        if backend != "naive":
            found[f"fastdnn-{backend}"] = lambda backend=backend: kernels.matmul(
                a, b, transpose_a=transpose_a, transpose_b=transpose_b, backend=backend
            )
    found["torch.mm"] = lambda: torch.mm(ta, tb)
    found["numpy"] = lambda: np.matmul(na, nb)
    return found


def rates(call, flops, repeats):
    """Median GFLOP/s by wall time and by thread CPU time over `repeats` windows."""
    call()
    start = time.perf_counter()
    call()
    per_call = max(time.perf_counter() - start, 1e-7)
    calls = max(1, int(WINDOW_SECONDS / per_call))
    wall, cpu = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.thread_time()
        for _ in range(calls):
            call()
        w1, c1 = time.perf_counter(), time.thread_time()
        wall.append(calls * flops / max(w1 - w0, 1e-9) / 1e9)
        cpu.append(calls * flops / max(c1 - c0, 1e-9) / 1e9)
    return statistics.median(wall), statistics.median(cpu)


def parse_shapes(text):
    return [tuple(int(x) for x in item.split("x")) for item in text.split(",")]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="timed windows per figure (median)")
    parser.add_argument("--shapes", type=parse_shapes, default=SHAPES, help="MxKxN,MxKxN,...")
    args = parser.parse_args()

    fastdnn.set_num_threads(1)
    torch.set_num_threads(1)
    if threadpool_limits is not None:
        threadpool_limits(1)
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}, "
          f"{os.cpu_count()} CPUs; torch {torch.__version__}, numpy {np.__version__}; one thread each "
          f"(NumPy via {'threadpoolctl' if threadpool_limits else 'OPENBLAS/OMP/MKL_NUM_THREADS=1'})")
    print("GFLOP/s, median of windows: wall-clock / thread CPU time; (x) = CPU-time rate / torch.mm's")

    rng = np.random.default_rng(0)
    header = None
    for m, k, n in args.shapes:
        flops = 2.0 * m * n * k
        for layout in LAYOUTS:
            a, b, transpose_a, transpose_b = operands(m, k, n, layout, rng)
            results = {name: rates(call, flops, args.repeats)
                       for name, call in candidates(a, b, transpose_a, transpose_b).items()}
            if header is None:
                header = list(results)
                print(f"{'M x K x N':>16} {'':2}  " + "  ".join(f"{name:>24}" for name in header))
            torch_cpu = results["torch.mm"][1]
            cells = [f"{wall:7.1f} /{cpu:6.1f} ({cpu / torch_cpu:4.2f}x)" for wall, cpu in results.values()]
            print(f"{m:>5} x{k:>5} x{n:>5} {layout}  " + "  ".join(f"{cell:>24}" for cell in cells), flush=True)


if __name__ == "__main__":
    main()

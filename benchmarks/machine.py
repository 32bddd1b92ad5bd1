"""The machine's side of the figures: a GEMM ceiling measured in the same run, `import fastdnn`
time, the installed size, the peak memory of a training epoch, and what the machine is."""

import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import fastdnn
import workloads

MB = 1e6
THREADS = (1, 2)
IMPORT_TARGET_S, SIZE_TARGET_MB, MEMORY_MARGIN_MB = 0.15, 5.0, 50.0


def median(values):
    return float(statistics.median(values)) if values else None


GEMM_SHAPES = ((1024, 1024, 1024), (1024, 784, 1000))  # (m, k, n): the square and W3's first layer (batch 1024)

NUMPY_GEMM = """
import json, sys, time
import numpy as np
m, k, n, seconds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
rng = np.random.default_rng(0)
a, b = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
c = np.empty((m, n), np.float32)
def go(reps):
    t = time.perf_counter()
    for _ in range(reps):
        np.matmul(a, b, out=c)
    return time.perf_counter() - t
reps = max(1, int(seconds / go(3) * 3))
print(json.dumps(min(go(reps) / reps for _ in range(3))))
"""


def numpy_gemm_seconds(m, k, n, threads, seconds):
    """NumPy in a subprocess, so that its BLAS thread count can be set by the environment."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, "-c", NUMPY_GEMM, str(m), str(k), str(n), str(seconds)],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def torch_gemm_seconds(torch, m, k, n, threads, seconds):
    torch.set_num_threads(threads)
    a, b = torch.rand(m, k), torch.rand(k, n)
    c = torch.empty(m, n)

    def go(reps):
        start = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b, out=c)
        return time.perf_counter() - start
    reps = max(1, int(seconds / go(3) * 3))
    return min(go(reps) / reps for _ in range(3))


def measure_gemm_ceiling(seconds, torch):
    """GFLOP/s (2*m*k*n per product) of float32 matmuls; the ceiling is the best of them (torch
    None: NumPy only)."""
    rows = []
    libraries = [("numpy", numpy_gemm_seconds)]
    if torch is not None:
        libraries.append(("torch", lambda *shape_threads_seconds: torch_gemm_seconds(torch, *shape_threads_seconds)))
    for library, timer in libraries:
        for m, k, n in GEMM_SHAPES:
            for threads in THREADS:
                elapsed = timer(m, k, n, threads, seconds)
                rows.append({"library": library, "shape": f"{m}x{k} @ {k}x{n}", "threads": threads,
                             "gflops": 2 * m * k * n / elapsed / 1e9})
    return {"products": rows, "ceiling_gflops": max(r["gflops"] for r in rows)}


# --- import time, size, memory ------------------------------------------------------------------

IMPORT_SNIPPET = "import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"


def import_seconds(module, runs=5):
    """Median import time over fresh interpreters (run from a temporary directory)."""
    times = []
    with tempfile.TemporaryDirectory() as cwd:
        for _ in range(runs):
            out = subprocess.run([sys.executable, "-c", IMPORT_SNIPPET.format(module=module)], cwd=cwd,
                                 capture_output=True, text=True, check=True)
            times.append(float(out.stdout.strip().splitlines()[-1]))
    return {"median_s": median(times), "runs": times}


def installed_size():
    """Bytes of the package's files (bytecode caches excluded), plus the compiled _core if it lives
    elsewhere (an editable install keeps it in site-packages and the Python files in the source tree)."""
    package_dir = os.path.dirname(os.path.abspath(fastdnn.__file__))
    total = 0
    for root, dirs, files in os.walk(package_dir):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    core = os.path.abspath(fastdnn._core.__file__)
    core_bytes = os.path.getsize(core)
    if not core.startswith(package_dir + os.sep):
        total += core_bytes
    return {"bytes": total, "core_bytes": core_bytes, "package_dir": package_dir, "core": core}


def proc_status_bytes(field):
    """VmRSS / VmHWM of this process from /proc/self/status (Linux), in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return None


def peak_memory_child():
    """Run in a fresh interpreter (--peak-memory-child): one W1 epoch on 60,000 x 784; prints JSON.
    The data is random of MNIST's shape and dtypes: memory depends on the shapes only, and loading
    MNIST would leave its uint8 arrays in the high-water mark."""
    import fastdnn_side
    before = proc_status_bytes("VmRSS")
    x, y = workloads.random_data(60_000)
    spec = workloads.WORKLOADS["W1"]
    model = fastdnn_side.build(spec["layers"](), spec["optimizer"])
    model.fit(x, y, batch_size=spec["batch"], epochs=1, verbose=0, shuffle=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"peak_bytes": peak, "vm_hwm_bytes": proc_status_bytes("VmHWM"), "before_data_bytes": before,
                      "data_bytes": x.nbytes + y.nbytes}))


def measure_peak_memory():
    """Linux carries the parent's high-water mark across fork+exec into the child's ru_maxrss:
    main() calls this before it loads torch or makes its data, while it is still small. VmHWM
    (this address space only) is reported beside it as a check."""
    bench = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench.py")
    out = subprocess.run([sys.executable, bench, "--peak-memory-child"],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["x_bytes"] = 60_000 * workloads.FEATURES * 4
    result["over_data_bytes"] = result["peak_bytes"] - result["x_bytes"]
    result["met"] = result["over_data_bytes"] <= MEMORY_MARGIN_MB * MB
    return result



def machine_info(torch, default_threads):
    cpu, flags = "unknown", ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and cpu == "unknown":
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = line
    import numpy
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu, "cores": os.cpu_count(), "avx512f": " avx512f" in flags,
        "python": platform.python_version(), "fastdnn": fastdnn.__version__, "numpy": numpy.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "fastdnn_default_threads": default_threads, "load_average_start": os.getloadavg(),
    }

"""fastdnn against PyTorch, side by side, in one process run.

    python benchmarks/bench.py                        # everything, about 4-5 minutes
    python benchmarks/bench.py --quick                # shorter windows, less data: about 1 minute
    python benchmarks/bench.py --workloads W1,W3-32   # only these workloads
    python benchmarks/bench.py --loaded               # the loaded-machine check for every selected workload
    python benchmarks/bench.py --profile [--threads 1]  # only fastdnn's time per training step by op kind
    python benchmarks/bench.py --json out.json        # where the JSON results go (default: benchmarks/results.json)

What it measures, on MNIST-shaped random data (float32 uniform [0, 1) inputs of
784 features, integer labels of 10 classes; generated before any timing):

* training samples/s of each workload (W1 deep-BN, W2 BN-ELU, W3 wide at batch
  1024 and 32, W4 five-ReLU-dropout, W5 SELU), fastdnn through its public Keras
  API (`model.fit(x, y, batch_size=B, epochs=1, verbose=0, shuffle=True)` over a
  fixed number of rows per window) and PyTorch (the same nn.Sequential, a plain
  loop over shuffled minibatches, fused optimizers), each at 1 and 2 threads.
  The two frameworks run alternately: for each thread count, both start from
  freshly initialized models (same seeds), each side is calibrated and warmed up
  (one discarded window), then their timed windows alternate; the figure is the
  median of the windows. fastdnn's engine-only rate (rows / seconds inside the
  C++ steps) is reported beside it, and so are the subnormal numbers found in
  the weights and optimizer state afterwards (they slow float32 arithmetic down);
* inference samples/s at batch 32 and 10,000 (`model.predict` against a torch
  forward under `torch.inference_mode()`, model.eval());
* the ratio fastdnn / PyTorch, each at its best thread count, beside its target;
* fastdnn's achieved GFLOP/s as a fraction of a GEMM ceiling measured in the same
  run (NumPy and torch float32 matmuls, 1 and 2 threads, the best of them);
* `import fastdnn` time, the installed size of the package, the peak resident
  memory of a W1 epoch on 60,000 x 784 data, and a loaded-machine check (one
  busy process beside fastdnn's W1 training at its default thread count and at 1).

If torch is not installed, only the fastdnn half runs. The machine may be shared:
the load average at the start and the end is printed and stored with the results.
"""

import argparse
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

import numpy as np

import fastdnn

FEATURES, CLASSES = 784, 10
DEFAULT_THREADS = fastdnn.get_num_threads()  # read before anything sets it
THREADS = (1, 2)
INFERENCE_BATCHES = (32, 10_000)
MB = 1e6

torch = None  # imported by load_torch(), so that the memory child never loads it


def load_torch():
    global torch
    try:
        import torch as torch_module
    except ImportError:
        return False
    torch = torch_module
    return True


# --- workloads -----------------------------------------------------------------------------
# A framework-neutral description: ("dense", units, activation, initializer), ("bn", momentum),
# ("act", name), ("dropout", rate), ("alpha_dropout", rate). A softmax on the last Dense is
# folded into the loss by both frameworks (PyTorch's model outputs logits).

def _deep_bn():
    return [layer for _ in range(20) for layer in (("dense", 100, "relu", "glorot_uniform"), ("bn", 0.99))] \
        + [("dense", 10, "softmax", "glorot_uniform")]


def _bn_elu():
    return [("dense", 300, None, "he_normal"), ("bn", 0.9), ("act", "elu"),
            ("dense", 100, None, "he_normal"), ("bn", 0.9), ("act", "elu"),
            ("dense", 10, None, "he_normal"), ("bn", 0.9)]


def _wide():
    return [("dense", 1000, "relu", "glorot_uniform"), ("dense", 10, "softmax", "glorot_uniform")]


def _five_relu_dropout():
    return [("dense", 200, "relu", "glorot_uniform"), ("dense", 100, "relu", "glorot_uniform"), ("dropout", 0.25),
            ("dense", 60, "relu", "glorot_uniform"), ("dropout", 0.25),
            ("dense", 30, "relu", "glorot_uniform"), ("dropout", 0.25), ("dense", 10, "softmax", "glorot_uniform")]


def _selu():
    return [("dense", 100, "selu", "lecun_normal")] * 20 + [("alpha_dropout", 0.5),
                                                           ("dense", 10, "softmax", "glorot_uniform")]


WORKLOADS = {
    "W1": dict(title="deep-BN 20x(Dense100 relu, BN), SGD", layers=_deep_bn, optimizer=("sgd", 0.01),
               batch=32, target=4.0),
    "W2": dict(title="BN-ELU 300-100-10, logits, SGD", layers=_bn_elu, optimizer=("sgd", 0.01),
               batch=200, target=1.5),
    "W3-1024": dict(title="wide Dense1000 relu, Adam", layers=_wide, optimizer=("adam", 0.001),
                    batch=1024, target=1.1, ceiling_target=0.85),
    "W3-32": dict(title="wide Dense1000 relu, Adam", layers=_wide, optimizer=("adam", 0.001),
                  batch=32, target=3.0),
    "W4": dict(title="ReLU 200-100-60-30 + dropout, Adam", layers=_five_relu_dropout, optimizer=("adam", 0.001),
               batch=100, target=2.0),
    "W5": dict(title="SELU 20x Dense100 + AlphaDropout, Adam", layers=_selu, optimizer=("adam", 0.001),
               batch=32, target=4.0),
}
INFERENCE_TARGETS = {32: 2.0, 10_000: 1.0}
IMPORT_TARGET_S, SIZE_TARGET_MB, MEMORY_MARGIN_MB = 0.15, 5.0, 50.0


def dense_shapes(layers):
    """(in, out) of every Dense layer."""
    shapes, width = [], FEATURES
    for layer in layers:
        if layer[0] == "dense":
            shapes.append((width, layer[1]))
            width = layer[1]
    return shapes


def flops_per_sample(layers, training):
    """FLOPs per sample counted over the Dense layers only: a forward product is in*out
    multiply-adds = 2*in*out FLOPs; training counts it three times (forward, gradient of the
    input, gradient of the kernel), i.e. 6*in*out FLOPs per Dense per sample, even for the first
    layer whose input gradient an engine may skip. Inference counts 2*in*out."""
    return sum((6 if training else 2) * i * o for i, o in dense_shapes(layers))


def from_logits(layers):
    return not (layers[-1][0] == "dense" and layers[-1][2] == "softmax")


def make_data(rows, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((rows, FEATURES), dtype=np.float32), rng.integers(0, CLASSES, size=rows)


# --- the fastdnn side ----------------------------------------------------------------------

def fastdnn_model(layers, optimizer):
    keras = fastdnn
    model = keras.Sequential([keras.Input(shape=(FEATURES,))])
    for layer in layers:
        kind = layer[0]
        if kind == "dense":
            model.add(keras.layers.Dense(layer[1], activation=layer[2], kernel_initializer=layer[3]))
        elif kind == "bn":
            model.add(keras.layers.BatchNormalization(momentum=layer[1]))
        elif kind == "act":
            model.add(keras.layers.Activation(layer[1]))
        elif kind == "dropout":
            model.add(keras.layers.Dropout(layer[1]))
        elif kind == "alpha_dropout":
            model.add(keras.layers.AlphaDropout(layer[1]))
    name, rate = optimizer
    opt = keras.optimizers.SGD(learning_rate=rate) if name == "sgd" else keras.optimizers.Adam(learning_rate=rate)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits(layers)), optimizer=opt)
    return model


class FastdnnTraining:
    """run(n): one epoch of model.fit over the first n rows; keeps the seconds spent inside the engine."""

    def __init__(self, model, x, y, batch):
        self.model, self.x, self.y, self.batch = model, x, y, batch
        self.engine_seconds = 0.0

    def __call__(self, n):
        net = self.model._network
        before = net.step_seconds if net is not None else None
        self.model.fit(self.x[:n], self.y[:n], batch_size=self.batch, epochs=1, verbose=0, shuffle=True)
        if before is not None and self.model._network is net:
            self.engine_seconds += net.step_seconds - before


def fastdnn_inference(model, x, batch):
    return lambda n: model.predict(x[:n], batch_size=batch, verbose=0)


# --- the PyTorch side ----------------------------------------------------------------------

def torch_model(layers, optimizer):
    nn = torch.nn
    modules, width = [], FEATURES
    activations = {"relu": nn.ReLU, "elu": nn.ELU, "selu": nn.SELU}
    for index, layer in enumerate(layers):
        kind = layer[0]
        if kind == "dense":
            linear = nn.Linear(width, layer[1])
            _init_like_keras(linear, layer[3])
            modules.append(linear)
            width = layer[1]
            if layer[2] == "softmax":
                assert index == len(layers) - 1, "softmax only on the output layer (folded into the loss)"
            elif layer[2] is not None:
                modules.append(activations[layer[2]]())
        elif kind == "bn":  # Keras: moving = m*moving + (1-m)*batch; torch's momentum is the (1-m)
            modules.append(nn.BatchNorm1d(width, eps=1e-3, momentum=1.0 - layer[1]))
        elif kind == "act":
            modules.append(activations[layer[1]]())
        elif kind == "dropout":
            modules.append(nn.Dropout(layer[1]))
        elif kind == "alpha_dropout":
            modules.append(nn.AlphaDropout(layer[1]))
    model = nn.Sequential(*modules)
    name, rate = optimizer
    if name == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=rate, fused=True)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=rate, eps=1e-7, fused=True)  # Keras' epsilon
    return model, opt


def _init_like_keras(linear, initializer):
    init = torch.nn.init
    if initializer == "glorot_uniform":
        init.xavier_uniform_(linear.weight)
    elif initializer == "he_normal":
        init.kaiming_normal_(linear.weight, nonlinearity="relu")
    elif initializer == "lecun_normal":
        init.kaiming_normal_(linear.weight, nonlinearity="linear")
    init.zeros_(linear.bias)


def torch_training(model, opt, x, y, batch):
    """run(n): one epoch over the first n rows, minibatches of a fresh permutation."""
    loss_fn = torch.nn.CrossEntropyLoss()

    def run(n):
        model.train()
        order = torch.randperm(n)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
    return run


def torch_inference(model, x, batch):
    def run(n):
        model.eval()
        with torch.inference_mode():
            out = torch.empty(n, CLASSES)
            for start in range(0, n, batch):
                out[start:start + batch] = model(x[start:start + batch])
        return out
    return run


def set_threads(n):
    fastdnn.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)


# --- timing --------------------------------------------------------------------------------

def window(run, rows, chunk):
    """Seconds to process `rows` rows by calls run(n) of at most `chunk` rows."""
    start = time.perf_counter()
    left = rows
    while left > 0:
        n = min(left, chunk)
        run(n)
        left -= n
    return time.perf_counter() - start


def calibrate(run, unit, chunk, seconds):
    """Rows (a multiple of `unit`) for a window of about `seconds`; ends with one discarded warm-up window."""
    rows = unit
    while True:
        elapsed = window(run, rows, chunk)
        if elapsed >= min(0.1, seconds / 4) or rows >= 64 * chunk:
            break
        rows *= 4
    rows = max(unit, int(rows / elapsed * seconds) // unit * unit)
    window(run, rows, chunk)  # warm-up window
    return rows


def compare(sides, unit, chunk, seconds, windows):
    """sides: {name: run}. Each is calibrated, then their windows alternate.
    Returns {name: samples/s of each window}, plus "<name>_engine" for runs that count engine seconds."""
    rows = {name: calibrate(run, unit, chunk, seconds) for name, run in sides.items()}
    rates = {name: [] for name in sides}
    for _ in range(windows):
        for name, run in sides.items():
            engine_before = getattr(run, "engine_seconds", None)
            rates[name].append(rows[name] / window(run, rows[name], chunk))
            if engine_before is not None and run.engine_seconds > engine_before:
                rates.setdefault(f"{name}_engine", []).append(rows[name] / (run.engine_seconds - engine_before))
    return rates


def median(values):
    return float(statistics.median(values)) if values else None


# --- one workload, both frameworks -----------------------------------------------------------

def measure_training(spec, x, y, args):
    """Training samples/s, fastdnn and torch alternately, at each thread count. Each thread count
    starts from freshly initialized models (same seeds): training drifts into states that step at
    other speeds (subnormal numbers), so no thread count should inherit another's. Returns the
    rates, the subnormal counts after each thread count's run, and the last models (torch's is
    None without torch)."""
    layers, batch = spec["layers"](), spec["batch"]
    chunk = len(x) // batch * batch
    result, subnormals = {}, {}
    for threads in THREADS:
        set_threads(threads)
        seed(0)
        fd = FastdnnTraining(fastdnn_model(layers, spec["optimizer"]), x, y, batch)
        sides, torch_net, opt = {"fastdnn": fd}, None, None
        if torch is not None:
            torch_net, opt = torch_model(layers, spec["optimizer"])
            sides["torch"] = torch_training(torch_net, opt, torch.from_numpy(x), torch.from_numpy(y), batch)
        for name, values in compare(sides, batch, chunk, args.seconds, args.windows).items():
            result.setdefault(name, {})[str(threads)] = {"median": median(values), "windows": values}
        subnormals[str(threads)] = {"fastdnn": fastdnn_subnormals(fd.model._network)}
        if torch is not None:
            subnormals[str(threads)]["torch"] = torch_subnormals(torch_net, opt)
    return result, subnormals, (fd.model, torch_net)


def seed(value):
    fastdnn.utils.set_random_seed(value)
    if torch is not None:
        torch.manual_seed(value)


def count_subnormals(arrays):
    """(subnormal values, all values) over float32 arrays: nonzero but below the smallest normal."""
    tiny = np.finfo(np.float32).tiny
    arrays = [np.asarray(a) for a in arrays]
    return (sum(int(np.count_nonzero((a != 0) & (np.abs(a) < tiny))) for a in arrays),
            sum(a.size for a in arrays))


def fastdnn_subnormals(net):
    """In the engine's weights and optimizer state."""
    state = [p["value"] for p in net.parameters()] + [v for views in net.optimizer_slots().values() for v in views]
    return count_subnormals(state)


def torch_subnormals(model, opt):
    state = [p.detach().numpy() for p in model.parameters()]
    state += [v.numpy() for per_param in opt.state.values() for v in per_param.values()
              if torch.is_tensor(v) and v.dtype == torch.float32 and v.dim() > 0]
    return count_subnormals(state)


def measure_inference(fd_model, torch_net, x, args):
    """Inference samples/s at each batch size and thread count."""
    results = {}
    xt = torch.from_numpy(x) if torch is not None else None
    for batch in INFERENCE_BATCHES:
        chunk = len(x) // batch * batch
        sides = {"fastdnn": fastdnn_inference(fd_model, x, batch)}
        if torch_net is not None:
            sides["torch"] = torch_inference(torch_net, xt, batch)
        per_batch = {}
        for threads in THREADS:
            set_threads(threads)
            for name, values in compare(sides, batch, chunk, args.seconds_inference, args.windows).items():
                per_batch.setdefault(name, {})[str(threads)] = {"median": median(values), "windows": values}
        per_batch["ratio"] = best_ratio(per_batch)
        per_batch["target"] = INFERENCE_TARGETS[batch]
        per_batch["met"] = None if per_batch["ratio"] is None else per_batch["ratio"] >= per_batch["target"]
        results[str(batch)] = per_batch
    return results


def best(per_threads):
    return max(v["median"] for v in per_threads.values())


def best_ratio(result):
    if "torch" not in result:
        return None
    return best(result["fastdnn"]) / best(result["torch"])


def measure_workload(name, x, y, ceiling, args, inference):
    spec = WORKLOADS[name]
    layers = spec["layers"]()
    print(f"  {name}: {spec['title']}, batch {spec['batch']} ...", flush=True)
    train, subnormals, (fd_model, torch_net) = measure_training(spec, x, y, args)
    fd_best = best(train["fastdnn"])
    flops = flops_per_sample(layers, training=True)
    gflops = fd_best * flops / 1e9
    result = {
        "title": spec["title"], "batch": spec["batch"], "train": train, "subnormals": subnormals,
        "ratio": best_ratio(train), "target": spec["target"],
        "flops_per_sample": flops, "gflops": gflops, "ceiling_fraction": gflops / ceiling,
    }
    met = None if result["ratio"] is None else result["ratio"] >= spec["target"]
    if "ceiling_target" in spec:
        result["ceiling_target"] = spec["ceiling_target"]
        ceiling_met = result["ceiling_fraction"] >= spec["ceiling_target"]
        met = ceiling_met if met is None else met and ceiling_met
    result["met"] = met
    if inference:
        result["inference"] = measure_inference(fd_model, torch_net, x, args)
        result["inference_flops_per_sample"] = flops_per_sample(layers, training=False)
    return result


# --- GEMM ceiling ----------------------------------------------------------------------------

GEMM_SHAPES = ((1024, 1024, 1024), (1024, 784, 1000))  # (m, k, n): the square and W3-1024's first layer

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


def torch_gemm_seconds(m, k, n, threads, seconds):
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


def measure_gemm_ceiling(seconds):
    """GFLOP/s (2*m*k*n per product) of float32 matmuls; the ceiling is the best of them."""
    rows = []
    libraries = [("numpy", numpy_gemm_seconds)] + ([("torch", torch_gemm_seconds)] if torch is not None else [])
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
    """Run in a fresh interpreter (--peak-memory-child): one W1 epoch on 60,000 x 784; prints JSON."""
    before = proc_status_bytes("VmRSS")
    x, y = make_data(60_000)
    spec = WORKLOADS["W1"]
    model = fastdnn_model(spec["layers"](), spec["optimizer"])
    model.fit(x, y, batch_size=spec["batch"], epochs=1, verbose=0, shuffle=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"peak_bytes": peak, "vm_hwm_bytes": proc_status_bytes("VmHWM"), "before_data_bytes": before,
                      "data_bytes": x.nbytes + y.nbytes}))


def measure_peak_memory():
    """Linux carries the parent's high-water mark across fork+exec into the child's ru_maxrss:
    main() calls this before it loads torch or makes its data, while it is still small. VmHWM
    (this address space only) is reported beside it as a check."""
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--peak-memory-child"],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["x_bytes"] = 60_000 * FEATURES * 4
    result["over_data_bytes"] = result["peak_bytes"] - result["x_bytes"]
    result["met"] = result["over_data_bytes"] <= MEMORY_MARGIN_MB * MB
    return result


# --- loaded machine --------------------------------------------------------------------------------

def with_threads(threads, run):
    def threaded(n):
        fastdnn.set_num_threads(threads)
        run(n)
    return threaded


def measure_loaded(name, x, y, args):
    """fastdnn training beside one busy process, at its default thread count and at 1 thread."""
    spec = WORKLOADS[name]
    batch = spec["batch"]
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)  # let it reach the scheduler
        run = FastdnnTraining(fastdnn_model(spec["layers"](), spec["optimizer"]), x, y, batch)
        sides = {"default": with_threads(DEFAULT_THREADS, run), "1": with_threads(1, run)}
        rates = compare(sides, batch, len(x) // batch * batch, args.seconds, args.windows)
    finally:
        busy.kill()
        busy.wait()
    default, single = median(rates["default"]), median(rates["1"])
    return {"default_threads": DEFAULT_THREADS, "default": default, "one_thread": single,
            "default_windows": rates["default"], "one_thread_windows": rates["1"],
            "default_not_slower": default >= single}


# --- profile -------------------------------------------------------------------------------------------

def profile_workloads(names, x, y, args):
    if not (hasattr(fastdnn._core.Network, "set_profiling") and hasattr(fastdnn._core.Network, "profile")):
        sys.exit("--profile needs the engine's profiler (fastdnn._core.Network.set_profiling / .profile), "
                 "which this build of fastdnn._core does not have yet; rebuild the extension once it is in.")
    threads = args.threads or DEFAULT_THREADS
    fastdnn.set_num_threads(threads)
    print(f"fastdnn at {threads} thread(s), per training step; python/outside = fit's wall time "
          "minus the seconds inside the C++ steps; op kinds that took no time are not shown")
    for name in names:
        spec = WORKLOADS[name]
        batch = spec["batch"]
        run = FastdnnTraining(fastdnn_model(spec["layers"](), spec["optimizer"]), x, y, batch)
        chunk = len(x) // batch * batch
        rows = calibrate(run, batch, chunk, args.seconds)
        net = run.model._network
        net.set_profiling(True)
        wall = window(run, rows, chunk)
        profile = dict(net.profile())
        net.set_profiling(False)
        steps = max(1, int(profile.pop("steps")))
        inside = profile.pop("step_seconds")
        profile = {kind: seconds for kind, seconds in profile.items() if seconds > 0}
        print(f"\n{name}: {spec['title']}, batch {batch}: {steps} steps, "
              f"{wall / steps * 1e6:.1f} us/step wall, {inside / steps * 1e6:.1f} us/step inside C++")
        rows_out = sorted(profile.items(), key=lambda kv: -kv[1]) + [("python/outside", wall - inside)]
        unattributed = inside - sum(profile.values())
        if abs(unattributed) > 0.01 * inside:
            rows_out.append(("(inside, unattributed)", unattributed))
        for kind, seconds in rows_out:
            print(f"  {kind:24s} {seconds / steps * 1e6:10.1f} us  {100 * seconds / wall:5.1f}%")


# --- report -------------------------------------------------------------------------------------------

def rate(v):
    return "-" if v is None else f"{v:,.0f}"


def yes_no(v):
    return "-" if v is None else ("yes" if v else "no")


def med(result, name, threads):
    return result.get(name, {}).get(str(threads), {}).get("median")


def print_training_table(workloads, ceiling):
    print(f"\nTraining, samples/s (median of windows; fd eng = fastdnn inside the C++ steps only, at its best "
          f"thread count;\nratio = fastdnn best / PyTorch best; GFLOP/s = fastdnn best, % of the "
          f"{ceiling:.1f} GFLOP/s GEMM ceiling)")
    head = (f"{'workload':9s} {'fd 1T':>9s} {'fd 2T':>9s} {'fd eng':>9s} {'torch 1T':>9s} {'torch 2T':>9s} "
            f"{'ratio':>6s} {'target':>11s} {'met':>4s} {'GFLOP/s':>8s} {'%ceil':>6s}")
    print(head)
    print("-" * len(head))
    for name, r in workloads.items():
        t = r["train"]
        target = f">={r['target']:g}x" + (f",{100 * r['ceiling_target']:.0f}%" if "ceiling_target" in r else "")
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        best_threads = max(THREADS, key=lambda n: med(t, "fastdnn", n))
        print(f"{name:9s} {rate(med(t, 'fastdnn', 1)):>9s} {rate(med(t, 'fastdnn', 2)):>9s} "
              f"{rate(med(t, 'fastdnn_engine', best_threads)):>9s} {rate(med(t, 'torch', 1)):>9s} "
              f"{rate(med(t, 'torch', 2)):>9s} {ratio:>6s} {target:>11s} {yes_no(r['met']):>4s} "
              f"{r['gflops']:8.1f} {100 * r['ceiling_fraction']:5.1f}%")


def print_subnormals(workloads):
    """Why a workload may step slower as it trains: float32 subnormals in weights and optimizer state."""
    lines = []
    for name, r in workloads.items():
        for threads, counts in r["subnormals"].items():
            if any(n for n, _ in counts.values()):
                lines.append(f"  {name} after the {threads}-thread run: " + ", ".join(
                    f"{side} {n:,} of {total:,} ({100 * n / total:.1f}%)" for side, (n, total) in counts.items()))
    if lines:
        print("Subnormal values in weights + optimizer state after training (they make float32 arithmetic "
              "slow; compare the windows in the JSON):")
        print("\n".join(lines))


def print_inference_table(workloads):
    rows = [(name, batch, r["inference"][str(batch)]) for name, r in workloads.items() if "inference" in r
            for batch in INFERENCE_BATCHES]
    if not rows:
        return
    print("\nInference, samples/s (model.predict vs torch forward under inference_mode)")
    head = (f"{'workload':9s} {'batch':>6s} {'fd 1T':>10s} {'fd 2T':>10s} {'torch 1T':>10s} {'torch 2T':>10s} "
            f"{'ratio':>6s} {'target':>7s} {'met':>4s}")
    print(head)
    print("-" * len(head))
    for name, batch, r in rows:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        print(f"{name:9s} {batch:6d} {rate(med(r, 'fastdnn', 1)):>10s} {rate(med(r, 'fastdnn', 2)):>10s} "
              f"{rate(med(r, 'torch', 1)):>10s} {rate(med(r, 'torch', 2)):>10s} {ratio:>6s} "
              f"{'>=' + format(r['target'], 'g') + 'x':>7s} {yes_no(r['met']):>4s}")


def print_other_figures(results):
    gemm = results["gemm"]
    print("\nGEMM ceiling (float32):")
    for r in gemm["products"]:
        print(f"  {r['library']:6s} {r['shape']:22s} {r['threads']}T  {r['gflops']:7.1f} GFLOP/s")
    imp = results["import"]
    print(f"\nimport fastdnn: {imp['fastdnn']['median_s']:.3f} s (target <= {IMPORT_TARGET_S} s: "
          f"{yes_no(imp['fastdnn']['median_s'] <= IMPORT_TARGET_S)}); numpy alone: {imp['numpy']['median_s']:.3f} s")
    size = results["installed_size"]
    print(f"installed size: {size['bytes'] / MB:.2f} MB, of which _core {size['core_bytes'] / MB:.2f} MB "
          f"(target <= {SIZE_TARGET_MB:g} MB: {yes_no(size['bytes'] <= SIZE_TARGET_MB * MB)})")
    mem = results["peak_memory"]
    print(f"peak RSS (ru_maxrss), one W1 epoch on 60,000 x 784: {mem['peak_bytes'] / MB:.1f} MB "
          f"(VmHWM {mem['vm_hwm_bytes'] / MB:.1f} MB); data (x) {mem['x_bytes'] / MB:.1f} MB; difference "
          f"{mem['over_data_bytes'] / MB:.1f} MB (target <= {MEMORY_MARGIN_MB:g} MB: {yes_no(mem['met'])}); "
          f"RSS before the data (interpreter, numpy, fastdnn) {mem['before_data_bytes'] / MB:.1f} MB")
    for name, loaded in results.get("loaded", {}).items():
        print(f"loaded machine ({name}, one busy process): default ({loaded['default_threads']} threads) "
              f"{rate(loaded['default'])} samples/s, 1 thread {rate(loaded['one_thread'])} samples/s; "
              f"default >= 1 thread: {yes_no(loaded['default_not_slower'])}")


def machine_info():
    cpu = "unknown"
    flags = ""
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
        "fastdnn_default_threads": DEFAULT_THREADS, "load_average_start": os.getloadavg(),
    }


# --- main --------------------------------------------------------------------------------------------------

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorter windows, 20,000 rows, inference for W1 only")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated, e.g. W1,W3-32")
    parser.add_argument("--loaded", action="store_true",
                        help="run the loaded-machine check for every selected workload (default: W1 only)")
    parser.add_argument("--profile", action="store_true", help="only print fastdnn's time per step by op kind")
    parser.add_argument("--json", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.json"))
    parser.add_argument("--rows", type=int, help="rows of random data (default 60,000; 20,000 with --quick)")
    parser.add_argument("--windows", type=int, default=3, help="timed windows per measurement (default 3)")
    parser.add_argument("--threads", type=int, help="fastdnn's thread count for --profile (default: its default)")
    parser.add_argument("--peak-memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.names = [n.strip() for n in args.workloads.split(",") if n.strip()]
    unknown = [n for n in args.names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {list(WORKLOADS)}")
    args.rows = args.rows or (20_000 if args.quick else 60_000)
    if args.rows < max(INFERENCE_BATCHES):
        parser.error(f"--rows must be at least {max(INFERENCE_BATCHES)}")
    args.windows = max(3, args.windows)
    args.seconds = 0.25 if args.quick else 0.7  # training window
    args.seconds_inference = 0.2 if args.quick else 0.5
    return args


def main():
    args = parse_args()
    if args.peak_memory_child:
        return peak_memory_child()
    if args.profile:
        return profile_workloads(args.names, *make_data(args.rows), args)
    started = time.perf_counter()
    print("import time, installed size, peak memory (while this process is small) ...", flush=True)
    small = {"import": {"fastdnn": import_seconds("fastdnn"), "numpy": import_seconds("numpy")},
             "installed_size": installed_size(), "peak_memory": measure_peak_memory()}
    x, y = make_data(args.rows)
    if not load_torch():
        print("PyTorch is not installed: running the fastdnn half only (no ratios). "
              "`pip install torch` for the comparison.", flush=True)
    seed(0)
    results = {"machine": machine_info(), "settings": {"rows": args.rows, "windows": args.windows,
                                                      "train_window_s": args.seconds,
                                                      "inference_window_s": args.seconds_inference}, **small}
    m = results["machine"]
    print(f"{m['date']}  {m['cpu']}, {m['cores']} cores, AVX-512 {yes_no(m['avx512f'])}; fastdnn {m['fastdnn']}, "
          f"numpy {m['numpy']}, torch {m['torch']}; load average {m['load_average_start'][0]:.2f} "
          "(other jobs on this machine make the figures noisy)", flush=True)
    print("GEMM ceiling ...", flush=True)
    results["gemm"] = measure_gemm_ceiling(0.1 if args.quick else 0.3)
    ceiling = results["gemm"]["ceiling_gflops"]
    print("workloads:", flush=True)
    results["workloads"] = {
        name: measure_workload(name, x, y, ceiling, args, inference=(not args.quick or name == "W1"))
        for name in args.names}
    loaded = args.names if args.loaded else [n for n in args.names if n == "W1"]
    if loaded:
        print("loaded machine ...", flush=True)
    results["loaded"] = {name: measure_loaded(name, x, y, args) for name in loaded}
    results["machine"]["load_average_end"] = os.getloadavg()

    print_training_table(results["workloads"], ceiling)
    print_subnormals(results["workloads"])
    print_inference_table(results["workloads"])
    print_other_figures(results)
    results["elapsed_s"] = time.perf_counter() - started
    print(f"\nload average: {m['load_average_start'][0]:.2f} at the start, {m['load_average_end'][0]:.2f} at the end; "
          f"run time {results['elapsed_s']:.0f} s")
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1)
    print(f"results written to {args.json}")


if __name__ == "__main__":
    main()

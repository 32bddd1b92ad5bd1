"""Timed windows, and the training, inference and loaded-machine measurements built from them.

A side (fastdnn or PyTorch) walks through the data with a cursor: each window trains on the
next rows of the one fixed permutation of the data set, wrapping at its end, so both sides see
the same rows in the same order of slices, and "epochs" means rows seen / rows in the data.
Within a slice each side shuffles as its users do (fit(shuffle=True); torch.randperm).
"""

import statistics
import subprocess
import sys
import time

import fastdnn_side
from workloads import INFERENCE_BATCHES, INFERENCE_TARGETS, WORKLOADS, flop_counts

THREADS = (1, 2)
# Before each window, untimed: lets the other side's idle threads stop spinning (libgomp's
# workers, a thread pool's spin-before-sleep) so that neither side's window pays for the other.
SETTLE_S = 0.05


class Walker:
    """Calls run(start, n) over the next rows of `usable` rows (a multiple of the batch), wrapping."""

    def __init__(self, run, usable):
        self.run, self.usable, self.cursor, self.seen = run, usable, 0, 0

    def rows(self, rows):
        left = rows
        while left > 0:
            n = min(left, self.usable - self.cursor)
            self.run(self.cursor, n)
            self.cursor = (self.cursor + n) % self.usable
            left -= n
        self.seen += rows

    @property
    def epochs(self):
        return self.seen / self.usable


class Entry:
    """One timed thing: a side's walker at a thread count (set before each window, outside the timer)."""

    def __init__(self, side, threads, walker, set_threads):
        self.side, self.threads, self.walker, self.set_threads = side, threads, walker, set_threads
        self.key = f"{side}/{threads}"
        self.rows = None


def timed(entry, rows):
    entry.set_threads(entry.threads)
    time.sleep(SETTLE_S)
    engine = getattr(entry.walker.run, "engine_seconds", None)
    start = time.perf_counter()
    entry.walker.rows(rows)
    elapsed = time.perf_counter() - start
    inside = None if engine is None else entry.walker.run.engine_seconds - engine
    return elapsed, inside


def calibrate(entry, unit, seconds):
    """Rows (a multiple of `unit`) for a window of about `seconds`; then one discarded warm-up window."""
    timed(entry, unit)  # the first call builds the model
    rows = unit
    while True:
        elapsed, _ = timed(entry, rows)
        if elapsed >= min(0.1, seconds / 4) or rows >= 64 * entry.walker.usable:
            break
        rows *= 4
    entry.rows = max(unit, int(rows / elapsed * seconds) // unit * unit)
    timed(entry, entry.rows)


def rounds(entries, windows):
    """`windows` rounds, each one window of every entry in turn: samples/s per entry key, plus
    "<key>/engine" (rows / seconds inside fastdnn's C++ steps) where the side counts them."""
    rates = {}
    for _ in range(windows):
        for entry in entries:
            elapsed, inside = timed(entry, entry.rows)
            rates.setdefault(entry.key, []).append(entry.rows / elapsed)
            if inside:
                rates.setdefault(entry.key + "/engine", []).append(entry.rows / inside)
    return {key: {"median": median(values), "windows": values} for key, values in rates.items()}


def median(values):
    return float(statistics.median(values)) if values else None


def best(phase, side):
    """(samples/s, threads) of a side's best thread count in a phase."""
    return max((phase[f"{side}/{t}"]["median"], t) for t in THREADS if f"{side}/{t}" in phase)


def ratio(phase):
    if "torch/1" not in phase:
        return None
    return best(phase, "fastdnn")[0] / best(phase, "torch")[0]


def sides_for(spec, x, y, torch_side):
    """Fresh models, same seeds: ({side: (Walker, set_threads, subnormal counter)}, fastdnn model, torch model)."""
    layers, batch = spec["layers"](), spec["batch"]
    usable = len(x) // batch * batch
    fastdnn_side.seed(0)
    model = fastdnn_side.build(layers, spec["optimizer"])
    sides = {"fastdnn": (Walker(fastdnn_side.Training(model, x, y, batch), usable), fastdnn_side.set_threads,
                         lambda: fastdnn_side.subnormals(model))}
    net = None
    if torch_side is not None:
        torch_side.seed(0)
        net, opt = torch_side.build(layers, spec["optimizer"])
        xt, yt = torch_side.tensors(x, y)
        sides["torch"] = (Walker(torch_side.training(net, opt, xt, yt, batch), usable), torch_side.set_threads,
                          lambda: torch_side.subnormals(net, opt))
    return sides, model, net


def entries_for(sides, threads=THREADS):
    """Alternating: fastdnn 1T, torch 1T, fastdnn 2T, torch 2T."""
    return [Entry(side, t, walker, setter) for t in threads for side, (walker, setter, _) in sides.items()]


def measure_training(name, x, y, args, torch_side):
    """Early windows right after calibration and warm-up, then both sides train on (at their
    best early thread count, untimed) until they have seen args.late_epochs epochs, then the late
    windows: the same entries, the same window sizes."""
    spec = WORKLOADS[name]
    sides, fd_model, torch_net = sides_for(spec, x, y, torch_side)
    entries = entries_for(sides)
    for entry in entries:
        calibrate(entry, spec["batch"], args.seconds)
    result = {"early": rounds(entries, args.windows)}
    result["early"]["epochs_seen"] = {side: walker.epochs for side, (walker, _, _) in sides.items()}
    subnormals = {"early": {side: count() for side, (_, _, count) in sides.items()}}
    for side, (walker, setter, _) in sides.items():
        setter(best(result["early"], side)[1])
        left = int(args.late_epochs * walker.usable) - walker.seen
        if left > 0:
            walker.rows(-(-left // spec["batch"]) * spec["batch"])
    result["late"] = rounds(entries, args.windows)
    result["late"]["epochs_seen"] = {side: walker.epochs for side, (walker, _, _) in sides.items()}
    subnormals["late"] = {side: count() for side, (_, _, count) in sides.items()}
    return result, subnormals, (fd_model, torch_net)


def summarize_training(name, train, subnormals, ceiling):
    spec = WORKLOADS[name]
    flops = flop_counts(spec["layers"]())
    out = {"title": spec["title"], "batch": spec["batch"], "target": spec["target"], "flops_per_sample": flops,
           "train": train, "subnormals": subnormals}
    met = []
    for phase in ("early", "late"):
        fd_best = best(train[phase], "fastdnn")[0]
        gflops = fd_best * flops["training"] / 1e9
        out[phase] = {"ratio": ratio(train[phase]), "gflops": gflops, "ceiling_fraction": gflops / ceiling}
        if out[phase]["ratio"] is not None:
            met.append(out[phase]["ratio"] >= spec["target"])
        if "ceiling_target" in spec:
            met.append(out[phase]["ceiling_fraction"] >= spec["ceiling_target"])
    if "ceiling_target" in spec:
        out["ceiling_target"] = spec["ceiling_target"]
    out["met"] = all(met) if met else None
    return out


def measure_inference(name, fd_model, torch_net, x, args, torch_side):
    """Inference samples/s of the trained models at each batch size and thread count."""
    results = {}
    xt = torch_side.inputs(x) if torch_side is not None else None
    flops = flop_counts(WORKLOADS[name]["layers"]())["inference"]
    for batch in INFERENCE_BATCHES:
        usable = len(x) // batch * batch
        sides = {"fastdnn": (Walker(fastdnn_side.inference(fd_model, x, batch), usable), fastdnn_side.set_threads,
                             None)}
        if torch_net is not None:
            sides["torch"] = (Walker(torch_side.inference(torch_net, xt, batch), usable), torch_side.set_threads,
                              None)
        entries = entries_for(sides)
        for entry in entries:
            calibrate(entry, batch, args.seconds_inference)
        r = rounds(entries, args.windows)
        r["ratio"], r["target"] = ratio(r), INFERENCE_TARGETS[batch]
        r["met"] = None if r["ratio"] is None else r["ratio"] >= r["target"]
        r["flops_per_sample"] = flops
        results[str(batch)] = r
    return results


def measure_loaded(name, x, y, args, torch_side):
    """Both sides at 2 threads and at 1 beside one busy process (a Python spin loop)."""
    spec = WORKLOADS[name]
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)  # let it reach the scheduler
        sides, _, _ = sides_for(spec, x, y, torch_side)
        entries = entries_for(sides, threads=(2, 1))
        for entry in entries:
            calibrate(entry, spec["batch"], args.seconds)
        r = rounds(entries, args.windows)
    finally:
        busy.kill()
        busy.wait()
    out = {"windows": r}
    for side in sides:
        two, one = r[f"{side}/2"]["median"], r[f"{side}/1"]["median"]
        out[side] = {"2": two, "1": one, "ratio_2_to_1": two / one}
    return out

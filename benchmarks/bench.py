"""fastdnn against PyTorch, side by side, in one process run.

    python benchmarks/bench.py                        # everything, on the real MNIST: about 7 minutes
    python benchmarks/bench.py --quick                # a smoke run (less data, short windows): about 1 minute
    python benchmarks/bench.py --data random          # uniform random data with random labels instead of MNIST
    python benchmarks/bench.py --workloads W1,W3b32   # only these workloads
    python benchmarks/bench.py --loaded               # the loaded-machine check for every selected workload
    python benchmarks/bench.py --markdown             # also print the README tables (always written to results.md)
    python benchmarks/bench.py --dry-run              # the plan and the FLOP counts, nothing timed
    python benchmarks/bench.py --from-json r.json     # print a saved run's report and tables again
    python benchmarks/bench.py --profile [--threads 1]  # only fastdnn's time per training step by op kind
    python benchmarks/bench.py --json out.json        # where the results go (default benchmarks/results.json,
                                                      # and the Markdown beside it, results.md)

What it measures:

* Data: the real MNIST training set by default (fastdnn.datasets.mnist.load_data(), 60,000 x 784,
  x/255 as float32, the uint8 labels), permuted once by a fixed seed; both frameworks get the
  same arrays and walk through them in the same slices (see measure.py). `--data random` trains
  on uniform random inputs with random labels instead; the report names the data it used.
* Training samples/s of each workload (workloads.py: W1 deep-BN, W2 BN-ELU, W3 wide at batch
  1024, W3b32 the same at batch 32, W4 five-ReLU-dropout, W5 SELU). fastdnn through its public
  Keras API (whole `model.fit(x, y, batch_size=B, epochs=1, shuffle=True)` calls); PyTorch as a
  plain loop a PyTorch user writes (torch_side.py). Both start from fresh models (same seeds),
  are calibrated and warmed up, then their windows alternate: fastdnn 1T, PyTorch 1T, fastdnn
  2T, PyTorch 2T, 3 rounds, each window after an untimed 50 ms pause: the EARLY windows. Then
  both train on, untimed, until each has seen 5 epochs, when subnormal optimizer state would
  have built up, and the same windows run again: the LATE windows. Each figure is the median of
  its 3 windows. fastdnn's engine-only rate (rows / seconds inside the C++ steps) is reported
  beside it, and so are the subnormal numbers found in each side's weights and optimizer state
  after each phase.
* The ratio fastdnn / PyTorch, each at its best thread count, per phase, beside its target.
* Exact FLOPs per sample of the Dense products (workloads.flop_counts): forward 2*sum(in*out),
  kernel gradients 2*sum(in*out), input gradients 2*sum(in*out) over every Dense but the first
  (no engine computes the data's gradient). Bias, activations, BatchNormalization, dropout, the
  loss and the optimizer are not counted. fastdnn's GFLOP/s is its best rate times that count,
  shown as a fraction of a GEMM ceiling measured in the same run (NumPy and torch float32
  matmuls, 1 and 2 threads, the best of them).
* Inference samples/s of the trained models at batch 32 and 10,000 (`model.predict` against a
  torch forward under `torch.inference_mode()`, model.eval()).
* `import fastdnn` time, the installed size, the peak resident memory of a W1 epoch on
  60,000 x 784, and the loaded machine: both sides at 2 threads and at 1 beside one busy process.

If torch is not installed, only the fastdnn half runs. The machine may be shared: the load
average at the start and the end is printed and stored with the results.
"""

import argparse
import json
import os
import sys
import time

import fastdnn

import machine
import measure
import report
import workloads

DEFAULT_THREADS = fastdnn.get_num_threads()  # read before anything sets it


def load_torch_side():
    try:
        import torch_side
    except ImportError:
        return None
    return torch_side


def dry_run(names, args):
    """The plan and the FLOP counts; nothing timed, PyTorch not loaded."""
    x, _, description = workloads.load(args.data, args.rows)
    print(f"data: {description}; x {x.shape} {x.dtype} in [{x.min():g}, {x.max():g}]")
    print(f"windows: {args.windows} per entry and phase, training {args.seconds:g} s, inference "
          f"{args.seconds_inference:g} s; late windows after {args.late_epochs:g} epochs; "
          f"threads {measure.THREADS}")
    print(f"{'workload':8s} {'batch':>5s} {'forward':>10s} {'kernel grad':>12s} {'input grad':>11s} "
          f"{'training':>10s} {'inference':>10s}   FLOPs per sample")
    for name in names:
        spec = workloads.WORKLOADS[name]
        c = workloads.flop_counts(spec["layers"]())
        print(f"{name:8s} {spec['batch']:5d} {c['forward']:10,d} {c['kernel_gradients']:12,d} "
              f"{c['input_gradients']:11,d} {c['training']:10,d} {c['inference']:10,d}   {spec['title']}")


def profile_workloads(names, x, y, args):
    if not (hasattr(fastdnn._core.Network, "set_profiling") and hasattr(fastdnn._core.Network, "profile")):
        sys.exit("--profile needs the engine's profiler (fastdnn._core.Network.set_profiling / .profile), "
                 "which this build of fastdnn._core does not have yet; rebuild the extension once it is in.")
    threads = args.threads or DEFAULT_THREADS
    print(f"fastdnn at {threads} thread(s), per training step; python/outside = fit's wall time "
          "minus the seconds inside the C++ steps; op kinds that took no time are not shown")
    for name in names:
        spec = workloads.WORKLOADS[name]
        batch = spec["batch"]
        sides, model, _ = measure.sides_for(spec, x, y, None)
        walker, setter, _ = sides["fastdnn"]
        entry = measure.Entry("fastdnn", threads, walker, setter)
        measure.calibrate(entry, batch, args.seconds)
        net = model._network
        net.set_profiling(True)
        wall, _ = measure.timed(entry, entry.rows)
        profile = dict(net.profile())
        net.set_profiling(False)
        steps = max(1, int(profile.pop("steps")))
        inside = profile.pop("step_seconds")
        profile = {kind: seconds for kind, seconds in profile.items() if seconds > 0}
        print(f"\n{name}: {spec['title']}: {steps} steps, "
              f"{wall / steps * 1e6:.1f} us/step wall, {inside / steps * 1e6:.1f} us/step inside C++")
        rows_out = sorted(profile.items(), key=lambda kv: -kv[1]) + [("python/outside", wall - inside)]
        unattributed = inside - sum(profile.values())
        if abs(unattributed) > 0.01 * inside:
            rows_out.append(("(inside, unattributed)", unattributed))
        for kind, seconds in rows_out:
            print(f"  {kind:24s} {seconds / steps * 1e6:10.1f} us  {100 * seconds / wall:5.1f}%")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 10,000 rows, short windows, late windows after 2 epochs, inference for "
                             "W1 only; its figures are not for quoting")
    parser.add_argument("--data", choices=sorted(workloads.DATA), default="mnist",
                        help="mnist (default): the real MNIST training set; "
                             "random: uniform random inputs and labels")
    parser.add_argument("--workloads", default=",".join(workloads.WORKLOADS),
                        help="comma-separated, e.g. W1,W3b32")
    parser.add_argument("--loaded", action="store_true",
                        help="run the loaded-machine check for every selected workload (default: W1 only)")
    parser.add_argument("--markdown", action="store_true", help="also print the README tables in Markdown")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and FLOP counts; time nothing")
    parser.add_argument("--from-json", metavar="FILE", help="print the report and tables of a saved run")
    parser.add_argument("--profile", action="store_true", help="only print fastdnn's time per step by op kind")
    parser.add_argument("--json", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.json"))
    parser.add_argument("--rows", type=int, help="rows of data (default all 60,000; 10,000 with --quick)")
    parser.add_argument("--windows", type=int, default=3, help="timed windows per measurement (default 3)")
    parser.add_argument("--late-epochs", type=float, help="epochs seen before the late windows (default 5; "
                                                         "2 with --quick)")
    parser.add_argument("--threads", type=int, help="fastdnn's thread count for --profile (default: its default)")
    parser.add_argument("--peak-memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.workloads.split(",") if n.strip()]
    args.names = [workloads.ALIASES.get(n, n) for n in names]
    unknown = [n for n in args.names if n not in workloads.WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {list(workloads.WORKLOADS)}")
    args.rows = args.rows or (10_000 if args.quick else None)
    if args.rows is not None and not max(workloads.INFERENCE_BATCHES) <= args.rows <= 60_000:
        parser.error(f"--rows must be in [{max(workloads.INFERENCE_BATCHES)}, 60000]")
    args.windows = max(3, args.windows)
    args.late_epochs = args.late_epochs if args.late_epochs is not None else (2.0 if args.quick else 5.0)
    args.seconds = 0.15 if args.quick else 0.7  # training window
    args.seconds_inference = 0.1 if args.quick else 0.5
    args.command = " ".join(["python", "benchmarks/bench.py"] + (sys.argv[1:] if argv is None else list(argv)))
    return args


def run(args):
    started = time.perf_counter()
    print("import time, installed size, peak memory (while this process is small) ...", flush=True)
    small = {"import": {"fastdnn": machine.import_seconds("fastdnn"), "numpy": machine.import_seconds("numpy")},
             "installed_size": machine.installed_size(), "peak_memory": machine.measure_peak_memory()}
    x, y, description = workloads.load(args.data, args.rows)
    torch_side = load_torch_side()
    if torch_side is None:
        print("PyTorch is not installed: running the fastdnn half only (no ratios). "
              "`pip install torch` for the comparison.", flush=True)
    results = {"machine": machine.machine_info(torch_side.torch if torch_side else None, DEFAULT_THREADS),
               "settings": {"data": args.data, "data_description": description, "rows": len(x),
                            "data_seed": workloads.DATA_SEED, "windows": args.windows,
                            "late_epochs": args.late_epochs, "train_window_s": args.seconds,
                            "inference_window_s": args.seconds_inference, "quick": args.quick,
                            "command": args.command},
               **small}
    m = results["machine"]
    print(f"{m['date']}  {m['cpu']}, {m['cores']} cores, AVX-512 {report.yes_no(m['avx512f'])}; fastdnn "
          f"{m['fastdnn']}, numpy {m['numpy']}, torch {m['torch']}; load average {m['load_average_start'][0]:.2f} "
          "(other jobs on this machine make the figures noisy)", flush=True)
    print(f"data: {description}", flush=True)
    if args.quick:
        print("--quick: a smoke run; these figures are not for quoting", flush=True)
    print("GEMM ceiling ...", flush=True)
    results["gemm"] = machine.measure_gemm_ceiling(0.1 if args.quick else 0.3,
                                                   torch_side.torch if torch_side else None)
    ceiling = results["gemm"]["ceiling_gflops"]
    print("workloads:", flush=True)
    results["workloads"] = {}
    for name in args.names:
        spec = workloads.WORKLOADS[name]
        print(f"  {name}: {spec['title']} ...", flush=True)
        train, subnormals, (fd_model, torch_net) = measure.measure_training(name, x, y, args, torch_side)
        r = measure.summarize_training(name, train, subnormals, ceiling)
        if not args.quick or name == "W1":
            r["inference"] = measure.measure_inference(name, fd_model, torch_net, x, args, torch_side)
        results["workloads"][name] = r
    loaded = args.names if args.loaded else [n for n in args.names if n == "W1"]
    if loaded:
        print("loaded machine ...", flush=True)
    results["loaded"] = {name: measure.measure_loaded(name, x, y, args, torch_side) for name in loaded}
    results["machine"]["load_average_end"] = os.getloadavg()
    results["elapsed_s"] = time.perf_counter() - started
    return results


def main(argv=None):
    args = parse_args(argv)
    if args.peak_memory_child:
        return machine.peak_memory_child()
    if args.dry_run:
        return dry_run(args.names, args)
    if args.profile:
        x, y, description = workloads.load(args.data, args.rows)
        print(f"data: {description}")
        return profile_workloads(args.names, x, y, args)
    if args.from_json:
        with open(args.from_json) as f:
            results = json.load(f)
    else:
        results = run(args)
    print(report.text(results))
    m = results["machine"]
    print(f"\nload average: {m['load_average_start'][0]:.2f} at the start, {m['load_average_end'][0]:.2f} at the "
          f"end; run time {results['elapsed_s']:.0f} s")
    table = report.markdown(results)
    if args.markdown:
        print("\n" + table)
    if not args.from_json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
        markdown_path = os.path.splitext(args.json)[0] + ".md"
        with open(markdown_path, "w") as f:
            f.write(table)
        print(f"results written to {args.json} and {markdown_path}")


if __name__ == "__main__":
    main()

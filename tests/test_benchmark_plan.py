"""benchmarks/bench.py's plan, without timing anything: the exact FLOP counts it divides by
(against hand counts), and its --dry-run path (data labelled, old workload names accepted)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load_workloads():
    spec = importlib.util.spec_from_file_location("benchmark_workloads", BENCHMARKS / "workloads.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_flop_count_of_w4_matches_a_hand_count():
    workloads = load_workloads()
    # 784-200-100-60-30-10: in*out = 156,800 + 20,000 + 6,000 + 1,800 + 300 = 184,900 multiply-adds.
    forward = 2 * 184_900
    input_gradients = 2 * (184_900 - 784 * 200)  # every Dense but the first
    counts = workloads.flop_counts(workloads.WORKLOADS["W4"]["layers"]())
    assert counts == {"forward": forward, "kernel_gradients": forward, "input_gradients": input_gradients,
                      "training": 2 * forward + input_gradients, "inference": forward}
    assert counts["training"] == 795_800


def test_flop_count_leaves_out_the_first_layers_input_gradient():
    workloads = load_workloads()
    counts = workloads.flop_counts(workloads.WORKLOADS["W3"]["layers"]())
    # 784x1000 then 1000x10: only the second product has an input gradient (issue 12: 3.20 MFLOP, not 4.76).
    assert counts["training"] == 3 * 2 * 1000 * 10 + 2 * 2 * 784 * 1000


def run_dry(*args):
    return subprocess.run([sys.executable, str(BENCHMARKS / "bench.py"), "--dry-run", *args],
                          capture_output=True, text=True, timeout=300, check=True).stdout


def test_dry_run_prints_the_exact_flops_of_the_selected_workload():
    out = run_dry("--data", "random", "--rows", "10000", "--workloads", "W4")
    w4_line = next(line for line in out.splitlines() if line.startswith("W4 "))
    assert "795,800" in w4_line and "W1" not in out.split("FLOPs per sample")[1]


def test_dry_run_labels_random_data_as_not_mnist():
    out = run_dry("--data", "random", "--rows", "10000", "--workloads", "W4")
    assert "NOT MNIST" in out.splitlines()[0]


def test_dry_run_accepts_the_old_workload_names():
    out = run_dry("--data", "random", "--rows", "10000", "--workloads", "W3-32,W3-1024")
    assert [line.split()[0] for line in out.splitlines()[3:]] == ["W3b32", "W3"]

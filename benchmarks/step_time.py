"""Time per training step of the 20-layer Dense(100) + BatchNormalization net.

Reports the median wall time of a train_step call seen from Python, the part
of it spent inside the C++ step, and so the part outside it (argument checks,
the GIL hand-over, the call itself).

    python benchmarks/step_time.py [--threads 2] [--batch 32] [--steps 2000]
"""

import argparse
import time

import numpy as np

import fastdnn
from fastdnn import _core


def deep_bn_net(layers=20, units=100):
    ops = []
    for _ in range(layers):
        ops += [{"kind": "dense", "units": units}, {"kind": "activation", "activation": "relu"},
                {"kind": "batch_normalization"}]
    ops += [{"kind": "dense", "units": 10}, {"kind": "activation", "activation": "softmax"}]
    net = _core.Network(784, ops, {"kind": "sparse_categorical_crossentropy",
                                   "metric": "sparse_categorical_accuracy"}, {"kind": "sgd"})
    rng = np.random.default_rng(0)
    for p in net.parameters():
        if p["name"] == "kernel":
            fan_in, fan_out = p["value"].shape
            p["value"][...] = rng.uniform(-1, 1, p["value"].shape) * np.sqrt(6 / (fan_in + fan_out))
    return net


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--windows", type=int, default=5)
    args = parser.parse_args()
    fastdnn.set_num_threads(args.threads)
    net = deep_bn_net()
    rng = np.random.default_rng(1)
    x = rng.random((args.batch * 64, 784), dtype=np.float32)
    y = rng.integers(0, 10, size=len(x))
    batches = [(x[i:i + args.batch], y[i:i + args.batch]) for i in range(0, len(x), args.batch)]
    for xb, yb in batches * 3:  # warm-up
        net.train_step(xb, yb, 0.01)
    totals, insides = [], []
    for _ in range(args.windows):
        engine_before = net.step_seconds
        start = time.perf_counter()
        for i in range(args.steps):
            xb, yb = batches[i % len(batches)]
            net.train_step(xb, yb, 0.01)
        totals.append((time.perf_counter() - start) / args.steps)
        insides.append((net.step_seconds - engine_before) / args.steps)
    total, inside = float(np.median(totals)), float(np.median(insides))
    print(f"20 x (Dense(100, relu) + BatchNormalization) + Dense(10, softmax), batch {args.batch}, "
          f"{args.threads} thread(s), median of {args.windows} windows of {args.steps} steps")
    print(f"  time per training step (Python call): {total * 1e6:8.1f} us  "
          f"({args.batch / total:,.0f} samples/s)")
    print(f"  inside the C++ step:                  {inside * 1e6:8.1f} us")
    print(f"  outside it:                           {(total - inside) * 1e6:8.1f} us "
          f"({100 * (total - inside) / total:.1f}%)")


if __name__ == "__main__":
    main()

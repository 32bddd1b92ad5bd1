"""What data-parallel training costs here: the all-reduce per step, and whole fit steps of W1 and W3
on the real MNIST, under `mpiexec -n N` (one engine thread each by default) or in one process.

    mpiexec -n 2 python -m mpi4py benchmarks/distributed.py          # 2 ranks, 1 thread each
    python benchmarks/distributed.py --threads 2                       # 1 process, 2 threads
    python benchmarks/distributed.py --json out.json                   # also write the figures

Per workload it prints the parameters, the all-reduce time per step (the gradient and state buffers
through MPIStrategy's reducer arithmetic: Allgather, then rank-ordered float32 adds; medians of 50),
and fit's time per step and samples/s (medians of 3 epochs-worth windows after a warm-up epoch).
W1: 20 x (Dense(100, relu) -> BN) -> Dense(10), SGD, batch 32 per rank. W3: Dense(1000, relu) ->
Dense(10), Adam, batch 1024 per rank (global batch = per-rank batch x ranks).
"""

import argparse
import contextlib
import json
import time

import numpy as np

import fastdnn as keras
from fastdnn.datasets import mnist


def w1():
    layers = [keras.Input(shape=(784,))]
    for _ in range(20):
        layers += [keras.layers.Dense(100, activation="relu"), keras.layers.BatchNormalization()]
    return keras.Sequential(layers + [keras.layers.Dense(10, activation="softmax")]), "sgd", 32


def w3():
    return keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(1000, activation="relu"),
                             keras.layers.Dense(10, activation="softmax")]), "adam", 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1, help="engine threads per process (default %(default)s)")
    parser.add_argument("--rows", type=int, default=20480, help="training rows per window")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    keras.set_num_threads(args.threads)
    try:
        strategy = keras.distribute.MPIStrategy()
    except ImportError:
        strategy = None
    world = strategy.num_replicas_in_sync if strategy else 1
    chief = strategy is None or strategy.is_chief
    (x, y), _ = mnist.load_data()
    x = (x.reshape(len(x), -1) / 255.0).astype(np.float32)
    results = {"ranks": world, "threads": args.threads}
    for name, build in (("W1", w1), ("W3", w3)):
        keras.utils.set_random_seed(1)
        scope = strategy.scope() if strategy and world > 1 else contextlib.nullcontext()
        with scope:
            model, optimizer, batch = build()
            model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
        global_batch = batch * world
        rows = max(global_batch, args.rows // global_batch * global_batch)
        model.fit(x[:rows], y[:rows], batch_size=global_batch, epochs=1, verbose=0)  # warm-up, builds
        net = model._network
        reduce_seconds = _allreduce_seconds(strategy, net) if strategy and world > 1 else 0.0
        windows = []
        for _ in range(3):
            start = time.perf_counter()
            model.fit(x[:rows], y[:rows], batch_size=global_batch, epochs=1, verbose=0)
            windows.append(time.perf_counter() - start)
        step = float(np.median(windows)) / (rows // global_batch)
        params = int(net.gradient_buffer().size) if hasattr(net, "gradient_buffer") else model.count_params()
        results[name] = {"parameters": params, "global_batch": global_batch, "step_seconds": step,
                         "samples_per_second": global_batch / step, "allreduce_seconds": reduce_seconds}
        if chief:
            print(f"{name}: {world} rank(s) x {args.threads} thread(s), global batch {global_batch}, "
                  f"{params:,} gradient floats: {step * 1e6:,.0f} us per step, {global_batch / step:,.0f} samples/s; "
                  f"all-reduce {reduce_seconds * 1e6:,.0f} us per step "
                  f"({reduce_seconds / params * 1e9:.2f} ns per parameter)")
    if chief and args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


def _allreduce_seconds(strategy, net):
    """Median time of one step's reduction: the gradient and state buffers (MPIStrategy's reducer)."""
    from fastdnn.distribute.strategy import combine_states

    grads, state = net.gradient_buffer(), net.state_buffer()
    times = []
    for _ in range(50):
        strategy.barrier()
        start = time.perf_counter()
        strategy.gather(np.zeros(3))  # rows, loss, hits
        strategy.allreduce_sum(grads, out=grads)  # as the reducer does
        if state.size:
            combine_states(list(strategy.gather(state)), [1] * strategy.num_replicas_in_sync, state.copy())
        times.append(time.perf_counter() - start)
    return float(np.median(times))


if __name__ == "__main__":
    main()

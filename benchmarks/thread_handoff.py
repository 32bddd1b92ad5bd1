"""What a second thread costs and what it buys: fastdnn's thread pool measured from inside.

    python benchmarks/thread_handoff.py            # everything, ~1-2 minutes
    python benchmarks/thread_handoff.py --quick    # fewer repeats

1. The hand-off: jobs of 2 chunks that each keep a thread busy for 0-10 us, timed one
   by one in C++: the median job time (2 threads ideally take one chunk's time; the
   excess is the cost of the hand-off), how often the worker took a chunk, and how
   long after the job was published it started one.
2. Products at the workloads' small shapes through matmul's tiling, at 1 and 2 threads
   (1 thread shows what the tiling costs when it cuts a product that one thread runs whole).
3. Training steps of W1, W2 and W4 (bench.py's networks) through `fit` on synthetic data
   of MNIST's shape, at 1 and 2 threads.

1 and 2 threads alternate within one run, so a machine shared with other jobs
slows both sides alike. Times are the best of the repeats (the least disturbed),
training rates the median and the best; the load average is printed with them:
read absolute numbers as indicative, ratios as the result.
"""

import argparse
import os
import statistics
import time

import numpy as np

import fastdnn
from fastdnn import _core

FEATURES, CLASSES = 784, 10


def alternate(measure, repeats, best=min):
    """{threads: best(measure() values)} at 1 and 2 threads, taken in turns."""
    samples = {1: [], 2: []}
    for _ in range(repeats):
        for threads in (1, 2):
            fastdnn.set_num_threads(threads)
            samples[threads].append(measure())
    return {t: best(v) for t, v in samples.items()}


def handoff(repeats):
    """Medians over many jobs, which a busy machine disturbs less than means."""
    jobs = 2_000
    print(f"{'job: 2 chunks of':>16} {'1 thread ns':>12} {'2 threads ns':>13} {'worker took one':>16}"
          f" {'worker started after ns':>24}")
    for chunk_ns in (0, 1_000, 3_000, 10_000):
        job_ns, starts = {1: [], 2: []}, []
        for _ in range(repeats):
            for threads in (1, 2):
                fastdnn.set_num_threads(threads)
                times, worker_start = _core._pool_job_latencies(chunk_ns, jobs)
                job_ns[threads].append(times)
                if threads == 2:
                    starts.append(worker_start)
        starts = np.concatenate(starts)
        taken = starts[starts >= 0]
        after = f"{np.median(taken):24.0f}" if taken.size else f"{'-':>24}"
        print(f"{chunk_ns / 1000:13.0f} us {np.median(np.concatenate(job_ns[1])):12.0f}"
              f" {np.median(np.concatenate(job_ns[2])):13.0f} {taken.size / starts.size:16.0%}{after}")


PRODUCTS = [  # M, K, N: forward, weight gradient (K = batch) and input gradient shapes
    (32, 100, 100), (32, 784, 100), (100, 32, 100), (784, 32, 100), (32, 1000, 10), (32, 784, 1000),
    (200, 784, 300), (300, 200, 100), (200, 300, 100), (100, 784, 200), (100, 200, 100),
]


def products(repeats):
    print(f"{'M x K x N':>16} {'1 thread us':>12} {'2 threads us':>13} {'2T/1T speed':>12}")
    for m, k, n in PRODUCTS:
        reps = max(20, int(2e8 / (2 * m * k * n)))
        seconds = alternate(lambda: _core._time_matmul(m, n, k, reps), repeats)
        print(f"{f'{m}x{k}x{n}':>16} {seconds[1] * 1e6:12.2f} {seconds[2] * 1e6:13.2f} {seconds[1] / seconds[2]:12.2f}")


def w1():
    layers = []
    for _ in range(20):
        layers += [fastdnn.layers.Dense(100, activation="relu"), fastdnn.layers.BatchNormalization(momentum=0.99)]
    return layers + [fastdnn.layers.Dense(10, activation="softmax")], fastdnn.optimizers.SGD(0.01), 32


def w2():
    layers = []
    for units in (300, 100):
        layers += [fastdnn.layers.Dense(units, kernel_initializer="he_normal"),
                   fastdnn.layers.BatchNormalization(momentum=0.9), fastdnn.layers.Activation("elu")]
    layers += [fastdnn.layers.Dense(10, kernel_initializer="he_normal"), fastdnn.layers.BatchNormalization(momentum=0.9),
               fastdnn.layers.Activation("softmax")]
    return layers, fastdnn.optimizers.SGD(0.01), 200


def w4():
    layers = [fastdnn.layers.Dense(200, activation="relu"), fastdnn.layers.Dense(100, activation="relu"),
              fastdnn.layers.Dropout(0.25), fastdnn.layers.Dense(60, activation="relu"), fastdnn.layers.Dropout(0.25),
              fastdnn.layers.Dense(30, activation="relu"), fastdnn.layers.Dropout(0.25),
              fastdnn.layers.Dense(10, activation="softmax")]
    return layers, fastdnn.optimizers.Adam(0.001), 100


def training(repeats, rows):
    rng = np.random.default_rng(0)
    # MNIST's shape and value range; the labels follow the pixels so the loss falls as on real data.
    x = rng.random((rows, FEATURES), dtype=np.float32)
    y = (x[:, :CLASSES].argmax(axis=1)).astype(np.int64)
    print(f"{'workload':>8} {'samples/s: 1 thread':>20} {'2 threads':>10} {'2T/1T':>6}"
          f" {'best 1 thread':>14} {'best 2 threads':>15} {'2T/1T':>6}")
    for name, build in (("W1", w1), ("W2", w2), ("W4", w4)):
        layers, optimizer, batch = build()
        model = fastdnn.Sequential([fastdnn.Input(shape=(FEATURES,))] + layers)
        model.compile(loss="sparse_categorical_crossentropy", optimizer=optimizer)
        model.fit(x[: batch * 20], y[: batch * 20], batch_size=batch, epochs=1, verbose=0)  # warm-up

        def epoch():
            start = time.perf_counter()
            model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
            return rows / (time.perf_counter() - start)

        rates = alternate(epoch, repeats, best=lambda v: v)
        med = {t: statistics.median(v) for t, v in rates.items()}
        top = {t: max(v) for t, v in rates.items()}
        print(f"{name:>8} {med[1]:20,.0f} {med[2]:10,.0f} {med[2] / med[1]:6.2f}"
              f" {top[1]:14,.0f} {top[2]:15,.0f} {top[2] / top[1]:6.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    saved = fastdnn.get_num_threads()
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    before = _core._pool_counters()
    try:
        handoff(repeats)
        products(repeats)
        training(repeats, rows=6_400 if args.quick else 16_000)
    finally:
        fastdnn.set_num_threads(saved)
    after = _core._pool_counters()
    print("pool: " + ", ".join(f"{k} {after[k] - before[k]}" for k in after))
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()

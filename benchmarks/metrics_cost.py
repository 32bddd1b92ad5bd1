"""What a Python-side metric costs in fit: W4 (784-200-100-60-30-10 ReLU with Dropout(0.25),
Adam, batch 100; benchmarks/bench.py's workload) timed as whole fit epochs with
metrics=["accuracy"] (counted by the engine) against ["accuracy", "AUC"] (AUC updated in
Python from the training outputs the engine hands back, one engine call per epoch).

    python benchmarks/metrics_cost.py                 # 3 alternating rounds, medians
    python benchmarks/metrics_cost.py --rounds 1 --rows 2000   # a smoke test

Data: real MNIST (60,000 x 784, scaled to [0, 1]) when fastdnn.datasets finds it in its cache,
else random data of the same shape (said so in the output). Labels are one-hot with
categorical_crossentropy, as AUC needs labels shaped like the predictions. The two settings
are timed alternately (A, B, A, B, ...) on one model each, after one warm-up epoch each, so
a change in the machine's load hits both; the relative cost is median(B) / median(A) − 1.
Run it on an otherwise idle machine.
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fastdnn  # noqa: E402
from bench import CLASSES, FEATURES, WORKLOADS, make_data  # noqa: E402
from fastdnn.datasets import _dataset  # noqa: E402

W4 = WORKLOADS["W4"]


def load_data(rows):
    cached = os.path.join(_dataset.datasets_folder(), "mnist.npz")
    if os.path.exists(cached):
        (x, y), _ = fastdnn.datasets.mnist.load_data()
        x = x.reshape(len(x), FEATURES).astype(np.float32) / 255.0
        source = f"real MNIST from {cached}"
    else:
        x, y = make_data(60_000)
        source = "random data (MNIST is not in fastdnn's dataset cache)"
    return x[:rows], np.eye(CLASSES, dtype=np.float32)[y[:rows]], source


def w4_model(metrics):
    keras = fastdnn
    model = keras.Sequential([keras.Input(shape=(FEATURES,))])
    for layer in W4["layers"]():
        if layer[0] == "dense":
            model.add(keras.layers.Dense(layer[1], activation=layer[2], kernel_initializer=layer[3]))
        elif layer[0] == "dropout":
            model.add(keras.layers.Dropout(layer[1]))
        else:
            raise AssertionError(f"W4 has no {layer[0]} layer")
    _, rate = W4["optimizer"]
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=rate), loss="categorical_crossentropy",
                  metrics=metrics)
    return model


def epoch_seconds(model, x, y):
    started = time.perf_counter()
    model.fit(x, y, batch_size=W4["batch"], epochs=1, verbose=0, shuffle=True)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed epochs per setting (default 3)")
    parser.add_argument("--rows", type=int, default=60_000, help="training rows (default 60000)")
    args = parser.parse_args()
    x, y, source = load_data(args.rows)
    settings = {"accuracy": ["accuracy"], "accuracy + AUC": ["accuracy", "AUC"]}
    fastdnn.utils.set_random_seed(0)
    models = {name: w4_model(metrics) for name, metrics in settings.items()}
    print(f"W4 ({W4['title']}, batch {W4['batch']}), {len(x)} rows of {source}; load average "
          f"{os.getloadavg()[0]:.2f}")
    for model in models.values():
        epoch_seconds(model, x, y)  # warm-up: builds the network, touches the buffers
    times = {name: [] for name in settings}
    for _ in range(args.rounds):
        for name, model in models.items():
            times[name].append(epoch_seconds(model, x, y))
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, median in medians.items():
        print(f"  metrics={settings[name]!s:22} {len(x) / median:10.0f} samples/s  (epochs: "
              + ", ".join(f"{t:.3f} s" for t in times[name]) + ")")
    base, with_auc = medians["accuracy"], medians["accuracy + AUC"]
    print(f"  relative cost of AUC: {100 * (with_auc / base - 1):+.1f}% of the epoch time")


if __name__ == "__main__":
    main()

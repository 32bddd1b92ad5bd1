"""Memory: a long training run does not grow, and fit does not copy float32 input.

Each measurement runs in a fresh subprocess (cwd: this folder, so the installed package is
imported, not the source tree) where nothing else allocates meanwhile.
"""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

LONG_RUN = r'''
import json, sys, tracemalloc
import numpy as np
import fastdnn as keras
from fastdnn import callbacks, layers

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

batch_hooks = sys.argv[1] == "batch"
keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.normal(size=(256, 20)).astype("float32")
y = (x[:, 0] > 0).astype(int)
model = keras.Sequential([layers.Input(shape=(20,)), layers.Dense(64, activation="relu"),
                          layers.BatchNormalization(), layers.Dropout(0.2), layers.Dense(2, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
marks = {}

class Measure(callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 in (WARM, EPOCHS):
            marks[epoch + 1] = (rss(), tracemalloc.get_traced_memory()[0])

    if batch_hooks:  # fit then calls the engine once per batch, with the hooks in Python
        def on_train_batch_end(self, batch, logs=None):
            pass

WARM, EPOCHS = 20, 300
tracemalloc.start()
model.fit(x, y, epochs=EPOCHS, batch_size=32, verbose=0, validation_data=(x[:64], y[:64]),
          callbacks=[Measure()])
# History keeps 4 floats per epoch: what it holds for the epochs after the warm-up is
# accounted for, not growth.
history_bytes = sum(sys.getsizeof(v) + 8 for values in model.history.history.values() for v in values[WARM:])
before = (rss(), tracemalloc.get_traced_memory()[0])
for _ in range(300):
    model.predict(x, verbose=0)
    model.evaluate(x, y, verbose=0)
after = (rss(), tracemalloc.get_traced_memory()[0])
print(json.dumps({"warm": marks[WARM], "end": marks[EPOCHS], "history_bytes": history_bytes,
                  "inference_before": before, "inference_after": after,
                  "steps": model.optimizer.iterations}))
'''


def run(script, *args):
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=HERE, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("mode", ["epoch", "batch"])
def test_a_long_training_run_does_not_grow(mode):
    """300 epochs of 256 rows in batches of 32 (2,400 steps), then 300 predict + evaluate.

    Bounds: resident memory may move by a few pages as malloc's free lists settle (< 1 MB;
    a leak of one 32-row batch per step, 2.5 KB, would be 6 MB); NumPy and Python
    allocations (tracemalloc) by < 200 KB beyond what History rightly keeps (a leak of one
    float per step would be 56 KB, of one loss array per engine call far more)."""
    m = run(LONG_RUN, mode)
    assert m["steps"] == 300 * 8
    rss_growth = m["end"][0] - m["warm"][0]
    traced_growth = m["end"][1] - m["warm"][1] - m["history_bytes"]
    assert rss_growth < 1 << 20, m
    assert traced_growth < 200 << 10, m
    assert m["inference_after"][0] - m["inference_before"][0] < 1 << 20, m
    assert m["inference_after"][1] - m["inference_before"][1] < 200 << 10, m


NO_COPY = r'''
import json, tracemalloc
import numpy as np
import fastdnn as keras
from fastdnn import layers

rng = np.random.default_rng(0)
x = rng.random((20000, 784), dtype=np.float32)  # 62.7 MB, C-contiguous float32
y = rng.integers(0, 10, 20000)
model = keras.Sequential([layers.Input(shape=(784,)), layers.Dense(32, activation="relu"),
                          layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
tracemalloc.start()
model.fit(x, y, epochs=1, batch_size=256, verbose=0)
model.fit(x, y, epochs=1, batch_size=256, verbose=0, validation_split=0.1)
model.predict(x, verbose=0, batch_size=1024)
current, peak = tracemalloc.get_traced_memory()
print(json.dumps({"peak": peak, "x": x.nbytes}))
'''


def test_fit_does_not_copy_float32_input():
    """Already float32 and C-contiguous, x is used in place: the traced peak (which sees every
    NumPy allocation) stays far below one copy of x. predict's output (20,000 x 10 floats)
    and the shuffled order (160 KB) are the largest allocations."""
    m = run(NO_COPY)
    assert m["peak"] < m["x"] / 20, m

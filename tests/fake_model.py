"""A stand-in for Sequential with just the interface callbacks use, and a driver calling hooks in fit's order."""

import os

import numpy as np

from fastdnn.callbacks import CallbackList


class FakeVariable:
    def __init__(self, layer_name, name, value):
        self.name = name
        self.path = f"{layer_name}/{name}"
        self.value = np.asarray(value, dtype=np.float32)

    def numpy(self):
        return self.value.copy()


class FakeLayer:
    def __init__(self, name, n_in, n_out):
        self.name = name
        self.weights = [
            FakeVariable(name, "kernel", np.linspace(-1, 1, n_in * n_out).reshape(n_in, n_out)),
            FakeVariable(name, "bias", np.zeros(n_out)),
        ]


class FakeOptimizer:
    def __init__(self, learning_rate=0.01):
        self.learning_rate = learning_rate
        self.iterations = 0


class FakeModel:
    """Two dense layers (4→3→2); `train_epoch(e)` sets every weight to e + 1 so epochs are recognisable."""

    def __init__(self, learning_rate=0.01):
        self.name = "sequential"
        self.stop_training = False
        self.optimizer = FakeOptimizer(learning_rate)
        self.layers = [FakeLayer("dense", 4, 3), FakeLayer("dense_1", 3, 2)]
        self.saved = []  # (method, filepath, overwrite)

    def _variables(self):
        return [w for layer in self.layers for w in layer.weights]

    def get_weights(self):
        return [w.numpy() for w in self._variables()]

    def set_weights(self, weights):
        for variable, value in zip(self._variables(), weights):
            variable.value = np.asarray(value, dtype=np.float32).copy()

    def train_epoch(self, epoch):
        self.set_weights([np.full_like(w, epoch + 1) for w in self.get_weights()])

    def save(self, filepath, overwrite=True):
        self._write("save", filepath, overwrite)

    def save_weights(self, filepath, overwrite=True):
        self._write("save_weights", filepath, overwrite)

    def _write(self, method, filepath, overwrite):
        assert os.path.isdir(os.path.dirname(filepath) or "."), "the callback must create the directory"
        with open(filepath, "w") as f:
            f.write(method)
        self.saved.append((method, filepath, overwrite))


def run_fit(callbacks, model, epoch_logs, steps=3, batch_logs=None, verbose=1, batch_ends=None):
    """Calls the hooks as fit does, one epoch per entry of `epoch_logs`; returns the epochs run.

    batch_logs(epoch, batch) gives the running logs of a batch (default: the
    epoch's loss). batch_ends: the batch indices fit reports (default all),
    to imitate fit reporting only the last batch of each group.
    """
    epochs = len(epoch_logs)
    hooks = CallbackList(callbacks, model=model, verbose=verbose, epochs=epochs, steps=steps)
    model.stop_training = False
    hooks.on_train_begin()
    ran = 0
    for epoch in range(epochs):
        hooks.on_epoch_begin(epoch)
        ends = range(steps) if batch_ends is None else batch_ends
        for batch in range(steps):
            model.optimizer.iterations += 1
            if batch in ends:
                logs = batch_logs(epoch, batch) if batch_logs else {"loss": epoch_logs[epoch].get("loss", 0.0)}
                hooks.on_train_batch_end(batch, dict(logs))
            if model.stop_training:
                break
        model.train_epoch(epoch)
        hooks.on_epoch_end(epoch, dict(epoch_logs[epoch]))
        ran += 1
        if model.stop_training:
            break
    hooks.on_train_end()
    return ran


def losses(*values, key="val_loss"):
    """Epoch logs with `key` taking the given values, and a training loss beside them."""
    return [{"loss": 1.0, key: v} for v in values]

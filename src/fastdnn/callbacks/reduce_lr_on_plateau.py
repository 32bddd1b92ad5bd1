"""ReduceLROnPlateau: lower the learning rate when a metric stops improving, as keras.callbacks.ReduceLROnPlateau."""

import warnings

import numpy as np

from fastdnn.callbacks.callback import Callback


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by `factor` after `patience` epochs without improvement.

    Args (Keras defaults):
        monitor: log key to watch, "val_loss".
        factor: `new_lr = max(lr * factor, min_lr)`; must be < 1. 0.1.
        patience: epochs without improvement before reducing, 10.
        verbose: 1 prints `Epoch N: ReduceLROnPlateau reducing learning rate to X.`, 0.
        mode: "min", "max", or "auto": max when the name contains "acc", else min
            (Keras' rule for this callback). An unknown mode warns and means "auto".
        min_delta: a value must beat the best by more than this, 1e-4.
        cooldown: epochs after a reduction during which waiting is suspended, 0.
        min_lr: lower bound on the rate, 0.

    Each epoch end adds the rate used in that epoch to the logs as
    `learning_rate` (Keras 3), then compares. A missing `monitor` key warns,
    listing the keys that are there. The rate is lowered only while it is above
    `min_lr` (compared in float32, as Keras). Keras 2's name `epsilon` for
    `min_delta` is accepted with a warning; other unknown keywords raise
    TypeError (Keras 3 ignores them silently).
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__()
        if "epsilon" in kwargs:
            min_delta = kwargs.pop("epsilon")
            warnings.warn("`epsilon` argument is deprecated and will be removed, use `min_delta` instead.",
                          stacklevel=2)
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau got unexpected keyword arguments: {sorted(kwargs)}")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        self.monitor = monitor
        self.factor = factor
        self.min_lr = min_lr
        self.min_delta = min_delta
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.mode = mode
        self._reset()

    def _reset(self):
        if self.mode not in ("auto", "min", "max"):
            warnings.warn(f"Learning rate reduction mode {self.mode} is unknown, fallback to auto mode.",
                          stacklevel=3)
            self.mode = "auto"
        if self.mode == "min" or (self.mode == "auto" and "acc" not in self.monitor):
            self.monitor_op = lambda a, b: a < b - self.min_delta
            self.best = np.inf
        else:
            self.monitor_op = lambda a, b: a > b + self.min_delta
            self.best = -np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs.keys())}.",
                stacklevel=2,
            )
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                self._reduce(epoch)

    def _reduce(self, epoch):
        old_lr = float(self.model.optimizer.learning_rate)
        if old_lr > np.float32(self.min_lr):
            new_lr = max(old_lr * self.factor, self.min_lr)
            self.model.optimizer.learning_rate = new_lr
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.", flush=True)
            self.cooldown_counter = self.cooldown
            self.wait = 0

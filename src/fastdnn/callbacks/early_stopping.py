"""EarlyStopping: stop training when a monitored quantity stops improving, as keras.callbacks.EarlyStopping."""

import warnings

from fastdnn.callbacks.monitor_callback import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stops training when `monitor` has not improved for `patience` epochs (Keras 3 semantics).

    Args (Keras defaults):
        monitor: log key to watch, "val_loss".
        min_delta: an improvement must exceed |min_delta|, 0.
        patience: epochs without improvement before stopping, 0.
        verbose: 1 prints `Epoch N: early stopping` (and the restore message), 0.
        mode: "auto" (loss-like names minimise, accuracy-like maximise), "min", "max".
        baseline: a value to beat; while no epoch beats it, patience is not
            reset and training stops after `patience` epochs. None.
        restore_best_weights: put back the weights of the best epoch, False.
        start_from_epoch: epochs to ignore before monitoring starts, 0.

    At each epoch end: `wait += 1`; the first value, and any value better than
    the best by more than min_delta, becomes the best (and its weights are
    kept when restoring) and resets `wait` to 0 if it also beats `baseline`.
    Otherwise, once `wait >= patience` and epoch > 0, it sets
    `model.stop_training`. As in Keras 3, the best weights are restored at
    `on_train_end` even when training ran to the end without stopping early
    (tf.keras 2 restored them only when it stopped). A missing `monitor` key
    warns, listing the keys that are there, and the epoch is skipped.
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
    ):
        super().__init__(monitor=monitor, mode=mode, baseline=None, min_delta=min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        # Reset, so one instance can serve several fit calls.
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Until something improves, the first monitored epoch is the best.
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch

        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # Patience restarts only for a value that also beats the baseline.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping", flush=True)
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.", flush=True)
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs.keys())}",
                stacklevel=2,
            )
        return value

"""ModelCheckpoint: save the model or its weights during training, as keras.callbacks.ModelCheckpoint."""

import operator
import os
import warnings

import numpy as np

from fastdnn.callbacks.monitor_callback import MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Saves the model (or its weights) after every epoch or every `save_freq` batches.

    Args (Keras defaults):
        filepath: where to save; formatted with `filepath.format(epoch=epoch + 1, **logs)`
            (and `batch=batch + 1` when saving by batch), so
            "ckpt-{epoch:02d}-{val_loss:.2f}.keras" names each file by epoch and loss.
        monitor: log key compared when `save_best_only`, "val_loss".
        verbose: 1 prints a line for each decision and save, 0.
        save_best_only: save only when `monitor` improved on the best so far
            (Keras' test: by more than 0, in the direction of `mode`), False.
        save_weights_only: `model.save_weights(path, overwrite=True)` instead of
            `model.save(path, overwrite=True)`, False.
        mode: "auto", "min" or "max", as EarlyStopping.
        save_freq: "epoch", or an int: save every that many training batches
            (counted across epochs, with the running logs of the batch).
        initial_value_threshold: the best value to beat at first; None means
            the first monitored value is saved.

    The parent directory is created when missing. A `monitor` key missing from
    the logs with `save_best_only` warns and saves anyway, as Keras does.

    Differences from Keras 3: any file name is accepted (Keras requires
    ".keras"/".h5", or ".weights.h5" with save_weights_only); the model picks
    the format by the name: ".keras" writes Keras 3's file (configuration,
    weights, and the optimizer state where Keras' variables map) and nothing
    else, so training resumed from it starts a new shuffling stream; exact
    resumption (the shuffling stream, every optimizer's state) needs a ".fdnn"
    name, fastdnn's own format. The direction of `monitor` is only needed,
    and so only checked, when `save_best_only` is set.
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        save_freq="epoch",
        initial_value_threshold=None,
    ):
        super().__init__(monitor=monitor, mode=mode, baseline=initial_value_threshold)
        if save_freq != "epoch" and not (isinstance(save_freq, int) and not isinstance(save_freq, bool)):
            raise ValueError(
                f"Unrecognized save_freq: {save_freq}. Expected save_freq are 'epoch' or integer values"
            )
        self.filepath = os.fspath(filepath)
        from fastdnn import saving

        if save_weights_only:  # now, rather than among the progress lines of fit
            saving.note_suffix(self.filepath, stacklevel=3)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0

    def _implements_train_batch_hooks(self):
        # Batch ends matter only when saving by batch.
        return self.save_freq != "epoch"

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _should_save_on_batch(self, batch):
        if self.save_freq == "epoch":
            return False
        # `batch` restarts at 0 each epoch, and fit may report only the last
        # batch of a group: count the batches since the previous report.
        if batch <= self._last_batch_seen:
            new_batches = batch + 1
        else:
            new_batches = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += new_batches
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _file_path(self, epoch, batch, logs):
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}') from e

    def _should_save(self, epoch, logs, filepath):
        if not self.save_best_only:
            self._say(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=2)
            return True
        if np.ndim(current) > 0:
            warnings.warn(
                f"Can save best model only when `monitor` is a scalar value. Received: {current}. "
                "Falling back to `save_best_only=False`.",
                stacklevel=2,
            )
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
            if self.best is None:
                self.best = float("inf") if self.monitor_op is operator.lt else -float("inf")
        best = f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            self._say(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to {current:.5f}, "
                      f"saving model to {filepath}")
            self.best = current
            return True
        self._say(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _save_model(self, epoch, batch, logs):
        logs = logs or {}
        filepath = self._file_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise IOError(
                "Please specify a non-directory filepath for ModelCheckpoint. "
                f"Filepath used is an existing directory: {filepath}"
            )
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        self._say(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _say(self, message):
        if self.verbose > 0:
            print(message, flush=True)

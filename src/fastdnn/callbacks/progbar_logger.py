"""ProgbarLogger: the progress bar of fit, evaluate and predict, as keras.callbacks.ProgbarLogger."""

from fastdnn.callbacks.callback import Callback
from fastdnn.utils.progbar import Progbar


class ProgbarLogger(Callback):
    """Prints progress and metrics to stdout, as Keras 3's ProgbarLogger.

    fit adds one itself; it reads `self.params` = {'verbose', 'epochs', 'steps'}
    ('auto' means 1). In fit it prints `Epoch 2/5` before each epoch (only when
    epochs > 1, as Keras 3), then a bar redrawn at each training batch end
    (verbose=1) or a single line per epoch (verbose=2); the epoch-end line adds
    the `val_` metrics. Evaluation inside fit is silent; evaluate and predict
    called on their own get their own bar.

    fit may report only the last batch of a group of batches: the bar shows
    that step. Differs from Keras 3.15 on purpose: the logs hold running means
    already, so the bar shows them as given instead of averaging them again
    (Keras fixed the same double averaging upstream, keras-team/keras#23030).
    """

    def __init__(self):
        super().__init__()
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params):
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    # The bar is content with the batch ends fit reports for its groups of
    # batches, so it never asks fit for every batch (which would cost one
    # engine call per batch).
    def _implements_train_batch_hooks(self):
        return False

    def _implements_test_batch_hooks(self):
        return False

    def _implements_predict_batch_hooks(self):
        return False

    def on_train_begin(self, logs=None):
        # Validation inside fit stays silent.
        self._called_in_fit = True

    def on_train_end(self, logs=None):
        self._called_in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}", flush=True)

    def on_train_batch_end(self, batch, logs=None):
        self._update_progbar(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize_progbar(logs)

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_begin(self, logs=None):
        self._reset_progbar()

    def on_predict_batch_end(self, batch, logs=None):
        # Predictions are not metrics: show the count only.
        self._update_progbar(batch, None)

    def on_predict_end(self, logs=None):
        self._finalize_progbar(None)

    def _reset_progbar(self):
        self.seen = 0
        self.progbar = Progbar(target=self.target, verbose=self.verbose, unit_name="step")

    def _update_progbar(self, batch, logs):
        logs = logs or {}
        if self.progbar is None:
            self._reset_progbar()
        self.seen = batch + 1  # batch is 0-based
        self.progbar.stateful_metrics.update(logs)
        if self.verbose == 1:
            self.progbar.update(self.seen, list(logs.items()), finalize=False)

    def _finalize_progbar(self, logs):
        logs = logs or {}
        if self.progbar is None:
            self._reset_progbar()
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.target
        self.progbar.stateful_metrics.update(logs)
        self.progbar.update(self.target, list(logs.items()), finalize=True)

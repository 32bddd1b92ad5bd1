"""TerminateOnNaN: stop training at a NaN or infinite loss, as keras.callbacks.TerminateOnNaN."""

import math

from fastdnn.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """Stops training when a batch reports a NaN or infinite loss.

    At each training batch end it reads `logs['loss']`; if that is NaN or ±inf
    it prints `Batch N: Invalid loss, terminating training` and sets
    `model.stop_training = True`, so fit stops after this batch and still runs
    every callback's `on_train_end`. With `raise_error=True` (Keras 3's newer
    option, default False) it raises RuntimeError instead, skipping that cleanup.

    When fit reports batches in groups, N is the index of the group's last
    batch: the loss there is the running mean, which stays NaN/inf once any
    batch of the epoch had one.
    """

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        if self.raise_error:
            raise RuntimeError(
                f"NaN or Inf loss encountered at batch {batch}. "
                f"Loss value: {loss}. Terminating training immediately."
            )
        print(f"Batch {batch}: Invalid loss, terminating training", flush=True)
        self.model.stop_training = True

"""LearningRateScheduler: set the learning rate from a function of the epoch (keras.callbacks.LearningRateScheduler)."""

import numpy as np

from fastdnn.callbacks.callback import Callback


class LearningRateScheduler(Callback):
    """Sets `model.optimizer.learning_rate = schedule(epoch, lr)` at the start of every epoch.

    Args:
        schedule: `schedule(epoch, lr) -> new lr`, with epoch 0-based and lr the
            current rate; a one-argument `schedule(epoch)` (the old API) is also
            accepted: as in Keras, it is used when the two-argument call raises
            TypeError. The result must be a float (Python, np.float32 or np.float64).
        verbose: 1 prints `Epoch N: LearningRateScheduler setting learning rate to X.`, 0.

    At each epoch end it adds the rate in force to the logs as `learning_rate`
    (as Keras 3), so History and CSVLogger record it when they run after it.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            learning_rate = self.schedule(epoch, float(optimizer.learning_rate))
        except TypeError:
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {learning_rate}")
        optimizer.learning_rate = learning_rate
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}.", flush=True)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)

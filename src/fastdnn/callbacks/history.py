"""History: the per-epoch record that fit returns, as keras.callbacks.History."""

from fastdnn.callbacks.callback import Callback


class History(Callback):
    """Records each epoch's logs; fit adds one itself and returns it.

    `history` maps each log key ('loss', 'accuracy', 'val_loss', ...) to its
    list of per-epoch values, `epoch` lists the epoch indices (0-based) and
    `params` is fit's {'verbose', 'epochs', 'steps'}. After every epoch the
    model's `history` attribute is set to this callback, as Keras 3 does, so it
    is up to date even when training stops early or fails.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        self.model.history = self

"""MonitorCallback: watching one logged quantity for improvement (EarlyStopping, ModelCheckpoint)."""

import operator
import warnings

from fastdnn.callbacks.callback import Callback

# Metric names whose values grow as the model gets better (Keras metrics with
# `_direction = "up"`); every other built-in metric and every loss goes down.
_UP_NAMES = ("acc", "accuracy", "auc", "precision", "recall", "f1_score", "fbeta_score", "r2_score",
             "cosine_similarity", "iou", "true_positives", "true_negatives")
_DOWN_NAMES = ("loss", "error", "crossentropy", "mse", "mae", "mape", "msle", "hinge", "divergence",
               "poisson", "logcosh", "false_positives", "false_negatives")


def metric_direction(monitor, model=None):
    """'max' or 'min' for a monitored name such as 'val_accuracy', or None when unknown.

    Keras 3 asks the compiled metric objects for their `_direction`; fastdnn does
    the same when the model exposes `metrics` objects that carry one, and
    otherwise decides from the name, which covers Keras' built-in metrics.
    """
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss":
        return "min"
    for metric in getattr(model, "metrics", None) or []:
        direction = getattr(metric, "_direction", None)
        if getattr(metric, "name", None) == name and direction in ("up", "down"):
            return "max" if direction == "up" else "min"
    if name.endswith(_UP_NAMES) or "accuracy" in name:
        return "max"
    if name.endswith(_DOWN_NAMES) or "loss" in name:
        return "min"
    return None


class MonitorCallback(Callback):
    """Base of callbacks that track the best value of `monitor` (Keras' MonitorCallback).

    mode: 'min', 'max' or 'auto' (from the name, see `metric_direction`; an
    unknown mode warns and falls back to 'auto'). `best` starts at `baseline`;
    the direction is settled at the first check, once the model is known. A
    value improves on a reference when it beats it by more than |min_delta|,
    and always improves on None.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.", stacklevel=3)
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        mode = self.mode if self.mode != "auto" else metric_direction(self.monitor, self.model)
        if mode is None:
            raise ValueError(
                f"{type(self).__name__} callback received monitor={self.monitor}, but fastdnn isn't able to "
                "automatically determine whether that metric should be maximized or minimized. Pass "
                "`mode='max'` in order to monitor based on the highest metric value, or pass `mode='min'` "
                "in order to use the lowest value."
            )
        self.monitor_op = operator.lt if mode == "min" else operator.gt
        # Subtracting a signed delta makes "better by more than min_delta" one comparison.
        if mode == "min":
            self.min_delta = -abs(self.min_delta)

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        return bool(self.monitor_op(value - self.min_delta, reference))

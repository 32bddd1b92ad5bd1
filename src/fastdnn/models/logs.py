"""The logs fit, evaluate and the *_on_batch calls report: the loss and every metric by
name, in Keras 3's order, kept as running values over the batches."""

import numpy as np


def keras_logs(loss, engine_value, engine_metric, python_metrics, python_values):
    """Logs as Keras 3 orders them: the metrics and loss by name."""
    logs = {"loss": float(loss)}
    if engine_metric is not None:
        logs[engine_metric.name] = float(engine_value)
    for m, v in zip(python_metrics, python_values):
        logs[m.name] = float(v) if np.size(v) == 1 else np.asarray(v)  # a vector for several thresholds
    return dict(sorted(logs.items()))


class Tally:
    """Running logs over the batches of an epoch or an evaluation, as Keras' metrics keep them: the
    loss averaged over the rows; the engine's accuracy count over the rows, or over Σw when it is
    a weighted metric and there are weights; the Python metrics as stateful objects (reset here),
    given the sample weights when they are weighted metrics."""

    def __init__(self, engine_metric, python_metrics, weighted_ids):
        self.engine_metric, self.python_metrics, self.weighted_ids = engine_metric, python_metrics, weighted_ids
        self.rows, self.loss_sum, self.hits, self.weight_sum = 0, 0.0, 0.0, 0.0
        for m in python_metrics:
            m.reset_state()

    def add(self, loss_sum, rows, hits, weighted_hits=None, y=None, outputs=None, weights=None):
        """One engine call's results: Σ over its rows of the loss, its accuracy hits (and weighted
        hits, with weights), and the targets and outputs for the Python metrics."""
        self.rows += rows
        self.loss_sum += loss_sum
        weighted_engine_metric = weights is not None and id(self.engine_metric) in self.weighted_ids
        self.hits += weighted_hits if weighted_engine_metric else hits
        if weights is not None:
            self.weight_sum += float(np.sum(weights, dtype=np.float64))
        for m in self.python_metrics:
            m.update_state(y, outputs, sample_weight=weights if id(m) in self.weighted_ids else None)

    def logs(self):
        weighted = bool(self.weighted_ids) and id(self.engine_metric) in self.weighted_ids
        denominator = self.weight_sum if weighted else self.rows
        return keras_logs(self.loss_sum / self.rows, self.hits / denominator if denominator else 0.0,
                                self.engine_metric, self.python_metrics, [m.result() for m in self.python_metrics])


def metric_fits_loss(metric_kind, loss_kind):
    sparse_loss = loss_kind == "sparse_categorical_crossentropy"
    return (metric_kind == "sparse_categorical_accuracy") == sparse_loss

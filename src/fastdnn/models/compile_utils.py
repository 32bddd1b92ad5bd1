"""compile()'s loss, loss_weights and metrics resolved against a model's outputs and the first
targets, as Keras 3's trainers/compile_utils.py (CompileLoss, CompileMetrics).

One output: the loss and metrics apply to it, logs are unprefixed (`loss`, `accuracy`).
Several outputs: one loss for all, or a list (one per output, None skips one) or a dict keyed by
output name; loss_weights likewise; the total is Σ weight·loss. Logs name each output's loss
`<output>_loss` and its metrics `<output>_<metric>`. Where Keras 3 refuses a metrics list whose
length is not the number of outputs, fastdnn applies it to every output (Keras 2's rule); a list
with one entry per output is read per output, as Keras 3."""

import numpy as np

from fastdnn import losses as losses_module
from fastdnn import metrics as metrics_module
from fastdnn.models.logs import Tally, metric_fits_loss


def per_output(value, names, what, allow_none=True):
    """`value` given for all outputs, as a list/tuple (one per output) or a dict keyed by output name:
    a list with one entry per output, in output order."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(f"Expected keys {names} in {what} dict, but found {what}.keys()={list(value)} "
                             f"(unknown: {unknown})")
        return [value.get(name) for name in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(f"{what} has {len(value)} entries but the model has {len(names)} outputs {names}: "
                             f"give one per output, a dict keyed by output name, or one {what} for all")
        return list(value)
    return [value] * len(names)


class Output:
    """One output: its loss (an engine spec, or None), loss weight, metrics and name."""

    def __init__(self, name, loss, weight, y_shape, out_shape, metrics, weighted_metrics, may_use_engine):
        self.name, self.weight, self.out_shape = name, weight, out_shape
        self.spec = None if loss is None else losses_module.engine_spec(_pick_auto(loss, y_shape, out_shape))
        self.metrics = [metrics_module.resolve(m, y_shape, out_shape) for m in metrics]
        weighted = [metrics_module.resolve(m, y_shape, out_shape) for m in weighted_metrics]
        names = {m.name for m in self.metrics}
        for m in weighted:  # Keras' CompileMetrics.result: a clash gets the "weighted_" prefix
            if m.name in names:
                m.name = f"weighted_{m.name}"
            names.add(m.name)
        self.weighted = {id(m) for m in weighted}
        self.metrics += weighted
        self.engine_metric, self.python_metrics = None, []
        for m in self.metrics:
            kind = metrics_module.ENGINE_METRICS.get(type(m))
            if (may_use_engine and self.spec is not None and self.engine_metric is None and kind is not None
                    and metric_fits_loss(kind, self.spec["kind"]) and m._fn_kwargs.get("threshold", 0.5) == 0.5):
                self.engine_metric = m
                self.spec["metric"] = kind
            else:
                self.python_metrics.append(m)


def _pick_auto(loss, y_shape, out_shape):
    if isinstance(loss, str):  # "crossentropy": Keras 3 picks by the shapes
        if out_shape[-1] == 1:
            return losses_module.BinaryCrossentropy()
        if len(y_shape) < len(out_shape) or y_shape[-1] == 1:
            return losses_module.SparseCategoricalCrossentropy()
        return losses_module.CategoricalCrossentropy()
    return loss


class CompiledOutputs:
    """compile()'s arguments resolved for a model's outputs (`names`, `shapes`) and targets `ys`
    (one per output). `heads` is False for a Sequential model, whose engine takes one loss dict."""

    def __init__(self, loss, loss_weights, metrics, weighted_metrics, names, shapes, ys, heads):
        self.names, self.heads = list(names), heads
        single = len(names) == 1
        losses = [loss] if single and not isinstance(loss, (list, tuple, dict)) else per_output(loss, names, "loss")
        if loss_weights is None:
            weights = [1.0] * len(names)
        elif single and np.ndim(loss_weights) == 0 and not isinstance(loss_weights, dict):
            weights = [float(loss_weights)]
        else:
            weights = [1.0 if w is None else float(w) for w in per_output(loss_weights, names, "loss_weights")]
        metric_lists = self._metric_lists(metrics, names)
        weighted_lists = self._metric_lists(weighted_metrics, names)
        self.outputs = [
            Output(names[h], None if losses[h] is None else _resolved_loss(losses[h]), weights[h],
                   np.shape(ys[h]) if ys[h] is not None else (None, *shapes[h][1:]), shapes[h],
                   metric_lists[h], weighted_lists[h], may_use_engine=(h == 0))
            for h in range(len(names))]
        if all(o.spec is None for o in self.outputs):
            raise ValueError("compile() got no loss for any output: the model has nothing to train on")
        self.metrics = [m for o in self.outputs for m in o.metrics]

    @staticmethod
    def _metric_lists(metrics, names):
        if metrics is None:
            return [[] for _ in names]
        if isinstance(metrics, dict):
            return [_as_list(m) for m in per_output(metrics, names, "metrics")]
        metrics = list(metrics)
        if len(names) > 1 and len(metrics) == len(names):
            return [_as_list(m) for m in metrics]
        return [list(metrics) for _ in names]

    @property
    def single(self):
        return len(self.outputs) == 1

    def engine_loss(self):
        """The loss argument of _core.Network: a dict (Sequential), or one head per output."""
        if not self.heads:
            return self.outputs[0].spec
        return [o.spec for o in self.outputs], [o.weight for o in self.outputs]

    def new_tally(self, sample_weight):
        return OutputsTally(self, sample_weight is not None)

    def ordered(self, logs):
        """evaluate()'s list, as Keras 3 builds it: loss, each output's loss in output order, the
        single output's metrics in compile order, then every other log sorted by name."""
        if self.single:
            return [logs["loss"]] + [logs[m.name] for m in self.metrics]
        first = ["loss"] + [f"{o.name}_loss" for o in self.outputs if o.spec is not None]
        return [logs[k] for k in first] + [logs[k] for k in sorted(logs) if k not in first]


def _as_list(m):
    if m is None:
        return []
    return list(m) if isinstance(m, (list, tuple)) else [m]


def _resolved_loss(loss):
    if isinstance(loss, str) and loss in losses_module.AUTO:
        return loss
    return losses_module.get(loss)


class OutputsTally:
    """Running logs over the batches, for every output: the total loss, and per output a Tally
    (its unweighted loss, its engine and Python metrics)."""

    def __init__(self, compiled, weighted):
        self.compiled = compiled
        self.rows, self.loss_sum = 0, 0.0
        self.tallies = [Tally(o.engine_metric, o.python_metrics, o.weighted if weighted else set())
                        for o in compiled.outputs]

    def add(self, loss_sum, rows, hits, weighted_hits=None, ys=None, outputs=None, weights=None,
            head_loss_sums=None):
        """One engine call: Σ over its rows of the total loss, output 0's engine hits, and per output
        Σ of its loss (several outputs), its targets and outputs (for the Python metrics)."""
        self.rows += rows
        self.loss_sum += loss_sum
        for h, tally in enumerate(self.tallies):
            head_loss = loss_sum if self.compiled.single else head_loss_sums[h]
            tally.add(head_loss, rows, hits if h == 0 else 0.0, weighted_hits if h == 0 else None,
                      y=None if ys is None else ys[h], outputs=None if outputs is None else outputs[h],
                      weights=weights)

    def logs(self):
        if self.compiled.single:
            return self.tallies[0].logs()
        logs = {"loss": self.loss_sum / self.rows}
        for o, tally in zip(self.compiled.outputs, self.tallies):
            for key, value in tally.logs().items():
                if key == "loss":
                    if o.spec is not None:
                        logs[f"{o.name}_loss"] = value
                else:
                    logs[f"{o.name}_{key}"] = value
        return dict(sorted(logs.items()))  # Keras 3 sorts the logs by name

"""The Trainer: what a model that trains has, as Keras' trainers/trainer.py (compile, fit,
evaluate, predict, train_on_batch, test_on_batch, predict_on_batch). A model class derives
from it and provides its structure: `built`, `output_shape`, `build()`, `_invalidate()`,
`trainable`, `name`, and the hooks `_prepare_x` (x as the engine takes it), `_split_y` (y, one
entry per output), `_output_names`, `_output_shapes`, `_uses_heads` (False: the engine's
one-loss form), `_create_network`, `_leaf_layers` and `_shaped_outputs`.

Python describes the network and drives the epochs; the engine runs whole
training steps (forward, loss, backward, update) in C++ with the GIL released.
fit() calls the engine once per epoch, or once per group of batches when a
progress bar is shown, or once per batch when a callback has batch hooks. Metrics
the engine does not count are updated in Python from the training outputs that
each engine call hands back (all its batches at once).
"""

import functools
import math
import threading
import time
import warnings

import numpy as np

from fastdnn import _network, _sample_weights, distribute
from fastdnn import callbacks as callbacks_module
from fastdnn import losses as losses_module
from fastdnn import optimizers as optimizers_module
from fastdnn.models.arguments import (DEFAULT_BATCH_SIZE, non_negative_int, optional_positive_int, positive_int,
                                      resolve_verbose)
from fastdnn.models.compile_utils import CompiledOutputs
from fastdnn.models.data import as_list, prepare_y, require_finite, rows_of, take
from fastdnn.models.predictor import Predictor

_FIT_LOCK = threading.Lock()
_NETWORK_LOCK = threading.RLock()


class Trainer(Predictor):
    _fitting = False  # the id of the thread running fit(), or False
    _nan_warned = False
    _shuffle_generator = None  # set by load_model: the shuffling stream saved with the model

    def __init__(self):
        self._network = None
        self._network_key = None
        self.optimizer = None
        self.loss = None
        self._compiled_metrics = []  # compile(metrics=...) entries, resolved at the first data
        self._compiled_weighted_metrics = []  # compile(weighted_metrics=...) entries
        self._loss_weights = None
        self._outputs = None  # CompiledOutputs, resolved at the first data
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._strategy = distribute.get_strategy()  # the strategy whose scope the model was built in

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True, **kwargs):
        """Keras' compile. run_eagerly, steps_per_execution and jit_compile are accepted and
        have no effect (the engine always runs compiled steps)."""
        if kwargs:
            raise TypeError(f"compile() got unexpected keyword argument(s): {sorted(kwargs)}")
        if self._fitting and self._fitting != threading.get_ident():
            raise RuntimeError(f"compile() refused: the model {self.name} is training in another thread; "
                               "wait for fit() to return")
        if loss is None:
            raise ValueError("fastdnn needs a loss: compile(loss=...)")
        self.optimizer = optimizers_module.get(optimizer)
        if isinstance(loss, (list, tuple, dict)):
            self.loss = loss  # one per output, resolved at the first data
        elif isinstance(loss, str) and loss in losses_module.AUTO:
            self.loss = loss  # chosen from the shapes of the first data
        else:
            self.loss = losses_module.get(loss)
        self._loss_weights = loss_weights
        self._compiled_metrics = metrics if isinstance(metrics, dict) else list(metrics or [])
        self._compiled_weighted_metrics = (weighted_metrics if isinstance(weighted_metrics, dict)
                                           else list(weighted_metrics or []))
        self._outputs = None
        self.compiled = True
        self._strategy = distribute.get_strategy() or self._strategy
        self._invalidate()

    @property
    def distribute_strategy(self):
        """The strategy the model was built or compiled under (fastdnn.distribute), or None."""
        return self._strategy

    def _parallel(self):
        """The strategy fit trains with: one of several replicas (or LocalStrategy), else None."""
        return self._strategy if self._strategy is not None and self._strategy.shards else None

    def _require_compiled(self):
        if not self.compiled:
            raise RuntimeError("You must call `compile()` before using the model.")

    @property
    def _metrics(self):
        """The resolved compile() metrics of every output, once data has been seen."""
        return self._outputs.metrics if self._outputs else None

    @property
    def metrics_names(self):
        return ["loss"] + [m.name for m in (self._outputs.metrics if self._outputs else [])]

    def _compile_outputs(self, y):
        """compile()'s loss and metrics for each output, resolved at the first targets."""
        if self._outputs is None:
            names, shapes = self._output_names(), self._output_shapes()
            ys = self._split_y(y) if y is not None else [None] * len(names)
            self._outputs = CompiledOutputs(self.loss, self._loss_weights, self._compiled_metrics,
                                            self._compiled_weighted_metrics, names, shapes, ys,
                                            heads=self._uses_heads)
        return self._outputs

    def _prepare_targets(self, y, rows):
        """y as the engine takes it (an array for a Sequential model, one per output otherwise), and
        the list of per-output arrays for the Python metrics."""
        outputs = self._compile_outputs(y)
        ys = [None if o.spec is None else prepare_y(shape, y_h, o.spec, rows)
              for o, shape, y_h in zip(outputs.outputs, self._output_shapes(), self._split_y(y))]
        return (ys if self._uses_heads else ys[0]), ys

    def _get_network(self, compiled=None):
        """The engine network for the current layers, loss and optimizer (rebuilt when they change)."""
        with _NETWORK_LOCK:  # predict from several threads on a fresh model: one network, built once
            return self._get_network_locked(None if compiled is None else compiled.engine_loss())

    def _get_network_locked(self, spec):
        if not self.built:
            raise ValueError(f"The model {self.name} has not been built yet: call build() or pass data")
        optimizer = self.optimizer._engine_spec() if self.optimizer is not None else None
        leaves = self._leaf_layers()
        trainable = tuple(layer.trainable and self.trainable for layer in leaves)
        key = (repr(spec), repr(optimizer), trainable)
        if self._network is not None and (spec is None or key == self._network_key):
            return self._network
        if self._fitting and self._fitting != threading.get_ident():
            raise RuntimeError(f"The model {self.name} is training in another thread: this call would rebuild "
                               "its engine network (another loss or optimizer) under it; wait for fit() to return")
        frozen = [layer for layer, t in zip(leaves, trainable) if not t]
        saved = {}
        for layer in frozen:  # the engine's trainable flag follows the model's, for this build
            saved[layer] = layer._trainable
            layer._trainable = False
        try:
            old = self._network
            net = self._create_network(spec, optimizer)
        finally:
            for layer, value in saved.items():
                layer._trainable = value
        if old is not None and self.optimizer is not None and self.optimizer._network is old:
            _network.copy_optimizer_state(old, net)
        elif self.optimizer is not None and getattr(self, "_pending_optimizer_state", None) is not None:
            _network.restore_optimizer_state(net, *self._pending_optimizer_state)  # from load_model
            self._pending_optimizer_state = None
        if self.optimizer is not None:
            self.optimizer._attach(net)
        self._network, self._network_key = net, key if spec is not None else None
        return net

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None, sample_weight=None,
            initial_epoch=0, steps_per_epoch=None, validation_steps=None, validation_batch_size=None,
            validation_freq=1, **kwargs):
        """Trains for `epochs` epochs; returns the History. Keras' arguments and defaults; Keras 2's
        nb_epoch= is accepted (with a warning). steps_per_epoch=k runs k batches per epoch, each
        epoch going on where the last one stopped in the shuffled data (as Keras 3's epoch
        iterator does); an epoch that reaches the end of the data ends there with Keras' warning.

        sample_weight (one per sample) and class_weight ({class index: weight}) weight each sample's
        loss, its gradient and the weighted_metrics inside the engine, as Keras 3: the loss is
        Σ w·loss / samples of the batch (not / Σw); compile(metrics=...) stay unweighted.
        validation_data may be (x_val, y_val, sample_weight_val). fastdnn's rules where Keras is
        lax: weights must be finite and >= 0, and class_weight must cover every class in y
        (ValueError otherwise; Keras 3 uses 1.0 for a missing class).

        Interruption: Ctrl-C (KeyboardInterrupt, noticed between batches, within 50 ms) or an
        exception from a callback stops training at a batch boundary, with the weights and the
        optimizer state of the last whole step; every callback's on_train_end is then called and
        the exception reaches the caller. Difference from Keras 3, which skips on_train_end on an
        exception: here loggers and checkpoints close cleanly.

        Resumption: model.save stores the optimizer state (with its step count, which also
        drives the dropout masks) and the state of the shuffling stream; a model from load_model
        shuffles from a private generator continuing that stream (the global one is left
        alone), so load_model + fit(initial_epoch=k) continues exactly (bitwise, at any thread
        count) as the run that saved it after epoch k would have.

        NaN or Inf anywhere in x or y is refused (ValueError naming the row and column) before any
        step. Threads: a second fit of a model that is training is refused (RuntimeError);
        predict and evaluate from other threads run between its engine calls (each sees the
        weights of a whole step)."""
        if "nb_epoch" in kwargs:
            warnings.warn("The `nb_epoch` argument in `fit` has been renamed `epochs`.", DeprecationWarning, stacklevel=2)
            epochs = kwargs.pop("nb_epoch")
        if kwargs:
            raise TypeError(f"fit() got unexpected keyword argument(s): {sorted(kwargs)}")
        batch_size = positive_int("batch_size", DEFAULT_BATCH_SIZE if batch_size is None else batch_size)
        epochs = non_negative_int("epochs", epochs)
        initial_epoch = non_negative_int("initial_epoch", initial_epoch)
        steps_per_epoch = optional_positive_int("steps_per_epoch", steps_per_epoch)
        validation_steps = optional_positive_int("validation_steps", validation_steps)
        validation_batch_size = optional_positive_int("validation_batch_size", validation_batch_size)
        validation_freq = positive_int("validation_freq", validation_freq)
        self._require_compiled()
        with _FIT_LOCK:  # test-and-set: two threads must not both start training this model
            if self._fitting:
                raise RuntimeError(f"fit() refused: the model {self.name} is already training (a fit() of it is "
                                   "running, in another thread or below this call); wait for it to return")
            self._fitting = threading.get_ident()
        try:
            if self._parallel() is None:
                distribute.strategy.warn_unscoped(self)
            return self._fit(x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data,
                             shuffle, initial_epoch, steps_per_epoch, validation_steps, validation_batch_size,
                             validation_freq, sample_weight, class_weight)
        finally:
            self._fitting = False

    def _fit(self, x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data, shuffle,
             initial_epoch, steps_per_epoch, validation_steps, validation_batch_size, validation_freq,
             sample_weight, class_weight):
        x = self._prepare_x(x)
        n = rows_of(x)
        y, ys = self._prepare_targets(y, n)
        compiled = self._outputs
        _sample_weights.refuse_both(sample_weight, class_weight)
        sample_weight = _sample_weights.prepare(sample_weight, n)
        if validation_data is None and validation_split:
            if not 0 < validation_split < 1:
                raise ValueError(f"validation_split must be in [0, 1); got {validation_split}")
            split_at = int(n * (1.0 - validation_split))  # Keras: the last samples, before shuffling
            if split_at == 0 or split_at == n:
                raise ValueError(f"validation_split={validation_split} leaves no samples for "
                                 f"{'training' if split_at == 0 else 'validation'} out of {n}")
            validation_data = (take(x, slice(split_at, None)), take(y, slice(split_at, None)))
            if sample_weight is not None:
                validation_data += (sample_weight[split_at:],)
                sample_weight = sample_weight[:split_at]
            x, y, ys = take(x, slice(None, split_at)), take(y, slice(None, split_at)), take(ys, slice(None, split_at))
            n = split_at
        if class_weight is not None:  # as Keras: the training part only, after the split
            if not compiled.single:
                raise ValueError("`class_weight` is only supported for Models with a single output.")
            sample_weight = _sample_weights.from_class_weight(class_weight, ys[0])
        for i, x_i in enumerate(as_list(x)):  # the training part: validation data may hold NaN (evaluate computes on)
            require_finite("x" if not isinstance(x, list) else f"x[{i}]", x_i)
        for h, y_h in enumerate(ys):
            if y_h is not None:
                require_finite("y" if compiled.single else f"y[{h}]", y_h)
        if validation_data is not None:
            if not isinstance(validation_data, tuple) and isinstance(validation_data, list) and len(validation_data) in (2, 3):
                validation_data = tuple(validation_data)
            if not isinstance(validation_data, tuple) or len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be a tuple (x_val, y_val) or (x_val, y_val, sample_weight_val)")
            x_val = self._prepare_x(validation_data[0])
            y_val, _ = self._prepare_targets(validation_data[1], rows_of(x_val))
            w_val = None
            if len(validation_data) == 3:
                w_val = _sample_weights.prepare(validation_data[2], rows_of(x_val), "validation_data's sample_weight")
        verbose = resolve_verbose(verbose)
        batches_per_pass = math.ceil(n / batch_size)
        steps = steps_per_epoch or batches_per_pass
        net = self._get_network(compiled)
        strategy = self._parallel()
        if strategy is not None:
            if not strategy.is_chief:
                verbose = 0
            callbacks = strategy.callbacks_for_rank(list(callbacks or []))
            try:
                strategy.begin_fit(self, net, x, y)
            except BaseException as error:
                strategy.abort(error)
                raise

        callback_list = callbacks_module.CallbackList(callbacks)
        history = next((c for c in callback_list.callbacks if isinstance(c, callbacks_module.History)), None)
        if history is None:
            history = callbacks_module.History()
            callback_list.append(history)
        self.history = history  # what fit returns, also when it runs no epoch (epochs=0, as Keras)
        progbar = next((c for c in callback_list.callbacks if isinstance(c, callbacks_module.ProgbarLogger)), None)
        if progbar is None and verbose:
            progbar = callbacks_module.ProgbarLogger()
            callback_list.append(progbar)
        callback_list.set_model(self)
        callback_list.set_params({"verbose": verbose, "epochs": epochs, "steps": steps})

        self.stop_training = False
        # A non-finite loss warns once per fit, unless TerminateOnNaN is there to handle it.
        self._nan_warned = any(isinstance(c, callbacks_module.TerminateOnNaN) for c in callback_list.callbacks)
        batch_hooks = callback_list._implements_train_batch_hooks()
        logs = {}
        order, position = None, 0  # the current pass over the shuffled data, and the next batch in it
        callback_list.on_train_begin()
        try:
            for epoch in range(initial_epoch, epochs):
                callback_list.on_epoch_begin(epoch)
                if order is None:
                    order, position = self._shuffled(n, shuffle), 0
                end = min(batches_per_pass, position + steps)
                if end - position < steps:
                    warnings.warn("Your input ran out of data; interrupting training. Make sure that your dataset "
                                  "or generator can generate at least `steps_per_epoch * epochs` batches.",
                                  UserWarning, stacklevel=3)
                logs = self._train_epoch(net, x, y, order[position * batch_size: end * batch_size], batch_size,
                                         callback_list, batch_hooks, progbar is not None and verbose == 1,
                                         compiled, ys, sample_weight)
                position = end
                if position == batches_per_pass:
                    order = None  # the next epoch starts a new pass, newly shuffled
                if validation_data is not None and (epoch + 1) % validation_freq == 0:
                    val = self._evaluate_with_callbacks(net, x_val, y_val, validation_batch_size or batch_size,
                                                        callback_list, compiled,
                                                        validation_steps, w_val)
                    logs.update({f"val_{k}": v for k, v in val.items()})
                callback_list.on_epoch_end(epoch, logs)
                if strategy is not None:
                    self.stop_training = strategy.agree_to_stop(self.stop_training)  # no rank left waiting
                if self.stop_training:
                    break
        except BaseException as error:
            if strategy is not None:
                strategy.abort(error)
            raise
        finally:
            # Also on KeyboardInterrupt or an error (Keras 3 skips it then): loggers and
            # checkpoints close cleanly; the exception then reaches the caller.
            callback_list.on_train_end(logs)
        return self.history

    def _shuffled(self, n, shuffle):
        """The epoch's order of the samples, drawn from the global generator (seeded by
        utils.set_random_seed) or, for a model from load_model, from a generator that continues
        the stream saved with it, so training resumed from a file shuffles exactly as the run
        that saved it would have gone on to."""
        from fastdnn import _random

        if shuffle == "batch":
            raise NotImplementedError("shuffle='batch' is not supported by fastdnn")
        generator = self._shuffle_generator or _random.generator()
        return generator.permutation(n) if shuffle else np.arange(n)

    def _train_epoch(self, net, x, y, order, batch_size, callbacks, batch_hooks, show_progress,
                     compiled, ys, sample_weight=None):
        """One epoch in as few engine calls as the callbacks allow; returns the epoch logs. The
        Python metrics are updated once per engine call, from the training outputs of all its
        batches (what Keras' metrics see batch by batch: sums, so the running values at every
        logged batch boundary are Keras')."""
        steps = math.ceil(len(order) / batch_size)
        tally = compiled.new_tally(sample_weight)
        outputs = self._output_buffers(net, compiled, len(order))
        heads = len(compiled.outputs) if self._uses_heads else 0
        # Batches per engine call: 1 for batch hooks; with a progress bar, enough for ~0.1 s.
        group = 1 if batch_hooks or show_progress else steps
        step = 0
        logs = {}
        while step < steps:
            count = min(group, steps - step)
            if batch_hooks:
                callbacks.on_train_batch_begin(step)
            idx = order[step * batch_size: (step + count) * batch_size]
            rates = self.optimizer._learning_rates(net.iterations, count)
            started = time.perf_counter()
            rows = take(outputs, slice(step * batch_size, step * batch_size + len(idx)))
            head_losses = np.zeros((count, heads)) if heads else None
            strategy = self._parallel()
            train = net.train_batches if strategy is None else functools.partial(strategy.train_batches, net)
            losses, *batch_hits = train(x, y, idx, batch_size, rates, sample_weight=sample_weight,
                                        outputs=self._engine_form(rows), head_losses=head_losses)
            elapsed = time.perf_counter() - started
            sizes = np.minimum(batch_size, len(idx) - batch_size * np.arange(count))
            tally.add(float(np.dot(losses, sizes)), len(idx), *(float(h.sum()) for h in batch_hits),
                      ys=take(ys, idx) if outputs is not None else None, outputs=rows,
                      weights=None if sample_weight is None else sample_weight[idx],
                      head_loss_sums=None if head_losses is None else sizes @ head_losses)
            if not self._nan_warned and not np.all(np.isfinite(losses)):
                self._nan_warned = True
                warnings.warn(f"The training loss became {losses[~np.isfinite(losses)][0]} at batch "
                              f"{step + int(np.argmin(np.isfinite(losses)))}; the weights are no longer finite. "
                              "Use callbacks.TerminateOnNaN() to stop at once, or a smaller learning rate.",
                              RuntimeWarning, stacklevel=4)
            step += count
            logs = tally.logs()
            if batch_hooks or show_progress:
                callbacks.on_train_batch_end(step - 1, logs)
            if show_progress and not batch_hooks:
                group = max(1, min(steps, int(count * 0.1 / max(elapsed, 1e-6))))
            if self.stop_training and batch_hooks:
                break
        return logs

    def _output_buffers(self, net, compiled, rows):
        """Per output, a (rows, width) buffer for the outputs the Python metrics need, or None."""
        if not any(o.python_metrics for o in compiled.outputs):
            return None
        widths = net.output_widths
        return [np.empty((rows, w), np.float32) if o.python_metrics else None
                for o, w in zip(compiled.outputs, widths)]

    def _engine_form(self, per_output):
        """A per-output list as the engine takes it: the list itself, or its one entry for a Sequential."""
        if per_output is None or self._uses_heads:
            return per_output
        return per_output[0]

    def _evaluate_arrays(self, net, x, y, ys, batch_size, compiled, sample_weight=None):
        """Logs of one inference pass over (x, y) (see _evaluate_with_callbacks), with no callbacks."""
        return self._evaluate_with_callbacks(net, x, y, batch_size, None, compiled, sample_weight=sample_weight, ys=ys)

    def _evaluate_with_callbacks(self, net, x, y, batch_size, callbacks, compiled, steps=None, sample_weight=None,
                                 ys=None):
        """Keras' evaluation loop (also fit's validation): on_test_begin; on_test_batch_begin/end for
        each batch, with the running logs, when a callback has those hooks (otherwise one engine
        call over all the batches, and one on_test_batch_end for the progress bar); on_test_end.
        Loss, engine metric and Python metrics come from the same inference pass (the engine
        hands back the outputs it computed the loss from). `steps` evaluates the first `steps`
        batches only. Returns the logs."""
        if ys is None:
            ys = y if self._uses_heads else [y]
        n = rows_of(x)
        rows = n if steps is None else min(n, steps * batch_size)
        batches = math.ceil(rows / batch_size)
        per_batch = callbacks is not None and callbacks._implements_test_batch_hooks()
        chunk_rows = batch_size if per_batch else rows
        tally = compiled.new_tally(sample_weight)
        outputs = self._output_buffers(net, compiled, rows)
        heads = len(compiled.outputs) if self._uses_heads else 0
        if callbacks is not None:
            callbacks.on_test_begin()
        for b, start in enumerate(range(0, rows, chunk_rows)):
            chunk = slice(start, min(rows, start + chunk_rows))
            size = chunk.stop - chunk.start
            weights = None if sample_weight is None else sample_weight[chunk]
            if per_batch:
                callbacks.on_test_batch_begin(b)
            out = take(outputs, chunk)
            head_losses = np.zeros(heads) if heads else None
            loss, *hits = net.evaluate(take(x, chunk), take(y, chunk), batch_size, sample_weight=weights,
                                       outputs=self._engine_form(out), head_losses=head_losses)
            tally.add(loss * size, size, *hits, ys=take(ys, chunk) if outputs is not None else None, outputs=out,
                      weights=weights, head_loss_sums=None if head_losses is None else head_losses * size)
            if per_batch:
                callbacks.on_test_batch_end(b, tally.logs())
        logs = tally.logs()
        if callbacks is not None:
            if not per_batch:
                callbacks.on_test_batch_end(batches - 1, logs)
            callbacks.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, **kwargs):
        """Loss and metrics in inference mode: a scalar loss, or [loss, *metrics] in compile order,
        or a dict with return_dict=True (Keras' returns). sample_weight weighs the loss (Σ w·loss /
        samples) and the weighted_metrics, as in fit. The list holds each metric once, weighted
        metrics after the others (where a weighted metric shares a metric's name, Keras 3's list
        repeats entries; its dict, like fastdnn's, names it "weighted_<name>")."""
        if kwargs:
            raise TypeError(f"evaluate() got unexpected keyword argument(s): {sorted(kwargs)}")
        self._require_compiled()
        x = self._prepare_x(x)
        n = rows_of(x)
        y, ys = self._prepare_targets(y, n)
        sample_weight = _sample_weights.prepare(sample_weight, n)
        batch_size = positive_int("batch_size", DEFAULT_BATCH_SIZE if batch_size is None else batch_size)
        steps = optional_positive_int("steps", steps)
        net = self._get_network(self._outputs)
        callback_list = self._inference_callbacks(callbacks, verbose, steps or math.ceil(n / batch_size))
        logs = self._evaluate_with_callbacks(net, x, y, batch_size, callback_list, self._outputs, steps,
                                             sample_weight, ys)
        return self._returned(logs, return_dict)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on one batch; returns its loss (and metrics), as Keras. sample_weight and
        class_weight as in fit."""
        self._require_compiled()
        x = self._prepare_x(x)
        n = rows_of(x)
        y, ys = self._prepare_targets(y, n)
        if class_weight is not None and not self._outputs.single:
            raise ValueError("`class_weight` is only supported for Models with a single output.")
        sample_weight = _sample_weights.for_training(sample_weight, class_weight, ys[0], n)
        net = self._get_network(self._outputs)
        rate = self.optimizer._learning_rates(net.iterations, 1)[0]
        heads = len(self._outputs.outputs) if self._uses_heads else 0
        head_losses = np.zeros(heads) if heads else None
        loss, *hits = net.train_step(x, y, rate, sample_weight=sample_weight, head_losses=head_losses)
        tally = self._outputs.new_tally(sample_weight)
        python = any(o.python_metrics for o in self._outputs.outputs)
        tally.add(loss * n, n, *hits, ys=ys, outputs=as_list(net.training_output()) if python else None,
                  weights=sample_weight, head_loss_sums=None if head_losses is None else head_losses * n)
        return self._returned(tally.logs(), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled()
        x = self._prepare_x(x)
        n = rows_of(x)
        y, ys = self._prepare_targets(y, n)
        sample_weight = _sample_weights.prepare(sample_weight, n)
        logs = self._evaluate_arrays(self._get_network(self._outputs), x, y, ys, n, self._outputs, sample_weight)
        return self._returned(logs, return_dict)

    def _returned(self, logs, return_dict):
        if return_dict:
            return logs
        ordered = self._outputs.ordered(logs)
        return ordered[0] if len(ordered) == 1 else ordered

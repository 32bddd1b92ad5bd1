"""The Predictor: predict, predict_on_batch and Keras 2's predict_classes/predict_proba, for every
model the Trainer trains (models/trainer.py), in inference mode over the engine network."""

import math
import warnings

import numpy as np

from fastdnn import callbacks as callbacks_module
from fastdnn.models.arguments import DEFAULT_BATCH_SIZE, optional_positive_int, positive_int, resolve_verbose
from fastdnn.models.data import as_list, rows_of, take


class Predictor:
    def export(self, filepath, format="tf_saved_model", verbose=None, input_signature=None, **kwargs):
        """Keras 3's export, for format="onnx" only (fastdnn.export_onnx: opset 17 unless
        opset_version= says otherwise, a dynamic batch dimension, inference only). Keras' default
        format, "tf_saved_model", and its other formats need their frameworks: a ValueError here."""
        from fastdnn import export_onnx

        export_onnx.export(self, filepath, format=format, verbose=verbose, input_signature=input_signature, **kwargs)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs in inference mode, (samples, outputs) float32."""
        x = self._prepare_x(x)
        batch_size = positive_int("batch_size", DEFAULT_BATCH_SIZE if batch_size is None else batch_size)
        steps = optional_positive_int("steps", steps)
        if steps is not None:
            x = take(x, slice(None, steps * batch_size))  # Keras: the first `steps` batches
        n = rows_of(x)
        net = self._get_network()
        batches = math.ceil(n / batch_size)
        callback_list = self._inference_callbacks(callbacks, verbose, batches)
        callback_list.on_predict_begin()
        if callback_list._implements_predict_batch_hooks():  # Keras' loop: each batch in turn
            widths = net.output_widths
            out = [np.empty((n, w), dtype=np.float32) for w in widths]
            for b in range(batches):
                rows = slice(b * batch_size, (b + 1) * batch_size)
                callback_list.on_predict_batch_begin(b)
                for o, part in zip(out, as_list(net.predict(take(x, rows), batch_size, **self._inference_draws()))):
                    o[rows] = part
                callback_list.on_predict_batch_end(b, {"outputs": self._engine_form([o[rows] for o in out])})
            out = self._engine_form(out)
        else:  # one engine call; the progress bar hears of the last batch only
            out = net.predict(x, batch_size, **self._inference_draws())
            callback_list.on_predict_batch_end(batches - 1, {"outputs": out})
        callback_list.on_predict_end()
        return self._shaped_outputs(out, n)

    def _inference_draws(self):
        """predict's random_stream: fresh draws on every call for a model with a layer fixed in training
        mode (MC Dropout); nothing (and the global generator untouched) otherwise."""
        from fastdnn import _random

        return {"random_stream": _random.draw_seed()} if self._fixed_training() else {}

    def _fixed_training(self):
        return False

    def _shaped_outputs(self, out, n):
        """The engine's (rows, width) outputs in the model's output shapes (and structure)."""
        return out.reshape((n, *self.output_shape[1:]))

    def predict_classes(self, x, batch_size=32, verbose=0):
        """Keras 2's predict_classes (removed in TF 2.6), kept for old tutorials: the argmax of
        the outputs, or outputs > 0.5 for a single sigmoid output."""
        warnings.warn("`model.predict_classes()` is deprecated: use np.argmax(model.predict(x), axis=-1), "
                      "or (model.predict(x) > 0.5).astype('int32') for a binary classifier.",
                      DeprecationWarning, stacklevel=2)
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        return (proba > 0.5).astype("int32") if proba.shape[-1] == 1 else proba.argmax(axis=-1)

    def predict_proba(self, x, batch_size=32, verbose=0):
        """Keras 2's predict_proba: the same as predict."""
        warnings.warn("`model.predict_proba()` is deprecated: use `model.predict()`.", DeprecationWarning, stacklevel=2)
        return self.predict(x, batch_size=batch_size, verbose=verbose)

    def _inference_callbacks(self, callbacks, verbose, steps):
        callback_list = callbacks_module.CallbackList(callbacks)
        verbose = resolve_verbose(verbose)
        if verbose and not any(isinstance(c, callbacks_module.ProgbarLogger) for c in callback_list.callbacks):
            callback_list.append(callbacks_module.ProgbarLogger())
        callback_list.set_model(self)
        callback_list.set_params({"verbose": verbose, "epochs": 1, "steps": steps})
        return callback_list

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=max(1, rows_of(self._prepare_x(x))), verbose=0)

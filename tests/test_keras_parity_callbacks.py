"""Callbacks against real Keras 3: the same recording callback, in the same program run by
fastdnn and by Keras, hears the same hooks in the same order, with the same batch indices
and the same log keys (fit with validation, evaluate, predict, steps_per_epoch)."""

import numpy as np
import pytest

import fastdnn
from keras_reference import keras, TORCH_PYTREE_WARNING

pytestmark = TORCH_PYTREE_WARNING

HOOKS = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_test_begin", "on_test_end",
         "on_predict_begin", "on_predict_end", "on_train_batch_begin", "on_train_batch_end",
         "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end"]


def recorder_class(lib):
    """A callback of `lib` that records (hook, index, sorted log keys) for every hook."""
    def make_hook(name):
        if name.endswith(("_begin", "_end")) and ("batch" in name or "epoch" in name):
            def hook(self, index, logs=None):
                self.calls.append((name, index, sorted(logs.keys())))
        else:
            def hook(self, logs=None):
                self.calls.append((name, None, sorted(logs.keys())))
        return hook

    def __init__(self):
        lib.callbacks.Callback.__init__(self)
        self.calls = []

    return type("Recorder", (lib.callbacks.Callback,), {"__init__": __init__, **{h: make_hook(h) for h in HOOKS}})


def program(lib, **fit_arguments):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6)).astype("float32")
    y = (x[:, :2].sum(axis=1) > 0).astype("float32")
    model = lib.Sequential([lib.layers.Input(shape=(6,)), lib.layers.Dense(8, activation="relu"),
                            lib.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy", "mae"])
    recorder = recorder_class(lib)()
    model.fit(x[:200], y[:200], validation_data=(x[200:], y[200:]), verbose=0, callbacks=[recorder],
              **fit_arguments)
    model.evaluate(x[200:], y[200:], batch_size=40, verbose=0, callbacks=[recorder])
    model.predict(x[200:], batch_size=30, verbose=0, callbacks=[recorder])
    return recorder.calls


def test_the_hooks_indices_and_log_keys_are_keras():
    assert program(fastdnn, batch_size=64, epochs=2) == program(keras, batch_size=64, epochs=2)


def test_the_hooks_with_steps_per_epoch_and_validation_steps_are_keras():
    with pytest.warns(UserWarning, match="ran out of data"):
        ours = program(fastdnn, batch_size=32, epochs=3, steps_per_epoch=5, validation_steps=2)
    with pytest.warns(UserWarning, match="ran out of data"):
        theirs = program(keras, batch_size=32, epochs=3, steps_per_epoch=5, validation_steps=2)
    assert ours == theirs

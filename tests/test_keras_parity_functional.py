"""Functional and subclassed models in fastdnn against real Keras 3 (torch backend, float64): a
two-input concatenate model, a two-output model with loss_weights, a shared layer, and the
course's subclassed Wide & Deep model. Same program, same starting weights (set layer by layer,
by name), then predict, evaluate, three training steps and the history keys.

Tolerance 1e-4 (the issue's), absolute on outputs and weights (O(1)) and relative to max(1, |loss|)
on losses: fastdnn's float32 is ~1e-6 from Keras' float64 here, while a missing gradient path
(the wide input, one of the two calls of a shared layer, one output's loss) or a wrong loss weight
moves the results by >= 1e-2."""

import numpy as np
import pytest

import fastdnn
from keras_reference import keras, keras_float64, TORCH_PYTREE_WARNING  # noqa: F401 (the fixture)

pytestmark = TORCH_PYTREE_WARNING

TOL = 1e-4


def two_inputs(lib):
    wide, deep = lib.Input(shape=(5,), name="wide"), lib.Input(shape=(6,), name="deep")
    h1 = lib.layers.Dense(7, activation="relu", name="h1")(deep)
    h2 = lib.layers.Dense(7, activation="tanh", name="h2")(h1)
    out = lib.layers.Dense(1, name="out")(lib.layers.concatenate([wide, h2], name="concat"))
    model = lib.Model(inputs=[wide, deep], outputs=[out])
    model.compile(loss="mse", optimizer=lib.optimizers.SGD(learning_rate=0.05))
    return model


def two_outputs(lib):
    wide, deep = lib.Input(shape=(5,), name="wide"), lib.Input(shape=(6,), name="deep")
    h1 = lib.layers.Dense(7, activation="relu", name="h1")(deep)
    h2 = lib.layers.Dense(7, activation="elu", name="h2")(h1)
    main = lib.layers.Dense(1, name="main_output")(lib.layers.concatenate([wide, h2], name="concat"))
    aux = lib.layers.Dense(1, name="aux_output")(h2)
    model = lib.Model(inputs=[wide, deep], outputs=[main, aux])
    model.compile(loss=["mse", "mae"], loss_weights=[0.9, 0.1], optimizer=lib.optimizers.Adam(learning_rate=0.01),
                  metrics=[["mae"], ["mse"]])
    return model


def shared_layer(lib):
    left, right = lib.Input(shape=(4,), name="left"), lib.Input(shape=(4,), name="right")
    shared = lib.layers.Dense(5, activation="tanh", name="shared")
    merged = lib.layers.add([shared(left), shared(right)], name="add")
    out = lib.layers.Dense(1, name="out")(merged)
    model = lib.Model(inputs=[left, right], outputs=out)
    model.compile(loss="mse", optimizer=lib.optimizers.SGD(learning_rate=0.05))
    return model


def subclassed(lib):
    class WideDeepModel(lib.Model):
        def __init__(self):
            super().__init__()
            self.hidden1_layer = lib.layers.Dense(7, activation="relu", name="h1")
            self.hidden2_layer = lib.layers.Dense(7, activation="relu", name="h2")
            self.output_layer = lib.layers.Dense(1, name="out")

        def call(self, input):
            hidden1 = self.hidden1_layer(input)
            hidden2 = self.hidden2_layer(hidden1)
            concat = lib.layers.concatenate([input, hidden2])
            return self.output_layer(concat)

    model = WideDeepModel()
    model.compile(loss="mse", optimizer=lib.optimizers.SGD(learning_rate=0.05))
    return model


MODELS = {"two_inputs": two_inputs, "two_outputs": two_outputs, "shared_layer": shared_layer,
          "subclassed": subclassed}


def data(name, rng, n=24):
    if name == "subclassed":
        x = rng.normal(size=(n, 8)).astype(np.float32)
        return x, x, x[:, :1] - x[:, 3:4]
    if name == "shared_layer":
        x = [rng.normal(size=(n, 4)).astype(np.float32) for _ in range(2)]
        return x, x, x[0][:, :1] * x[1][:, 1:2]
    x = rng.normal(size=(n, 8)).astype(np.float32)
    y = (x[:, :1] - 0.5 * x[:, 4:5]).astype(np.float32)
    inputs = [x[:, :5], x[:, 2:]]
    return inputs, inputs, ([y, y] if name == "two_outputs" else y)


def twins(name, rng):
    ours, theirs = MODELS[name](fastdnn), MODELS[name](keras)
    x, _, _ = data(name, rng)
    theirs.predict(x, verbose=0)  # builds a subclassed Keras model (Keras 3 builds by running call)
    ours.predict(x, verbose=0)
    for layer in ours.layers:
        if layer.weights:
            weights = [rng.normal(0, 0.5, w.shape).astype(np.float32) for w in layer.get_weights()]
            layer.set_weights(weights)
            next(l for l in theirs.layers if l.name == layer.name).set_weights(weights)
    return ours, theirs


def as_list(out):
    return [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else [np.asarray(out)]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_predict_matches_keras(name):
    rng = np.random.default_rng(1)
    ours, theirs = twins(name, rng)
    x, kx, _ = data(name, rng)
    for a, b in zip(as_list(ours.predict(x, verbose=0)), as_list(theirs.predict(kx, verbose=0))):
        np.testing.assert_allclose(a, b, atol=TOL)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_evaluate_matches_keras(name):
    rng = np.random.default_rng(2)
    ours, theirs = twins(name, rng)
    x, kx, y = data(name, rng)
    mine, reference = ours.evaluate(x, y, verbose=0, return_dict=True), theirs.evaluate(kx, y, verbose=0,
                                                                                         return_dict=True)
    assert sorted(mine) == sorted(reference)
    for key in reference:
        assert mine[key] == pytest.approx(reference[key], rel=TOL, abs=TOL), key


@pytest.mark.parametrize("name", sorted(MODELS))
def test_three_training_steps_match_keras(name):
    rng = np.random.default_rng(3)
    ours, theirs = twins(name, rng)
    x, kx, y = data(name, rng)
    mine = ours.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0).history
    reference = theirs.fit(kx, y, batch_size=8, epochs=1, shuffle=False, verbose=0).history
    assert list(mine) == list(reference)  # the history keys, in Keras 3's (sorted) order
    for key in reference:
        assert mine[key][0] == pytest.approx(reference[key][0], rel=TOL, abs=TOL), key
    for layer in ours.layers:
        other = next(l for l in theirs.layers if l.name == layer.name)
        for a, b in zip(layer.get_weights(), other.get_weights()):
            np.testing.assert_allclose(a, np.asarray(b), atol=TOL, err_msg=layer.name)

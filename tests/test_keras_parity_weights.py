"""sample_weight, class_weight and weighted_metrics in fastdnn against real Keras 3 (torch
backend, float64), following tests/test_keras_parity.py: the same program in both.

Tolerance 1e-4 (the issue's), absolute on weights (O(1)) and metrics, relative to max(1, |loss|) on
losses. fastdnn's float32 is ~1e-6 from Keras' float64 on these small nets (FORWARD_RTOL and ETA in
test_keras_parity.py), while a wrong normalisation (Σw instead of rows), an unweighted gradient, a
weighted `metrics` entry or class_weight applied to validation data moves the numbers by ≥ 1e-2.
Accuracies are counts over ≤ 40 rows: they match exactly unless a prediction sits on a tie.
"""

import numpy as np
import pytest

import fastdnn
from keras_reference import keras, keras_float64, TORCH_PYTREE_WARNING  # noqa: F401 (the fixture)

pytestmark = TORCH_PYTREE_WARNING

TOL = 1e-4


# problem -> (output units, activation, loss, metrics, weighted_metrics, targets(rng, n))
PROBLEMS = {
    "sparse": (3, "softmax", "sparse_categorical_crossentropy", ["accuracy"], ["accuracy"],
               lambda rng, n: rng.integers(0, 3, n)),
    "one_hot": (3, "softmax", "categorical_crossentropy", ["accuracy"], ["categorical_accuracy", "mae"],
                lambda rng, n: np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]),
    "binary": (1, "sigmoid", "binary_crossentropy", ["accuracy", "mse"], ["accuracy", "mse"],
               lambda rng, n: rng.integers(0, 2, (n, 1)).astype(np.float32)),
    "regression": (2, None, "huber", ["mae"], ["mae"], lambda rng, n: rng.normal(size=(n, 2)).astype(np.float32)),
}


def _twins(problem, rng, optimizer="sgd"):
    units, activation, loss, metrics, weighted_metrics, _ = PROBLEMS[problem]

    def build(lib):
        model = lib.Sequential([lib.Input(shape=(6,)), lib.layers.Dense(12, activation="tanh"),
                                lib.layers.Dense(units, activation=activation)])
        opt = lib.optimizers.SGD(learning_rate=0.1) if optimizer == "sgd" else lib.optimizers.Adam(learning_rate=0.01)
        model.compile(optimizer=opt, loss=loss, metrics=list(metrics), weighted_metrics=list(weighted_metrics))
        return model

    ours, theirs = build(fastdnn), build(keras)
    weights = [rng.normal(0, 1 / np.sqrt(w.shape[0]), w.shape).astype(np.float32) if len(w.shape) == 2
               else rng.normal(0, 0.1, w.shape).astype(np.float32) for w in ours.weights]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    return ours, theirs


def _data(problem, rng, n=40):
    x = rng.normal(size=(n, 6)).astype(np.float32)
    y = PROBLEMS[problem][5](rng, n)
    w = rng.uniform(0.0, 3.0, n).astype(np.float32)
    w[::7] = 0.0
    return x, y, w


def _class_weight(problem):
    return {0: 0.5, 1: 2.0} if problem == "binary" else {0: 0.5, 1: 2.0, 2: 1.5}


def assert_logs_match(got, want, what):
    assert sorted(got) == sorted(want), (what, sorted(got), sorted(want))
    for key in want:
        values_got, values_want = np.atleast_1d(got[key]), np.atleast_1d(want[key])
        scale = np.maximum(1.0, np.abs(values_want)) if key.endswith("loss") else 1.0
        assert np.all(np.abs(values_got - values_want) <= TOL * scale), (what, key, values_got, values_want)


def assert_weights_match(ours, theirs):
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=TOL)


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_fit_with_sample_weight_matches_keras(problem):
    rng = np.random.default_rng(21)
    ours, theirs = _twins(problem, rng)
    x, y, w = _data(problem, rng)
    xv, yv, wv = _data(problem, rng, n=16)
    kwargs = dict(batch_size=16, epochs=2, shuffle=False, verbose=0, sample_weight=w, validation_data=(xv, yv, wv))
    got, want = ours.fit(x, y, **kwargs).history, theirs.fit(x, y, **kwargs).history
    assert_logs_match(got, want, "fit history")
    assert_weights_match(ours, theirs)


@pytest.mark.parametrize("problem", ["sparse", "one_hot", "binary"])
def test_fit_with_class_weight_and_validation_split_matches_keras(problem):
    # class_weight weights the training part only; the validation part (the last 25%) is unweighted.
    rng = np.random.default_rng(22)
    ours, theirs = _twins(problem, rng, optimizer="adam")
    x, y, _ = _data(problem, rng)
    kwargs = dict(batch_size=8, epochs=2, shuffle=False, verbose=0, class_weight=_class_weight(problem),
                  validation_split=0.25)
    got, want = ours.fit(x, y, **kwargs).history, theirs.fit(x, y, **kwargs).history
    assert_logs_match(got, want, "fit history")
    assert_weights_match(ours, theirs)


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_evaluate_with_sample_weight_matches_keras(problem):
    rng = np.random.default_rng(23)
    ours, theirs = _twins(problem, rng)
    x, y, w = _data(problem, rng)
    got = ours.evaluate(x, y, batch_size=16, sample_weight=w, verbose=0, return_dict=True)
    want = theirs.evaluate(x, y, batch_size=16, sample_weight=w, verbose=0, return_dict=True)
    assert_logs_match(got, want, "evaluate")
    if not set(PROBLEMS[problem][3]) & set(PROBLEMS[problem][4]):
        # The list form, in compile order. (Where a weighted metric shares a metric's name, Keras 3's
        # list repeats the unprefixed entries, a quirk of _flatten_metrics_in_order fastdnn leaves out.)
        got_list = ours.evaluate(x, y, batch_size=16, sample_weight=w, verbose=0)
        want_list = theirs.evaluate(x, y, batch_size=16, sample_weight=w, verbose=0)
        np.testing.assert_allclose(got_list, want_list, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_train_and_test_on_batch_with_sample_weight_match_keras(problem):
    rng = np.random.default_rng(24)
    ours, theirs = _twins(problem, rng)
    x, y, w = _data(problem, rng, n=24)
    for step in range(3):
        got = ours.train_on_batch(x, y, sample_weight=w, return_dict=True)
        want = theirs.train_on_batch(x, y, sample_weight=w, return_dict=True)
        assert_logs_match(got, want, f"train_on_batch step {step}")
    assert_weights_match(ours, theirs)
    got = ours.test_on_batch(x, y, sample_weight=w, return_dict=True)
    want = theirs.test_on_batch(x, y, sample_weight=w, return_dict=True)
    assert_logs_match(got, want, "test_on_batch")


@pytest.mark.parametrize("problem", ["sparse", "binary"])
def test_train_on_batch_with_class_weight_matches_keras(problem):
    rng = np.random.default_rng(25)
    ours, theirs = _twins(problem, rng)
    x, y, _ = _data(problem, rng, n=24)
    for step in range(3):
        got = ours.train_on_batch(x, y, class_weight=_class_weight(problem), return_dict=True)
        want = theirs.train_on_batch(x, y, class_weight=_class_weight(problem), return_dict=True)
        assert_logs_match(got, want, f"train_on_batch step {step}")
    assert_weights_match(ours, theirs)

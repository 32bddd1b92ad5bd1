"""Normalization, Rescaling, GaussianNoise, GaussianDropout, ActivityRegularization and
LayerNormalization against real Keras 3 (torch backend, float64), as tests/test_keras_parity.py
does for the other layers and with its helpers, tolerances and their derivations (FORWARD_RTOL:
forward values; check_training_parity: weights after optimizer steps, with the gradient error
budget measured on Keras itself).

The noise layers draw different random numbers in the two libraries, so in training they are
compared in this file only where they are inactive (inference); tests/test_layers_engine.py checks
their training-mode gradients given the engine's own draws.
"""

import numpy as np
import pytest

from test_keras_parity import (FORWARD_RTOL, U, assert_forward_close, assert_within, check_training_parity,
                               dense_input, fastdnn, keras, keras_float64, twins)  # noqa: F401 (the fixture)
from keras_reference import TORCH_PYTREE_WARNING

pytestmark = [
    TORCH_PYTREE_WARNING,
    # Keras warns again at every call of its deprecated rms_scaling mode, which is compared here on purpose.
    pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`:UserWarning"),
]


def _adapted_twins(build, rng, data, gain=1.0):
    """twins() for nets whose first layer is a Normalization: each library adapts its own layer
    to `data`, then the remaining (Dense, LayerNormalization) weights are copied as twins does."""
    ours, theirs = build(fastdnn), build(keras)
    for model in (ours, theirs):
        model.layers[0].adapt(data)
    stats = [w for w in ours.weights if w.name in ("mean", "variance", "count")]
    rest_ours = [w for w in ours.weights if w not in stats]
    rest_theirs = [w for w in theirs.weights if w.name not in ("mean", "variance", "count")]
    for a, b in zip(rest_ours, rest_theirs):
        value = rng.normal(0.0, gain / np.sqrt(a.shape[0]), a.shape) if a.name == "kernel" else \
            rng.normal(0.0, 0.1, a.shape)
        a.assign(value.astype(np.float32))
        b.assign(value.astype(np.float32))
    return ours, theirs


def _features(rng, n=64, width=6):
    """Features on very different scales and offsets: what Normalization is for."""
    return (rng.uniform(-50, 50, width) + rng.uniform(0.1, 20, width) * rng.normal(size=(n, width))).astype(
        np.float32)


# --- Normalization ------------------------------------------------------------------------

def test_adapt_statistics_equal_keras():
    rng = np.random.default_rng(20)
    data = _features(rng, n=500)
    ours, theirs = fastdnn.layers.Normalization(), keras.layers.Normalization()
    ours.adapt(data)
    theirs.adapt(data)
    got, want = ours.get_weights(), theirs.get_weights()
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights] == ["mean", "variance", "count"]
    assert [w.shape for w in got] == [w.shape for w in want]
    # Both are NumPy's float32 mean and variance of the same array: bit for bit.
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert got[2] == want[2] == 0


@pytest.mark.parametrize("invert", [False, True], ids=["normalize", "invert"])
def test_predict_adapted_normalization_matches_keras(invert):
    def build(lib):
        return lib.Sequential([lib.Input(shape=(6,)), lib.layers.Normalization(invert=invert),
                               lib.layers.Dense(5)])

    rng = np.random.default_rng(22)
    data = _features(rng)
    ours, theirs = _adapted_twins(build, rng, data)
    x = data[:32] if not invert else rng.normal(size=(32, 6)).astype(np.float32)
    assert_forward_close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), f"Normalization invert={invert}")


@pytest.mark.parametrize("shape", [(500,), (500, 6)], ids=["1-D", "2-D"])
def test_axis_none_adapt_statistics_equal_keras(shape):
    data = (40.0 + 30.0 * np.random.default_rng(26).normal(size=shape)).astype(np.float32)
    ours, theirs = fastdnn.layers.Normalization(axis=None), keras.layers.Normalization(axis=None)
    ours.adapt(data)
    theirs.adapt(data)
    got, want = ours.get_weights(), theirs.get_weights()
    assert [w.shape for w in got] == [w.shape for w in want] == [(), (), ()]
    # NumPy's float32 mean and variance of all the values in both; within 1e-4 as the brief asks.
    np.testing.assert_allclose([got[0], got[1]], [want[0], want[1]], rtol=1e-4)


@pytest.mark.parametrize("invert", [False, True], ids=["normalize", "invert"])
def test_axis_none_predict_after_set_weights_matches_keras(invert):
    def build(lib):
        return lib.Sequential([lib.Input(shape=(6,)), lib.layers.Normalization(axis=None, invert=invert),
                               lib.layers.Dense(3)])

    rng = np.random.default_rng(27)
    weights = [np.float32(1.5), np.float32(6.25), np.float32(0.0),
               rng.normal(size=(6, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32)]
    ours, theirs = build(fastdnn), build(keras)
    ours.set_weights(weights)
    theirs.set_weights([weights[0], weights[1], np.int32(0), *weights[3:]])
    assert ours.count_params() == theirs.count_params() == 3 + 6 * 3 + 3
    x = rng.normal(0.0, 3.0, size=(32, 6)).astype(np.float32)
    assert_forward_close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), f"axis=None invert={invert}")


def test_tensorflow_regression_tutorial_single_input_model_matches_keras():
    """The horsepower model: adapt on a 1-D array of samples, then fit/predict on 1-D inputs."""
    rng = np.random.default_rng(28)
    horsepower = rng.uniform(40, 230, 314).astype(np.float32)
    dense = [rng.normal(size=(1, 1)).astype(np.float32), rng.normal(size=1).astype(np.float32)]

    def build(lib):  # adapted before the model is built, as the tutorial (and Keras for 1-D data) needs
        normalizer = lib.layers.Normalization(axis=None)
        normalizer.adapt(horsepower)
        model = lib.Sequential([lib.Input(shape=(1,)), normalizer, lib.layers.Dense(1)])
        model.layers[1].set_weights(dense)
        return model

    ours, theirs = build(fastdnn), build(keras)
    x = np.linspace(0.0, 250, 251).astype(np.float32)
    got, want = ours.predict(x, verbose=0), theirs.predict(x, verbose=0)
    assert got.shape == want.shape == (251, 1)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("mean, variance", [(3.0, 4.0), ([1.0, -2.0, 0.5, 0.0], [0.5, 2.0, 9.0, 1e-16])],
                         ids=["scalar", "per-feature"])
def test_predict_normalization_with_given_statistics_matches_keras(mean, variance):
    def build(lib):
        return lib.Sequential([lib.Input(shape=(4,)), lib.layers.Normalization(mean=mean, variance=variance)])

    ours, theirs = build(fastdnn), build(keras)
    assert ours.weights == [] and theirs.weights == []
    x = np.random.default_rng(23).normal(size=(16, 4)).astype(np.float32)
    # Keras' float64 run takes √(1e-16) = 1e-8 < ε = 1e-7: both divide by ε there.
    got, want = ours.predict(x, verbose=0), theirs.predict(x, verbose=0)
    assert_within(got, want, 4 * U * np.abs(want) + 1e-30, "Normalization(mean=, variance=)")


def test_normalization_summary_param_counts_match_keras():
    def build(lib):
        return lib.Sequential([lib.Input(shape=(6,)), lib.layers.Normalization(), lib.layers.Dense(3),
                               lib.layers.LayerNormalization(), lib.layers.Rescaling(0.5),
                               lib.layers.GaussianNoise(0.1), lib.layers.GaussianDropout(0.1),
                               lib.layers.ActivityRegularization(0.01)])

    ours, theirs = build(fastdnn), build(keras)
    assert [layer.count_params() for layer in ours.layers] == [layer.count_params() for layer in theirs.layers]
    assert ours.count_params() == theirs.count_params() == 13 + 21 + 6
    assert len(ours.non_trainable_weights) == len(theirs.non_trainable_weights) == 3


def test_training_through_normalization_matches_keras():
    # Normalization between two Dense layers: its backward pass feeds the first Dense's gradients.
    def build(lib):
        return lib.Sequential([lib.Input(shape=(8,)), lib.layers.Dense(6, activation="tanh"),
                               lib.layers.Normalization(mean=[0.1, -0.2, 0.0, 0.3, 0.2, -0.1],
                                                        variance=[0.2, 0.5, 1.0, 0.1, 0.3, 2.0]),
                               lib.layers.Dense(4, activation="softmax")])

    rng = np.random.default_rng(24)
    batches = [(rng.normal(size=(32, 8)).astype(np.float32), rng.integers(0, 4, 32)) for _ in range(3)]
    check_training_parity(build, "SGD", {"learning_rate": 0.1}, "sparse_categorical_crossentropy", batches,
                          seed=25, what="Dense → Normalization → Dense, SGD x3")


# --- Rescaling ------------------------------------------------------------------------------

def test_predict_rescaling_matches_keras():
    def build(lib):
        return lib.Sequential([lib.Input(shape=(10,)), lib.layers.Rescaling(1 / 255, offset=-0.5),
                               lib.layers.Dense(5), lib.layers.Rescaling(np.linspace(0.5, 2, 5), offset=0.25)])

    rng = np.random.default_rng(26)
    ours, theirs, _ = twins(build, rng)
    x = rng.uniform(0, 255, (32, 10)).astype(np.float32)
    assert_forward_close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), "Rescaling")


def test_training_through_rescaling_matches_keras():
    def build(lib):
        return lib.Sequential([lib.Input(shape=(8,)), lib.layers.Dense(6, activation="tanh"),
                               lib.layers.Rescaling(2.5, offset=-0.3), lib.layers.Dense(4, activation="softmax")])

    rng = np.random.default_rng(27)
    batches = [(rng.normal(size=(32, 8)).astype(np.float32), rng.integers(0, 4, 32)) for _ in range(3)]
    check_training_parity(build, "Adam", {"learning_rate": 0.01}, "sparse_categorical_crossentropy", batches,
                          seed=28, what="Dense → Rescaling → Dense, Adam x3")


# --- GaussianNoise / GaussianDropout ---------------------------------------------------------

def test_predict_and_evaluate_with_noise_layers_match_keras():
    def build(lib):
        L = lib.layers
        return lib.Sequential([lib.Input(shape=(10,)), L.GaussianNoise(0.5), L.Dense(20, activation="relu"),
                               L.GaussianDropout(0.4), L.Dense(3)])

    rng = np.random.default_rng(29)
    ours, theirs, _ = twins(build, rng, gain=1.5)
    x, y = dense_input(rng), rng.normal(size=(32, 3)).astype(np.float32)
    first = ours.predict(x, verbose=0)
    assert_forward_close(first, theirs.predict(x, verbose=0), "GaussianNoise/GaussianDropout at inference")
    np.testing.assert_array_equal(ours.predict(x, verbose=0), first)
    for model in (ours, theirs):
        model.compile(optimizer="sgd", loss="mse")
    got, want = ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0)
    assert_within(got, want, FORWARD_RTOL * (abs(want) + 1.0), "evaluate with noise layers")


# --- ActivityRegularization --------------------------------------------------------------------

def _activity_net(lib):
    L = lib.layers
    return lib.Sequential([lib.Input(shape=(10,)), L.Dense(12, activation="tanh"),
                           L.ActivityRegularization(l1=0.02, l2=0.05), L.Dense(3)])


def test_activity_regularization_training_loss_matches_keras():
    rng = np.random.default_rng(30)
    ours, theirs, _ = twins(_activity_net, rng, gain=2.0)
    x, y = dense_input(rng), rng.normal(size=(32, 3)).astype(np.float32)
    for lib, model in [(fastdnn, ours), (keras, theirs)]:
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
    data_loss = float(np.mean(np.square(theirs.predict(x, verbose=0) - y)))
    got, want = ours.train_on_batch(x, y), theirs.train_on_batch(x, y)
    assert want - data_loss > 0.1 * data_loss  # the penalty is a visible part of the loss
    assert_within(got, want, FORWARD_RTOL * (abs(want) + 1.0), "activity-regularized training loss")


def test_activity_regularization_evaluate_loss_matches_keras_over_uneven_batches():
    rng = np.random.default_rng(31)
    ours, theirs, _ = twins(_activity_net, rng, gain=2.0)
    x, y = dense_input(rng, n=40), rng.normal(size=(40, 3)).astype(np.float32)
    for model in (ours, theirs):
        model.compile(optimizer="sgd", loss="mse")
    got, want = ours.evaluate(x, y, batch_size=16, verbose=0), theirs.evaluate(x, y, batch_size=16, verbose=0)
    assert_within(got, want, FORWARD_RTOL * (abs(want) + 1.0), "activity-regularized evaluate loss")


def test_activity_regularization_steps_match_keras():
    rng = np.random.default_rng(32)
    batches = [(dense_input(rng), rng.normal(size=(32, 3)).astype(np.float32)) for _ in range(3)]
    check_training_parity(_activity_net, "SGD", {"learning_rate": 0.1}, "mse", batches, seed=33,
                          what="ActivityRegularization, SGD x3")


# --- LayerNormalization -------------------------------------------------------------------------

LN_VARIANTS = {
    "defaults": {},
    "epsilon_0.1": {"epsilon": 0.1},
    "no_center": {"center": False},
    "no_scale": {"scale": False},
    "rms_scaling": {"rms_scaling": True},
}


def _layer_norm_net(variant):
    def build(lib):
        layer = lib.layers.LayerNormalization(**LN_VARIANTS[variant])
        return lib.Sequential([lib.Input(shape=(8,)), lib.layers.Dense(12, activation="tanh"), layer,
                               lib.layers.Dense(4, activation="softmax")])
    return build


@pytest.mark.parametrize("variant", sorted(LN_VARIANTS))
def test_predict_layer_normalization_matches_keras(variant):
    rng = np.random.default_rng(34)
    ours, theirs, _ = twins(_layer_norm_net(variant), rng, gain=2.0)
    x = (dense_input(rng, width=8) + 1.0).astype(np.float32)  # rows with a mean ≠ 0
    assert_forward_close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), f"LayerNormalization {variant}")


@pytest.mark.parametrize("variant", sorted(LN_VARIANTS))
@pytest.mark.parametrize("optimizer", [("SGD", {"learning_rate": 0.1}), ("Adam", {"learning_rate": 0.01})],
                         ids=["SGD", "Adam"])
def test_layer_normalization_training_steps_match_keras(variant, optimizer):
    rng = np.random.default_rng(35)
    batches = [(rng.normal(size=(32, 8)).astype(np.float32), rng.integers(0, 4, 32)) for _ in range(3)]
    check_training_parity(_layer_norm_net(variant), *optimizer, "sparse_categorical_crossentropy", batches,
                          seed=36, what=f"LayerNormalization {variant}, {optimizer[0]} x3")


def test_layer_normalization_regularized_steps_match_keras():
    def build(lib):
        reg = lib.regularizers
        return lib.Sequential([lib.Input(shape=(8,)), lib.layers.Dense(12, activation="tanh"),
                               lib.layers.LayerNormalization(gamma_regularizer=reg.L2(0.05),
                                                             beta_regularizer=reg.L1(0.01)),
                               lib.layers.Dense(4, activation="softmax")])

    rng = np.random.default_rng(37)
    batches = [(rng.normal(size=(32, 8)).astype(np.float32), rng.integers(0, 4, 32)) for _ in range(2)]
    check_training_parity(build, "SGD", {"learning_rate": 0.1}, "sparse_categorical_crossentropy", batches,
                          seed=38, what="regularized LayerNormalization, SGD x2")

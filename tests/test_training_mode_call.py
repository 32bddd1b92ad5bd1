"""model(x, training=True) and layer(x, training=True) run the layers in training mode with
nothing updated, as Keras does (Monte Carlo dropout); a layer with its own call() is refused,
never run silently as its parent."""

import numpy as np
import pytest

import fastdnn as keras


def mc_model(rate=0.5):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.layers.Input(shape=(8,)), keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dropout(rate), keras.layers.Dense(3)])


def data(rows=5, width=8, seed=1):
    return np.random.default_rng(seed).normal(size=(rows, width)).astype(np.float32)


def test_model_call_in_inference_mode_equals_predict():
    model, x = mc_model(), data()
    np.testing.assert_array_equal(model(x), model.predict(x, verbose=0))


def test_monte_carlo_dropout_predictions_vary_from_call_to_call():
    model, x = mc_model(), data()
    draws = np.stack([model(x, training=True) for _ in range(50)])
    assert draws.std(axis=0).min() > 0.0
    assert len({d.tobytes() for d in draws}) == 50


def test_monte_carlo_dropout_mean_approaches_the_inference_output():
    # The last Dense is linear and dropout is inverted (kept units scaled by 1/(1-rate)), so the
    # expectation of a training-mode output is exactly the inference output. The mean of N draws
    # is within 5 standard errors of it (a 6e-7 chance per value to fail for a normal mean).
    model, x = mc_model(), data()
    n = 2000
    draws = np.stack([model(x, training=True) for _ in range(n)]).astype(np.float64)
    standard_error = draws.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(draws.mean(axis=0) - model(x)) < 5 * standard_error + 1e-6)


def test_training_mode_call_updates_no_weight_and_no_moving_statistic():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Input(shape=(8,)), keras.layers.Dense(4),
                              keras.layers.BatchNormalization(), keras.layers.Dropout(0.3)])
    model.compile(loss="mse", optimizer="sgd")
    before = model.get_weights()
    model(data(rows=32), training=True)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_batch_normalization_in_training_mode_uses_the_batch_statistics():
    layer = keras.layers.BatchNormalization(epsilon=1e-3)
    x = data(rows=64) * 3.0 + 2.0
    out = layer(x, training=True)
    x64 = x.astype(np.float64)
    expected = (x64 - x64.mean(axis=0)) / np.sqrt(x64.var(axis=0) + 1e-3)  # gamma 1, beta 0
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer(x), x / np.sqrt(1.0 + 1e-3), rtol=1e-6)  # moving mean 0, var 1: unchanged


def test_dropout_layer_in_training_mode_zeroes_or_scales_each_value():
    x = np.ones((100, 50), dtype=np.float32)
    out = keras.layers.Dropout(0.25)(x, training=True)
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.75)}
    assert 0.2 < np.mean(out == 0.0) < 0.3  # 5,000 draws of p = 0.25: sd 0.006
    np.testing.assert_array_equal(keras.layers.Dropout(0.25)(x), x)


def test_monte_carlo_draws_repeat_after_set_random_seed():
    model, x = mc_model(), data()
    keras.utils.set_random_seed(7)
    first = [model(x, training=True) for _ in range(3)]
    keras.utils.set_random_seed(7)
    second = [model(x, training=True) for _ in range(3)]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


# --- custom layers --------------------------------------------------------------------


class MCDropout(keras.layers.Dropout):  # Géron, Hands-On ML, chapter 11
    def call(self, inputs):
        return super().call(inputs, training=True)


class Doubling(keras.layers.Layer):  # a probe: its output must be 2x, or it must be refused
    def call(self, inputs):
        return 2 * inputs


def test_a_dropout_subclass_calling_super_with_training_drops_out_in_predict():
    model = keras.Sequential([keras.layers.Input(shape=(400,)), MCDropout(rate=0.5)])
    x = np.ones((50, 400), dtype=np.float32)
    first, second = model.predict(x, verbose=0), model.predict(x, verbose=0)
    assert set(np.unique(first)) == {0.0, 2.0}  # inverted dropout: kept values scaled by 1 / (1 - rate)
    assert 0.45 < np.mean(first == 0) < 0.55  # 20,000 draws: 5 standard deviations is 0.018
    assert not np.array_equal(first, second)  # fresh masks on every call, as Keras' MC Dropout


def test_a_layer_subclass_whose_call_composes_operations_is_traced():
    model = keras.Sequential([keras.layers.Input(shape=(4,)), keras.layers.Dense(2), Doubling()])
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    dense_only = keras.Sequential([keras.layers.Input(shape=(4,)), model.layers[0]])
    np.testing.assert_allclose(model.predict(x, verbose=0), 2 * dense_only.predict(x, verbose=0), rtol=1e-6)


def test_a_traced_layer_called_on_numpy_computes_its_call():
    np.testing.assert_array_equal(Doubling()(np.ones((1, 4), dtype=np.float32)), np.full((1, 4), 2.0))


def test_a_direct_layer_subclass_without_call_is_refused():
    class Nothing(keras.layers.Layer):
        pass

    with pytest.raises(NotImplementedError, match="Nothing subclasses Layer directly"):
        keras.Sequential([keras.layers.Input(shape=(4,)), Nothing()])


def test_a_built_in_layer_subclass_without_its_own_call_runs_as_its_parent():
    class NamedDense(keras.layers.Dense):
        def __init__(self, units, **kwargs):
            super().__init__(units, kernel_initializer="ones", **kwargs)

    model = keras.Sequential([keras.layers.Input(shape=(3,)), NamedDense(2, use_bias=False)])
    np.testing.assert_array_equal(model(np.ones((1, 3), dtype=np.float32)), [[3.0, 3.0]])

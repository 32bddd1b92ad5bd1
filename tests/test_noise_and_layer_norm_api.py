"""GaussianNoise, GaussianDropout, ActivityRegularization and LayerNormalization as layers:
Keras' arguments, defaults, weights and configs, behaviour in fit/predict, and errors."""

import numpy as np
import pytest

import fastdnn as keras
from fastdnn import _network, layers


@pytest.fixture(autouse=True)
def fresh_names():
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)


def _model(*stack, width=4):
    return keras.Sequential([layers.Input(shape=(width,)), *stack])


def _regression(rng, n=64, width=4):
    x = rng.normal(size=(n, width)).astype(np.float32)
    return x, (x @ rng.normal(size=(width, 2))).astype(np.float32)


# --- GaussianNoise / GaussianDropout -----------------------------------------------------------

@pytest.mark.parametrize("make, config", [
    (lambda: layers.GaussianNoise(0.1), {"stddev": 0.1, "seed": None}),
    (lambda: layers.GaussianDropout(0.3, seed=5), {"rate": 0.3, "seed": 5}),
    (lambda: layers.ActivityRegularization(), {"l1": 0.0, "l2": 0.0}),
])
def test_configs_are_keras(make, config):
    layer = make()
    assert {k: layer.get_config()[k] for k in config} == config
    again = layers.deserialize(layers.serialize(layer))
    assert type(again) is type(layer) and again.get_config() == layer.get_config()


@pytest.mark.parametrize("layer", [lambda: layers.GaussianNoise(1.0), lambda: layers.GaussianDropout(0.9),
                                   lambda: layers.ActivityRegularization(0.1, 0.1)])
def test_predict_is_the_bitwise_identity(layer):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20, 4)).astype(np.float32)
    with_layer = _model(layers.Dense(3), layer())
    without = _model(layers.Dense(3))
    without.set_weights(with_layer.get_weights())
    np.testing.assert_array_equal(with_layer.predict(x, verbose=0), without.predict(x, verbose=0))


def _training_output(layer, x):
    """The layer's output in training mode, through the engine (one step of a network that has
    nothing to update)."""
    _model(layer, width=x.shape[1])
    net = _network.create([layer], (None, x.shape[1]))
    net.train_step(x, np.zeros_like(x), 0.0)
    return net.training_output().astype(np.float64)


# n = 200,000 draws: the sample mean of the noise has standard error σ/√n and its variance
# σ²·√(2/n) (normal noise); bounds of 5 standard errors fail by chance with probability < 1e-6,
# and the draws are fixed by the seed, so the test cannot flake.
N = 200_000


def test_gaussian_noise_in_training_has_mean_zero_and_the_given_stddev():
    x = np.tile(np.linspace(-3, 3, 8, dtype=np.float32), (N // 8, 1))
    noise = _training_output(layers.GaussianNoise(0.4, seed=3), x) - x
    assert abs(noise.mean()) < 5 * 0.4 / np.sqrt(N)
    assert abs(noise.var() - 0.16) < 5 * 0.16 * np.sqrt(2 / N)


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_gaussian_dropout_in_training_has_mean_one_and_keras_variance(rate):
    x = np.full((N // 8, 8), 2.0, np.float32)
    factor = _training_output(layers.GaussianDropout(rate, seed=4), x) / 2.0
    variance = rate / (1 - rate)  # Keras: stddev √(rate / (1 − rate))
    assert abs(factor.mean() - 1) < 5 * np.sqrt(variance / N)
    assert abs(factor.var() - variance) < 5 * variance * np.sqrt(2 / N)


def test_same_seed_trains_identically_and_another_seed_differently():
    rng = np.random.default_rng(2)
    x, y = _regression(rng)

    def train(seed):
        keras.utils.set_random_seed(0)
        model = _model(layers.Dense(8), layers.GaussianNoise(0.5, seed=seed), layers.GaussianDropout(0.3, seed=seed),
                       layers.Dense(2))
        model.compile(optimizer="sgd", loss="mse")
        return model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0).history["loss"]

    assert train(1) == train(1)
    assert train(1) != train(2)


@pytest.mark.parametrize("make, message", [
    (lambda: layers.GaussianNoise(-0.1), "stddev"),
    (lambda: layers.GaussianNoise(1.5), "stddev"),
    (lambda: layers.GaussianNoise("0.1"), "stddev"),
    (lambda: layers.GaussianDropout(1.0), "rate"),
    (lambda: layers.GaussianDropout(-0.5), "rate"),
    (lambda: layers.GaussianDropout(0.5, seed=-1), "seed"),
    (lambda: layers.ActivityRegularization(l1=-0.1), "l1"),
    (lambda: layers.ActivityRegularization(l2=float("nan")), "l2"),
])
def test_bad_arguments_raise_value_error_naming_them(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_noise_layer_seeds_survive_save_and_load(tmp_path):
    rng = np.random.default_rng(3)
    x, y = _regression(rng)
    model = _model(layers.Dense(8), layers.GaussianNoise(0.5), layers.Dense(2))
    model.compile(optimizer="sgd", loss="mse")
    model.save(tmp_path / "n.fastdnn")
    loaded = keras.models.load_model(tmp_path / "n.fastdnn")
    first = model.fit(x, y, epochs=1, shuffle=False, verbose=0).history["loss"]
    assert loaded.fit(x, y, epochs=1, shuffle=False, verbose=0).history["loss"] == first


# --- ActivityRegularization ----------------------------------------------------------------

def test_activity_regularization_adds_its_penalty_over_the_batch_size_to_the_loss():
    x = np.array([[1.0, -2.0, 0.0, 3.0], [0.5, 0.5, -1.0, 0.0]], np.float32)
    model = _model(layers.ActivityRegularization(l1=0.1, l2=0.01))
    model.compile(optimizer="sgd", loss="mse")
    penalty = (0.1 * np.abs(x).sum() + 0.01 * np.square(x).sum()) / 2
    assert model.evaluate(x, x, verbose=0) == pytest.approx(penalty, rel=1e-6)
    assert model.train_on_batch(x, x) == pytest.approx(penalty, rel=1e-6)


def test_activity_regularization_shrinks_the_activations_it_regularizes():
    rng = np.random.default_rng(4)
    x, y = _regression(rng, n=256)

    def trained_activations(l2):
        keras.utils.set_random_seed(0)
        hidden = layers.Dense(16)
        model = _model(hidden, layers.ActivityRegularization(l2=l2), layers.Dense(2))
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        model.fit(x, y, epochs=20, batch_size=32, verbose=0)
        return np.square(hidden(x)).mean()

    assert trained_activations(0.1) < 0.5 * trained_activations(0.0)


# --- LayerNormalization -------------------------------------------------------------------------

def test_layer_normalization_weights_and_defaults_are_keras():
    layer = layers.LayerNormalization()
    _model(layer)
    assert [(w.name, w.shape, w.trainable) for w in layer.weights] == [("gamma", (4,), True), ("beta", (4,), True)]
    np.testing.assert_array_equal(layer.gamma.numpy(), np.ones(4))
    np.testing.assert_array_equal(layer.beta.numpy(), np.zeros(4))
    config = layer.get_config()
    assert {k: config[k] for k in ("axis", "epsilon", "center", "scale", "rms_scaling")} == \
        {"axis": -1, "epsilon": 1e-3, "center": True, "scale": True, "rms_scaling": False}
    assert config["beta_regularizer"] is None and config["gamma_constraint"] is None


@pytest.mark.parametrize("kwargs, names", [({"center": False}, ["gamma"]), ({"scale": False}, ["beta"]),
                                           ({"center": False, "scale": False}, [])])
def test_layer_normalization_center_and_scale_choose_the_weights(kwargs, names):
    layer = layers.LayerNormalization(**kwargs)
    _model(layer)
    assert [w.name for w in layer.weights] == names


def test_rms_scaling_warns_as_keras_and_has_no_beta():
    with pytest.warns(UserWarning, match="rms_scaling=True"):
        layer = layers.LayerNormalization(rms_scaling=True)
    _model(layer)
    assert [w.name for w in layer.weights] == ["gamma"]
    x = np.array([[1.0, 2.0, 3.0, 6.0]], np.float32)
    want = x / np.sqrt(x.var() + 1e-3)  # Keras' deprecated mode: x scaled by the variance
    np.testing.assert_allclose(_model(layer).predict(x, verbose=0), want, rtol=1e-6)


def test_layer_normalization_normalizes_each_sample():
    x = np.array([[1.0, 2.0, 3.0, 4.0], [100.0, 200.0, 300.0, 400.0]], np.float32)
    y = _model(layers.LayerNormalization(epsilon=1e-6)).predict(x, verbose=0)
    np.testing.assert_allclose(y[0], y[1], atol=1e-5)
    np.testing.assert_allclose(y.mean(axis=1), 0, atol=1e-6)


def test_layer_normalization_trains_gamma_and_beta():
    rng = np.random.default_rng(5)
    x, y = _regression(rng, n=128)
    layer = layers.LayerNormalization()
    model = _model(layers.Dense(8), layer, layers.Dense(2))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert np.abs(layer.gamma.numpy() - 1).max() > 1e-3 and np.abs(layer.beta.numpy()).max() > 1e-3


def test_frozen_layer_normalization_keeps_its_weights():
    rng = np.random.default_rng(6)
    x, y = _regression(rng)
    layer = layers.LayerNormalization(trainable=False)
    model = _model(layers.Dense(8), layer, layers.Dense(2))
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, verbose=0)
    np.testing.assert_array_equal(layer.gamma.numpy(), np.ones(8))
    assert len(model.trainable_weights) == 4


def test_layer_normalization_regularizer_adds_its_penalty():
    layer = layers.LayerNormalization(gamma_regularizer=keras.regularizers.l2(0.5))
    model = _model(layer)
    model.compile(optimizer="sgd", loss="mse")
    x = np.array([[1.0, 2.0, 3.0, 4.0]], np.float32)
    data_loss = float(np.mean(np.square(model.predict(x, verbose=0) - x)))
    assert model.evaluate(x, x, verbose=0) == pytest.approx(data_loss + 0.5 * 4, rel=1e-6)
    assert layer.get_config()["gamma_regularizer"]["class_name"] == "L2"


@pytest.mark.parametrize("kwargs, error", [
    ({"axis": 0}, NotImplementedError), ({"axis": [1, 2]}, NotImplementedError), ({"axis": "x"}, TypeError),
    ({"gamma_constraint": "clip"}, ValueError), ({"epsilon": 0.0}, ValueError),
    ({"beta_regularizer": lambda w: 0.0}, NotImplementedError),
])
def test_layer_normalization_bad_arguments(kwargs, error):
    with pytest.raises(error):
        layers.LayerNormalization(**kwargs)


def test_layer_normalization_of_images_is_not_implemented():
    with pytest.raises(NotImplementedError, match="batch, features"):
        keras.Sequential([layers.Input(shape=(3, 4)), layers.LayerNormalization()])


def test_layer_normalization_survives_save_and_load(tmp_path):
    rng = np.random.default_rng(7)
    x, y = _regression(rng)
    model = _model(layers.Dense(8), layers.LayerNormalization(center=False, epsilon=0.01), layers.Dense(2))
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "ln.fastdnn")
    loaded = keras.models.load_model(tmp_path / "ln.fastdnn")
    assert loaded.layers[1].get_config() == model.layers[1].get_config()
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_new_layers_are_exported_like_keras():
    for name in ("Normalization", "Rescaling", "GaussianNoise", "GaussianDropout", "ActivityRegularization",
                 "LayerNormalization"):
        assert name in layers.__all__ and getattr(keras.layers, name).__name__ == name

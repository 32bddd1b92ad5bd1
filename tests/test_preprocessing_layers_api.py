"""Normalization and Rescaling: Keras' arguments, weights, statistics, configs and errors."""

import numpy as np
import pytest

import fastdnn as keras
from fastdnn import layers


@pytest.fixture(autouse=True)
def fresh_names():
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)


def _data(rng, n=50, c=3):
    return (rng.uniform(-2, 5, c) + rng.uniform(0.5, 3, c) * rng.standard_normal((n, c))).astype(np.float32)


def _model(*stack, width=3):
    return keras.Sequential([layers.Input(shape=(width,)), *stack])


# --- Normalization ------------------------------------------------------------------------

def test_normalization_defaults_and_config_are_keras():
    config = layers.Normalization().get_config()
    assert {k: config[k] for k in ("axis", "invert", "mean", "variance")} == \
        {"axis": (-1,), "invert": False, "mean": None, "variance": None}


def test_adapt_gives_numpy_mean_and_population_variance_exactly():
    x = _data(np.random.default_rng(1))
    norm = layers.Normalization()
    norm.adapt(x)
    mean, variance, count = norm.get_weights()
    np.testing.assert_array_equal(mean, np.mean(x, axis=0))
    np.testing.assert_array_equal(variance, np.var(x, axis=0))  # ddof=0: Keras' population variance
    assert count.shape == () and count == 0  # Keras leaves count at 0 when adapting an array


def test_adapted_layer_has_keras_three_non_trainable_weights():
    norm = layers.Normalization()
    model = _model(norm, layers.Dense(2))
    assert [(w.name, w.shape, w.trainable) for w in norm.weights] == \
        [("mean", (3,), False), ("variance", (3,), False), ("count", (), False)]
    assert norm.count_params() == 7  # as Keras' summary counts them
    assert len(model.non_trainable_weights) == 3


def test_summary_counts_normalization_parameters_as_non_trainable():
    model = _model(layers.Normalization(), layers.Dense(2))
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Total params: 15" in text and "Trainable params: 8" in text and "Non-trainable params: 7" in text


def test_normalized_output_is_x_minus_mean_over_standard_deviation():
    x = _data(np.random.default_rng(2))
    norm = layers.Normalization()
    norm.adapt(x)
    got = _model(norm).predict(x, verbose=0)
    want = (x.astype(np.float64) - x.mean(axis=0)) / x.std(axis=0)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * np.abs(want).max())
    np.testing.assert_allclose(got.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(got.var(axis=0), 1, atol=1e-5)


def test_invert_undoes_the_normalization():
    x = _data(np.random.default_rng(3))
    forward, backward = layers.Normalization(), layers.Normalization(invert=True)
    forward.adapt(x)
    backward.adapt(x)
    round_trip = _model(forward, backward).predict(x, verbose=0)
    np.testing.assert_allclose(round_trip, x, rtol=0, atol=1e-5 * np.abs(x).max())


def test_given_scalar_mean_and_variance_broadcast_and_make_no_weights():
    norm = layers.Normalization(mean=3.0, variance=4.0)
    model = _model(norm)
    assert norm.weights == [] and norm.count_params() == 0
    np.testing.assert_array_equal(model.predict(np.array([[1.0, 3.0, 7.0]]), verbose=0), [[-1.0, 0.0, 2.0]])


def test_given_per_feature_mean_and_variance():
    model = _model(layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 9.0]))
    np.testing.assert_allclose(model.predict(np.ones((1, 3)), verbose=0), [[0.0, -0.5, -2 / 3]], rtol=1e-7)


def test_zero_variance_feature_is_divided_by_epsilon_not_zero():
    model = _model(layers.Normalization(mean=[0.0, 0.0, 0.0], variance=[0.0, 1.0, 1.0]))
    np.testing.assert_allclose(model.predict(np.array([[1e-7, 1.0, 1.0]]), verbose=0), [[1.0, 1.0, 1.0]], rtol=1e-6)


def test_using_an_unadapted_normalization_raises_and_names_adapt():
    model = _model(layers.Normalization(), layers.Dense(1))
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 3), np.float32)
    for run in (lambda: model.predict(x, verbose=0), lambda: model.fit(x, x[:, :1], verbose=0),
                lambda: model.evaluate(x, x[:, :1], verbose=0)):
        with pytest.raises(ValueError, match=r"adapt\(data\)"):
            run()


def test_adapt_after_compile_and_predict_takes_effect():
    rng = np.random.default_rng(4)
    norm = layers.Normalization()
    model = _model(norm)
    norm.adapt(_data(rng))
    model.predict(np.ones((1, 3)), verbose=0)  # the engine network now exists, bound to the weights
    second = _data(rng) * 10
    norm.adapt(second)
    want = (1.0 - second.mean(axis=0)) / second.std(axis=0)
    np.testing.assert_allclose(model.predict(np.ones((1, 3)), verbose=0)[0], want, rtol=1e-5)


def test_set_weights_counts_as_adapting():
    model = _model(layers.Normalization())
    model.set_weights([np.full(3, 2.0), np.full(3, 4.0), np.zeros(())])
    np.testing.assert_array_equal(model.predict(np.full((1, 3), 4.0), verbose=0), [[1.0, 1.0, 1.0]])


def test_adapt_on_batches_merges_them_as_keras():
    rng = np.random.default_rng(5)
    x = _data(rng, n=90)
    batched = layers.Normalization()
    batched.adapt([x[:40], x[40:70], (x[70:], None)])  # (x, y) batches as Keras takes them
    mean, variance, _ = batched.get_weights()
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(variance, x.var(axis=0), rtol=1e-5)


def test_adapt_takes_any_array_like_as_one_batch():
    class Table:  # what a DataFrame looks like to adapt: iterable (over its columns) and an array
        def __init__(self, values):
            self.values = values

        def __iter__(self):
            return iter(["a", "b", "c"])

        def __array__(self, dtype=None, copy=None):
            return self.values

    x = _data(np.random.default_rng(11))
    norm = layers.Normalization()
    norm.adapt(Table(x))
    np.testing.assert_array_equal(norm.get_weights()[0], np.mean(x, axis=0))


def test_adapt_refuses_nan_and_inf():
    x = _data(np.random.default_rng(6))
    x[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or Inf"):
        layers.Normalization().adapt(x)


def test_adapt_refuses_empty_and_wrongly_shaped_data():
    with pytest.raises(ValueError, match="at least one sample"):
        layers.Normalization().adapt(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"\(samples, features\)"):
        layers.Normalization().adapt(np.zeros(5))
    with pytest.raises(ValueError, match="empty iterable"):
        layers.Normalization().adapt([])
    norm = layers.Normalization()
    norm.adapt(np.ones((4, 3)))
    with pytest.raises(ValueError, match="incompatible shape"):
        norm.adapt(np.ones((4, 2)))


def test_adapt_refuses_a_layer_given_mean_and_variance():
    with pytest.raises(ValueError, match="without mean"):
        layers.Normalization(mean=0.0, variance=1.0).adapt(np.ones((2, 3)))


@pytest.mark.parametrize("kwargs, message", [
    ({"mean": 1.0}, "both `mean` and `variance`"),
    ({"variance": 1.0}, "both `mean` and `variance`"),
    ({"mean": [1.0, 2.0], "variance": 1.0}, "same shape"),
    ({"mean": [[1.0]], "variance": [[1.0]]}, "rank of `mean`"),
    ({"mean": 0.0, "variance": -1.0}, "variance must be >= 0"),
    ({"mean": float("nan"), "variance": 1.0}, "mean must be finite"),
])
def test_bad_mean_or_variance_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.Normalization(**kwargs)


def test_mean_that_does_not_fit_the_features_raises_at_build():
    with pytest.raises(ValueError, match="broadcast"):
        _model(layers.Normalization(mean=[1.0, 2.0], variance=[1.0, 1.0]))


@pytest.mark.parametrize("axis", [0, (0, 1), 2, (-1, 1)])
def test_axes_other_than_the_features_are_not_implemented(axis):
    with pytest.raises(NotImplementedError, match="axis"):
        layers.Normalization(axis=axis)


def test_images_are_not_implemented_for_normalization():
    with pytest.raises(NotImplementedError, match="Flatten"):
        keras.Sequential([layers.Input(shape=(4, 4)), layers.Normalization()])


def _adapted_saved_and_loaded(norm, x, tmp_path):
    """A model whose first layer is `norm` adapted on x, saved and loaded; its predictions checked equal."""
    model = _model(norm, layers.Dense(2))
    norm.adapt(x)
    want = model.predict(x, verbose=0)
    model.save(tmp_path / "m.fastdnn")
    loaded = keras.models.load_model(tmp_path / "m.fastdnn")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), want)
    return loaded


def test_normalization_survives_save_and_load(tmp_path):
    x = _data(np.random.default_rng(7))
    loaded = _adapted_saved_and_loaded(layers.Normalization(invert=False), x, tmp_path)
    np.testing.assert_array_equal(loaded.layers[0].get_weights()[1], np.var(x, axis=0))


def test_normalization_config_round_trip_with_constants():
    norm = layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 9.0], invert=True, name="n")
    again = layers.deserialize(layers.serialize(norm))
    assert again.get_config() == norm.get_config()
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(_model(again).predict(x, verbose=0), _model(norm).predict(x, verbose=0))


def test_normalization_in_fit_trains_the_layers_after_it():
    rng = np.random.default_rng(8)
    x = _data(rng, n=200) * 50 + 100  # badly scaled features
    y = (x - x.mean(axis=0)) @ np.array([[0.02], [-0.01], [0.03]], np.float32)
    norm = layers.Normalization()
    norm.adapt(x)
    model = _model(norm, layers.Dense(1))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    history = model.fit(x, y, epochs=20, batch_size=20, verbose=0)
    assert history.history["loss"][-1] < 1e-3 * history.history["loss"][0]
    np.testing.assert_array_equal(norm.get_weights()[0], x.mean(axis=0))  # fit does not move them


# --- Normalization(axis=None): one mean and variance for all values ------------------------

def test_axis_none_adapts_one_mean_and_variance_over_all_values():
    x = _data(np.random.default_rng(9))
    norm = layers.Normalization(axis=None)
    norm.adapt(x)
    assert [(w.name, w.shape) for w in norm.weights] == [("mean", ()), ("variance", ()), ("count", ())]
    mean, variance, _ = norm.get_weights()
    np.testing.assert_array_equal(mean, np.float32(np.mean(x)))
    np.testing.assert_array_equal(variance, np.float32(np.var(x)))


def test_axis_none_summary_counts_three_parameters_whatever_the_width():
    model = _model(layers.Normalization(axis=None), layers.Dense(2))
    lines = []
    model.summary(print_fn=lines.append)
    assert "Non-trainable params: 3" in "\n".join(lines)  # Keras' scalar mean, variance and count


def test_axis_none_normalizes_every_feature_with_the_shared_statistics():
    x = _data(np.random.default_rng(10))
    norm = layers.Normalization(axis=None)
    norm.adapt(x)
    got = _model(norm).predict(x, verbose=0)
    want = (x.astype(np.float64) - np.mean(x, dtype=np.float64)) / np.std(x, dtype=np.float64)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)  # float32 mean/variance, then one division


def test_axis_none_set_weights_reaches_the_engine():
    norm = layers.Normalization(axis=None)
    model = _model(norm)
    norm.set_weights([np.float32(2.0), np.float32(16.0), np.float32(0.0)])
    np.testing.assert_array_equal(model.predict(np.full((2, 3), 6.0, np.float32), verbose=0), np.ones((2, 3)))


def test_axis_none_invert_undoes_the_normalization():
    x = _data(np.random.default_rng(11))
    forward, backward = layers.Normalization(axis=None), layers.Normalization(axis=None, invert=True)
    forward.adapt(x)
    backward.adapt(x)
    np.testing.assert_allclose(_model(forward, backward).predict(x, verbose=0), x, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("invert, want", [(False, -0.5), (True, 4.0)], ids=["normalize", "invert"])
def test_axis_none_takes_scalar_mean_and_variance(invert, want):
    model = _model(layers.Normalization(axis=None, mean=2.0, variance=4.0, invert=invert))
    np.testing.assert_array_equal(model.predict(np.ones((2, 3), np.float32), verbose=0), np.full((2, 3), want))


def test_axis_none_refuses_a_mean_per_feature():
    with pytest.raises(ValueError, match="rank of `mean`"):
        layers.Normalization(axis=None, mean=[1.0, 2.0], variance=[1.0, 1.0])


def test_axis_none_adapts_on_1d_samples_and_fits_1d_inputs_as_the_tensorflow_tutorial():
    rng = np.random.default_rng(12)
    horsepower = rng.uniform(40, 230, 200)
    labels = 40 - 0.15 * horsepower
    normalizer = layers.Normalization(input_shape=[1, ], axis=None)
    normalizer.adapt(horsepower)
    model = keras.Sequential([normalizer, layers.Dense(units=1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.1), loss="mean_absolute_error")
    history = model.fit(horsepower, labels, epochs=100, verbose=0, validation_split=0.2)
    assert history.history["loss"][-1] < 0.05 * history.history["loss"][0]
    assert model.predict(np.linspace(0.0, 250, 251), verbose=0).shape == (251, 1)
    np.testing.assert_array_equal(normalizer.get_weights()[0], np.float32(np.mean(horsepower)))


def test_axis_none_adapt_merges_batches_over_all_their_values():
    x = _data(np.random.default_rng(13), n=60)
    norm = layers.Normalization(axis=None)
    norm.adapt([x[:25], x[25:]])
    mean, variance, _ = norm.get_weights()
    np.testing.assert_allclose([mean, variance], [np.mean(x, dtype=np.float64), np.var(x, dtype=np.float64)],
                               rtol=1e-5)  # float32 batch statistics merged in float32


def test_axis_none_normalizes_inputs_of_any_shape():
    x = np.arange(16, dtype=np.float32).reshape(2, 2, 4)
    norm = layers.Normalization(axis=None)
    norm.adapt(x)
    got = keras.Sequential([layers.Input(shape=(2, 4)), norm]).predict(x, verbose=0)
    np.testing.assert_allclose(got, (x - x.mean()) / x.std(), rtol=1e-5, atol=1e-6)


def test_axis_none_adapt_refuses_empty_data():
    with pytest.raises(ValueError, match="at least one value"):
        layers.Normalization(axis=None).adapt(np.zeros((0, 3)))


def test_axis_none_config_is_keras_and_round_trips():
    norm = layers.Normalization(axis=None, mean=1.0, variance=4.0, name="n")
    assert norm.get_config()["axis"] == ()
    again = layers.deserialize(layers.serialize(norm))
    assert again.get_config() == norm.get_config()


def test_axis_none_survives_save_and_load(tmp_path):
    x = _data(np.random.default_rng(14))
    loaded = _adapted_saved_and_loaded(layers.Normalization(axis=None), x, tmp_path)
    assert loaded.layers[0].get_weights()[1].shape == ()


def test_axis_1_is_the_feature_axis_as_minus_1():
    x = _data(np.random.default_rng(15))
    by_one, by_last = layers.Normalization(axis=1), layers.Normalization(axis=-1)
    by_one.adapt(x)
    by_last.adapt(x)
    np.testing.assert_array_equal(_model(by_one).predict(x, verbose=0), _model(by_last).predict(x, verbose=0))


# --- Rescaling ------------------------------------------------------------------------------

def test_rescaling_is_x_times_scale_plus_offset():
    model = _model(layers.Rescaling(1 / 255, offset=-0.5))
    x = np.array([[0.0, 127.5, 255.0]], np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), [[-0.5, 0.0, 0.5]], atol=1e-7)


def test_rescaling_default_offset_is_zero_and_config_is_keras():
    layer = layers.Rescaling(2.0)
    assert {k: layer.get_config()[k] for k in ("scale", "offset")} == {"scale": 2.0, "offset": 0.0}
    assert layer.count_params() == 0


def test_rescaling_with_per_feature_arrays():
    layer = layers.Rescaling(np.array([1.0, 2.0, 3.0]), offset=[0.0, 1.0, 0.0])
    np.testing.assert_array_equal(_model(layer).predict(np.ones((1, 3)), verbose=0), [[1.0, 3.0, 3.0]])
    assert layer.get_config()["scale"] == [1.0, 2.0, 3.0]


def test_rescaling_images_then_flatten():
    model = keras.Sequential([layers.Input(shape=(2, 2)), layers.Rescaling(0.5), layers.Flatten()])
    x = np.arange(8, dtype=np.float32).reshape(2, 2, 2)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x.reshape(2, 4) * 0.5)


def test_rescaling_passes_gradients_to_the_layers_before_it():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    model = _model(layers.Dense(1), layers.Rescaling(0.5))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 1e-3 * history.history["loss"][0]


@pytest.mark.parametrize("kwargs", [{"scale": "big"}, {"scale": float("inf")}, {"scale": 1.0, "offset": [np.nan]}])
def test_bad_scale_or_offset_raise_value_error(kwargs):
    with pytest.raises(ValueError, match="finite number"):
        layers.Rescaling(**kwargs)


def test_scale_that_does_not_fit_the_input_raises_at_build():
    with pytest.raises(ValueError, match="does not broadcast"):
        _model(layers.Rescaling([1.0, 2.0]))


def test_rescaling_survives_save_and_load(tmp_path):
    model = _model(layers.Rescaling([1.0, 2.0, 3.0], offset=0.25), layers.Dense(2))
    x = np.random.default_rng(10).normal(size=(5, 3)).astype(np.float32)
    model.save(tmp_path / "r.fastdnn")
    np.testing.assert_array_equal(keras.models.load_model(tmp_path / "r.fastdnn").predict(x, verbose=0),
                                  model.predict(x, verbose=0))

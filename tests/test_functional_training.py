"""Training functional and subclassed models: several inputs, several outputs with per-output losses,
loss_weights and metrics, shared layers, nested models, and the Keras 3 names of their logs.
(test_keras_parity_functional.py checks the numbers against Keras itself.)"""

import numpy as np
import pytest

import fastdnn as keras
from course_models import WideDeepModel
from fastdnn import backend


@pytest.fixture(autouse=True)
def fresh_names():
    backend.clear_session()
    keras.utils.set_random_seed(3)


def housing_like(n=96, seed=0):
    """Scaled features of California housing's shape (8 columns) and a target."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 8))
    y = x[:, 0] * 0.7 - x[:, 3] * 0.2 + 0.1 * rng.standard_normal(n) + 2.0
    return x, y


def two_input_two_output(names=True):
    input_wide = keras.layers.Input(shape=[5], name="wide_input" if names else None)
    input_deep = keras.layers.Input(shape=[6], name="deep_input" if names else None)
    hidden1 = keras.layers.Dense(30, activation="relu")(input_deep)
    hidden2 = keras.layers.Dense(30, activation="relu")(hidden1)
    concat = keras.layers.concatenate([input_wide, hidden2])
    output = keras.layers.Dense(1, name="main_output" if names else None)(concat)
    aux_output = keras.layers.Dense(1, name="aux_output" if names else None)(hidden2)
    return keras.models.Model(inputs=[input_wide, input_deep], outputs=[output, aux_output])


def test_the_course_functional_wide_and_deep_trains_and_evaluates_to_a_number():
    x, y = housing_like()
    input = keras.layers.Input(shape=x.shape[1:])
    hidden1 = keras.layers.Dense(30, activation="relu")(input)
    hidden2 = keras.layers.Dense(30, activation="relu")(hidden1)
    concat = keras.layers.concatenate([input, hidden2])
    output = keras.layers.Dense(1)(concat)
    model = keras.models.Model(inputs=[input], outputs=[output])
    model.compile(loss="mean_squared_error", optimizer="sgd")
    history = model.fit(x, y, validation_data=(x[:20], y[:20]), epochs=3, verbose=0)
    assert list(history.history) == ["loss", "val_loss"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    result = model.evaluate(x, y, verbose=0)
    assert isinstance(result, float) and np.isfinite(result)
    assert model.predict(x, verbose=0).shape == (len(x), 1)


def test_two_inputs_take_non_contiguous_slices():
    x, y = housing_like()
    model = two_input_two_output()
    model.compile(loss="mse", optimizer="sgd")
    model.fit([x[:, :5], x[:, 2:]], [y, y], epochs=1, verbose=0)
    contiguous = model.predict([np.ascontiguousarray(x[:, :5]), np.ascontiguousarray(x[:, 2:])], verbose=0)
    sliced = model.predict([x[:, :5], x[:, 2:]], verbose=0)
    for a, b in zip(contiguous, sliced):
        np.testing.assert_array_equal(a, b)


def test_one_loss_for_two_outputs_logs_each_output_loss_by_its_layer_name():
    x, y = housing_like()
    model = two_input_two_output(names=False)
    model.compile(loss="mean_squared_error", optimizer="sgd")
    history = model.fit([x[:, :5], x[:, 2:]], [y, y], validation_data=([x[:, :5], x[:, 2:]], [y, y]),
                        epochs=1, verbose=0)
    assert sorted(history.history) == ["dense_2_loss", "dense_3_loss", "loss", "val_dense_2_loss",
                                       "val_dense_3_loss", "val_loss"]


def test_evaluate_returns_the_total_then_each_output_loss():
    x, y = housing_like()
    model = two_input_two_output()
    model.compile(loss="mse", optimizer="sgd")
    total, main, aux = model.evaluate([x[:, :5], x[:, 2:]], [y, y], verbose=0)
    assert total == pytest.approx(main + aux, rel=1e-6)


def test_loss_weights_weight_the_total_but_not_the_per_output_logs():
    x, y = housing_like()
    model = two_input_two_output()
    model.compile(loss=["mse", "mse"], loss_weights=[0.9, 0.1], optimizer=keras.optimizers.SGD(learning_rate=1e-3))
    logs = model.evaluate([x[:, :5], x[:, 2:]], [y, y], verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(0.9 * logs["main_output_loss"] + 0.1 * logs["aux_output_loss"], rel=1e-6)


def test_a_loss_for_one_output_only_trains_that_output():
    x, y = housing_like()
    model = two_input_two_output()
    model.compile(loss={"main_output": "mse"}, optimizer="sgd")
    aux_before = model.get_layer("aux_output").get_weights()
    logs = model.fit([x[:, :5], x[:, 2:]], {"main_output": y}, epochs=1, verbose=0).history
    assert sorted(logs) == ["loss"] or "aux_output_loss" not in logs
    for before, after in zip(aux_before, model.get_layer("aux_output").get_weights()):
        np.testing.assert_array_equal(before, after)


def test_one_metric_list_applies_to_every_output():
    x, y = housing_like()
    model = two_input_two_output()
    model.compile(loss="mse", metrics=["mae"], optimizer="sgd")
    logs = model.fit([x[:, :5], x[:, 2:]], [y, y], epochs=1, verbose=0).history
    assert {"main_output_mae", "aux_output_mae"} <= set(logs)


def test_a_metric_list_with_one_entry_per_output_is_read_per_output():
    x, y = housing_like()
    model = two_input_two_output()
    model.compile(loss="mse", metrics=[["mae"], ["mse"]], optimizer="sgd")
    logs = model.fit([x[:, :5], x[:, 2:]], [y, y], epochs=1, verbose=0).history
    assert {"main_output_mae", "aux_output_mse"} <= set(logs) and "main_output_mse" not in logs


def test_dict_inputs_and_outputs_are_matched_by_name():
    x, y = housing_like()
    model = two_input_two_output()
    model.compile(loss={"main_output": "mse", "aux_output": "mae"}, optimizer="sgd")
    model.fit({"wide_input": x[:, :5], "deep_input": x[:, 2:]}, {"main_output": y, "aux_output": y},
              epochs=1, verbose=0)
    by_dict = model.predict({"deep_input": x[:, 2:], "wide_input": x[:, :5]}, verbose=0)
    by_list = model.predict([x[:, :5], x[:, 2:]], verbose=0)
    assert isinstance(by_list, list) and len(by_list) == 2
    for a, b in zip(by_dict, by_list):
        np.testing.assert_array_equal(a, b)


def test_dict_outputs_predict_a_dict():
    a = keras.Input(shape=(3,))
    model = keras.Model(a, {"first": keras.layers.Dense(2)(a), "second": keras.layers.Dense(1)(a)})
    out = model.predict(np.ones((4, 3)), verbose=0)
    assert isinstance(out, dict) and out["first"].shape == (4, 2) and out["second"].shape == (4, 1)


def test_a_functional_chain_trains_exactly_as_the_same_sequential():
    x, y = housing_like()
    dense1, dense2 = keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)
    sequential = keras.Sequential([keras.Input(shape=(8,)), dense1, dense2])
    weights = sequential.get_weights()
    inputs = keras.Input(shape=(8,))
    functional = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Dense(16, activation="relu")(inputs)))
    functional.set_weights(weights)
    results = []
    for model in (sequential, functional):
        model.compile(loss="mse", optimizer="adam")
        keras.utils.set_random_seed(5)
        history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        results.append((history.history["loss"], model.get_weights()))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)


def test_a_shared_layer_gets_the_gradient_of_both_calls():
    left, right = keras.Input(shape=(3,)), keras.Input(shape=(3,))
    shared = keras.layers.Dense(2, use_bias=False, kernel_initializer="ones")
    model = keras.Model([left, right], keras.layers.add([shared(left), shared(right)]))
    model.compile(loss="mse", optimizer=keras.optimizers.SGD(learning_rate=0.1))
    a, b = np.ones((1, 3), np.float32), 2 * np.ones((1, 3), np.float32)
    model.train_on_batch([a, b], np.zeros((1, 2)))
    # out = (a + b)·W = 9 per unit; d(mean (out)²)/dW = 2·9/2 · (a + b) = 27 per entry, both calls summed
    np.testing.assert_allclose(shared.get_weights()[0], 1 - 0.1 * 27, rtol=1e-6)


def test_a_model_used_as_a_layer_shares_its_weights():
    inner_in = keras.Input(shape=(4,))
    inner = keras.Model(inner_in, keras.layers.Dense(3)(inner_in))
    outer_in = keras.Input(shape=(4,))
    outer = keras.Model(outer_in, keras.layers.Dense(1)(inner(outer_in)))
    x = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(outer.predict(x, verbose=0),
                               outer.layers[-1](inner.predict(x, verbose=0)), rtol=1e-6)
    assert outer.count_params() == 15 + 4


def test_sample_weight_weights_every_output():
    x, y = housing_like()
    model = two_input_two_output()
    model.compile(loss="mse", optimizer="sgd")
    w = np.zeros(len(x))
    w[:10] = 1.0
    weighted = model.evaluate([x[:, :5], x[:, 2:]], [y, y], sample_weight=w, verbose=0)
    first = model.evaluate([x[:10, :5], x[:10, 2:]], [y[:10], y[:10]], verbose=0)
    np.testing.assert_allclose(np.array(weighted) * len(x) / 10, first, rtol=1e-5)


def test_validation_split_splits_every_input_and_output():
    x, y = housing_like()
    model = two_input_two_output()
    model.compile(loss="mse", optimizer="sgd")
    history = model.fit([x[:, :5], x[:, 2:]], [y, y], validation_split=0.25, epochs=1, verbose=0)
    assert "val_main_output_loss" in history.history


def test_class_weight_on_two_outputs_is_refused_as_keras_does():
    x, y = housing_like()
    model = two_input_two_output()
    model.compile(loss="mse", optimizer="sgd")
    with pytest.raises(ValueError, match="only supported for Models with a single output"):
        model.fit([x[:, :5], x[:, 2:]], [y, y], class_weight={0: 1.0}, verbose=0)


def test_on_batch_calls_take_lists():
    x, y = housing_like()
    model = two_input_two_output()
    model.compile(loss="mse", optimizer="sgd")
    assert len(model.train_on_batch([x[:, :5], x[:, 2:]], [y, y])) == 3
    assert len(model.test_on_batch([x[:, :5], x[:, 2:]], [y, y])) == 3
    assert len(model.predict_on_batch([x[:, :5], x[:, 2:]])) == 2


def test_a_single_output_classifier_uses_accuracy_from_the_engine():
    rng = np.random.default_rng(1)
    x, labels = rng.standard_normal((64, 6)).astype(np.float32), rng.integers(0, 3, 64)
    inputs = keras.Input(shape=(6,))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.Dense(8)(inputs)))
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x, labels, epochs=1, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss"]
    loss, accuracy = model.evaluate(x, labels, verbose=0)
    assert accuracy == pytest.approx(np.mean(model.predict(x, verbose=0).argmax(1) == labels))


def test_the_course_subclassed_model_inside_sequential_trains():
    x, y = housing_like()
    model = keras.models.Sequential([WideDeepModel()])
    model.build(input_shape=(None, 8))
    model.compile(loss="mean_squared_error", optimizer="sgd")
    history = model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]
    assert model.predict(x, verbose=0).shape == (len(x), 1)


class WideAndDeepModel(keras.models.Model):
    """Géron's subclass, with two outputs (handson-ml2, chapter 10)."""

    def __init__(self, units=30, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.hidden1 = keras.layers.Dense(units, activation=activation)
        self.hidden2 = keras.layers.Dense(units, activation=activation)
        self.main_output = keras.layers.Dense(1)
        self.aux_output = keras.layers.Dense(1)

    def call(self, inputs):
        input_A, input_B = inputs
        hidden1 = self.hidden1(input_B)
        hidden2 = self.hidden2(hidden1)
        concat = keras.layers.concatenate([input_A, hidden2])
        return self.main_output(concat), self.aux_output(hidden2)


def test_gerons_subclassed_model_trains_with_one_loss_and_two_weights():
    x, y = housing_like()
    model = WideAndDeepModel(30, activation="relu", name="my_cool_model")
    model.compile(loss="mse", loss_weights=[0.9, 0.1], optimizer=keras.optimizers.SGD(learning_rate=1e-3))
    history = model.fit((x[:, :5], x[:, 2:]), (y, y), epochs=2, verbose=0)
    assert sorted(history.history) == ["loss", "output_1_loss", "output_2_loss"]  # tf.keras 2's names
    main, aux = model.predict((x[:, :5], x[:, 2:]), verbose=0)
    assert main.shape == aux.shape == (len(x), 1)
    assert model.name == "my_cool_model"


def test_a_layer_called_with_training_true_keeps_dropping_out_in_predict():
    inputs = keras.Input(shape=(400,))
    model = keras.Model(inputs, keras.layers.Dropout(0.5)(inputs, training=True))
    x = np.ones((10, 400), np.float32)
    first, second = model.predict(x, verbose=0), model.predict(x, verbose=0)
    assert 0.4 < np.mean(first == 0) < 0.6 and not np.array_equal(first, second)


def test_layers_a_subclass_assigns_in_a_list_are_tracked():
    class Stack(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = [keras.layers.Dense(4, activation="relu") for _ in range(3)]
            self.out = keras.layers.Dense(1)

        def call(self, x):
            for layer in self.hidden:
                x = layer(x)
            return self.out(x)

    model = Stack()
    model.build((None, 5))
    assert len(model.layers) == 4 and model.count_params() == 24 + 20 + 20 + 5

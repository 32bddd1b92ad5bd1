"""fastdnn.activations, losses and metrics as NumPy functions, names and classes."""

import numpy as np
import pytest

import fastdnn as keras
from fastdnn import activations, losses, metrics

X = np.linspace(-4, 4, 17).astype(np.float32)


@pytest.mark.parametrize(
    "name, reference",
    [
        ("relu", lambda x: np.maximum(x, 0)),
        ("leaky_relu", lambda x: np.where(x > 0, x, 0.2 * x)),
        ("elu", lambda x: np.where(x > 0, x, np.expm1(x))),
        ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
        ("tanh", np.tanh),
        ("softplus", lambda x: np.log1p(np.exp(x))),
        ("softsign", lambda x: x / (1 + np.abs(x))),
        ("swish", lambda x: x / (1 + np.exp(-x))),
        ("hard_sigmoid", lambda x: np.clip(x / 6 + 0.5, 0, 1)),
        ("exponential", np.exp),
        ("linear", lambda x: x),
    ],
)
def test_every_activation_is_a_numpy_function_by_name(name, reference):
    np.testing.assert_allclose(activations.get(name)(X), reference(X.astype(np.float64)), rtol=1e-5, atol=1e-6)


def test_derivatives_come_from_the_engine():
    np.testing.assert_allclose(activations.derivative("tanh", X), 1 - np.tanh(X.astype(np.float64)) ** 2, atol=1e-6)
    np.testing.assert_array_equal(activations.derivative("relu", np.array([-1.0, 2.0])), [0.0, 1.0])
    with pytest.raises(ValueError, match="Jacobian"):
        activations.derivative("softmax", X)


def test_softmax_works_along_the_requested_axis():
    x = np.random.default_rng(0).normal(size=(3, 4))
    np.testing.assert_allclose(activations.softmax(x, axis=0).sum(axis=0), 1.0, rtol=1e-6)


def test_an_unknown_activation_lists_the_known_ones():
    with pytest.raises(ValueError, match="Unknown activation 'rectifier'; known: elu, exponential"):
        activations.get("rectifier")


def test_loss_functions_give_per_sample_values_and_classes_the_mean():
    y_true = np.array([0, 2])
    y_pred = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    per_sample = losses.sparse_categorical_crossentropy(y_true, y_pred)
    np.testing.assert_allclose(per_sample, -np.log([0.7, 0.8]), rtol=1e-6)
    assert losses.SparseCategoricalCrossentropy()(y_true, y_pred) == pytest.approx(per_sample.mean())
    np.testing.assert_allclose(losses.mse(np.zeros((2, 2)), np.ones((2, 2))), [1.0, 1.0])


def test_binary_crossentropy_clips_probabilities_as_keras():
    assert losses.binary_crossentropy(np.array([[1.0]]), np.array([[0.0]]))[0] == pytest.approx(-np.log(1e-7), rel=1e-5)


@pytest.mark.parametrize("name", ["mse", "mae", "MSE", "mean_squared_error", "binary_crossentropy",
                                  "categorical_crossentropy", "sparse_categorical_crossentropy"])
def test_loss_names_and_aliases_resolve(name):
    assert isinstance(losses.get(name), losses.Loss)


def test_accuracy_functions():
    y_pred = np.array([[0.1, 0.9], [0.8, 0.2], [0.4, 0.6]])
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy(np.array([1, 1, 1]), y_pred), [1, 0, 1])
    np.testing.assert_array_equal(metrics.categorical_accuracy(np.eye(2)[[1, 0, 0]], y_pred), [1, 1, 0])
    np.testing.assert_array_equal(metrics.binary_accuracy(np.array([[1], [0]]), np.array([[0.7], [0.6]])), [1, 0])
    np.testing.assert_array_equal(
        metrics.top_k_categorical_accuracy(np.eye(3)[[2, 0]], np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7]]), k=2), [0, 0])


def test_metric_objects_keep_a_running_mean():
    m = metrics.SparseCategoricalAccuracy()
    m.update_state([0, 1], [[0.9, 0.1], [0.9, 0.1]])
    m.update_state([1], [[0.1, 0.9]])
    assert m.result() == pytest.approx(2 / 3)
    m.reset_state()
    assert m.result() == 0.0


def test_top_k_metric_trains_through_python_and_is_logged_by_its_name():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(40, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    model = keras.Sequential([keras.layers.Input(shape=(5,)), keras.layers.Dense(4, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["sparse_top_k_categorical_accuracy"])
    history = model.fit(x, y, epochs=1, verbose=0)
    assert history.history["sparse_top_k_categorical_accuracy"] == [1.0]  # k = 5 > 4 classes

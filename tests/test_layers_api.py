"""The layers: weights, defaults and configs as Keras has them."""

import warnings

import numpy as np
import pytest

import fastdnn as keras
from fastdnn import layers


@pytest.fixture(autouse=True)
def fresh_names():
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)


def built(layer, width=4):
    keras.Sequential([layers.Input(shape=(width,)), layer])
    return layer


def test_dense_weights_are_a_glorot_uniform_kernel_and_a_zero_bias():
    dense = built(layers.Dense(300), width=784)
    kernel, bias = dense.get_weights()
    limit = np.sqrt(6 / (784 + 300))
    assert kernel.shape == (784, 300) and np.abs(kernel).max() <= limit
    assert abs(kernel.std() - limit / np.sqrt(3)) < 0.02 * limit
    np.testing.assert_array_equal(bias, np.zeros(300))


def test_dense_without_bias_has_only_a_kernel():
    assert [w.name for w in built(layers.Dense(3, use_bias=False)).weights] == ["kernel"]


def test_dense_with_a_regularizer_adds_its_penalty_to_the_loss():
    model = keras.Sequential([layers.Input(shape=(2,)),
                              layers.Dense(1, use_bias=False, kernel_regularizer=keras.regularizers.l2(0.5))])
    model.set_weights([np.array([[1.0], [2.0]])])
    model.compile(optimizer="sgd", loss="mse")
    x = np.array([[1.0, 0.0]])
    assert model.evaluate(x, np.array([[1.0]]), verbose=0) == pytest.approx(0.5 * (1 + 4))


def test_a_custom_regularizer_is_refused_clearly():
    with pytest.raises(NotImplementedError, match="supports L1/L2 penalties only"):
        layers.Dense(3, kernel_regularizer=lambda w: 0.0)


def test_batchnorm_has_keras_defaults_and_two_non_trainable_statistics():
    bn = built(layers.BatchNormalization(), width=5)
    assert (bn.momentum, bn.epsilon) == (0.99, 0.001)
    assert [w.name for w in bn.trainable_weights] == ["gamma", "beta"]
    assert [w.name for w in bn.non_trainable_weights] == ["moving_mean", "moving_variance"]
    gamma, beta, mean, variance = bn.get_weights()
    np.testing.assert_array_equal(np.stack([gamma, beta, mean, variance]), [[1] * 5, [0] * 5, [0] * 5, [1] * 5])


def test_a_frozen_batchnorm_counts_all_four_weights_as_non_trainable():
    bn = built(layers.BatchNormalization(), width=3)
    bn.trainable = False
    assert bn.trainable_weights == [] and len(bn.non_trainable_weights) == 4


def test_batchnorm_without_center_and_scale_has_only_statistics():
    bn = built(layers.BatchNormalization(center=False, scale=False), width=3)
    assert [w.name for w in bn.weights] == ["moving_mean", "moving_variance"]


def test_leaky_relu_slope_defaults_to_keras_03_for_the_layer_and_02_for_the_function():
    x = np.array([[-10.0, 10.0]])
    np.testing.assert_allclose(layers.LeakyReLU()(x), [[-3.0, 10.0]])
    np.testing.assert_allclose(keras.activations.leaky_relu(x), [[-2.0, 10.0]])
    np.testing.assert_allclose(layers.Dense(2, activation="leaky_relu", kernel_initializer="identity")(x), [[-2.0, 10.0]])


def test_leaky_relu_takes_keras_2_alpha_with_a_deprecation_warning():
    with pytest.deprecated_call():
        layer = layers.LeakyReLU(alpha=0.1)
    np.testing.assert_allclose(layer(np.array([[-10.0]])), [[-1.0]])


def test_prelu_starts_at_zero_slope_per_feature():
    prelu = built(layers.PReLU(), width=3)
    np.testing.assert_array_equal(prelu.get_weights()[0], np.zeros(3))
    np.testing.assert_array_equal(prelu(np.array([[-2.0, 0.5, 1.0]])), [[0.0, 0.5, 1.0]])
    assert built(layers.PReLU(shared_axes=[1]), width=3).get_weights()[0].shape == (1,)


def test_relu_layer_takes_max_value_negative_slope_and_threshold():
    layer = layers.ReLU(max_value=6.0, negative_slope=0.1, threshold=1.0)
    np.testing.assert_allclose(layer(np.array([[-1.0, 0.5, 3.0, 10.0]])), [[-0.2, -0.05, 3.0, 6.0]], rtol=1e-6)


def test_elu_and_activation_layers_apply_their_function():
    x = np.array([[-1.0, 2.0]])
    np.testing.assert_allclose(layers.ELU(alpha=0.5)(x), [[0.5 * (np.exp(-1) - 1), 2.0]], rtol=1e-6)
    np.testing.assert_allclose(layers.Activation("tanh")(x), np.tanh(x), rtol=1e-6)


def test_dense_accepts_an_activation_layer_as_its_activation():
    dense = layers.Dense(2, activation=layers.LeakyReLU(negative_slope=0.5), kernel_initializer="identity")
    np.testing.assert_allclose(dense(np.array([[-4.0, 4.0]])), [[-2.0, 4.0]])


def test_dropout_and_alpha_dropout_are_the_identity_at_inference():
    x = np.random.default_rng(0).normal(size=(5, 4))
    np.testing.assert_allclose(layers.Dropout(0.5)(x), x, rtol=1e-6)
    np.testing.assert_allclose(layers.AlphaDropout(0.5)(x), x, rtol=1e-6)


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, "half"])
def test_a_dropout_rate_outside_0_1_is_refused(rate):
    with pytest.raises(ValueError, match="Expected a float value in \\[0, 1\\)"):
        layers.Dropout(rate)


def test_rrelu_uses_the_mean_slope_at_inference():
    layer = layers.RReLU(lower=0.1, upper=0.3)
    np.testing.assert_allclose(layer(np.array([[-10.0, 10.0]])), [[-2.0, 10.0]], rtol=1e-6)


def test_flatten_makes_samples_one_dimensional():
    model = keras.Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(3)])
    assert model.layers[0].output_shape == (None, 784)
    assert model.predict(np.ones((2, 28, 28)), verbose=0).shape == (2, 3)


@pytest.mark.parametrize(
    "layer",
    [
        layers.Dense(7, activation="selu", kernel_initializer="lecun_normal", kernel_regularizer=keras.regularizers.l1(0.1)),
        layers.BatchNormalization(momentum=0.9, epsilon=1e-5, center=False),
        layers.Dropout(0.3, seed=4),
        layers.AlphaDropout(0.2),
        layers.Activation("gelu"),
        layers.ReLU(max_value=6.0),
        layers.LeakyReLU(0.2),
        layers.PReLU(alpha_regularizer="l2"),
        layers.ELU(0.5),
        layers.RReLU(0.1, 0.2),
        layers.Flatten(),
    ],
    ids=lambda l: type(l).__name__,
)
def test_get_config_and_from_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


def test_unknown_keyword_arguments_are_refused():
    with pytest.raises(TypeError, match="unrecognized keyword argument"):
        layers.Dense(3, kernel_initialiser="zeros")


def test_input_shape_is_taken_without_keras_3s_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = keras.Sequential([layers.Dense(3, input_shape=(4,))])
    assert model.input_shape == (None, 4)

"""Optimizer objects: Keras' names and defaults, learning rates, schedules, legacy arguments."""

import numpy as np
import pytest

import fastdnn as keras
from fastdnn import layers, optimizers


@pytest.mark.parametrize(
    "name, cls, learning_rate",
    [("sgd", optimizers.SGD, 0.01), ("adam", optimizers.Adam, 0.001), ("AdamW", optimizers.AdamW, 0.001),
     ("rmsprop", optimizers.RMSprop, 0.001), ("adagrad", optimizers.Adagrad, 0.001),
     ("Adadelta", optimizers.Adadelta, 0.001), ("adamax", optimizers.Adamax, 0.001), ("nadam", optimizers.Nadam, 0.001)],
)
def test_names_give_keras_defaults(name, cls, learning_rate):
    optimizer = optimizers.get(name)
    assert type(optimizer) is cls
    assert float(optimizer.learning_rate) == pytest.approx(learning_rate)


def test_keras_defaults_of_the_hyper_parameters():
    assert optimizers.Adam().epsilon == 1e-7
    assert optimizers.AdamW().weight_decay == 0.004
    assert optimizers.Adagrad().initial_accumulator_value == 0.1
    assert optimizers.Adadelta().rho == 0.95
    assert optimizers.RMSprop().rho == 0.9


def test_keras_2_lr_is_accepted_with_a_deprecation_warning():
    with pytest.deprecated_call():
        optimizer = optimizers.SGD(lr=0.5)
    assert optimizer.learning_rate == 0.5


def test_unknown_arguments_are_refused_as_keras_does():
    with pytest.raises(ValueError, match="Argument\\(s\\) not recognized: \\{'learnin_rate': 0.1\\}"):
        optimizers.Adam(learnin_rate=0.1)


def one_weight_model(optimizer):
    model = keras.Sequential([layers.Input(shape=(1,)), layers.Dense(1, use_bias=False, kernel_initializer="ones")])
    model.compile(optimizer=optimizer, loss="mse")
    return model


def test_keras_2_decay_divides_the_rate_by_1_plus_decay_times_iterations():
    with pytest.deprecated_call():
        model = one_weight_model(optimizers.SGD(learning_rate=0.1, decay=1.0))
    x, y = np.ones((1, 1)), np.zeros((1, 1))
    # Each step: w -= lr_t · 2w (MSE gradient) with lr_t = 0.1/(1 + t).
    w = 1.0
    for t in range(3):
        model.train_on_batch(x, y)
        w -= 0.1 / (1 + t) * 2 * w
    assert model.get_weights()[0][0, 0] == pytest.approx(w, rel=1e-6)


def test_a_schedule_sets_the_rate_of_every_step():
    schedule = optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    model = one_weight_model(optimizers.SGD(learning_rate=schedule))
    x, y = np.ones((4, 1)), np.zeros((4, 1))
    model.fit(x, y, batch_size=1, epochs=1, verbose=0, shuffle=False)
    w = 1.0
    for t in range(4):
        w -= 0.1 * 0.5 ** t * 2 * w
    assert model.get_weights()[0][0, 0] == pytest.approx(w, rel=1e-6)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.1 * 0.5 ** 4)


def test_setting_the_learning_rate_between_epochs_takes_effect():
    model = one_weight_model(optimizers.SGD(learning_rate=0.1))
    model.optimizer.learning_rate = 0.0
    model.fit(np.ones((2, 1)), np.zeros((2, 1)), epochs=1, verbose=0)
    assert model.get_weights()[0][0, 0] == 1.0
    keras.backend.set_value(model.optimizer.lr, 0.25)
    assert keras.backend.get_value(model.optimizer.learning_rate) == pytest.approx(0.25)


def test_a_scheduled_learning_rate_cannot_be_assigned():
    optimizer = optimizers.Adam(optimizers.schedules.InverseTimeDecay(0.1, 10, 1.0))
    with pytest.raises(TypeError, match="not settable"):
        optimizer.learning_rate = 0.01


def test_iterations_count_optimizer_steps():
    model = one_weight_model("adam")
    model.fit(np.ones((10, 1)), np.zeros((10, 1)), batch_size=3, epochs=2, verbose=0)
    assert model.optimizer.iterations == 8


@pytest.mark.parametrize("cls", [optimizers.SGD, optimizers.Adam, optimizers.RMSprop, optimizers.Nadam])
def test_get_config_round_trips(cls):
    optimizer = cls(learning_rate=0.05, clipnorm=1.0)
    clone = optimizers.deserialize(optimizers.serialize(optimizer))
    assert type(clone) is cls and clone.get_config() == optimizer.get_config()


def test_clipnorm_and_global_clipnorm_together_are_refused():
    with pytest.raises(ValueError, match="Only one of `clipnorm` and `global_clipnorm`"):
        optimizers.SGD(clipnorm=1.0, global_clipnorm=1.0)

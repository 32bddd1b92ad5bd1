"""fastdnn.losses for Keras' other losses: every name and alias, the functions, get / serialize /
deserialize, sample_weight in Loss.__call__, and a model save/load round trip for each."""

import os

import numpy as np
import pytest

import fastdnn
import reference_losses as rl
from fastdnn import losses

# Keras 3's names (keras/src/losses/__init__.py ALL_OBJECTS_DICT) and Keras 2's legacy aliases.
NAMES = {
    "huber": losses.Huber, "Huber": losses.Huber,
    "log_cosh": losses.LogCosh, "logcosh": losses.LogCosh, "LogCosh": losses.LogCosh,
    "kl_divergence": losses.KLDivergence, "kld": losses.KLDivergence, "KLD": losses.KLDivergence,
    "kullback_leibler_divergence": losses.KLDivergence, "KLDivergence": losses.KLDivergence,
    "poisson": losses.Poisson, "Poisson": losses.Poisson,
    "hinge": losses.Hinge, "Hinge": losses.Hinge,
    "squared_hinge": losses.SquaredHinge, "SquaredHinge": losses.SquaredHinge,
    "mean_absolute_percentage_error": losses.MeanAbsolutePercentageError, "mape": losses.MeanAbsolutePercentageError,
    "MAPE": losses.MeanAbsolutePercentageError, "MeanAbsolutePercentageError": losses.MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": losses.MeanSquaredLogarithmicError, "msle": losses.MeanSquaredLogarithmicError,
    "MSLE": losses.MeanSquaredLogarithmicError, "MeanSquaredLogarithmicError": losses.MeanSquaredLogarithmicError,
    "cosine_similarity": losses.CosineSimilarity, "CosineSimilarity": losses.CosineSimilarity,
    "bce": losses.BinaryCrossentropy, "BCE": losses.BinaryCrossentropy,
}
FUNCTIONS = {
    "huber": losses.huber, "log_cosh": losses.log_cosh, "kl_divergence": losses.kl_divergence,
    "poisson": losses.poisson, "hinge": losses.hinge, "squared_hinge": losses.squared_hinge,
    "mean_absolute_percentage_error": losses.mean_absolute_percentage_error,
    "mean_squared_logarithmic_error": losses.mean_squared_logarithmic_error,
    "cosine_similarity": losses.cosine_similarity,
}
DEFAULT_NAMES = {
    losses.Huber: "huber_loss", losses.LogCosh: "log_cosh", losses.KLDivergence: "kl_divergence",
    losses.Poisson: "poisson", losses.Hinge: "hinge", losses.SquaredHinge: "squared_hinge",
    losses.MeanAbsolutePercentageError: "mean_absolute_percentage_error",
    losses.MeanSquaredLogarithmicError: "mean_squared_logarithmic_error",
    losses.CosineSimilarity: "cosine_similarity",
}


@pytest.mark.parametrize("name", sorted(NAMES))
def test_name_resolves_to_its_class(name):
    assert type(losses.get(name)) is NAMES[name]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_resolves_to_its_class(name):
    assert type(losses.get(FUNCTIONS[name])) is NAMES[name]


def test_module_aliases_are_the_functions():
    assert losses.kld is losses.KLD is losses.kullback_leibler_divergence is losses.kl_divergence
    assert losses.mape is losses.MAPE is losses.mean_absolute_percentage_error
    assert losses.msle is losses.MSLE is losses.mean_squared_logarithmic_error
    assert losses.logcosh is losses.log_cosh


@pytest.mark.parametrize("cls", list(DEFAULT_NAMES), ids=lambda c: c.__name__)
def test_class_has_keras_default_name_and_round_trips(cls):
    loss = cls()
    assert loss.name == DEFAULT_NAMES[cls] and loss.reduction == "sum_over_batch_size"
    again = losses.deserialize(losses.serialize(loss))
    assert type(again) is cls and again.get_config() == loss.get_config()


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_matches_the_float64_reference(name):
    rng = np.random.default_rng(5)
    y = rng.uniform(0.1, 1.0, (6, 4)).astype(np.float32)
    p = rng.uniform(0.1, 1.0, (6, 4)).astype(np.float32)
    want, _ = rl.PER_ROW[name](y.astype(np.float64), p.astype(np.float64))
    np.testing.assert_allclose(FUNCTIONS[name](y, p), want, rtol=2e-5, atol=1e-6)


def test_huber_function_and_class_use_delta():
    y, p = np.zeros((1, 2)), np.array([[0.5, 3.0]])
    np.testing.assert_allclose(losses.huber(y, p, delta=2.0), [(0.125 + 2 * 3 - 2) / 2])
    assert losses.Huber(delta=2.0)(y, p) == pytest.approx((0.125 + 2 * 3 - 2) / 2)


def test_cosine_similarity_refuses_another_axis():
    with pytest.raises(NotImplementedError, match="axis=-1"):
        losses.CosineSimilarity(axis=0)


def test_loss_call_with_sample_weight_divides_by_the_number_of_samples():
    y, p = np.zeros((4, 1)), np.array([[1.0], [2.0], [3.0], [4.0]])
    w = np.array([1.0, 0.0, 2.0, 0.5])
    assert losses.MeanAbsoluteError()(y, p, sample_weight=w) == pytest.approx((1 + 6 + 2) / 4)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_model_with_the_loss_saves_and_loads(name, tmp_path):
    model = fastdnn.Sequential([fastdnn.Input(shape=(3,)), fastdnn.layers.Dense(2, activation="sigmoid")])
    model.compile(optimizer="sgd", loss=name)
    x = np.random.default_rng(0).uniform(size=(8, 3)).astype(np.float32)
    y = np.random.default_rng(1).uniform(0.1, 1.0, size=(8, 2)).astype(np.float32)
    model.fit(x, y, epochs=1, verbose=0)
    path = os.path.join(tmp_path, "m.keras")
    model.save(path)
    loaded = fastdnn.models.load_model(path)
    assert type(loaded.loss) is NAMES[name]
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)

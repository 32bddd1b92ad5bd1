"""Keras files across the two libraries: a .keras (and .weights.h5) file written by real Keras 3
loads in fastdnn and predicts what Keras predicts, and one written by fastdnn loads in Keras and
predicts what fastdnn predicts, within 1e-5 (float32 in both: the weights are the same float32
values, and float32 sums of a few dozen products differ by a few ulps)."""

import warnings

import numpy as np
import pytest

import fastdnn
# Keras' default float32 here, not keras_reference's float64 fixture: the files carry float32.
from keras_reference import keras, TORCH_PYTREE_WARNING

pytest.importorskip("h5py", reason="Keras files need h5py")
pytestmark = TORCH_PYTREE_WARNING
TOLERANCE = 1e-5


def sequential(lib, optimizer="adam"):
    model = lib.Sequential([lib.Input(shape=(5,)), lib.layers.Dense(16, activation="relu", name="hidden"),
                            lib.layers.BatchNormalization(), lib.layers.Dropout(0.3),
                            lib.layers.Dense(8, activation="tanh"), lib.layers.Activation("sigmoid"),
                            lib.layers.Dense(6, activation="elu"), lib.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 5)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5)


def keras_trained(optimizer="adam"):
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = sequential(keras, optimizer)
    x, y = data()
    model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    return model, x


def fastdnn_trained(optimizer="adam"):
    fastdnn.backend.clear_session()
    fastdnn.utils.set_random_seed(0)
    model = sequential(fastdnn, optimizer)
    x, y = data()
    model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    return model, x


def keras_predict(model, x):
    return np.asarray(model.predict(x, verbose=0))


def test_a_keras_saved_model_loads_in_fastdnn_and_predicts_the_same(tmp_path):
    model, x = keras_trained()
    model.save(tmp_path / "k.keras")
    loaded = fastdnn.models.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), keras_predict(model, x), atol=TOLERANCE)


def test_a_fastdnn_saved_model_loads_in_keras_and_predicts_the_same(tmp_path):
    model, x = fastdnn_trained()
    model.save(tmp_path / "f.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Keras warns on what it cannot restore (compile, optimizer variables)
        loaded = keras.models.load_model(tmp_path / "f.keras")
    np.testing.assert_allclose(keras_predict(loaded, x), model.predict(x, verbose=0), atol=TOLERANCE)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_keras_reads_fastdnns_optimizer_state(tmp_path, optimizer):
    model, _ = fastdnn_trained(optimizer)
    model.save(tmp_path / "f.keras")
    loaded = keras.models.load_model(tmp_path / "f.keras")
    assert int(loaded.optimizer.iterations.numpy()) == 12
    if optimizer == "adam":
        velocity = [v for v in loaded.optimizer.variables if "velocity" in v.path][0]
        np.testing.assert_array_equal(np.asarray(velocity.numpy()), model._network.optimizer_slots()["velocity"][0])


def test_fastdnn_reads_keras_adam_state(tmp_path):
    model, _ = keras_trained("adam")
    model.save(tmp_path / "k.keras")
    loaded = fastdnn.models.load_model(tmp_path / "k.keras")
    slots, iterations, _ = loaded._pending_optimizer_state
    assert iterations == 12
    momentum = [v for v in model.optimizer.variables if "momentum" in v.path][0]
    np.testing.assert_array_equal(slots["momentum"][0], np.asarray(momentum.numpy()))


def test_keras_weights_h5_loads_in_fastdnn(tmp_path):
    model, x = keras_trained()
    model.save_weights(tmp_path / "k.weights.h5")
    mine = sequential(fastdnn)
    mine.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(mine.predict(x, verbose=0), keras_predict(model, x), atol=TOLERANCE)


def test_fastdnn_weights_h5_loads_in_keras(tmp_path):
    model, x = fastdnn_trained()
    model.save_weights(tmp_path / "f.weights.h5")
    keras.backend.clear_session()
    theirs = sequential(keras)
    # the file holds the optimizer's variables, as Keras' own does: Keras loads them into a built optimizer
    theirs.optimizer.build(theirs.trainable_variables)
    theirs.load_weights(tmp_path / "f.weights.h5")
    np.testing.assert_allclose(keras_predict(theirs, x), model.predict(x, verbose=0), atol=TOLERANCE)


def test_a_keras_functional_model_loads_in_fastdnn(tmp_path):
    keras.backend.clear_session()
    a, b = keras.Input(shape=(3,), name="a"), keras.Input(shape=(2,), name="b")
    hidden = keras.layers.Dense(4, activation="relu")(a)
    merged = keras.layers.Concatenate()([hidden, b])
    model = keras.Model([a, b], keras.layers.Dense(1)(keras.layers.BatchNormalization()(merged)))
    x = [np.random.default_rng(0).normal(size=(6, 3)).astype("float32"),
         np.random.default_rng(1).normal(size=(6, 2)).astype("float32")]
    model.save(tmp_path / "func.keras")
    loaded = fastdnn.models.load_model(tmp_path / "func.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), keras_predict(model, x), atol=TOLERANCE)


def test_a_keras_saved_h5_loads_in_fastdnn_and_predicts_the_same(tmp_path):
    model, x = keras_trained()
    model.save(tmp_path / "k.h5")
    loaded = fastdnn.models.load_model(tmp_path / "k.h5")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), keras_predict(model, x), atol=TOLERANCE)
    assert loaded.optimizer.get_config()["learning_rate"] == pytest.approx(0.001)


def test_a_fastdnn_saved_h5_loads_in_keras_and_predicts_the_same(tmp_path):
    model, x = fastdnn_trained()
    model.save(tmp_path / "f.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = keras.models.load_model(tmp_path / "f.h5")
    np.testing.assert_allclose(keras_predict(loaded, x), model.predict(x, verbose=0), atol=TOLERANCE)
    assert type(loaded.optimizer).__name__ == "Adam"


def test_a_fastdnn_functional_model_loads_in_keras(tmp_path):
    fastdnn.backend.clear_session()
    a, b = fastdnn.Input(shape=(3,), name="a"), fastdnn.Input(shape=(2,), name="b")
    hidden = fastdnn.layers.Dense(4, activation="relu")(a)
    merged = fastdnn.layers.Concatenate()([hidden, b])
    model = fastdnn.Model([a, b], fastdnn.layers.Dense(1)(fastdnn.layers.BatchNormalization()(merged)))
    model.compile(optimizer="adam", loss="mse")
    x = [np.random.default_rng(0).normal(size=(6, 3)).astype("float32"),
         np.random.default_rng(1).normal(size=(6, 2)).astype("float32")]
    model.fit(x, np.ones((6, 1), "float32"), epochs=2, verbose=0)
    model.save(tmp_path / "func.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = keras.models.load_model(tmp_path / "func.keras")
    np.testing.assert_allclose(keras_predict(loaded, x), model.predict(x, verbose=0), atol=TOLERANCE)


OPTIMIZERS = ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam"]


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_keras_loads_fastdnns_optimizer_state_without_a_warning(tmp_path, optimizer):
    model, _ = fastdnn_trained(optimizer)
    model.save(tmp_path / "f.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Keras warns when the optimizer's variables do not match
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        loaded = keras.models.load_model(tmp_path / "f.keras")
    assert int(loaded.optimizer.iterations.numpy()) == 12


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_training_goes_on_alike_from_a_keras_file_with_its_optimizer_state(tmp_path, optimizer):
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    x, y = data()
    model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    model.save(tmp_path / "k.keras")
    loaded = fastdnn.models.load_model(tmp_path / "k.keras")
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)  # one batch: no shuffling involved
    loaded.fit(x, y, epochs=1, batch_size=64, verbose=0)
    # the step uses the slots and iterations the file carried (a fresh optimizer moves differently)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), keras_predict(model, x), atol=TOLERANCE)


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "nadam"])
def test_keras_reads_the_optimizer_iterations_of_a_fastdnn_h5_file(tmp_path, optimizer):
    # (Keras 3's legacy loader builds a Sequential's optimizer on no variables, so it keeps only
    # iterations and learning_rate of any .h5 file, its own included)
    model, _ = fastdnn_trained(optimizer)
    model.save(tmp_path / "f.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        theirs = keras.models.load_model(tmp_path / "f.h5")
    assert int(theirs.optimizer.iterations.numpy()) == 12


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "nadam"])
def test_fastdnn_reads_the_optimizer_state_of_a_keras_h5_file(tmp_path, optimizer):
    model, _ = keras_trained(optimizer)
    model.save(tmp_path / "k.h5")
    mine = fastdnn.models.load_model(tmp_path / "k.h5")
    slots, iterations, _ = mine._pending_optimizer_state
    assert iterations == 12
    theirs = {v.path: np.asarray(v.numpy()) for v in model.optimizer.variables}
    first_kernel = [value for path, value in theirs.items() if path.endswith("hidden_kernel_velocity")][0]
    np.testing.assert_array_equal(slots["velocity"][0], first_kernel)

"""Sequential: building, compiling, fitting, evaluating and predicting as Keras does."""

import numpy as np
import pytest

import fastdnn as keras
from fastdnn import layers


@pytest.fixture(autouse=True)
def fresh_names():
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)


def data(n=64, d=8, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype("float32")
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5)
    return x, np.minimum(y, classes - 1)


def small_model(d=8, classes=3, activation="softmax"):
    return keras.Sequential([layers.Input(shape=(d,)), layers.Dense(16, activation="relu"),
                             layers.BatchNormalization(), layers.Dense(classes, activation=activation)])


def test_layers_are_named_as_keras_names_them():
    model = keras.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2), layers.LeakyReLU(),
                              layers.BatchNormalization(), layers.PReLU()])
    assert [l.name for l in model.layers] == ["dense", "dense_1", "leaky_re_lu", "batch_normalization", "p_re_lu"]


def test_the_input_shape_comes_from_the_first_data_when_not_declared():
    model = keras.Sequential([layers.Dense(5), layers.Dense(2)])
    assert not model.built
    out = model.predict(np.ones((3, 7)), verbose=0)
    assert out.shape == (3, 2)
    assert model.layers[0].kernel.shape == (7, 5)


def test_add_and_pop_change_the_stack():
    model = keras.Sequential([layers.Input(shape=(4,)), layers.Dense(3)])
    model.add(layers.Dense(2))
    assert model.output_shape == (None, 2)
    assert model.pop().units == 2
    assert model.output_shape == (None, 3)


def test_get_weights_follow_keras_order_and_shapes():
    model = keras.Sequential([layers.Input(shape=(4,)), layers.Dense(3), layers.BatchNormalization()])
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(4, 3), (3,), (3,), (3,), (3,), (3,)]
    names = [w.path for w in model.weights]
    assert names == ["dense/kernel", "dense/bias", "batch_normalization/gamma", "batch_normalization/beta",
                     "batch_normalization/moving_mean", "batch_normalization/moving_variance"]


def test_set_weights_changes_the_predictions():
    model = keras.Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
    model.set_weights([np.array([[1.0], [2.0]]), np.array([0.5])])
    np.testing.assert_allclose(model.predict(np.array([[1.0, 1.0]]), verbose=0), [[3.5]])


def test_set_weights_with_the_wrong_count_or_shape_is_refused():
    model = small_model()
    with pytest.raises(ValueError, match="expects 8 weights"):
        model.set_weights(model.get_weights()[:-1])
    weights = model.get_weights()
    weights[0] = np.zeros((9, 16))
    with pytest.raises(ValueError, match=r"shape \(8, 16\)"):
        model.set_weights(weights)


def test_count_params_counts_every_weight():
    assert small_model().count_params() == 8 * 16 + 16 + 4 * 16 + 16 * 3 + 3


def test_fit_before_compile_is_refused():
    x, y = data()
    with pytest.raises(RuntimeError, match="You must call `compile\\(\\)` before using the model"):
        small_model().fit(x, y, verbose=0)


def test_fit_learns_and_returns_keras_history():
    x, y = data(400)
    model = small_model()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.85  # real Keras 3 reaches 0.93-0.96 here
    assert history.epoch == list(range(20))
    assert history.params == {"verbose": 0, "epochs": 20, "steps": 13}


def test_accuracy_asked_as_acc_is_logged_as_acc():
    x, y = data()
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["acc"])
    history = model.fit(x, y, epochs=1, verbose=0, validation_split=0.25)
    assert list(history.history) == ["acc", "loss", "val_acc", "val_loss"]


@pytest.mark.parametrize(
    "loss, activation, classes, y_form, expected",
    [
        ("sparse_categorical_crossentropy", "softmax", 3, "labels", "SparseCategoricalAccuracy"),
        ("categorical_crossentropy", "softmax", 3, "onehot", "CategoricalAccuracy"),
        ("binary_crossentropy", "sigmoid", 1, "binary", "BinaryAccuracy"),
    ],
)
def test_accuracy_resolves_from_the_shapes_as_keras_3(loss, activation, classes, y_form, expected):
    x, labels = data(classes=max(classes, 2))
    y = {"labels": labels, "onehot": keras.utils.to_categorical(labels, 3), "binary": labels % 2}[y_form]
    model = small_model(classes=classes, activation=activation)
    model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)
    assert type(model._metrics[0]).__name__ == expected


def test_epoch_metrics_are_computed_on_the_training_batches_before_each_update():
    x, y = data(128)
    model = keras.Sequential([layers.Input(shape=(8,)), layers.Dense(16, activation="tanh"),
                              layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    loss, accuracy = model.evaluate(x, y, verbose=0)
    history = model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    # With a zero learning rate (and no dropout or BN) training and inference see the same model.
    assert history.history["accuracy"][0] == accuracy
    assert history.history["loss"][0] == pytest.approx(loss, rel=1e-6)


def test_validation_split_holds_out_the_last_samples_before_shuffling():
    x, y = data(100)
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=1, verbose=0, validation_split=0.2)
    assert history.params["steps"] == 3  # 80 samples in batches of 32
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[80:], y[80:], verbose=0)[0])


def test_evaluate_returns_a_scalar_without_metrics():
    x, y = data()
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)


def test_evaluate_returns_loss_then_metrics_in_compile_order_or_a_dict():
    x, y = data()
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["sparse_top_k_categorical_accuracy", "accuracy"])
    loss, top_k, accuracy = model.evaluate(x, y, verbose=0)
    assert model.metrics_names == ["loss", "sparse_top_k_categorical_accuracy", "accuracy"]
    assert top_k == 1.0  # k = 5 > 3 classes
    predictions = model.predict(x, verbose=0)
    assert accuracy == pytest.approx(np.mean(np.argmax(predictions, 1) == y))
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs == {"loss": loss, "accuracy": accuracy, "sparse_top_k_categorical_accuracy": top_k}


def test_predict_returns_float32_outputs_in_the_layer_shape():
    model = small_model()
    out = model.predict(np.ones((5, 8)), verbose=0)
    assert out.dtype == np.float32 and out.shape == (5, 3)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_x_and_y_of_different_lengths_are_refused():
    x, y = data()
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="Data cardinality is ambiguous"):
        model.fit(x, y[:-1], verbose=0)


def test_an_input_width_that_does_not_match_the_first_layer_is_refused():
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"expected shape \(None, 8\), found shape \(None, 9\)"):
        model.fit(np.ones((4, 9)), np.zeros(4), verbose=0)


def test_labels_out_of_range_are_refused():
    x, _ = data(4)
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"labels must be integers in \[0, 3\)"):
        model.fit(x, np.array([0, 1, 2, 3]), verbose=0)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: layers.Dense(3, activation="relu7"), "Unknown activation 'relu7'; known: .*selu"),
        (lambda: small_model().compile(loss="categorical_hinge"), "Could not interpret loss 'categorical_hinge'.*mean_squared_error"),
        (lambda: small_model().compile(optimizer="adamm", loss="mse"), "Unknown optimizer 'adamm'; known: adadelta"),
        (lambda: small_model().compile(optimizer="sgd", loss="mse", metrics=["f1"]), None),
    ],
)
def test_unknown_names_raise_and_list_the_known_ones(build, message):
    if message is None:  # metrics resolve at the first data
        model = small_model()
        model.compile(optimizer="sgd", loss="mse", metrics=["f1"])
        with pytest.raises(ValueError, match="Unknown metric 'f1'; known: .*accuracy"):
            model.fit(np.ones((4, 8)), np.ones((4, 3)), verbose=0)
        return
    with pytest.raises(ValueError, match=message):
        build()


def test_nb_epoch_is_accepted_as_epochs_with_a_deprecation_warning():
    x, y = data()
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.deprecated_call():
        history = model.fit(x, y, nb_epoch=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_train_test_and_predict_on_batch():
    x, y = data(32)
    model = keras.Sequential([layers.Input(shape=(8,)), layers.Dense(16, activation="tanh"),
                              layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.test_on_batch(x, y)
    loss, accuracy = model.train_on_batch(x, y)
    assert [loss, accuracy] == pytest.approx(before, rel=1e-6)  # measured before the update
    assert model.optimizer.iterations == 1
    after = model.test_on_batch(x, y)
    assert after[0] < before[0]
    np.testing.assert_array_equal(model.predict_on_batch(x), model.predict(x, batch_size=32, verbose=0))


def test_trainable_false_freezes_a_layer_at_the_next_fit():
    x, y = data()
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.layers[0].trainable = False
    frozen = model.layers[0].get_weights()
    model.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(frozen, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(model.layers[2].get_weights()[0], small_model().layers[2].get_weights()[0])


def test_the_same_seed_gives_the_same_training_twice():
    def run():
        keras.backend.clear_session()
        keras.utils.set_random_seed(7)
        x, y = data(200)
        model = keras.Sequential([layers.Input(shape=(8,)), layers.Dense(16, activation="relu"),
                                  layers.Dropout(0.3), layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model.fit(x, y, epochs=3, verbose=0).history["loss"], model.get_weights()

    (losses_a, weights_a), (losses_b, weights_b) = run(), run()
    assert losses_a == losses_b
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_array_equal(a, b)


def test_verbose_2_prints_one_line_per_epoch(capsys):
    x, y = data()
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=2)
    lines = [l for l in capsys.readouterr().out.splitlines() if l.strip()]
    assert lines[0] == "Epoch 1/2"
    assert lines[1].startswith("2/2 - ") and " - accuracy: " in lines[1] and " - loss: " in lines[1]
    assert lines[2] == "Epoch 2/2"


def test_verbose_0_prints_nothing(capsys):
    x, y = data()
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


def test_a_batch_hook_sees_every_batch_with_running_logs():
    x, y = data(100)
    seen = []
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callback = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append((batch, dict(logs))))
    history = model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[callback])
    assert [b for b, _ in seen] == [0, 1, 2, 3]
    assert seen[-1][1]["loss"] == pytest.approx(history.history["loss"][0])


def test_a_diverging_loss_warns_once_and_shows_in_the_history():
    x, y = data()
    model = keras.Sequential([layers.Input(shape=(8,)), layers.Dense(3, activation="exponential"),
                              layers.Dense(1, activation="exponential")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e6), loss="mse")
    with pytest.warns(RuntimeWarning, match="The training loss became"):
        history = model.fit(x, y * 1e3, epochs=2, verbose=0)
    assert not np.isfinite(history.history["loss"][-1])


def test_keras_2_predict_classes_and_predict_proba_still_work_with_a_warning():
    x, _ = data(10)
    model = small_model()
    with pytest.deprecated_call():
        classes = model.predict_classes(x)
    np.testing.assert_array_equal(classes, np.argmax(model.predict(x, verbose=0), axis=1))
    with pytest.deprecated_call():
        np.testing.assert_array_equal(model.predict_proba(x), model.predict(x, verbose=0))


def test_an_old_keras_2_program_runs_with_its_imports_changed():
    from fastdnn.layers import Activation, Dense, Dropout
    from fastdnn.models import Sequential
    from fastdnn.optimizers import SGD
    from fastdnn.utils import np_utils

    x_train = np.random.default_rng(0).random((100, 20))
    y_train = np_utils.to_categorical(np.random.default_rng(1).integers(10, size=(100, 1)), num_classes=10)
    model = Sequential()
    model.add(Dense(64, activation="relu", input_dim=20))
    model.add(Dropout(0.5))
    model.add(Dense(64, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(10))
    model.add(Activation("softmax"))
    with pytest.deprecated_call():
        sgd = SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
    model.compile(loss="categorical_crossentropy", optimizer=sgd, metrics=["accuracy"])
    with pytest.deprecated_call():
        model.fit(x_train, y_train, nb_epoch=2, batch_size=128, verbose=0)
    score = model.evaluate(x_train, y_train, batch_size=128, verbose=0)
    assert len(score) == 2 and 0 <= score[1] <= 1


def test_a_first_layer_built_by_adapt_gives_the_model_its_input_shape():
    # The TensorFlow regression tutorial: adapt a Normalization, put it first, call summary().
    normalizer = keras.layers.Normalization(axis=-1)
    normalizer.adapt(np.arange(27, dtype="float32").reshape(3, 9))
    model = keras.Sequential([normalizer, keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
    assert model.built and model.input_shape == (None, 9)
    assert model.count_params() == 19 + 640 + 65

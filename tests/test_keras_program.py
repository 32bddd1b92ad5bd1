"""The tutorials' program, written for Keras, run on fastdnn with only its import changed."""

import numpy as np
import pytest

import fastdnn as keras


def deep_bn_model():
    model = keras.models.Sequential()
    model.add(keras.layers.Flatten(input_shape=[28, 28]))
    for _ in range(20):
        model.add(keras.layers.Dense(100, activation="relu"))
        model.add(keras.layers.BatchNormalization())
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model


def test_the_seed_network_summary_counts_keras_params(capsys):
    keras.backend.clear_session()
    deep_bn_model().summary()
    out = capsys.readouterr().out
    assert "Total params: 279,410" in out
    assert "Trainable params: 275,410" in out
    assert "Non-trainable params: 4,000" in out
    assert " flatten (Flatten)           (None, 784)               0" in out
    assert " dense (Dense)               (None, 100)               78500" in out
    assert " batch_normalization (BatchN  (None, 100)              400" in out
    assert " dense_20 (Dense)            (None, 10)                1010" in out


def test_the_seed_network_trains_with_tensorboard_checkpoint_and_early_stopping(tmp_path):
    pytest.importorskip("tensorboardX", reason="TensorBoard needs the tensorboard extra (tensorboardX)")
    keras.backend.clear_session()
    keras.utils.set_random_seed(42)
    rng = np.random.default_rng(0)
    # A learnable stand-in for Fashion-MNIST: the class is where the image is brightest.
    y = rng.integers(0, 10, 1200)
    x = rng.random((1200, 28, 28)).astype("float32") * 0.5
    x[np.arange(1200), 2 * y + 4, 14] += 2.0
    x_train, y_train, x_valid, y_valid = x[:1000], y[:1000], x[1000:], y[1000:]

    model = deep_bn_model()
    model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.SGD(learning_rate=0.01),
                  metrics=["accuracy"])
    checkpoint = tmp_path / "best_model.keras"
    # batch_size=8: 500 steps, enough for BatchNormalization's moving statistics (momentum
    # 0.99) to settle, so validation accuracy measures learning whatever the seed (with
    # batches of 32 it ranged 0.05-0.9 over seeds).
    history = model.fit(
        x_train, y_train, epochs=4, batch_size=8, verbose=0, validation_data=(x_valid, y_valid),
        callbacks=[
            keras.callbacks.TensorBoard(str(tmp_path / "logs")),
            keras.callbacks.ModelCheckpoint(str(checkpoint), save_best_only=True),
            keras.callbacks.EarlyStopping(patience=5, min_delta=1e-3),
        ],
    )
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(history.history["loss"]) == 4
    assert history.history["val_loss"][-1] < history.history["val_loss"][0]
    assert history.history["val_accuracy"][-1] > 0.2  # learning: chance is 0.1
    best = keras.models.load_model(str(checkpoint))
    best_epoch = int(np.argmin(history.history["val_loss"]))
    assert best.evaluate(x_valid, y_valid, verbose=0)[0] == pytest.approx(history.history["val_loss"][best_epoch], rel=1e-5)
    assert list((tmp_path / "logs").glob("train/events.out.tfevents.*"))
    assert list((tmp_path / "logs").glob("validation/events.out.tfevents.*"))

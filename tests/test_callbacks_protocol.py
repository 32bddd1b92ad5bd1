"""Callbacks follow Keras 3's protocol: every hook gets a dict, the batch hooks of evaluate and
predict fire once per batch, and keras.io's "Writing your own callbacks" guide runs unchanged
(its callbacks below are the guide's, with only the import changed)."""

import numpy as np
import pytest

import fastdnn as keras


def get_model():  # the guide's model
    model = keras.Sequential()
    model.add(keras.layers.Dense(1))
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.1), loss="mean_squared_error",
                  metrics=["mean_absolute_error"])
    return model


def guide_data():
    """Shaped as the guide's MNIST slices: 1,000 rows of 784 values in [0, 1] and digit labels."""
    rng = np.random.default_rng(0)
    x = rng.random((2000, 784)).astype("float32")
    y = rng.integers(0, 10, size=2000)
    return (x[:1000], y[:1000]), (x[1000:], y[1000:])


class CustomCallback(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        keys = list(logs.keys())
        print("Starting training; got log keys: {}".format(keys))

    def on_train_end(self, logs=None):
        keys = list(logs.keys())
        print("Stop training; got log keys: {}".format(keys))

    def on_epoch_begin(self, epoch, logs=None):
        keys = list(logs.keys())
        print("Start epoch {} of training; got log keys: {}".format(epoch, keys))

    def on_epoch_end(self, epoch, logs=None):
        keys = list(logs.keys())
        print("End epoch {} of training; got log keys: {}".format(epoch, keys))

    def on_test_begin(self, logs=None):
        keys = list(logs.keys())
        print("Start testing; got log keys: {}".format(keys))

    def on_test_end(self, logs=None):
        keys = list(logs.keys())
        print("Stop testing; got log keys: {}".format(keys))

    def on_predict_begin(self, logs=None):
        keys = list(logs.keys())
        print("Start predicting; got log keys: {}".format(keys))

    def on_predict_end(self, logs=None):
        keys = list(logs.keys())
        print("Stop predicting; got log keys: {}".format(keys))

    def on_train_batch_begin(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Training: start of batch {}; got log keys: {}".format(batch, keys))

    def on_train_batch_end(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Training: end of batch {}; got log keys: {}".format(batch, keys))

    def on_test_batch_begin(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Evaluating: start of batch {}; got log keys: {}".format(batch, keys))

    def on_test_batch_end(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Evaluating: end of batch {}; got log keys: {}".format(batch, keys))

    def on_predict_batch_begin(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Predicting: start of batch {}; got log keys: {}".format(batch, keys))

    def on_predict_batch_end(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Predicting: end of batch {}; got log keys: {}".format(batch, keys))


class LossAndErrorPrintingCallback(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        print("Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"]))

    def on_test_batch_end(self, batch, logs=None):
        print("Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"]))

    def on_epoch_end(self, epoch, logs=None):
        print("The average loss for epoch {} is {:7.2f} and mean absolute error is {:7.2f}.".format(
            epoch, logs["loss"], logs["mean_absolute_error"]))


class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
    def __init__(self, patience=0):
        super().__init__()
        self.patience = patience
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = logs.get("loss")
        if np.less(current, self.best):
            self.best = current
            self.wait = 0
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
                print("Restoring model weights from the end of the best epoch.")
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


class CustomLearningRateScheduler(keras.callbacks.Callback):
    def __init__(self, schedule):
        super().__init__()
        self.schedule = schedule

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.model.optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        lr = self.model.optimizer.learning_rate
        scheduled_lr = self.schedule(epoch, lr)
        self.model.optimizer.learning_rate = scheduled_lr
        print(f"\nEpoch {epoch}: Learning rate is {float(np.array(scheduled_lr))}.")


LR_SCHEDULE = [(3, 0.05), (6, 0.01), (9, 0.005), (12, 0.001)]


def lr_schedule(epoch, lr):
    if epoch < LR_SCHEDULE[0][0] or epoch > LR_SCHEDULE[-1][0]:
        return lr
    for i in range(len(LR_SCHEDULE)):
        if epoch == LR_SCHEDULE[i][0]:
            return LR_SCHEDULE[i][1]
    return lr


def test_the_guides_logging_callback_sees_a_dict_in_every_hook_of_fit_evaluate_and_predict(capsys):
    (x_train, y_train), (x_test, y_test) = guide_data()
    model = get_model()
    model.fit(x_train, y_train, batch_size=128, epochs=1, verbose=0, validation_split=0.5,
              callbacks=[CustomCallback()])
    model.evaluate(x_test, y_test, batch_size=128, verbose=0, callbacks=[CustomCallback()])
    model.predict(x_test, batch_size=128, callbacks=[CustomCallback()])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Starting training; got log keys: []"
    assert lines[1] == "Start epoch 0 of training; got log keys: []"
    assert lines[2] == "...Training: start of batch 0; got log keys: []"
    assert lines[3] == "...Training: end of batch 0; got log keys: ['loss', 'mean_absolute_error']"
    assert sum(line.startswith("...Training: end of batch") for line in lines) == 4  # 500 rows / 128
    # Validation inside fit: 500 rows, 4 batches, each with its begin and end hooks.
    assert sum(line.startswith("...Evaluating: start of batch") for line in lines) == 4 + 8
    assert "End epoch 0 of training; got log keys: ['loss', 'mean_absolute_error', 'val_loss', " \
           "'val_mean_absolute_error']" in lines
    assert "Stop training; got log keys: ['loss', 'mean_absolute_error', 'val_loss', " \
           "'val_mean_absolute_error']" in lines
    assert "Stop testing; got log keys: ['loss', 'mean_absolute_error']" in lines
    predicting = [line for line in lines if "Predicting" in line or "predicting" in line]
    assert predicting[0] == "Start predicting; got log keys: []"
    assert predicting[1:3] == ["...Predicting: start of batch 0; got log keys: []",
                               "...Predicting: end of batch 0; got log keys: ['outputs']"]
    assert len(predicting) == 2 + 2 * 8 and predicting[-1] == "Stop predicting; got log keys: []"


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_test_batch_begin(self, batch, logs=None):
        self.calls.append(("test_begin", batch, dict(logs)))

    def on_test_batch_end(self, batch, logs=None):
        self.calls.append(("test_end", batch, dict(logs)))

    def on_predict_batch_end(self, batch, logs=None):
        self.calls.append(("predict_end", batch, logs["outputs"].copy()))


def test_evaluate_batch_hooks_see_the_running_means_and_end_at_the_whole_result():
    (x, y), _ = guide_data()
    model, recorder = get_model(), Recorder()
    result = model.evaluate(x, y, batch_size=300, verbose=0, callbacks=[recorder], return_dict=True)
    ends = [logs for kind, _, logs in recorder.calls if kind == "test_end"]
    assert [(kind, batch) for kind, batch, _ in recorder.calls] == [
        ("test_begin", 0), ("test_end", 0), ("test_begin", 1), ("test_end", 1), ("test_begin", 2), ("test_end", 2),
        ("test_begin", 3), ("test_end", 3)]
    first = model.evaluate(x[:300], y[:300], batch_size=300, verbose=0, return_dict=True)
    for key in result:
        np.testing.assert_allclose(ends[0][key], first[key], rtol=1e-6)
        np.testing.assert_allclose(ends[-1][key], result[key], rtol=1e-5)


def test_predict_batch_hooks_get_each_batchs_outputs():
    _, (x, _) = guide_data()
    model, recorder = get_model(), Recorder()
    out = model.predict(x, batch_size=300, verbose=0, callbacks=[recorder])
    batches = [outputs for kind, _, outputs in recorder.calls]
    assert [len(b) for b in batches] == [300, 300, 300, 100]
    np.testing.assert_array_equal(np.concatenate(batches), out)


def test_the_guides_loss_printing_and_early_stopping_callbacks_run(capsys):
    (x_train, y_train), (x_test, y_test) = guide_data()
    model = get_model()
    model.fit(x_train, y_train, batch_size=64, epochs=30, verbose=0,
              callbacks=[LossAndErrorPrintingCallback(), EarlyStoppingAtMinLoss()])
    model.evaluate(x_test, y_test, batch_size=128, verbose=0, callbacks=[LossAndErrorPrintingCallback()])
    out = capsys.readouterr().out
    assert "The average loss for epoch 0 is" in out
    assert "Up to batch 15, the average loss is" in out  # 1,000 rows / 64: batches 0 to 15
    assert "Restoring model weights from the end of the best epoch." in out


def test_the_guides_learning_rate_scheduler_with_steps_per_epoch(capsys):
    (x_train, y_train), _ = guide_data()
    model = get_model()
    # 16 batches of 64 per pass: every fourth epoch gets the pass's last batch only, and Keras'
    # warning that the data ran out (Keras 3 trains this run for 63 steps, with the warnings).
    with pytest.warns(UserWarning, match="Your input ran out of data"):
        model.fit(x_train, y_train, batch_size=64, epochs=15, steps_per_epoch=5, verbose=0,
                  callbacks=[LossAndErrorPrintingCallback(), CustomLearningRateScheduler(lr_schedule)])
    out = capsys.readouterr().out
    assert "Epoch 3: Learning rate is 0.05." in out and "Epoch 12: Learning rate is 0.001." in out
    assert model.optimizer.iterations == 12 * 5 + 3
    assert "Up to batch 4," in out and "Up to batch 5," not in out


# --- fit's arguments -------------------------------------------------------------------


def small_model():
    model = keras.Sequential([keras.layers.Input(shape=(3,)), keras.layers.Dense(1)])
    model.compile(loss="mse", optimizer="sgd")
    return model


X, Y = np.ones((10, 3), dtype=np.float32), np.zeros(10, dtype=np.float32)


class BatchSizes(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.epochs[-1] += 1


def test_steps_per_epoch_goes_on_through_the_data_across_epochs_and_warns_when_it_runs_out():
    model, sizes = small_model(), BatchSizes()
    with pytest.warns(UserWarning, match="Your input ran out of data"):
        model.fit(X, Y, batch_size=2, epochs=4, steps_per_epoch=2, shuffle=False, verbose=0, callbacks=[sizes])
    # 5 batches per pass: epochs take batches 0-1, 2-3, then 4 alone (out of data), then 0-1 again.
    assert sizes.epochs == [2, 2, 1, 2]
    assert model.optimizer.iterations == 7


def test_steps_per_epoch_sets_the_callbacks_steps_param():
    model, recorder = small_model(), keras.callbacks.History()
    model.fit(X, Y, batch_size=2, epochs=1, steps_per_epoch=3, verbose=0, callbacks=[recorder])
    assert recorder.params["steps"] == 3


@pytest.mark.parametrize("call", [
    lambda m: m.fit(X, Y, batch_size=0, verbose=0),
    lambda m: m.predict(X, batch_size=0, verbose=0),
    lambda m: m.evaluate(X, Y, batch_size=0, verbose=0),
    lambda m: m.fit(X, Y, batch_size=-4, verbose=0),
], ids=["fit", "predict", "evaluate", "fit-negative"])
def test_a_batch_size_below_one_is_refused(call):
    with pytest.raises(ValueError, match="batch_size must be a positive integer; got -?[04]"):
        call(small_model())


@pytest.mark.parametrize("argument", ["epochs", "initial_epoch"])
def test_a_negative_epoch_count_is_refused(argument):
    with pytest.raises(ValueError, match=f"{argument} must be an integer >= 0; got -1"):
        small_model().fit(X, Y, verbose=0, **{argument: -1})


@pytest.mark.parametrize("argument", ["steps_per_epoch", "validation_steps", "validation_freq"])
def test_a_step_count_below_one_is_refused(argument):
    with pytest.raises(ValueError, match=f"{argument} must be a positive integer; got 0"):
        small_model().fit(X, Y, verbose=0, validation_data=(X, Y), **{argument: 0})


def test_zero_epochs_returns_an_empty_history_as_keras_does():
    model = small_model()
    history = model.fit(X, Y, epochs=0, verbose=0)
    assert isinstance(history, keras.callbacks.History)
    assert history.history == {} and model.history is history
    assert model.optimizer.iterations == 0


def test_layer_and_model_variables_list_every_weight():
    model = keras.Sequential([keras.layers.Input(shape=(3,)), keras.layers.Dense(2),
                              keras.layers.BatchNormalization()])
    assert [v.path for v in model.layers[1].variables] == [
        f"{model.layers[1].name}/{name}" for name in ["gamma", "beta", "moving_mean", "moving_variance"]]
    assert model.variables == model.weights and len(model.variables) == 6

"""Faults during training: Ctrl-C (from a callback and as a real SIGINT inside the engine),
exact resumption from a saved model, NaN/Inf in the loss and in the input, fit/predict
from several threads."""

import signal
import threading
import warnings

import numpy as np
import pytest

import fastdnn as keras
from fastdnn import callbacks, layers


def data(rows=256, features=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1).astype(int)
    return x, y


def make_model(seed=5, features=10, units=16, dropout=0.25):
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([layers.Input(shape=(features,)), layers.Dense(units, activation="relu"),
                              layers.BatchNormalization(), layers.Dropout(dropout),
                              layers.Dense(units, activation="tanh"), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Recorder(callbacks.Callback):
    """Records the training hooks called: [(name, argument)]."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin", None))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch))

    def on_train_end(self, logs=None):
        self.calls.append(("train_end", None))


class StopAt(callbacks.Callback):
    """At the end of training batch `batch` of epoch `epoch`: raise `error`, or stop training."""

    def __init__(self, epoch, batch, error=None):
        super().__init__()
        self.epoch, self.batch, self.error, self.current = epoch, batch, error, None

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.current, batch) == (self.epoch, self.batch):
            if self.error is not None:
                raise self.error
            self.model.stop_training = True


def reference_weights(steps_done, steps_per_epoch, fit_kwargs, make=make_model):
    """The weights of an uninterrupted run stopped (cleanly) after `steps_done` steps."""
    model = make()
    epoch, batch = divmod(steps_done - 1, steps_per_epoch)
    model.fit(*data(), callbacks=[StopAt(epoch, batch)], **fit_kwargs)
    assert model.optimizer.iterations == steps_done
    return model


def assert_same_model(a, b, x):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(a.predict(x, verbose=0), b.predict(x, verbose=0))


# --- Ctrl-C ---------------------------------------------------------------------------------

def test_ctrl_c_in_a_callback_stops_at_a_batch_boundary_and_still_ends_training(tmp_path):
    x, y = data()
    model = make_model()
    recorder = Recorder()
    best = tmp_path / "best.fdnn"
    checkpoint = callbacks.ModelCheckpoint(best, monitor="loss", save_best_only=True)
    fit = dict(epochs=5, batch_size=32, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, callbacks=[recorder, checkpoint, StopAt(2, 3, KeyboardInterrupt())], **fit)
    # fastdnn calls on_train_end on the way out (Keras 3 does not): see fit's docstring.
    assert recorder.calls == [("train_begin", None), ("epoch_end", 0), ("epoch_end", 1), ("train_end", None)]
    assert model.optimizer.iterations == 2 * 8 + 4
    assert not model._fitting
    # Weights and optimizer state are those of the 20 whole steps: training on continues as
    # the uninterrupted run does.
    reference = reference_weights(20, 8, fit)
    assert_same_model(model, reference, x)
    for m in (model, reference):
        m.train_on_batch(x[:32], y[:32])
    assert_same_model(model, reference, x)
    # The best checkpoint (written at an epoch end before the interruption) is intact.
    saved = keras.models.load_model(best)
    assert saved.optimizer.iterations in (8, 16)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.fdnn"]


def test_an_error_in_a_callback_also_ends_training_and_reaches_the_caller():
    model = make_model()
    recorder = Recorder()
    with pytest.raises(ZeroDivisionError):
        model.fit(*data(), epochs=2, verbose=0, callbacks=[recorder, StopAt(0, 1, ZeroDivisionError())])
    assert recorder.calls == [("train_begin", None), ("train_end", None)]
    assert model.optimizer.iterations == 2
    model.fit(*data(), epochs=1, verbose=0)  # the model is not left "training"


def big_data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40_000, 64)).astype("float32")
    return x, (x[:, 0] > 0).astype(int)


def big_model():
    keras.backend.clear_session()
    keras.utils.set_random_seed(11)
    model = keras.Sequential([layers.Input(shape=(64,)), layers.Dense(256, activation="relu"),
                              layers.BatchNormalization(), layers.Dense(256, activation="relu"),
                              layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def test_a_real_sigint_inside_the_engine_stops_at_a_batch_boundary(restore_threads):
    """SIGINT from a timer thread while fit is inside one multi-batch engine call (no batch
    hooks, verbose=0: one engine call per epoch); the engine polls signals every 50 ms."""
    keras.set_num_threads(2)
    x, y = big_data()
    steps = len(x) // 32
    model = big_model()
    recorder = Recorder()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.3, signal.raise_signal, (signal.SIGINT,))
    try:
        with pytest.raises(KeyboardInterrupt):
            timer.start()
            model.fit(x, y, epochs=1000, batch_size=32, shuffle=False, verbose=0, callbacks=[recorder])
    finally:
        timer.join()
        signal.signal(signal.SIGINT, previous)
    done = model.optimizer.iterations
    assert 0 < done < 1000 * steps
    assert recorder.calls[0] == ("train_begin", None) and recorder.calls[-1] == ("train_end", None)
    # The interrupted model is exactly an uninterrupted one stopped after `done` steps.
    reference = big_model()
    epoch, batch = divmod(done - 1, steps)
    reference.fit(x, y, epochs=epoch + 1, batch_size=32, shuffle=False, verbose=0,
                  callbacks=[StopAt(epoch, batch)])
    assert reference.optimizer.iterations == done
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)


# --- resumption -------------------------------------------------------------------------------

@pytest.mark.parametrize("threads", [1, 3])
def test_training_resumed_from_a_saved_model_gives_the_uninterrupted_numbers(tmp_path, threads, restore_threads):
    keras.set_num_threads(threads)
    x, y = data(300)
    x_val, y_val = data(64, seed=9)
    path = tmp_path / "after-epoch-2.fdnn"
    fit = dict(batch_size=32, verbose=0, validation_data=(x_val, y_val))

    a = make_model()
    save = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epoch == 1 and a.save(path))
    history_a = a.fit(x, y, epochs=4, callbacks=[save], **fit).history

    keras.utils.set_random_seed(12345)  # whatever the global stream does meanwhile
    b = keras.models.load_model(path)
    history_b = b.fit(x, y, epochs=4, initial_epoch=2, **fit).history

    for key in history_a:
        assert history_b[key] == history_a[key][2:], key  # bitwise equal floats
    assert_same_model(a, b, x)


def test_a_checkpoint_of_each_epoch_resumes_exactly(tmp_path):
    x, y = data(200)
    a = make_model(seed=8)
    a.fit(x, y, epochs=3, batch_size=16, verbose=0,
          callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "e{epoch}.fdnn"))])
    b = keras.models.load_model(tmp_path / "e1.fdnn")
    b.fit(x, y, epochs=3, initial_epoch=1, batch_size=16, verbose=0)
    assert_same_model(a, b, x)
    np.testing.assert_array_equal(keras.models.load_model(tmp_path / "e3.fdnn").predict(x, verbose=0),
                                  a.predict(x, verbose=0))


# --- numerical faults -----------------------------------------------------------------------

def diverging():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(128, 8)).astype("float32")
    model = keras.Sequential([layers.Input(shape=(8,)), layers.Dense(3, activation="exponential"),
                              layers.Dense(1, activation="exponential")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e6), loss="mse")
    return model, x, rng.normal(size=(128, 1)).astype("float32") * 1e3


def test_terminate_on_nan_stops_a_real_fit_at_the_first_bad_batch(capsys):
    model, x, y = diverging()
    recorder = Recorder()
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0,
                        callbacks=[callbacks.TerminateOnNaN(), recorder])
    steps = model.optimizer.iterations
    assert 1 <= steps < 8  # stopped inside the first epoch
    assert f"Batch {steps - 1}: Invalid loss, terminating training" in capsys.readouterr().out
    assert recorder.calls[-1] == ("train_end", None)
    assert len(history.history["loss"]) == 1 and not np.isfinite(history.history["loss"][0])


def test_a_non_finite_loss_without_terminate_on_nan_warns_once_and_shows_in_the_history():
    model, x, y = diverging()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    messages = [str(w.message) for w in caught if "The training loss became" in str(w.message)]
    assert len(messages) == 1  # once per fit, not per batch or epoch
    assert all(w.filename == __file__ for w in caught)  # points at the caller's fit()
    assert len(history.history["loss"]) == 3 and not np.isfinite(history.history["loss"]).any()


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("where", ["x", "y", "validation_split"])
def test_nan_in_the_data_is_refused_before_any_weight_or_statistic_moves(bad, where):
    x, y = data(300)
    y = y.astype("float32")
    model = make_model()
    model.compile(optimizer="adam", loss="mse")
    model.build((None, 10))
    before = model.get_weights()
    bn = model.layers[1]
    moving = [bn.moving_mean.numpy().copy(), bn.moving_variance.numpy().copy()]
    if where == "x":
        x[217, 6] = bad
        match = r"x contains NaN or Inf \(row 217, column 6"
    elif where == "y":
        y = np.stack([y, y, y], axis=1)
        y[250, 2] = bad
        match = r"y contains NaN or Inf \(row 250, column 2"
    else:  # a NaN in the part split off for validation is not trained on: no refusal needed
        x[290, 1] = bad
        match = None
    if where != "y":
        y = np.stack([y, y, y], axis=1)
    if match is None:
        model.fit(x, y, epochs=1, verbose=0, validation_split=0.1)
        return
    with pytest.raises(ValueError, match=match):
        model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert model.optimizer.iterations == 0
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), moving[0])
    np.testing.assert_array_equal(bn.moving_variance.numpy(), moving[1])


# --- threads ----------------------------------------------------------------------------------

def test_predict_on_one_model_from_several_threads_gives_the_single_threaded_results(tmp_path):
    trained = make_model()
    trained.fit(*data(), epochs=1, verbose=0)
    trained.save(tmp_path / "m.fdnn")
    model = keras.models.load_model(tmp_path / "m.fdnn")  # fresh: its network is built by the threads
    rng = np.random.default_rng(2)
    xs = [rng.normal(size=(500, 10)).astype("float32") for _ in range(6)]
    expected = [trained.predict(x, verbose=0) for x in xs]
    results = [[] for _ in xs]
    barrier = threading.Barrier(len(xs))

    def work(i):
        barrier.wait()
        for _ in range(10):
            results[i].append(model.predict(xs[i], verbose=0, batch_size=64))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        assert len(got) == 10
        for r in got:
            np.testing.assert_array_equal(r, want)


def test_a_second_fit_while_training_is_refused_and_the_first_completes():
    x, y = data()
    model = make_model()
    inside, release = threading.Event(), threading.Event()
    errors, outcome = [], {}

    class Pause(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                inside.set()
                release.wait(30)

    def first():
        outcome["history"] = model.fit(x, y, epochs=3, verbose=0, callbacks=[Pause()])

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert inside.wait(30)
        with pytest.raises(RuntimeError, match="already training"):
            model.fit(x, y, epochs=1, verbose=0)
        # Decision: predict and evaluate run between fit's engine calls (serialized by the
        # engine's lock), seeing the weights of a whole step; anything that would rebuild
        # the engine network under fit is refused.
        during = model.predict(x, verbose=0)
        assert np.isfinite(during).all()
        model.evaluate(x, y, verbose=0)
        with pytest.raises(RuntimeError, match="training in another thread"):
            model.compile(optimizer="sgd", loss="mse")
    except BaseException as e:
        errors.append(e)
        raise
    finally:
        release.set()
        thread.join()
    assert len(outcome["history"].history["loss"]) == 3
    assert model.optimizer.iterations == 3 * 8
    reference = make_model()
    reference.fit(x, y, epochs=3, verbose=0)
    assert_same_model(model, reference, x)

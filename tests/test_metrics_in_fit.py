"""Metrics inside compile/fit/evaluate: fit stays one engine call per epoch with metrics the
engine does not count (the engine hands back each batch's training outputs), the values
are the metrics of those outputs, evaluate computes them from one inference pass, and the
logs carry Keras' names. Keras parity of the values: tests/test_keras_parity_metrics.py."""

import numpy as np
import pytest

import fastdnn as keras
import reference_metrics as ref
from fastdnn import _core


def count_calls(monkeypatch, method):
    """Records the calls to _core.Network.<method> (which still runs) as dicts of their arguments."""
    calls = []
    original = getattr(_core.Network, method)
    names = {"train_batches": ["x", "y", "order", "batch_size", "learning_rates"],
             "evaluate": ["x", "y", "batch_size"], "predict": ["x", "batch_size"]}[method]

    def counted(self, *args, **kwargs):
        calls.append({**dict(zip(names, args)), **kwargs})
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_core.Network, method, counted)
    return calls


def classifier(metrics, seed=0, loss="categorical_crossentropy", dropout=0.0):
    keras.utils.set_random_seed(seed)
    layers = [keras.Input(shape=(6,)), keras.layers.Dense(8, activation="relu")]
    if dropout:
        layers.append(keras.layers.Dropout(dropout))
    model = keras.Sequential(layers + [keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss, metrics=metrics)
    return model


def classification_data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)
    return x, np.eye(3, dtype=np.float32)[labels], labels


class BatchLogs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = []

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(dict(logs))


def test_fit_with_accuracy_and_auc_makes_one_engine_call_per_epoch(monkeypatch):
    x, y, _ = classification_data()
    model = classifier(["accuracy", "AUC"])
    calls = count_calls(monkeypatch, "train_batches")
    model.fit(x, y, batch_size=10, epochs=3, verbose=0)
    assert len(calls) == 3


def test_batch_hooks_still_get_one_engine_call_per_batch(monkeypatch):
    x, y, _ = classification_data()
    model = classifier(["AUC"])
    calls = count_calls(monkeypatch, "train_batches")
    model.fit(x, y, batch_size=10, epochs=1, verbose=0, callbacks=[BatchLogs()])
    assert len(calls) == 12


def test_epoch_metrics_are_the_metrics_of_the_training_outputs_of_the_epoch(monkeypatch):
    """The logged AUC is the reference AUC of what the engine handed back, rows in shuffled order."""
    x, y, _ = classification_data()
    model = classifier(["AUC", "Precision"], dropout=0.3)
    calls = count_calls(monkeypatch, "train_batches")
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    order, outputs = calls[0]["order"], calls[0]["outputs"]
    assert outputs.shape == (120, 3) and np.all(outputs.sum(axis=1) > 0.99)  # softmax rows, all filled
    assert history.history["AUC"][0] == pytest.approx(ref.auc(y[order], outputs), rel=1e-6)
    assert history.history["Precision"][0] == pytest.approx(ref.precision(y[order], outputs), rel=1e-6)


def test_running_values_at_each_batch_equal_the_last_batch_value_of_a_grouped_run():
    """The per-batch path (batch hooks) and the one-call path train identically, so the batch
    logs' last running value is the epoch value of the one-call run."""
    x, y, _ = classification_data()
    hooks = BatchLogs()
    per_batch = classifier(["AUC", "mse"], seed=3).fit(x, y, batch_size=10, epochs=1, verbose=0, callbacks=[hooks])
    grouped = classifier(["AUC", "mse"], seed=3).fit(x, y, batch_size=10, epochs=1, verbose=0)
    assert len(hooks.batches) == 12
    assert hooks.batches[-1]["AUC"] == pytest.approx(grouped.history["AUC"][0], rel=1e-6)
    assert per_batch.history["mse"] == pytest.approx(grouped.history["mse"], rel=1e-6)
    assert len({round(b["AUC"], 6) for b in hooks.batches}) > 1  # running values, not the final one repeated


def test_evaluate_computes_metrics_from_one_inference_pass(monkeypatch):
    x, y, _ = classification_data()
    model = classifier(["accuracy", "AUC", "RootMeanSquaredError"])
    model.fit(x, y, batch_size=10, epochs=1, verbose=0)
    predictions = model.predict(x, verbose=0)
    predict_calls = count_calls(monkeypatch, "predict")
    logs = model.evaluate(x, y, batch_size=7, verbose=0, return_dict=True)
    assert predict_calls == []
    assert logs["AUC"] == pytest.approx(ref.auc(y, predictions), rel=1e-6)
    assert logs["RootMeanSquaredError"] == pytest.approx(ref.root_mean_squared_error(y, predictions), rel=1e-6)


def test_validation_metrics_are_logged_with_the_val_prefix():
    x, y, _ = classification_data()
    model = classifier(["AUC"])
    history = model.fit(x, y, batch_size=10, epochs=1, verbose=0, validation_split=0.25)
    predictions = model.predict(x[90:], verbose=0)
    assert history.history["val_AUC"][0] == pytest.approx(ref.auc(y[90:], predictions), rel=1e-6)


@pytest.mark.parametrize("entry, key", [
    ("AUC", "AUC"), ("auc", "auc"), (keras.metrics.AUC(name="auc"), "auc"), ("precision", "precision"),
    (keras.metrics.Recall(name="recall"), "recall"), ("RootMeanSquaredError", "RootMeanSquaredError"),
    (keras.metrics.RootMeanSquaredError(), "root_mean_squared_error"), ("mape", "mape"),
])
def test_logs_use_keras_names(entry, key):
    x, y, _ = classification_data(30)
    history = classifier([entry]).fit(x, y, batch_size=10, epochs=1, verbose=0)
    assert key in history.history


def test_sparse_labels_with_sparse_metrics_train_in_one_call(monkeypatch):
    x, _, labels = classification_data()
    model = classifier(["accuracy", "sparse_categorical_crossentropy", "sparse_top_k_categorical_accuracy"],
                       loss="sparse_categorical_crossentropy")
    calls = count_calls(monkeypatch, "train_batches")
    history = model.fit(x, labels, batch_size=10, epochs=2, verbose=0)
    assert len(calls) == 2
    assert history.history["sparse_top_k_categorical_accuracy"] == [1.0, 1.0]  # k = 5 > 3 classes


def test_auc_on_class_indices_raises_instead_of_flattening_wrong_shapes():
    x, _, labels = classification_data(30)
    model = classifier(["AUC"], loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="shape of y_pred"):
        model.fit(x, labels, batch_size=10, epochs=1, verbose=0)


def test_train_on_batch_and_test_on_batch_report_the_metric_of_that_batch():
    x, y, _ = classification_data(40)
    model = classifier(["AUC"])
    logs = model.test_on_batch(x, y, return_dict=True)
    assert logs["AUC"] == pytest.approx(ref.auc(y, model.predict(x, verbose=0)), rel=1e-6)
    assert 0.0 <= model.train_on_batch(x, y, return_dict=True)["AUC"] <= 1.0


# --- the engine's output buffers -----------------------------------------------------------

@pytest.fixture
def net():
    model = classifier([])
    x, y, _ = classification_data(20)
    model.fit(x, y, epochs=1, verbose=0)
    return model._network, x, y


@pytest.mark.parametrize("outputs, error, message", [
    (np.zeros((19, 3), np.float32), ValueError, r"outputs must have shape \(20, 3\)"),
    (np.zeros((20, 4), np.float32), ValueError, r"outputs must have shape \(20, 3\)"),
    (np.zeros((20, 3), np.float64), TypeError, "outputs must be a float32 array"),
    (np.zeros((3, 20), np.float32).T, ValueError, "C-contiguous"),
    ([[0.0] * 3] * 20, TypeError, "NumPy float32 array"),
])
def test_train_batches_refuses_a_bad_output_buffer(net, outputs, error, message):
    network, x, y = net
    with pytest.raises(error, match=message):
        network.train_batches(x, y, np.arange(20), 5, np.full(4, 0.1, np.float32), outputs=outputs)


def test_evaluate_refuses_a_read_only_output_buffer(net):
    network, x, y = net
    outputs = np.zeros((20, 3), np.float32)
    outputs.flags.writeable = False
    with pytest.raises(ValueError, match="writable"):
        network.evaluate(x, y, 5, outputs=outputs)


def test_evaluate_outputs_equal_predict(net):
    network, x, y = net
    outputs = np.full((20, 3), np.nan, np.float32)
    network.evaluate(x, y, 6, outputs=outputs)
    np.testing.assert_array_equal(outputs, network.predict(x, 6))


def test_a_saved_model_keeps_its_metric_objects_settings(tmp_path):
    x, y, _ = classification_data(40)
    model = classifier([keras.metrics.AUC(curve="PR", num_thresholds=50, name="pr_auc"), "Precision"])
    model.fit(x, y, batch_size=10, epochs=1, verbose=0)
    model.save(tmp_path / "model.fdnn")
    loaded = keras.models.load_model(tmp_path / "model.fdnn")
    logs = loaded.evaluate(x, y, verbose=0, return_dict=True)
    predictions = model.predict(x, verbose=0)
    assert logs["pr_auc"] == pytest.approx(ref.auc(y, predictions, num_thresholds=50, curve="PR"), rel=1e-6)
    assert logs["Precision"] == pytest.approx(ref.precision(y, predictions), rel=1e-6)

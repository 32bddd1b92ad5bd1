"""fastdnn's metrics against real Keras 3 (torch backend, float64), as tests/test_keras_parity.py
does for layers: the same update_state calls on the same arrays (with and without
sample_weight, over several updates), and the same Keras program (compile(metrics=[...]),
fit, evaluate) run by both libraries from the same weights, comparing every logged value:
per batch (through a batch-hook callback), per epoch, for validation and for evaluate.

Tolerance: TOL = 1e-4, relative to max(1, |Keras' value|), as the issue asks. What it has
to cover: in update_state, only float32 rounding of fastdnn's inputs and result (~1e-7); in
fit, additionally the float32 training (a few SGD steps of a small net: weights and outputs
off by ~1e-6, see test_keras_parity.py's budgets). A threshold metric could jump by one
sample if an output sat within ~1e-6 of a threshold; the data below are continuous random
values, where that has probability ~1e-4 per test, and the seeds are fixed.
"""

import numpy as np
import pytest

import fastdnn
from keras_reference import keras, keras_float64, TORCH_PYTREE_WARNING  # noqa: F401 (the fixture)

pytestmark = TORCH_PYTREE_WARNING

TOL = 1e-4


def assert_close(ours, theirs, what):
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != Keras' {theirs.shape}"
    limit = TOL * np.maximum(1.0, np.abs(theirs))
    assert np.all(np.abs(ours - theirs) <= limit), f"{what}: fastdnn {ours}, Keras {theirs}"


# --- update_state on the same arrays ---------------------------------------------------------

def _binary(rng, n=75):
    return (rng.random((n, 1)) > 0.5).astype(np.float32), rng.random((n, 1)).astype(np.float32)


def _multilabel(rng, n=75):
    return (rng.random((n, 4)) > 0.6).astype(np.float32), rng.random((n, 4)).astype(np.float32)


def _onehot(rng, n=75):
    p = rng.random((n, 4)).astype(np.float32)
    p /= p.sum(axis=1, keepdims=True)
    return np.eye(4, dtype=np.float32)[rng.integers(0, 4, n)], p


def _sparse(rng, n=75):
    y, p = _onehot(rng, n)
    return np.argmax(y, axis=1), p


def _logits(rng, n=75):
    y, p = _multilabel(rng, n)
    return y, (p - 0.5) * 8


def _unbounded(rng, n=75):
    """Scores outside [0, 1] too (a linear output): Keras' evenly spaced path clips them."""
    return (rng.random((n, 2)) > 0.5).astype(np.float32), rng.normal(0.5, 0.8, (n, 2)).astype(np.float32)


def _regression(rng, n=75):
    y = rng.normal(size=(n, 2)).astype(np.float32)
    return y, (y + rng.normal(0, 0.5, (n, 2))).astype(np.float32)


CASES = [
    ("AUC()", lambda m: m.AUC(), _binary),
    ("AUC(multi-output)", lambda m: m.AUC(), _multilabel),
    ("AUC(num_thresholds=13)", lambda m: m.AUC(num_thresholds=13), _multilabel),
    ("AUC(PR)", lambda m: m.AUC(curve="PR"), _multilabel),
    ("AUC(PR, majoring)", lambda m: m.AUC(curve="PR", summation_method="majoring"), _binary),
    ("AUC(ROC, minoring)", lambda m: m.AUC(summation_method="minoring"), _binary),
    ("AUC(thresholds)", lambda m: m.AUC(thresholds=[0.7, 0.2, 0.45]), _multilabel),
    ("AUC(multi_label)", lambda m: m.AUC(multi_label=True), _multilabel),
    ("AUC(multi_label, label_weights)", lambda m: m.AUC(multi_label=True, label_weights=[1, 2, 0, 1]), _multilabel),
    ("AUC(label_weights)", lambda m: m.AUC(label_weights=[1, 2, 0, 1]), _multilabel),
    ("AUC(from_logits)", lambda m: m.AUC(from_logits=True), _logits),
    ("AUC(scores outside [0, 1])", lambda m: m.AUC(num_thresholds=20), _unbounded),
    ("AUC(thresholds, scores outside [0, 1])", lambda m: m.AUC(thresholds=[0.1, 0.5, 0.6]), _unbounded),
    ("Precision(scores outside [0, 1])", lambda m: m.Precision(thresholds=[0.0, 0.5, 1.0]), _unbounded),
    ("Precision()", lambda m: m.Precision(), _multilabel),
    ("Precision(thresholds)", lambda m: m.Precision(thresholds=[0.3, 0.9]), _multilabel),
    ("Precision(top_k)", lambda m: m.Precision(top_k=2), _onehot),
    ("Precision(class_id)", lambda m: m.Precision(class_id=2), _onehot),
    ("Recall()", lambda m: m.Recall(), _binary),
    ("Recall(top_k, class_id)", lambda m: m.Recall(top_k=2, class_id=1), _onehot),
    ("Recall(evenly spaced thresholds)", lambda m: m.Recall(thresholds=[0.0, 0.25, 0.5, 0.75, 1.0]), _multilabel),
    ("TruePositives()", lambda m: m.TruePositives(), _multilabel),
    ("FalsePositives(0.3)", lambda m: m.FalsePositives(thresholds=0.3), _binary),
    ("TrueNegatives(list)", lambda m: m.TrueNegatives(thresholds=[0.1, 0.6]), _multilabel),
    ("FalseNegatives()", lambda m: m.FalseNegatives(), _binary),
    ("RootMeanSquaredError()", lambda m: m.RootMeanSquaredError(), _regression),
    ("MeanAbsolutePercentageError()", lambda m: m.MeanAbsolutePercentageError(), _regression),
    ("BinaryCrossentropy()", lambda m: m.BinaryCrossentropy(), _multilabel),
    ("BinaryCrossentropy(from_logits)", lambda m: m.BinaryCrossentropy(from_logits=True), _logits),
    ("CategoricalCrossentropy()", lambda m: m.CategoricalCrossentropy(), _onehot),
    ("SparseCategoricalCrossentropy()", lambda m: m.SparseCategoricalCrossentropy(), _sparse),
    ("MeanSquaredError()", lambda m: m.MeanSquaredError(), _regression),
    ("BinaryAccuracy()", lambda m: m.BinaryAccuracy(), _multilabel),
    ("SparseTopKCategoricalAccuracy(k=2)", lambda m: m.SparseTopKCategoricalAccuracy(k=2), _sparse),
]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name, make, data", CASES, ids=[c[0] for c in CASES])
def test_update_state_matches_keras(name, make, data, weighted):
    rng = np.random.default_rng(len(name))
    y_true, y_pred = data(rng)
    weights = rng.uniform(0, 2, len(y_true)).astype(np.float32) if weighted else None
    ours, theirs = make(fastdnn.metrics), make(keras.metrics)
    for part in np.array_split(np.arange(len(y_true)), 3):
        w = None if weights is None else weights[part]
        ours.update_state(y_true[part], y_pred[part], sample_weight=w)
        theirs.update_state(y_true[part], y_pred[part], sample_weight=w)
        assert_close(ours.result(), keras.ops.convert_to_numpy(theirs.result()), name)


@pytest.mark.parametrize("name, make, data", CASES[:3], ids=[c[0] for c in CASES[:3]])
def test_reset_state_matches_keras(name, make, data):
    y_true, y_pred = data(np.random.default_rng(0))
    ours, theirs = make(fastdnn.metrics), make(keras.metrics)
    for m in (ours, theirs):
        m.update_state(y_true, y_pred)
        m.reset_state()
        m.update_state(y_true[:20], y_pred[:20])
    assert_close(ours.result(), keras.ops.convert_to_numpy(theirs.result()), name)


def test_string_identifiers_resolve_like_keras():
    for identifier in ["AUC", "auc", "precision", "Recall", "true_negatives", "RootMeanSquaredError", "mape",
                       "bce", "binary_crossentropy", "categorical_crossentropy", "mse"]:
        assert type(fastdnn.metrics.get(identifier)).__name__ == type(keras.metrics.get(identifier)).__name__


# --- through compile / fit / evaluate --------------------------------------------------------

class BatchLogs:
    """A callback in both libraries recording every training batch's logs."""

    @staticmethod
    def make(lib):
        class Recorder(lib.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.batches = []

            def on_train_batch_end(self, batch, logs=None):
                self.batches.append({k: float(np.asarray(v)) for k, v in logs.items()})

        return Recorder()


def run_program(lib, weights, output, loss, metrics, x, y, x_val, y_val):
    """The same Keras program in `lib`: a 6-8-`output` net, SGD, 2 epochs unshuffled, metrics."""
    units, activation = output
    model = lib.Sequential([lib.Input(shape=(6,)), lib.layers.Dense(8, activation="tanh"),
                            lib.layers.Dense(units, activation=activation)])
    model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.1), loss=loss, metrics=metrics(lib))
    model.set_weights(weights)
    recorder = BatchLogs.make(lib)
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, callbacks=[recorder],
                        validation_data=(x_val, y_val))
    evaluated = model.evaluate(x_val, y_val, batch_size=10, verbose=0, return_dict=True)
    return recorder.batches, history.history, evaluated


PROGRAMS = {
    "binary": ((1, "sigmoid"), "binary_crossentropy", lambda lib: [
        "accuracy", "AUC", lib.metrics.AUC(curve="PR", name="pr_auc"), "Precision", "Recall",
        lib.metrics.TruePositives(name="tp"), lib.metrics.FalseNegatives(thresholds=0.3, name="fn"),
        "binary_crossentropy"]),
    "multiclass": ((3, "softmax"), "categorical_crossentropy", lambda lib: [
        "accuracy", "AUC", lib.metrics.AUC(multi_label=True, name="ml_auc"),
        lib.metrics.Precision(class_id=1, name="p1"), lib.metrics.Recall(top_k=2, name="r_top2"),
        lib.metrics.CategoricalCrossentropy(name="cce"), "mse"]),
    "sparse": ((3, "softmax"), "sparse_categorical_crossentropy", lambda lib: [
        "accuracy", "sparse_categorical_crossentropy", lib.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")]),
    "regression": ((2, None), "mse", lambda lib: [
        "RootMeanSquaredError", lib.metrics.RootMeanSquaredError(name="rmse"), "mape", "mae"]),
}


# Keras 3.15's torch backend logs, as the epoch's training value of a one-threshold confusion
# count (TruePositives(), FalseNegatives(thresholds=0.3)), the validation value: their result()
# is accumulator[0], a view of the metric's variable, which the validation pass resets and refills
# before History stores it. Their per-batch logs are right, so the epoch value is compared with
# the last batch's (fastdnn logs the training value, as Keras' TF backend and Keras 2 do).
KERAS_ALIASED_COUNTS = {"tp", "fn"}


def program_data(kind, rng, n):
    x = rng.normal(size=(n, 6)).astype(np.float32)
    score = x[:, 0] + 0.5 * x[:, 1] + rng.normal(0, 0.5, n)
    if kind == "binary":
        return x, (score > 0).astype(np.float32).reshape(-1, 1)
    if kind == "regression":
        return x, np.stack([score, x[:, 2] - score], axis=1).astype(np.float32)
    labels = np.digitize(score, [-0.5, 0.5])
    return x, (labels if kind == "sparse" else np.eye(3, dtype=np.float32)[labels])


@pytest.mark.parametrize("kind", sorted(PROGRAMS))
def test_fit_and_evaluate_logs_match_keras(kind):
    output, loss, metrics = PROGRAMS[kind]
    rng = np.random.default_rng(7)
    x, y = program_data(kind, rng, 80)
    x_val, y_val = program_data(kind, rng, 30)
    probe = fastdnn.Sequential([fastdnn.Input(shape=(6,)), fastdnn.layers.Dense(8), fastdnn.layers.Dense(output[0])])
    weights = [rng.normal(0, 0.6, w.shape).astype(np.float32) for w in probe.get_weights()]
    ours = run_program(fastdnn, weights, output, loss, metrics, x, y, x_val, y_val)
    theirs = run_program(keras, weights, output, loss, metrics, x, y, x_val, y_val)
    batches, history, evaluated = ours
    keras_batches, keras_history, keras_evaluated = theirs
    assert sorted(history) == sorted(keras_history)
    assert sorted(evaluated) == sorted(keras_evaluated)
    assert len(batches) == len(keras_batches) == 10
    for i, (b, kb) in enumerate(zip(batches, keras_batches)):
        assert sorted(b) == sorted(kb)
        for key in kb:
            assert_close(b[key], kb[key], f"batch {i} {key}")
    for key in keras_history:
        expected = keras_history[key]
        if key in KERAS_ALIASED_COUNTS:
            expected = [keras_batches[4][key], keras_batches[9][key]]  # the running value at each epoch's end
        assert_close(history[key], expected, f"history {key}")
    for key in keras_evaluated:
        assert_close(evaluated[key], keras_evaluated[key], f"evaluate {key}")

"""Bad input to the engine is a Python exception that says what was expected,
raised before anything is computed or changed."""

import numpy as np
import pytest

from fastdnn import _core
from engine_helpers import make_network, snapshot

CE = {"kind": "sparse_categorical_crossentropy", "metric": "sparse_categorical_accuracy"}


@pytest.fixture
def net():
    ops = [
        {"kind": "dense", "units": 8},
        {"kind": "batch_normalization"},
        {"kind": "dropout", "rate": 0.5},
        {"kind": "dense", "units": 3},
        {"kind": "activation", "activation": "softmax"},
    ]
    return make_network(5, ops, CE, {"kind": "adam"})


X = np.ones((4, 5), np.float32)
Y = np.array([0, 1, 2, 1])


def unchanged(net, work):
    before, iterations = snapshot(net), net.iterations
    work()
    assert net.iterations == iterations
    for a, b in zip(before, snapshot(net)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "x, error, message",
    [
        (np.ones((4, 6), np.float32), ValueError, r"x must have shape \(batch, 5\); got shape \(4, 6\)"),
        (np.ones((4,), np.float32), ValueError, r"x must have shape \(batch, 5\)"),
        (np.ones((4, 5, 1), np.float32), ValueError, r"x must have shape \(batch, 5\)"),
        (np.ones((0, 5), np.float32), ValueError, "x is empty"),
        (np.array([["a"] * 5] * 4), TypeError, "x has dtype <U1"),
        (np.ones((4, 5), dtype=object), TypeError, "x has dtype object"),
        (np.ones((4, 5), dtype=np.complex64), TypeError, "x has dtype complex64"),
        (None, TypeError, "x is None"),
        ("not an array", TypeError, "x has dtype"),
    ],
)
def test_a_bad_x_is_refused_with_its_expected_shape_or_dtype(net, x, error, message):
    for call in (
        lambda: net.train_step(x, Y, 0.1),
        lambda: net.evaluate(x, Y),
        lambda: net.predict(x),
        lambda: net.compute_gradients(x, Y),
    ):
        with pytest.raises(error, match=message):
            unchanged(net, call)


@pytest.mark.parametrize("dtype", [np.float64, np.float16, np.int32, np.uint8, np.bool_])
def test_numeric_dtypes_are_converted_as_keras_converts_them(net, dtype):
    x = (np.arange(20).reshape(4, 5) % 2).astype(dtype)
    np.testing.assert_array_equal(net.predict(x), net.predict(x.astype(np.float32)))


def test_non_contiguous_x_gives_the_same_answer_as_its_copy(net):
    wide = np.random.default_rng(0).random((4, 10), dtype=np.float32)
    view = wide[:, ::2]
    np.testing.assert_array_equal(net.predict(view), net.predict(np.ascontiguousarray(view)))
    np.testing.assert_array_equal(net.predict(wide.T.T[:, 1::2]), net.predict(np.ascontiguousarray(wide[:, 1::2])))


@pytest.mark.parametrize("label", [-1, 3, 2.5, np.nan, 1e20])
def test_labels_outside_the_classes_are_refused(net, label):
    y = np.array([0, 1, 2, label], dtype=np.float64)
    with pytest.raises(ValueError, match=r"y\[3\] = .* is not a class label: labels must be integers in \[0, 3\)"):
        unchanged(net, lambda: net.train_step(X, y, 0.1))
    with pytest.raises(ValueError, match="not a class label"):
        net.evaluate(X, y)


def test_labels_may_be_integral_floats_or_a_column(net):
    net.evaluate(X, Y.astype(np.float32))
    net.evaluate(X, Y.reshape(4, 1))


@pytest.mark.parametrize("y", [np.array([0, 1, 2]), np.zeros((4, 3)), np.zeros((4, 2), int)])
def test_labels_of_the_wrong_shape_are_refused(net, y):
    with pytest.raises(ValueError, match=r"y must hold one class label per sample, shape \(4,\) or \(4, 1\)"):
        net.train_step(X, y, 0.1)


def test_dense_targets_must_match_the_output_width():
    net = make_network(5, [{"kind": "dense", "units": 3}])
    with pytest.raises(ValueError, match=r"y must have shape \(4, 3\); got shape \(4, 2\)"):
        net.train_step(X, np.zeros((4, 2)), 0.1)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_training_refuses_nan_or_inf_in_x_before_touching_any_state(net, bad):
    x = X.copy()
    x[2, 3] = bad
    with pytest.raises(ValueError, match=r"x contains NaN or Inf \(row 2, column 3\)"):
        unchanged(net, lambda: net.train_step(x, Y, 0.1))


def test_training_refuses_nan_in_regression_targets():
    net = make_network(5, [{"kind": "dense", "units": 2}])
    y = np.zeros((4, 2), np.float32)
    y[1, 1] = np.nan
    with pytest.raises(ValueError, match=r"y contains NaN or Inf \(row 1, column 1\)"):
        unchanged(net, lambda: net.train_step(X, y, 0.1))


def test_inference_on_a_nan_row_gives_nan_for_that_row_only(net):
    x = np.random.default_rng(1).random((4, 5), dtype=np.float32)
    x[1, 0] = np.nan
    out = net.predict(x)
    assert np.isnan(out[1]).all()
    assert np.isfinite(np.delete(out, 1, axis=0)).all()


@pytest.mark.parametrize("lr", [np.nan, np.inf, "0.1", None])
def test_a_learning_rate_must_be_a_finite_number(net, lr):
    with pytest.raises((ValueError, TypeError), match="learning_rate"):
        unchanged(net, lambda: net.train_step(X, Y, lr))


def test_train_batches_checks_order_batch_size_and_learning_rates(net):
    with pytest.raises(IndexError, match=r"order\[1\] = 4 is outside \[0, 4\)"):
        net.train_batches(X, Y, np.array([0, 4]), 2, np.ones(1))
    with pytest.raises(ValueError, match="batch_size must be in"):
        net.train_batches(X, Y, np.arange(4), 0, np.ones(1))
    with pytest.raises(ValueError, match=r"learning_rates must have shape \(2,\)"):
        net.train_batches(X, Y, np.arange(4), 2, np.ones(3))
    with pytest.raises(ValueError, match="order must be a non-empty"):
        net.train_batches(X, Y, np.array([], int), 2, np.ones(0))


@pytest.mark.parametrize(
    "ops, message",
    [
        ([], "at least one op"),
        ([{"kind": "convolution"}], "unknown op kind 'convolution'; known: activation, .*alpha_dropout, .*batch_normalization"),
        ([{"kind": "dense"}], r"ops\[0\]\['units'\] is required"),
        ([{"kind": "dense", "units": 0}], r"units'\] must be in \[1, "),
        ([{"kind": "dense", "units": 2.5}], "must be an integer"),
        ([{"kind": "dense", "units": 4, "unit": 3}], r"ops\[0\]: unknown setting\(s\) 'unit'"),
        ([{"kind": "dropout", "rate": 1.0}], r"rate'\] must be in \[0, 1\); got 1"),
        ([{"kind": "dropout", "rate": -0.1}], r"rate'\] must be in \[0, 1\)"),
        ([{"kind": "alpha_dropout", "rate": np.nan}], "must be finite"),
        ([{"kind": "batch_normalization", "momentum": 1.5}], r"momentum'\] must be in \[0, 1\]"),
        ([{"kind": "batch_normalization", "epsilon": 0}], "epsilon'] must be > 0"),
        ([{"kind": "activation", "activation": "relu7"}], "unknown activation 'relu7'; known: .*elu.*gelu"),
        ([{"kind": "rrelu", "lower": 0.5, "upper": 0.1}], "must be <= upper"),
        ([{"kind": "dense", "units": 2, "kernel_l2": -1}], r"kernel_l2'\] must be in \[0, inf\)"),
        (["dense"], r"ops\[0\] must be a dict"),
    ],
)
def test_a_bad_op_description_names_the_op_and_the_problem(ops, message):
    with pytest.raises((ValueError, TypeError), match=message):
        _core.Network(5, ops, {"kind": "mean_squared_error"}, {"kind": "sgd"})


@pytest.mark.parametrize(
    "loss, message",
    [
        ({"kind": "categorical_hinge"}, "unknown loss 'categorical_hinge'; known: binary_crossentropy, categorical_crossentropy"),
        ({"kind": "mean_squared_error", "from_logits": True}, "from_logits applies to the cross-entropy losses"),
        ({"kind": "categorical_crossentropy", "metric": "sparse_categorical_accuracy"}, "needs integer labels"),
        ({"kind": "sparse_categorical_crossentropy", "metric": "categorical_accuracy"}, "needs one-hot"),
        ({"kind": "binary_crossentropy", "metric": "auc"}, "unknown metric 'auc'"),
    ],
)
def test_a_bad_loss_description_is_refused(loss, message):
    with pytest.raises(ValueError, match=message):
        _core.Network(5, [{"kind": "dense", "units": 2}], loss, {"kind": "sgd"})


@pytest.mark.parametrize(
    "optimizer, message",
    [
        ({"kind": "adamm"}, "unknown optimizer 'adamm'; known: adadelta, adagrad, adam, adamax, adamw, nadam, rmsprop, sgd"),
        ({"kind": "adam", "lr": 0.1}, r"optimizer: unknown setting\(s\) 'lr'"),
        ({"kind": "adam", "beta_1": 1.0}, r"beta_1'\] must be in \[0, 1\)"),
        ({"kind": "sgd", "momentum": -0.5}, r"momentum'\] must be in \[0, 1\]"),
        ({"kind": "sgd", "clipnorm": 1.0, "global_clipnorm": 1.0}, "cannot both be set"),
    ],
)
def test_a_bad_optimizer_description_is_refused(optimizer, message):
    with pytest.raises(ValueError, match=message):
        _core.Network(5, [{"kind": "dense", "units": 2}], {"kind": "mean_squared_error"}, optimizer)


def test_an_enormous_layer_is_a_memory_error_not_a_crash():
    with pytest.raises(MemoryError):
        _core.Network(2**30, [{"kind": "dense", "units": 2**30}], {"kind": "mean_squared_error"}, {"kind": "sgd"})

"""The engine's whole step: what a train_step, evaluate and predict do."""

import numpy as np
import pytest

from engine_helpers import dense_relu_bn_net, make_network, snapshot, trainable


def mnist_like(rows, seed=0, width=784, classes=10):
    rng = np.random.default_rng(seed)
    x = rng.random((rows, width), dtype=np.float32)
    y = rng.integers(0, classes, size=rows)
    return x, y


def test_a_train_step_applies_exactly_the_gradients_of_compute_gradients():
    x, y = mnist_like(32)
    net = dense_relu_bn_net(layers=3, units=20, optimizer={"kind": "sgd"})
    loss = net.compute_gradients(x, y)
    expected = [p["value"] - 0.1 * p["grad"] for p in trainable(net)]
    step_loss, _ = net.train_step(x, y, 0.1)
    assert step_loss == pytest.approx(loss, rel=1e-6)
    for p, e in zip(trainable(net), expected):
        np.testing.assert_allclose(p["value"], e, rtol=1e-6, atol=1e-7)


def test_compute_gradients_changes_no_weight_statistic_or_iteration():
    x, y = mnist_like(16)
    net = dense_relu_bn_net(layers=2, units=16)
    before = snapshot(net)
    net.compute_gradients(x, y)
    assert net.iterations == 0
    for a, b in zip(before, snapshot(net)):
        np.testing.assert_array_equal(a, b)


def test_training_reduces_the_loss_of_a_learnable_problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 20)).astype(np.float32)
    y = (x[:, :3].sum(axis=1) > 0).astype(np.int64) + (x[:, 3] > 0.5)
    ops = [
        {"kind": "dense", "units": 32},
        {"kind": "activation", "activation": "relu"},
        {"kind": "batch_normalization"},
        {"kind": "dense", "units": 3},
        {"kind": "activation", "activation": "softmax"},
    ]
    loss = {"kind": "sparse_categorical_crossentropy", "metric": "sparse_categorical_accuracy"}
    net = make_network(20, ops, loss, {"kind": "adam"})
    first, _ = net.evaluate(x, y)
    for epoch in range(30):
        for b in range(0, 512, 32):
            net.train_step(x[b : b + 32], y[b : b + 32], 0.01)
    last, hits = net.evaluate(x, y)
    assert last < 0.5 * first
    assert hits / 512 > 0.9


def test_moving_statistics_move_by_keras_momentum_after_a_step():
    rng = np.random.default_rng(1)
    x = rng.normal(3.0, 2.0, size=(64, 5)).astype(np.float32)
    ops = [{"kind": "batch_normalization", "momentum": 0.9}, {"kind": "dense", "units": 2}]
    net = make_network(5, ops)
    net.train_step(x, np.zeros((64, 2), np.float32), 0.0)
    params = {p["name"]: p["value"] for p in net.parameters()}
    np.testing.assert_allclose(params["moving_mean"], 0.1 * x.mean(axis=0), rtol=1e-5)
    # Keras 3 moves the moving variance with the biased batch variance.
    np.testing.assert_allclose(params["moving_variance"], 0.9 + 0.1 * x.var(axis=0), rtol=1e-5)


def test_inference_uses_moving_statistics_and_training_uses_batch_statistics():
    rng = np.random.default_rng(2)
    x = rng.normal(5.0, 3.0, size=(40, 4)).astype(np.float32)
    net = make_network(4, [{"kind": "batch_normalization", "center": False, "scale": False}])
    # Fresh moving statistics (0, 1) make inference the identity up to epsilon.
    np.testing.assert_allclose(net.predict(x), x / np.sqrt(1.0 + 1e-3), rtol=1e-6)
    net.compute_gradients(x, x)  # training mode: batch statistics
    ws = net.parameters()
    assert all(np.array_equal(p["value"], np.zeros(4) if p["name"] == "moving_mean" else np.ones(4)) for p in ws)


def test_frozen_batchnorm_runs_in_inference_mode_during_training():
    rng = np.random.default_rng(3)
    x = rng.normal(5.0, 3.0, size=(40, 4)).astype(np.float32)
    net = make_network(4, [{"kind": "batch_normalization", "trainable": False}], {"kind": "mean_squared_error"})
    assert not any(p["trainable"] for p in net.parameters())
    net.train_step(x, x, 0.5)
    stats = {p["name"]: p["value"] for p in net.parameters()}
    np.testing.assert_array_equal(stats["moving_mean"], np.zeros(4))
    np.testing.assert_array_equal(stats["moving_variance"], np.ones(4))


def test_dropout_is_identity_at_inference_and_drops_half_in_training_at_rate_half():
    x = np.ones((50, 40), np.float32)
    ops = [{"kind": "dropout", "rate": 0.5, "seed": 1}, {"kind": "dense", "units": 40, "use_bias": False}]
    net = make_network(40, ops, {"kind": "mean_squared_error"})
    kernel = net.parameters()[0]
    kernel["value"][...] = np.eye(40)
    np.testing.assert_array_equal(net.predict(x), x)
    # In training the output is the dropped-out input d (entries 0 or 2); with y = 0
    # the MSE gradient is dW = dᵀ·2d/(B·C), whose trace is 8·(kept count)/(B·C).
    net.compute_gradients(x, np.zeros_like(x))
    kept_fraction = np.trace(kernel["grad"]) / 8
    assert abs(kept_fraction - 0.5) < 4.5 * np.sqrt(0.25 / 2000)  # binomial, 4.5 standard errors


def test_masks_change_from_step_to_step_but_replay_for_the_same_iteration():
    x = np.ones((8, 64), np.float32)
    ops = [{"kind": "dropout", "rate": 0.5, "seed": 7}, {"kind": "dense", "units": 64, "use_bias": False}]
    net = make_network(64, ops)
    net.parameters()[0]["value"][...] = np.eye(64)
    y = np.zeros((8, 64), np.float32)
    net.compute_gradients(x, y)
    first = net.parameters()[0]["grad"].copy()
    net.compute_gradients(x, y)
    np.testing.assert_array_equal(net.parameters()[0]["grad"], first)
    net.iterations = 1
    net.compute_gradients(x, y)
    assert not np.array_equal(net.parameters()[0]["grad"], first)


def test_train_batches_equals_the_same_train_steps_one_by_one():
    x, y = mnist_like(100, seed=4)
    order = np.random.default_rng(5).permutation(100)
    a = dense_relu_bn_net(layers=2, units=30, optimizer={"kind": "adam"}, seed=6)
    b = dense_relu_bn_net(layers=2, units=30, optimizer={"kind": "adam"}, seed=6)
    lrs = np.array([0.01, 0.02, 0.005, 0.01], np.float32)
    losses, hits = a.train_batches(x, y, order, 32, lrs)
    for i in range(4):
        idx = order[32 * i : 32 * (i + 1)]
        loss, hit = b.train_step(x[idx], y[idx], lrs[i])
        assert losses[i] == loss and hits[i] == hit
    for pa, pb in zip(snapshot(a), snapshot(b)):
        np.testing.assert_array_equal(pa, pb)
    assert a.iterations == b.iterations == 4


def test_evaluate_averages_batches_weighted_by_their_size():
    x, y = mnist_like(70, seed=7)
    net = dense_relu_bn_net(layers=1, units=10)
    whole, hits = net.evaluate(x, y, batch_size=70)
    chunked, chunked_hits = net.evaluate(x, y, batch_size=32)
    assert chunked == pytest.approx(whole, rel=1e-5)
    assert chunked_hits == hits
    assert hits == np.sum(np.argmax(net.predict(x), axis=1) == y)


def test_predict_does_not_depend_on_the_batch_size_beyond_rounding():
    x, _ = mnist_like(100, seed=8)
    net = dense_relu_bn_net(layers=2, units=50)
    np.testing.assert_allclose(net.predict(x, 7), net.predict(x, 100), rtol=1e-5, atol=1e-6)


def test_regularization_penalty_is_part_of_the_loss():
    x = np.ones((4, 3), np.float32)
    ops = [{"kind": "dense", "units": 2, "kernel_l1": 0.5, "kernel_l2": 0.25, "bias_l2": 1.0}]
    net = make_network(3, ops)
    kernel, bias = (p["value"] for p in net.parameters())
    kernel[...] = [[1, -2], [0, 3], [-1, 1]]
    bias[...] = [2, 0]
    y = x @ kernel + bias  # zero data loss
    expected = 0.5 * 8 + 0.25 * 16 + 1.0 * 4
    assert net.evaluate(x, y)[0] == pytest.approx(expected)
    assert net.compute_gradients(x, y) == pytest.approx(expected)
    np.testing.assert_allclose(net.parameters()[0]["grad"], 0.5 * np.sign(kernel) + 0.5 * kernel)


def test_parameter_views_share_memory_with_the_engine_and_outlive_python_references():
    net = make_network(3, [{"kind": "dense", "units": 2}])
    kernel = net.parameters()[0]["value"]
    del net
    kernel[...] = 1.0  # the view keeps the network alive: no use-after-free
    assert kernel.sum() == 6.0


def test_writing_a_parameter_view_changes_the_predictions():
    net = make_network(3, [{"kind": "dense", "units": 2}])
    kernel, bias = (p["value"] for p in net.parameters())
    kernel[...] = np.arange(6).reshape(3, 2)
    bias[...] = [1, -1]
    np.testing.assert_array_equal(net.predict(np.ones((1, 3))), [[7, 8]])


@pytest.mark.parametrize(
    "kind, names",
    [
        ({"kind": "sgd"}, []),
        ({"kind": "sgd", "momentum": 0.9}, ["momentum"]),
        ({"kind": "adam"}, ["momentum", "velocity"]),
        ({"kind": "adam", "amsgrad": True}, ["momentum", "velocity", "velocity_hat"]),
        ({"kind": "rmsprop", "momentum": 0.5, "centered": True}, ["velocity", "momentum", "average_gradient"]),
        ({"kind": "nadam"}, ["momentum", "velocity"]),
    ],
)
def test_optimizer_state_is_visible_per_trainable_parameter(kind, names):
    net = make_network(3, [{"kind": "dense", "units": 2}, {"kind": "batch_normalization"}], optimizer=kind)
    slots = net.optimizer_slots()
    assert list(slots) == names
    for views in slots.values():
        assert [v.shape for v in views] == [(3, 2), (2,), (2,), (2,)]


def test_nadam_keeps_its_momentum_product_as_state():
    x, y = mnist_like(8, width=3, classes=2)
    net = make_network(3, [{"kind": "dense", "units": 2}], optimizer={"kind": "nadam"})
    assert net.u_product == 1.0
    net.train_step(x, np.eye(2, dtype=np.float32)[y], 0.001)
    assert net.u_product == pytest.approx(0.9 * (1 - 0.5 * 0.96))


def test_the_engine_flushes_subnormal_numbers_to_zero_and_leaves_numpy_alone():
    """As TensorFlow does under Keras: subnormals (< 1.2e-38) are computed as
    zero, which keeps long runs from slowing down many times over; NumPy's
    arithmetic on the calling thread keeps its own mode."""
    net = make_network(4, [{"kind": "dense", "units": 3}], {"kind": "mean_squared_error"}, {"kind": "sgd"}, seed=1)
    net.parameters()[1]["value"][...] = 0.0  # bias: x·W alone, about 1e-39 without flushing
    subnormal = np.full((2, 4), 1e-39, dtype=np.float32)
    np.testing.assert_array_equal(net.predict(subnormal), net.predict(np.zeros((2, 4), np.float32)))
    assert np.float32(1e-39) * np.float32(1.0) > 0  # still subnormal, not flushed, in NumPy

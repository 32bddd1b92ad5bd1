"""The new op kinds inside whole networks: finite differences through every one of them,
GaussianNoise / GaussianDropout gradients against NumPy given the engine's own noise, the
identity at inference, the activity penalty in the loss, and bitwise thread-count invariance."""

import numpy as np
import pytest

import fastdnn
import reference_layers as ref
from engine_helpers import make_network, snapshot
from fastdnn._core import kernels as K
from test_network_gradients import directional_check


def _every_new_op():
    return [
        {"kind": "dense", "units": 7},
        {"kind": "normalization", "mean": np.linspace(-1, 1, 7), "variance": np.linspace(0.5, 2, 7)},
        {"kind": "rescaling", "scale": np.linspace(0.5, 1.5, 7), "offset": np.full(7, 0.1)},
        {"kind": "gaussian_noise", "stddev": 0.2, "seed": 1},
        {"kind": "dense", "units": 6},
        {"kind": "layer_normalization", "gamma_l2": 0.01, "beta_l1": 0.01},
        {"kind": "gaussian_dropout", "rate": 0.3, "seed": 2},
        {"kind": "activity_regularization", "l1": 0.01, "l2": 0.02},
        {"kind": "dense", "units": 5},
        {"kind": "normalization", "mean": np.full(5, 0.3), "variance": np.full(5, 1.7), "invert": True},
        {"kind": "layer_normalization", "center": False},
        {"kind": "dense", "units": 3},
    ]


def test_finite_differences_through_every_new_op():
    rng = np.random.default_rng(1)
    net = make_network(4, _every_new_op(), seed=1)
    x = rng.normal(size=(16, 4)).astype(np.float32)
    y = rng.normal(size=(16, 3)).astype(np.float32)
    directional_check(net, x, y, rng)


def test_shared_normalization_statistics_broadcast_to_every_feature_and_their_gradients():
    """Keras' axis=None: one adapted mean and variance (parameters of width 1) for all 7 features."""
    rng = np.random.default_rng(3)
    ops = [{"kind": "dense", "units": 7}, {"kind": "normalization", "shared_statistics": True},
           {"kind": "dense", "units": 3}]
    net = make_network(4, ops, seed=3)
    statistics = {p["name"]: p["value"] for p in net.parameters() if p["name"] in ("mean", "variance")}
    assert statistics["mean"].shape == statistics["variance"].shape == (1,)
    statistics["mean"][...] = 0.4
    statistics["variance"][...] = 2.5
    x = rng.normal(size=(16, 4)).astype(np.float32)
    kernel, bias = [p["value"].astype(np.float64) for p in net.parameters()[:2]]
    hidden = (x @ kernel + bias - 0.4) / np.sqrt(2.5)
    head_kernel, head_bias = [p["value"].astype(np.float64) for p in net.parameters()[-2:]]
    # float32 sums of 4 and 7 products of O(1) values: 1e-5 is ~100 float32 ulps.
    np.testing.assert_allclose(net.predict(x, 16), hidden @ head_kernel + head_bias, rtol=1e-5, atol=1e-5)
    directional_check(net, x, rng.normal(size=(16, 3)).astype(np.float32), rng)


@pytest.mark.parametrize("variant", [{"rms_scaling": True}, {"scale": False}, {"center": False, "scale": False},
                                     {"epsilon": 0.5}])
def test_finite_differences_through_layer_normalization_variants(variant):
    rng = np.random.default_rng(2)
    ops = [{"kind": "dense", "units": 6}, {"kind": "layer_normalization", **variant}, {"kind": "dense", "units": 2}]
    net = make_network(5, ops, seed=2)
    x, y = rng.normal(size=(12, 5)).astype(np.float32), rng.normal(size=(12, 2)).astype(np.float32)
    directional_check(net, x, y, rng)


def _two_dense_around(noise_op, rng, rows=24, width=5, hidden=9, out=3):
    ops = [{"kind": "dense", "units": hidden, "use_bias": False}, noise_op,
           {"kind": "dense", "units": out, "use_bias": False}]
    net = make_network(width, ops, seed=3)
    x = rng.normal(size=(rows, width)).astype(np.float32)
    y = rng.normal(size=(rows, out)).astype(np.float32)
    w1, w2 = (p["value"].astype(np.float64) for p in net.parameters())
    return net, x, y, w1, w2


def _mse_gradients(x, y, w1, w2, through):
    """Float64 loss and (dW1, dW2) of mse(through(x·W1)·W2, y), with through = (f, df/dh·)."""
    forward, backward = through
    h = x.astype(np.float64) @ w1
    a = forward(h)
    out = a @ w2
    g = 2 * (out - y) / out.size  # Keras' mse: the mean over rows and columns
    return np.mean((out - y) ** 2), x.T @ backward(g @ w2.T), a.T @ g


def _assert_gradients(net, x, y, want_loss, want_dw1, want_dw2):
    # float32 forward and backward through 2 products of length ≤ 24 with the noise: 1e-5 of the
    # largest entry is ≥ 10x the float32 error (K·u ≈ 1.4e-6) and far below any wrong factor.
    loss = net.compute_gradients(x, y)
    assert abs(loss - want_loss) <= 1e-5 * want_loss
    for p, want in zip(net.parameters(), (want_dw1, want_dw2)):
        np.testing.assert_allclose(p["grad"], want, rtol=0, atol=1e-5 * np.abs(want).max())


def test_gaussian_dropout_gradient_is_right_given_the_engine_mask():
    rng = np.random.default_rng(4)
    net, x, y, w1, w2 = _two_dense_around({"kind": "gaussian_dropout", "rate": 0.4, "seed": 7}, rng)
    # The mask does not depend on the values: the kernel's mask for stream 0 (iterations = 0).
    _, mask = K.gaussian_dropout_forward(np.zeros((24, 9), np.float32), 0.4, seed=7, stream=0)
    mask = mask.astype(np.float64)
    assert np.abs(mask - 1).max() > 0.5  # a real multiplicative noise
    _assert_gradients(net, x, y, *_mse_gradients(x, y, w1, w2, (lambda h: h * mask, lambda d: d * mask)))


def test_gaussian_noise_gradient_is_right_given_the_engine_noise():
    rng = np.random.default_rng(5)
    net, x, y, w1, w2 = _two_dense_around({"kind": "gaussian_noise", "stddev": 0.5, "seed": 8}, rng)
    noise = 0.5 * K.standard_normal(24 * 9, seed=8, stream=0).reshape(24, 9).astype(np.float64)
    _assert_gradients(net, x, y, *_mse_gradients(x, y, w1, w2, (lambda h: h + noise, lambda d: d)))


def test_noise_draws_change_with_the_step():
    # Keyed by the optimizer's iteration count, like Dropout: each step sees new noise.
    rng = np.random.default_rng(6)
    net, x, y, _, _ = _two_dense_around({"kind": "gaussian_noise", "stddev": 0.5, "seed": 8}, rng)
    first = net.compute_gradients(x, y)
    assert net.compute_gradients(x, y) == first
    net.iterations = 1
    assert net.compute_gradients(x, y) != first


@pytest.mark.parametrize("op", [{"kind": "gaussian_noise", "stddev": 1.0}, {"kind": "gaussian_dropout", "rate": 0.9}])
def test_noise_ops_are_the_bitwise_identity_at_inference(op):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(50, 6)).astype(np.float32)
    with_noise = make_network(6, [{"kind": "dense", "units": 4}, op, {"kind": "dense", "units": 2}], seed=9)
    without = make_network(6, [{"kind": "dense", "units": 4}, {"kind": "dense", "units": 2}], seed=9)
    np.testing.assert_array_equal(with_noise.predict(x), without.predict(x))
    y = rng.normal(size=(50, 2)).astype(np.float32)
    assert with_noise.evaluate(x, y, 16)[0] == without.evaluate(x, y, 16)[0]


def test_activity_penalty_is_added_to_the_training_loss_divided_by_the_batch():
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(10, 4)).astype(np.float32), rng.normal(size=(10, 4)).astype(np.float32)
    net = make_network(4, [{"kind": "activity_regularization", "l1": 0.3, "l2": 0.2}])
    want = np.mean((x.astype(np.float64) - y) ** 2) + ref.activity_penalty(x, 0.3, 0.2) / 10
    assert abs(net.train_step(x, y, 0.0)[0] - want) <= 1e-6 * want


def test_activity_penalty_in_evaluate_is_the_mean_over_all_rows_whatever_the_batches():
    # Keras averages the per-batch losses weighted by batch size, each with its penalty / batch
    # size: the total is Σ penalty / rows, whatever the batching.
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(40, 4)).astype(np.float32), rng.normal(size=(40, 4)).astype(np.float32)
    net = make_network(4, [{"kind": "activity_regularization", "l1": 0.3, "l2": 0.2}])
    want = np.mean((x.astype(np.float64) - y) ** 2) + ref.activity_penalty(x, 0.3, 0.2) / 40
    for batch_size in (16, 40):
        assert abs(net.evaluate(x, y, batch_size)[0] - want) <= 1e-6 * want


def _train_wide_net(threads):
    """Big enough that every kernel splits its work (2048 x 300 > kMinParallelElements)."""
    fastdnn.set_num_threads(threads)
    rng = np.random.default_rng(0)
    x = rng.random((2048, 300), dtype=np.float32)
    y = rng.integers(0, 10, size=2048)
    ops = [
        {"kind": "normalization", "mean": np.full(300, 0.5), "variance": np.full(300, 1 / 12)},
        {"kind": "rescaling", "scale": np.full(300, 0.5), "offset": np.zeros(300)},
        {"kind": "gaussian_noise", "stddev": 0.1, "seed": 3},
        {"kind": "dense", "units": 300},
        {"kind": "layer_normalization"},
        {"kind": "gaussian_dropout", "rate": 0.2, "seed": 4},
        {"kind": "activity_regularization", "l1": 1e-4, "l2": 1e-4},
        {"kind": "dense", "units": 10},
        {"kind": "activation", "activation": "softmax"},
    ]
    net = make_network(300, ops, {"kind": "sparse_categorical_crossentropy"}, {"kind": "adam"}, seed=3)
    losses = [net.train_step(x, y, 1e-3)[0] for _ in range(3)]
    return losses, snapshot(net), net.predict(x), net.evaluate(x, y, 512)[0]


def test_new_ops_train_bitwise_identically_on_one_and_two_threads(restore_threads):
    losses_1, weights_1, predictions_1, eval_1 = _train_wide_net(1)
    losses_2, weights_2, predictions_2, eval_2 = _train_wide_net(2)
    assert losses_1 == losses_2
    assert eval_1 == eval_2
    for a, b in zip(weights_1, weights_2):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(predictions_1, predictions_2)


@pytest.mark.parametrize("op, message", [
    ({"kind": "normalization", "mean": [0.0, 1.0], "variance": [1.0, 1.0]}, "one value per feature"),
    ({"kind": "normalization", "mean": [0.0, 1.0, 2.0], "variance": [1.0, -1.0, 1.0]}, "variance"),
    ({"kind": "normalization", "mean": [0.0, np.nan, 2.0], "variance": [1.0, 1.0, 1.0]}, "mean"),
    ({"kind": "normalization", "mean": [0.0, 1.0, 2.0]}, "variance"),
    ({"kind": "normalization", "shared_statistics": True, "mean": [0.0, 1.0, 2.0], "variance": [1.0, 1.0, 1.0]},
     "shared_statistics"),
    ({"kind": "rescaling", "scale": [1.0], "offset": [0.0]}, "one value per feature"),
    ({"kind": "rescaling", "scale": [1.0, 2.0, 3.0]}, "offset"),
    ({"kind": "gaussian_noise", "stddev": -0.1}, "stddev"),
    ({"kind": "gaussian_dropout", "rate": 1.0}, "rate"),
    ({"kind": "activity_regularization", "l1": -1.0}, "l1"),
    ({"kind": "layer_normalization", "epsilon": 0.0}, "epsilon"),
    ({"kind": "layer_normalization", "units": 3}, "units"),
])
def test_bad_op_settings_raise_value_error_naming_them(op, message):
    with pytest.raises(ValueError, match=message):
        make_network(3, [op])

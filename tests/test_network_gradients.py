"""Finite-difference checks of whole networks through the engine.

The engine's gradients (Network.compute_gradients) are compared with central
differences of the engine's own training-mode loss, along random directions,
one parameter tensor at a time. compute_gradients neither updates weights nor
moves statistics, and the dropout / RReLU masks are keyed by the iteration
count, so every loss evaluation sees the same masks.
"""

import numpy as np
import pytest

from engine_helpers import make_network, trainable

# A central difference with step h has truncation error O(h²·f‴) and rounding
# error O(ε₃₂·|L|/h). With |L| ~ 1 and h = 1e-3 both are ~1e-4 of the
# directional derivatives here, which are O(0.01–1); ReLU-type kinks crossed
# by a step of 1e-3 add a little more. 2% relative agreement is therefore a
# check that fails for any wrong term (a missing factor, a sign, a transposed
# product), not a loose one.
STEP = 1e-3
RTOL = 2e-2


def directional_check(net, x, y, rng, directions=2):
    net.compute_gradients(x, y)
    for p in trainable(net):
        grad = p["grad"].copy()
        value = p["value"]
        original = value.copy()
        for _ in range(directions):
            v = rng.normal(size=value.shape).astype(np.float32)
            v /= np.linalg.norm(v)
            value[...] = original + STEP * v
            up = net.compute_gradients(x, y)
            value[...] = original - STEP * v
            down = net.compute_gradients(x, y)
            value[...] = original
            numeric = (up - down) / (2 * STEP)
            analytic = float(np.sum(grad.astype(np.float64) * v))
            scale = max(abs(numeric), abs(analytic), 1e-2 * np.linalg.norm(grad))
            assert abs(numeric - analytic) <= RTOL * scale + 1e-4, (
                f"op {p['op']} {p['name']}: finite difference {numeric:.6g} vs gradient {analytic:.6g}"
            )
        net.compute_gradients(x, y)


ACTIVATIONS = [
    {"activation": "linear"},
    {"activation": "relu"},
    {"activation": "leaky_relu"},
    {"activation": "relu6"},
    {"activation": "relu", "negative_slope": 0.1, "max_value": 2.0, "threshold": -0.2},
    {"activation": "elu", "alpha": 0.7},
    {"activation": "selu"},
    {"activation": "sigmoid"},
    {"activation": "tanh"},
    {"activation": "softmax"},
    {"activation": "softplus"},
    {"activation": "softsign"},
    {"activation": "swish"},
    {"activation": "gelu"},
    {"activation": "gelu", "approximate": True},
    {"activation": "hard_sigmoid"},
    {"activation": "hard_swish"},
    {"activation": "exponential"},
]


def every_layer_kind():
    """One net with every op kind: dense (with and without bias, regularized),
    activation, batch normalization (trained, without center / scale, frozen),
    PReLU (per feature and shared), RReLU, dropout and alpha dropout."""
    return [
        {"kind": "dense", "units": 9, "kernel_l2": 0.01, "bias_l1": 0.01},
        {"kind": "activation", "activation": "elu"},
        {"kind": "batch_normalization", "momentum": 0.9},
        {"kind": "dense", "units": 8, "use_bias": False},
        {"kind": "prelu"},
        {"kind": "batch_normalization", "center": False, "scale": False},
        {"kind": "dense", "units": 8},
        {"kind": "prelu", "shared_alpha": True, "alpha_l2": 0.1},
        {"kind": "dropout", "rate": 0.3, "seed": 3},
        {"kind": "dense", "units": 8},
        {"kind": "rrelu"},
        {"kind": "dense", "units": 8},
        {"kind": "activation", "activation": "selu"},
        {"kind": "alpha_dropout", "rate": 0.2, "seed": 5},
        {"kind": "batch_normalization", "trainable": False},
        {"kind": "dense", "units": 4},
        {"kind": "activation", "activation": "tanh"},
    ]


def test_every_layer_kind_in_one_network_has_correct_gradients():
    rng = np.random.default_rng(0)
    net = make_network(6, every_layer_kind(), {"kind": "mean_squared_error"}, seed=1)
    x = rng.normal(size=(16, 6)).astype(np.float32)
    y = rng.normal(size=(16, 4)).astype(np.float32)
    directional_check(net, x, y, rng)


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda a: "-".join(map(str, a.values())))
def test_every_activation_backpropagates_correct_gradients(activation):
    rng = np.random.default_rng(3)
    ops = [
        {"kind": "dense", "units": 10},
        {"kind": "activation", **activation},
        {"kind": "batch_normalization"},
        {"kind": "dense", "units": 3},
    ]
    net = make_network(5, ops, seed=4)
    x = rng.normal(size=(12, 5)).astype(np.float32)
    y = rng.normal(size=(12, 3)).astype(np.float32)
    directional_check(net, x, y, rng)


@pytest.mark.parametrize(
    "loss, last_activation, target",
    [
        ({"kind": "sparse_categorical_crossentropy"}, "softmax", "labels"),
        ({"kind": "sparse_categorical_crossentropy", "from_logits": True}, "linear", "labels"),
        ({"kind": "categorical_crossentropy"}, "softmax", "onehot"),
        ({"kind": "categorical_crossentropy", "from_logits": True}, "linear", "onehot"),
        ({"kind": "categorical_crossentropy"}, "sigmoid", "onehot"),  # unfused: CE on probabilities
        ({"kind": "binary_crossentropy"}, "sigmoid", "binary"),
        ({"kind": "binary_crossentropy", "from_logits": True}, "linear", "binary"),
        ({"kind": "mean_squared_error"}, "tanh", "real"),
        ({"kind": "mean_absolute_error"}, "linear", "real"),
    ],
)
def test_each_loss_backpropagates_correct_gradients(loss, last_activation, target):
    rng = np.random.default_rng(1)
    ops = [
        {"kind": "dense", "units": 12},
        {"kind": "activation", "activation": "tanh"},
        {"kind": "batch_normalization"},
        {"kind": "dense", "units": 5},
        {"kind": "activation", "activation": last_activation},
    ]
    net = make_network(7, ops, loss, seed=2)
    x = rng.normal(size=(20, 7)).astype(np.float32)
    labels = rng.integers(0, 5, size=20)
    y = {
        "labels": labels,
        "onehot": np.eye(5, dtype=np.float32)[labels],
        "binary": (rng.random((20, 5)) > 0.5).astype(np.float32),
        "real": rng.normal(size=(20, 5)).astype(np.float32),
    }[target]
    directional_check(net, x, y, rng)


def test_the_network_input_needs_no_gradient_even_through_batchnorm_first():
    rng = np.random.default_rng(2)
    ops = [{"kind": "batch_normalization"}, {"kind": "dense", "units": 3}]
    net = make_network(5, ops, seed=3)
    x = rng.normal(size=(10, 5)).astype(np.float32)
    y = rng.normal(size=(10, 3)).astype(np.float32)
    directional_check(net, x, y, rng)

"""Small helpers for the engine tests: build a Network with NumPy-initialised weights."""

import numpy as np

from fastdnn import _core


def make_network(input_width, ops, loss=None, optimizer=None, seed=0):
    """A Network whose kernels are Glorot-uniform and other parameters slightly random."""
    net = _core.Network(
        input_width,
        ops,
        loss or {"kind": "mean_squared_error"},
        optimizer or {"kind": "sgd"},
    )
    rng = np.random.default_rng(seed)
    for p in net.parameters():
        v = p["value"]
        if p["name"] == "kernel":
            limit = np.sqrt(6.0 / (v.shape[0] + v.shape[1]))
            v[...] = rng.uniform(-limit, limit, v.shape)
        elif p["name"] in ("bias", "beta"):
            v[...] = rng.normal(0.0, 0.1, v.shape)
        elif p["name"] == "gamma":
            v[...] = 1.0 + rng.normal(0.0, 0.1, v.shape)
        elif p["name"] == "alpha":
            v[...] = rng.uniform(0.05, 0.3, v.shape)
    return net


def trainable(net):
    return [p for p in net.parameters() if p["trainable"]]


def snapshot(net):
    """Copies of every parameter and statistic, in op order."""
    return [p["value"].copy() for p in net.parameters()]


def dense_relu_bn_net(layers=20, units=100, input_width=784, classes=10, optimizer=None, seed=0):
    """The tutorials' deep net: layers × (Dense(units, relu) → BatchNormalization) → Dense(classes, softmax)."""
    ops = []
    for _ in range(layers):
        ops += [
            {"kind": "dense", "units": units},
            {"kind": "activation", "activation": "relu"},
            {"kind": "batch_normalization"},
        ]
    ops += [{"kind": "dense", "units": classes}, {"kind": "activation", "activation": "softmax"}]
    loss = {"kind": "sparse_categorical_crossentropy", "metric": "sparse_categorical_accuracy"}
    return make_network(input_width, ops, loss, optimizer or {"kind": "sgd"}, seed)

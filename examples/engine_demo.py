"""A short training demo of fastdnn's engine (until the Keras API lands).

Trains the tutorials' deep net, 20 x (Dense(100, relu) -> BatchNormalization)
-> Dense(10, softmax), with SGD on a synthetic 10-class problem shaped like
MNIST (784 inputs), and prints the loss and accuracy per epoch.

    python examples/engine_demo.py [--epochs 5]
"""

import argparse
import time

import numpy as np

from fastdnn import _core


def synthetic_mnist(rows, centers, rng):
    """Noisy samples around ten class centers in 784 dimensions."""
    y = rng.integers(0, 10, size=rows)
    x = centers[y] + rng.normal(0.0, 4.0, size=(rows, 784)).astype(np.float32)
    return x, y


def deep_bn_net(rng):
    ops = []
    for _ in range(20):
        ops += [{"kind": "dense", "units": 100}, {"kind": "activation", "activation": "relu"},
                {"kind": "batch_normalization"}]
    ops += [{"kind": "dense", "units": 10}, {"kind": "activation", "activation": "softmax"}]
    net = _core.Network(784, ops, {"kind": "sparse_categorical_crossentropy",
                                   "metric": "sparse_categorical_accuracy"}, {"kind": "sgd"})
    for p in net.parameters():  # Glorot-uniform kernels, as Keras' Dense starts
        if p["name"] == "kernel":
            fan_in, fan_out = p["value"].shape
            p["value"][...] = rng.uniform(-1, 1, p["value"].shape) * np.sqrt(6 / (fan_in + fan_out))
    return net


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    centers = rng.normal(0.0, 1.0, size=(10, 784)).astype(np.float32)
    x_train, y_train = synthetic_mnist(20000, centers, rng)
    x_test, y_test = synthetic_mnist(5000, centers, rng)
    net = deep_bn_net(rng)
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = rng.permutation(len(x_train))
        batches = -(-len(order) // args.batch_size)
        losses, hits = net.train_batches(x_train, y_train, order, args.batch_size,
                                         np.full(batches, 0.01, np.float32))
        seconds = time.perf_counter() - start
        test_loss, test_hits = net.evaluate(x_test, y_test, batch_size=1000)
        sizes = np.minimum(args.batch_size, len(order) - args.batch_size * np.arange(batches))
        print(f"epoch {epoch}/{args.epochs} - {seconds:.2f}s - loss: {np.dot(losses, sizes) / len(order):.4f}"
              f" - accuracy: {hits.sum() / len(order):.4f} - test_loss: {test_loss:.4f}"
              f" - test_accuracy: {test_hits / len(x_test):.4f}")


if __name__ == "__main__":
    main()

"""A short training demo (until the MNIST examples land): the tutorials' deep net,
20 x (Dense(100, relu) -> BatchNormalization) -> Dense(10, softmax), trained with
SGD on a synthetic 10-class problem shaped like MNIST, written as a Keras program.

    python examples/deep_bn_demo.py [--epochs 5]
"""

import argparse
import time

import numpy as np

import fastdnn as keras


def synthetic_mnist(rows, centers, rng):
    """Noisy 28x28 'images' around ten class centers."""
    y = rng.integers(0, 10, size=rows)
    x = centers[y] + rng.normal(0.0, 4.0, size=(rows, 28, 28)).astype(np.float32)
    return x, y


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()

    keras.utils.set_random_seed(42)
    rng = np.random.default_rng(0)
    centers = rng.normal(0.0, 1.0, size=(10, 28, 28)).astype(np.float32)
    x_train, y_train = synthetic_mnist(20000, centers, rng)
    x_test, y_test = synthetic_mnist(5000, centers, rng)

    model = keras.models.Sequential()
    model.add(keras.layers.Flatten(input_shape=[28, 28]))
    for _ in range(20):
        model.add(keras.layers.Dense(100, activation="relu"))
        model.add(keras.layers.BatchNormalization())
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.summary()
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=args.epochs, validation_split=0.1)
    print(f"training time: {time.perf_counter() - start:.1f} s")
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss: {loss:.4f} - test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()

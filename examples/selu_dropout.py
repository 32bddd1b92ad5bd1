"""A self-normalizing network (SELU) against a ReLU network, both 20 layers deep, on Fashion-MNIST.

SELU with LeCun-normal weights keeps each layer's outputs near mean 0 and
variance 1 without any BatchNormalization (Klambauer et al., 2017), provided
the inputs are standardized and the layers are plain Dense ones. Ordinary
Dropout would break that balance, so SELU networks use AlphaDropout, which
keeps the mean and variance. Both networks are trained with Adam:

    selu-alphadropout: 20 x Dense(100, selu, lecun_normal) -> AlphaDropout -> Dense(10, softmax)
    relu-dropout:      20 x Dense(100, relu, he_normal)    -> Dropout      -> Dense(10, softmax)

By default both are trained, one after the other, and compared in one figure;
`--variant` trains one of them only.

    python examples/selu_dropout.py
    python examples/selu_dropout.py --variant relu-dropout --epochs 5

Writes history.png (loss and accuracy of the variants) into the output folder
(default plots/selu_dropout).
"""

import argparse
import os
import time

import numpy as np

import fastdnn as keras
from fastdnn.datasets import fashion_mnist

import optional_extras
import tutorial_data

VARIANTS = ["selu-alphadropout", "relu-dropout"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--variant", choices=VARIANTS + ["both"], default="both")
    # 0.5, the classic dropout rate, for both variants so they compare. The SELU paper
    # recommends gentler rates for AlphaDropout (0.05 to 0.1): with 0.5 the SELU
    # network's validation loss stays high (in Keras too) while its accuracy is fine.
    parser.add_argument("--rate", type=float, default=0.5, help="dropout rate (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=os.path.join("plots", "selu_dropout"), help="folder for the PNG plots")
    return parser.parse_args()


def build_model(variant, rate):
    if variant == "selu-alphadropout":
        activation, initializer, dropout = "selu", "lecun_normal", keras.layers.AlphaDropout(rate)
    else:
        activation, initializer, dropout = "relu", "he_normal", keras.layers.Dropout(rate)
    model = keras.Sequential()
    model.add(keras.layers.Flatten(input_shape=[28, 28]))
    for _ in range(20):
        model.add(keras.layers.Dense(100, activation=activation, kernel_initializer=initializer))
    # One dropout layer, just before the output layer, as Keras' examples place it: dropout
    # after every one of 20 narrow layers would throw away too much of the signal.
    model.add(dropout)
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model


def plot_comparison(histories, path):
    """Loss and accuracy of every variant in one figure: training dashed, validation solid."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for ax, metric in zip(axes, ["loss", "accuracy"]):
        for i, (variant, history) in enumerate(histories.items()):
            epochs = np.arange(1, len(history[metric]) + 1)
            ax.plot(epochs, history[metric], "--", color=f"C{i}", marker="o", markersize=3,
                    label=f"{variant} (training)")
            ax.plot(epochs, history["val_" + metric], "-", color=f"C{i}", marker="o", markersize=3,
                    label=f"{variant} (validation)")
        ax.set_title(metric)
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend()
    figure.savefig(path)
    plt.close(figure)


def main():
    args = parse_args()
    keras.utils.set_random_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    # Standardized: SELU's self-normalization assumes inputs of mean 0 and variance 1.
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = tutorial_data.split(fashion_mnist, standardize=True)

    histories, results = {}, {}
    for variant in VARIANTS if args.variant == "both" else [args.variant]:
        print(f"--- {variant}")
        model = build_model(variant, args.rate)
        model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
        start = time.perf_counter()
        history = model.fit(x_train, y_train, epochs=args.epochs, validation_data=(x_valid, y_valid))
        training_time = time.perf_counter() - start
        test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
        histories[variant] = history.history
        results[variant] = (test_accuracy, training_time)

    optional_extras.draw("history.png", plot_comparison, histories, os.path.join(args.out, "history.png"))
    for variant, (test_accuracy, training_time) in results.items():
        print(f"{variant}: test accuracy: {test_accuracy:.4f}, training time: {training_time:.1f} s")
    print(f"total training time: {sum(t for _, t in results.values()):.1f} s")
    optional_extras.report(args.out)


if __name__ == "__main__":
    main()

"""Overfitting, and three ways to fight it, on a small slice of MNIST.

A network with 1,000 hidden units has about 795,000 weights; trained on only
2,000 images it soon learns them by heart: training accuracy reaches 100%
while the validation loss stops falling and climbs. The same network is
trained four times:

    none:   Dense(1000, relu) -> Dense(10, softmax)
    l2:     the same, every kernel penalized by 0.01 * sum(w**2)
    dropout: Dropout(0.5) after the hidden layer
    batchnorm: BatchNormalization after the hidden layer

    python examples/overfitting.py
    python examples/overfitting.py --train-size 5000 --epochs 30

Writes curves.png (training and validation curves, one column per variant)
and weights.png (histograms of the hidden layer's weights after training)
into the output folder (default plots/overfitting).
"""

import argparse
import os
import time

import numpy as np

import fastdnn as keras
from fastdnn.datasets import mnist

import optional_extras
import tutorial_data

VARIANTS = ["none", "l2", "dropout", "batchnorm"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--train-size", type=int, default=2000, help="training images (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=os.path.join("plots", "overfitting"), help="folder for the PNG plots")
    return parser.parse_args()


def build_model(variant):
    regularizer = keras.regularizers.l2(0.01) if variant == "l2" else None
    model = keras.Sequential()
    model.add(keras.layers.Flatten(input_shape=[28, 28]))
    model.add(keras.layers.Dense(1000, activation="relu", kernel_regularizer=regularizer))
    if variant == "dropout":
        model.add(keras.layers.Dropout(0.5))
    elif variant == "batchnorm":
        model.add(keras.layers.BatchNormalization())
    model.add(keras.layers.Dense(10, activation="softmax", kernel_regularizer=regularizer))
    return model


def plot_curves(histories, path):
    """A column per variant: accuracy on top, loss below; training dashed, validation solid."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, len(histories), figsize=(4 * len(histories), 6.5), sharey="row",
                                squeeze=False, layout="constrained")
    for column, (variant, history) in enumerate(histories.items()):
        epochs = np.arange(1, len(history["loss"]) + 1)
        for row, metric in enumerate(["accuracy", "loss"]):
            ax = axes[row, column]
            ax.plot(epochs, history[metric], "--", color="C0", label="training")
            ax.plot(epochs, history["val_" + metric], "-", color="C1", label="validation")
            ax.set_title(f"{variant}: {metric}")
            ax.set_xlabel("epoch")
            ax.xaxis.get_major_locator().set_params(integer=True)
            ax.grid(alpha=0.3)
            ax.legend()
    # The L2 variant's loss includes its penalty, so the loss rows are on a log scale.
    axes[1, 0].set_yscale("log")
    figure.savefig(path)
    plt.close(figure)


def plot_weights(models, path):
    """The hidden layer's kernel of each variant, on one scale so the spreads compare."""
    import matplotlib.pyplot as plt

    kernels = {variant: model.layers[1].kernel.numpy().ravel() for variant, model in models.items()}
    limit = max(np.abs(kernel).max() for kernel in kernels.values())
    bins = np.linspace(-limit, limit, 101)
    figure, axes = plt.subplots(1, len(kernels), figsize=(4 * len(kernels), 3.2), sharex=True, sharey=True,
                                squeeze=False, layout="constrained")
    for ax, (variant, kernel) in zip(axes[0], kernels.items()):
        ax.hist(kernel, bins=bins, color="C2")
        ax.set_yscale("log")  # the tails, where the variants differ, would vanish on a linear scale
        ax.set_title(f"{variant}: std {kernel.std():.4f}")
        ax.set_xlabel("weight of the 784 x 1000 kernel")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("count")
    figure.savefig(path)
    plt.close(figure)


def main():
    args = parse_args()
    keras.utils.set_random_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = tutorial_data.split(mnist, train_size=args.train_size)

    models, histories, results = {}, {}, {}
    for variant in VARIANTS:
        print(f"--- {variant}")
        model = build_model(variant)
        model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
        start = time.perf_counter()
        history = model.fit(x_train, y_train, epochs=args.epochs, validation_data=(x_valid, y_valid))
        training_time = time.perf_counter() - start
        test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
        models[variant], histories[variant] = model, history.history
        results[variant] = (history.history["accuracy"][-1], history.history["val_accuracy"][-1],
                            test_accuracy, training_time)

    optional_extras.draw("curves.png", plot_curves, histories, os.path.join(args.out, "curves.png"))
    optional_extras.draw("weights.png", plot_weights, models, os.path.join(args.out, "weights.png"))
    print(f"\n{'variant':<11}{'train accuracy':>16}{'val accuracy':>14}{'test accuracy':>15}{'time':>9}")
    for variant, (train_accuracy, val_accuracy, test_accuracy, training_time) in results.items():
        print(f"{variant:<11}{train_accuracy:>16.4f}{val_accuracy:>14.4f}{test_accuracy:>15.4f}{training_time:>8.1f}s")
    for variant, (_, _, test_accuracy, _) in results.items():
        print(f"{variant}: test accuracy: {test_accuracy:.4f}")
    print(f"total training time: {sum(r[3] for r in results.values()):.1f} s")
    optional_extras.report(args.out)


if __name__ == "__main__":
    main()

"""The same small network on Fashion-MNIST, trained with each of Keras' optimizers.

    Flatten -> Dense(300, relu) -> Dense(100, relu) -> Dense(10, softmax)

Every optimizer starts from the same initial weights and sees the batches in
the same order, so only the update rule differs. Each uses Keras' default
hyperparameters, except where noted in OPTIMIZERS below.

    python examples/optimizers.py
    python examples/optimizers.py --epochs 3 --train-size 10000

Writes validation_accuracy.png (one curve per optimizer) into the output folder
(default plots/optimizers) and prints a table of the final numbers.
"""

import argparse
import os
import time

import numpy as np

import fastdnn as keras
from fastdnn.datasets import fashion_mnist

import optional_extras
import tutorial_data


def make_optimizers():
    """Fresh optimizer objects (an optimizer keeps per-model state, so one per model)."""
    return {
        "SGD": keras.optimizers.SGD(),
        "SGD + momentum": keras.optimizers.SGD(momentum=0.9),
        "SGD + Nesterov": keras.optimizers.SGD(momentum=0.9, nesterov=True),
        "RMSprop": keras.optimizers.RMSprop(),
        # Keras' default learning rate (0.001) is small for Adagrad, whose steps only shrink:
        # it trails the others here, as it does in Keras.
        "Adagrad": keras.optimizers.Adagrad(),
        # Keras' default learning rate for Adadelta (0.001) makes it crawl; Zeiler's paper
        # (and Keras 2 before 2.3) used 1.0, which is what Adadelta's step size is designed for.
        "Adadelta": keras.optimizers.Adadelta(learning_rate=1.0),
        "Adam": keras.optimizers.Adam(),
        "Adamax": keras.optimizers.Adamax(),
        "Nadam": keras.optimizers.Nadam(),
    }


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--train-size", type=int, default=55000,
                        help="training images used, at most 55,000 (default: all of them)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=os.path.join("plots", "optimizers"), help="folder for the PNG plot")
    return parser.parse_args()


def build_model():
    return keras.Sequential([
        keras.layers.Flatten(input_shape=[28, 28]),
        keras.layers.Dense(300, activation="relu"),
        keras.layers.Dense(100, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])


def plot_validation_accuracy(histories, path):
    """Every optimizer's validation accuracy per epoch, in one figure."""
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(9, 5.5), layout="constrained")
    for i, (name, history) in enumerate(histories.items()):
        accuracy = history["val_accuracy"]
        # Ten default colors for nine optimizers; the SGD family dashed, the adaptive ones solid.
        ax.plot(np.arange(1, len(accuracy) + 1), accuracy, "--" if name.startswith("SGD") else "-",
                color=f"C{i}", marker="o", markersize=3, label=f"{name} ({accuracy[-1]:.3f})")
    ax.set_title("validation accuracy per optimizer")
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    figure.savefig(path)
    plt.close(figure)


def main():
    args = parse_args()
    keras.utils.set_random_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = tutorial_data.split(fashion_mnist, train_size=args.train_size)

    # One set of initial weights for all: each model gets a copy of the first one's.
    initial_weights = build_model().get_weights()
    histories, results = {}, {}
    total_time = 0.0
    for name, optimizer in make_optimizers().items():
        print(f"--- {name}")
        keras.utils.set_random_seed(args.seed)  # the same batch order for every optimizer
        model = build_model()
        model.set_weights(initial_weights)
        model.compile(loss="sparse_categorical_crossentropy", optimizer=optimizer, metrics=["accuracy"])
        start = time.perf_counter()
        history = model.fit(x_train, y_train, epochs=args.epochs, validation_data=(x_valid, y_valid))
        training_time = time.perf_counter() - start
        total_time += training_time
        test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
        histories[name] = history.history
        results[name] = (history.history["val_accuracy"][-1], test_accuracy, training_time)

    optional_extras.draw("validation_accuracy.png", plot_validation_accuracy, histories,
                         os.path.join(args.out, "validation_accuracy.png"))
    print(f"\n{'optimizer':<16}{'val accuracy':>14}{'test accuracy':>15}{'time':>9}")
    for name, (val_accuracy, test_accuracy, training_time) in results.items():
        print(f"{name:<16}{val_accuracy:>14.4f}{test_accuracy:>15.4f}{training_time:>8.1f}s")
    best = max(results, key=lambda name: results[name][0])
    print(f"best optimizer ({best}): test accuracy: {results[best][1]:.4f}")
    print(f"total training time: {total_time:.1f} s")
    optional_extras.report(args.out)


if __name__ == "__main__":
    main()

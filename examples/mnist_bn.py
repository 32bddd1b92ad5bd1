"""Batch normalization on MNIST, as in Géron's "Hands-On Machine Learning", chapter 11.

Two hidden layers (300 and 100 ELU units) with batch normalization placed
between each Dense layer and its activation, and one more on the logits:

    Flatten -> Dense(300) -> BN -> ELU -> Dense(100) -> BN -> ELU -> Dense(10) -> BN

trained with plain SGD (learning rate 0.01, batches of 200) for 20 epochs.
The first 5,000 training images are held out for validation.

    python examples/mnist_bn.py                    # the tutorial: about 97.4% validation accuracy
    python examples/mnist_bn.py --init he_normal   # He initialization instead of LeCun's
    python examples/mnist_bn.py --epochs 2 --out /tmp/mnist_bn

Writes history.png (loss and accuracy per epoch) and samples.png (a few
validation digits) into the output folder (default plots/mnist_bn).
"""

import argparse
import os
import time

import fastdnn as keras
from fastdnn.datasets import mnist

import optional_extras
import tutorial_data


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=200)
    # The tutorial calls its initializer "He", but its code used TensorFlow 1's
    # tf.variance_scaling_initializer(), whose default scale of 1.0 (fan_in,
    # truncated normal) is what Keras calls lecun_normal; He would be scale 2.0.
    parser.add_argument("--init", default="lecun_normal", choices=["lecun_normal", "he_normal"],
                        help="kernel initializer of the Dense layers (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=os.path.join("plots", "mnist_bn"), help="folder for the PNG plots")
    return parser.parse_args()


def build_model(init):
    # Batch normalization before the activation, as the tutorial does: the Dense
    # layer's output is normalized, then goes through ELU. The tutorial's
    # momentum is 0.9 (Keras' default is 0.99): with about 275 batches per epoch,
    # the moving statistics then follow the training quickly.
    return keras.Sequential([
        keras.layers.Flatten(input_shape=[28, 28]),
        keras.layers.Dense(300, kernel_initializer=init),
        keras.layers.BatchNormalization(momentum=0.9),
        keras.layers.Activation("elu"),
        keras.layers.Dense(100, kernel_initializer=init),
        keras.layers.BatchNormalization(momentum=0.9),
        keras.layers.Activation("elu"),
        keras.layers.Dense(10, kernel_initializer=init),
        # The logits themselves are normalized too, so there is no softmax layer:
        # the loss applies it (from_logits=True).
        keras.layers.BatchNormalization(momentum=0.9),
    ])


def main():
    args = parse_args()
    keras.utils.set_random_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)

    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = tutorial_data.split(mnist)
    optional_extras.draw("samples.png", keras.utils.show_images, x_valid, y_valid, n=25,
                        path=os.path.join(args.out, "samples.png"))

    model = build_model(args.init)
    model.summary()
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.SGD(learning_rate=0.01),
                  metrics=["accuracy"])

    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                        validation_data=(x_valid, y_valid))
    training_time = time.perf_counter() - start

    optional_extras.draw("history.png", keras.utils.plot_history, history, path=os.path.join(args.out, "history.png"))
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {test_accuracy:.4f} (test loss {test_loss:.4f})")
    print(f"total training time: {training_time:.1f} s")
    optional_extras.report(args.out)


if __name__ == "__main__":
    main()

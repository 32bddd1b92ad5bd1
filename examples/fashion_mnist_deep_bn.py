"""A deep (20 hidden layers) batch-normalized network on Fashion-MNIST.

Twenty hidden layers of 100 ReLU units would hardly train with plain SGD on
their own; a BatchNormalization layer after each one keeps the signal well
scaled all the way down, and the network passes 85% validation accuracy
within a few epochs:

    Flatten -> 20 x (Dense(100, relu) -> BN) -> Dense(10, softmax)

With `--variant bn-before-activation` each block is Dense(100) -> BN -> ReLU
instead, the form the batch normalization paper proposes.

    python examples/fashion_mnist_deep_bn.py
    python examples/fashion_mnist_deep_bn.py --variant bn-before-activation
    python examples/fashion_mnist_deep_bn.py --epochs 1 --out /tmp/deep_bn

Into the output folder (default plots/fashion_mnist_deep_bn) go history.png,
model.png (the layers), samples.png (a few clothes with their class names),
best_model.keras (the best epoch, from ModelCheckpoint) and logs/ (for
`tensorboard --logdir <out>/logs`).
"""

import argparse
import os
import time

import fastdnn as keras
from fastdnn.datasets import fashion_mnist

import optional_extras
import tutorial_data


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--variant", default="bn-after-activation",
                        choices=["bn-after-activation", "bn-before-activation"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=os.path.join("plots", "fashion_mnist_deep_bn"),
                        help="folder for the plots, the best model and the TensorBoard logs")
    return parser.parse_args()


def build_model(variant):
    model = keras.Sequential()
    model.add(keras.layers.Flatten(input_shape=[28, 28]))
    for _ in range(20):
        if variant == "bn-after-activation":
            model.add(keras.layers.Dense(100, activation="relu"))
            model.add(keras.layers.BatchNormalization())
        else:
            model.add(keras.layers.Dense(100))
            model.add(keras.layers.BatchNormalization())
            model.add(keras.layers.Activation("relu"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model


def main():
    args = parse_args()
    keras.utils.set_random_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)

    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = tutorial_data.split(fashion_mnist, standardize=True)
    optional_extras.draw("samples.png", keras.utils.show_images, x_valid, y_valid,
                        class_names=fashion_mnist.CLASS_NAMES, n=25, path=os.path.join(args.out, "samples.png"))

    model = build_model(args.variant)
    model.summary()
    optional_extras.draw("model.png", keras.utils.plot_model, model, path=os.path.join(args.out, "model.png"),
                        show_shapes=True)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])

    # Keras' own file needs h5py (the keras-files extra); fastdnn's .fdnn needs nothing
    best_model_path = os.path.join(args.out, "best_model.keras" if optional_extras.have("h5py") else "best_model.fdnn")
    have_tensorboard = optional_extras.have("tensorboardX")  # the `tensorboard` extra
    callbacks = [
        # Keeps the epoch with the lowest validation loss, whatever comes after it.
        keras.callbacks.ModelCheckpoint(best_model_path, save_best_only=True),
        # Stops when the validation loss has not improved by 0.001 for 5 epochs.
        keras.callbacks.EarlyStopping(patience=5, min_delta=1e-3),
    ]
    if have_tensorboard:
        callbacks.insert(0, keras.callbacks.TensorBoard(os.path.join(args.out, "logs")))
    else:
        print('TensorBoard logs skipped, tensorboardX is not installed; to write them: pip install "fastdnn[tensorboard]"')
    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=args.epochs, validation_data=(x_valid, y_valid),
                        callbacks=callbacks)
    training_time = time.perf_counter() - start

    optional_extras.draw("history.png", keras.utils.plot_history, history, path=os.path.join(args.out, "history.png"))
    best_model = keras.models.load_model(best_model_path)  # back to the best epoch
    test_loss, test_accuracy = best_model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {test_accuracy:.4f} (test loss {test_loss:.4f}, best epoch's model)")
    print(f"total training time: {training_time:.1f} s")
    print(f"best model{' and TensorBoard logs' if have_tensorboard else ''} written to {args.out}")
    optional_extras.report(args.out)


if __name__ == "__main__":
    main()

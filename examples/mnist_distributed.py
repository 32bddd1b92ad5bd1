"""Data-parallel training of the tutorial's batch-normalized MNIST network over MPI.

    pip install "fastdnn[mpi]"                                           # mpi4py and the mpich wheel
    mpiexec -n 2 python -m mpi4py examples/mnist_distributed.py          # 2 processes on this machine
    mpiexec -hosts h1,h2 -ppn 2 -n 4 python -m mpi4py examples/mnist_distributed.py   # 2 machines
    python examples/mnist_distributed.py --replicas 2                    # the same numbers in one process

Every process loads the same MNIST arrays; fit's batch_size (200) is the global batch, cut into one
contiguous shard per process. The processes add their gradients in rank order, so every one holds
the same weights, and they are bitwise those of LocalStrategy(replicas=N) in a single process.
Only rank 0 (the chief) prints, plots and writes files.
"""

import argparse
import os
import time

import fastdnn as keras
from fastdnn.datasets import mnist

import optional_extras
import tutorial_data


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=200, help="the global batch (default %(default)s)")
    parser.add_argument("--replicas", type=int, default=0,
                        help="run LocalStrategy(replicas=N) in this process instead of MPIStrategy")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=os.path.join("plots", "mnist_distributed"))
    args = parser.parse_args()

    if args.replicas:
        strategy = keras.distribute.LocalStrategy(replicas=args.replicas)
    else:
        strategy = keras.distribute.MPIStrategy()
    chief = strategy.is_chief
    keras.utils.set_random_seed(args.seed)  # the same on every rank: the same model, the same shuffles
    if chief:
        os.makedirs(args.out, exist_ok=True)
        print(f"{strategy.num_replicas_in_sync} replicas ({type(strategy).__name__}), "
              f"{keras.get_num_threads()} engine threads each")

    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = tutorial_data.split(mnist)
    with strategy.scope():
        model = keras.Sequential([
            keras.layers.Flatten(input_shape=[28, 28]),
            keras.layers.Dense(300, kernel_initializer="lecun_normal"),
            keras.layers.BatchNormalization(momentum=0.9),
            keras.layers.Activation("elu"),
            keras.layers.Dense(100, kernel_initializer="lecun_normal"),
            keras.layers.BatchNormalization(momentum=0.9),
            keras.layers.Activation("elu"),
            keras.layers.Dense(10, activation="softmax"),
        ])
        model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.SGD(learning_rate=0.01),
                      metrics=["accuracy"])

    # Keras' own file needs h5py (the keras-files extra); fastdnn's .fdnn needs nothing
    checkpoint_name = "model.keras" if optional_extras.have("h5py") else "model.fdnn"
    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                        validation_data=(x_valid, y_valid), verbose=2 if chief else 0,
                        callbacks=[keras.callbacks.ModelCheckpoint(os.path.join(args.out, checkpoint_name))])
    training_time = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    if chief:
        optional_extras.draw("history.png", keras.utils.plot_history, history,
                             path=os.path.join(args.out, "history.png"))
        print(f"test accuracy: {test_accuracy:.4f} (test loss {test_loss:.4f})")
        print(f"total training time: {training_time:.1f} s")
        optional_extras.report(args.out)


if __name__ == "__main__":
    main()

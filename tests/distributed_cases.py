"""The training runs the distributed tests compare: each builds a model and its data from fixed
seeds and trains it under a given strategy. Run in one process (LocalStrategy, plain fit) by the
tests, and under `mpiexec -n N python -m mpi4py tests/distributed_cases.py CASE ...` (MPIStrategy),
where rank 0 prints the result as one JSON line.

    mpiexec -n 2 python -m mpi4py tests/distributed_cases.py dense_sgd
"""

import hashlib
import json
import sys

import numpy as np

import fastdnn as keras

ROWS = 90  # with batch 32 the last batch has 26 rows; CASES may override


def data(rows=ROWS, features=12, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, features)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1).astype(np.int64)
    return x, np.minimum(y, classes - 1)


def dense(optimizer):
    return [keras.Input(shape=(12,)), keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(3, activation="softmax")], optimizer


def batch_norm(optimizer):
    return [keras.Input(shape=(12,)), keras.layers.Dense(16), keras.layers.BatchNormalization(),
            keras.layers.Activation("elu"), keras.layers.Dense(3, activation="softmax")], optimizer


def dropout(optimizer):
    return [keras.Input(shape=(12,)), keras.layers.Dense(24, activation="selu"), keras.layers.AlphaDropout(0.2),
            keras.layers.Dense(16, activation="relu"), keras.layers.Dropout(0.3),
            keras.layers.Dense(3, activation="softmax")], optimizer


# case -> (layers and optimizer, batch size, rows)
CASES = {
    "dense_sgd": (lambda: dense(keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)), 32, ROWS),
    "dense_adam": (lambda: dense(keras.optimizers.Adam(learning_rate=0.01)), 32, ROWS),
    "batch_norm_sgd": (lambda: batch_norm(keras.optimizers.SGD(learning_rate=0.05)), 32, ROWS),
    "batch_norm_adam": (lambda: batch_norm(keras.optimizers.Adam(learning_rate=0.01)), 32, ROWS),
    "dropout_sgd": (lambda: dropout(keras.optimizers.SGD(learning_rate=0.05)), 32, ROWS),
    "dropout_adam": (lambda: dropout(keras.optimizers.Adam(learning_rate=0.01)), 32, ROWS),
    # 66 rows in batches of 32: the last batch has 2 rows, so with 3 or 4 replicas some shards are empty
    "empty_shard_adam": (lambda: batch_norm(keras.optimizers.Adam(learning_rate=0.01)), 32, 66),
}


def digest(model):
    h = hashlib.sha256()
    for w in model.get_weights():
        h.update(np.ascontiguousarray(w, np.float32).tobytes())
    return h.hexdigest()


def train(case, strategy=None, epochs=3):
    """(weights digest, history, weights) of `case` trained under `strategy` (None: plain fit)."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(11)
    build, batch_size, rows = CASES[case]
    x, y = data(rows)
    if strategy is None:
        layers, optimizer = build()
        model = keras.Sequential(layers)
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    else:
        with strategy.scope():
            layers, optimizer = build()
            model = keras.Sequential(layers)
            model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, validation_data=(x[:20], y[:20]))
    return digest(model), history.history, model.get_weights()


def main():
    from fastdnn.distribute import MPIStrategy

    case, epochs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
    strategy = MPIStrategy()
    weights_digest, history, _ = train(case, strategy, epochs)
    if strategy.is_chief:
        print(json.dumps({"digest": weights_digest, "history": history, "world": strategy.num_replicas_in_sync}))


if __name__ == "__main__":
    main()

"""The fastdnn half: the workload as a Keras program (`import fastdnn as keras`), trained by whole
`model.fit` calls and run by `model.predict`, as a Keras user calls them."""

import numpy as np

import fastdnn
from workloads import FEATURES, from_logits


def build(layers, optimizer):
    keras = fastdnn
    model = keras.Sequential([keras.Input(shape=(FEATURES,))])
    for layer in layers:
        kind = layer[0]
        if kind == "dense":
            model.add(keras.layers.Dense(layer[1], activation=layer[2], kernel_initializer=layer[3]))
        elif kind == "bn":
            model.add(keras.layers.BatchNormalization(momentum=layer[1]))
        elif kind == "act":
            model.add(keras.layers.Activation(layer[1]))
        elif kind == "dropout":
            model.add(keras.layers.Dropout(layer[1]))
        elif kind == "alpha_dropout":
            model.add(keras.layers.AlphaDropout(layer[1]))
    name, rate = optimizer
    opt = keras.optimizers.SGD(learning_rate=rate) if name == "sgd" else keras.optimizers.Adam(learning_rate=rate)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits(layers)), optimizer=opt)
    return model


class Training:
    """run(start, n): one `fit` epoch over rows [start, start + n), shuffled by fit; keeps the
    seconds spent inside the engine's steps (engine_seconds)."""

    def __init__(self, model, x, y, batch):
        self.model, self.x, self.y, self.batch = model, x, y, batch
        self.engine_seconds = 0.0

    def __call__(self, start, n):
        net = self.model._network
        before = net.step_seconds if net is not None else None
        self.model.fit(self.x[start:start + n], self.y[start:start + n], batch_size=self.batch, epochs=1,
                       verbose=0, shuffle=True)
        if before is not None and self.model._network is net:
            self.engine_seconds += net.step_seconds - before


def inference(model, x, batch):
    return lambda start, n: model.predict(x[start:start + n], batch_size=batch, verbose=0)


def set_threads(n):
    fastdnn.set_num_threads(n)
    if fastdnn.get_num_threads() != n:
        raise RuntimeError(f"fastdnn.set_num_threads({n}) left {fastdnn.get_num_threads()} threads")


def seed(value):
    fastdnn.utils.set_random_seed(value)


def subnormals(model):
    """(subnormal values, all values) in the engine's weights and optimizer state."""
    net = model._network
    state = [p["value"] for p in net.parameters()] + [v for views in net.optimizer_slots().values() for v in views]
    return count_subnormals(state)


def count_subnormals(arrays):
    """(subnormal values, all values) over float32 arrays: nonzero but below the smallest normal."""
    tiny = np.finfo(np.float32).tiny
    arrays = [np.asarray(a) for a in arrays]
    return (sum(int(np.count_nonzero((a != 0) & (np.abs(a) < tiny))) for a in arrays),
            sum(a.size for a in arrays))

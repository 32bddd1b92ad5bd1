"""SHA-256 digests of the weights after three seeded Sequential fit runs (W1-, W5- and W2-like
networks, with validation_split, sample weights, metrics and dropout), through the public API.
Run it on two builds to show a change left Sequential training bitwise as it was:

    python tools/fit_digest.py > after.txt   # then the same on the older build, and diff
"""
import hashlib
import numpy as np
import fastdnn as keras

def digest(model):
    h = hashlib.sha256()
    for w in model.get_weights():
        h.update(np.ascontiguousarray(w, np.float32).tobytes())
    return h.hexdigest()

rng = np.random.default_rng(0)
x = rng.standard_normal((600, 784)).astype(np.float32)
labels = rng.integers(0, 10, 600)
keras.utils.set_random_seed(1)
w1 = keras.Sequential([keras.Input(shape=(784,))] + sum([[keras.layers.Dense(100, activation="relu"),
                       keras.layers.BatchNormalization()] for _ in range(20)], []) + [keras.layers.Dense(10, activation="softmax")])
w1.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
w1.fit(x, labels, batch_size=32, epochs=2, verbose=0, validation_split=0.1)
print("W1", digest(w1))
keras.utils.set_random_seed(2)
w5 = keras.Sequential([keras.Input(shape=(784,))] + [keras.layers.Dense(100, activation="selu", kernel_initializer="lecun_normal") for _ in range(20)]
                      + [keras.layers.AlphaDropout(0.5), keras.layers.Dense(10, activation="softmax")])
w5.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(3)])
w5.fit(x, labels, batch_size=32, epochs=2, verbose=0, sample_weight=rng.uniform(0, 2, 600))
print("W5", digest(w5))
keras.utils.set_random_seed(3)
w2 = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28)), keras.layers.Dense(300), keras.layers.BatchNormalization(),
                       keras.layers.Activation("elu"), keras.layers.Dense(100), keras.layers.Dropout(0.2), keras.layers.Dense(10)])
w2.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="nadam")
w2.fit(x.reshape(-1, 28, 28), labels, batch_size=200, epochs=2, verbose=0)
print("W2", digest(w2), np.float32(w2.evaluate(x.reshape(-1, 28, 28), labels, verbose=0)).tobytes().hex())

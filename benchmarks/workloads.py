"""What the benchmark trains, on what data, and how many FLOPs that takes.

A workload's layers are framework-neutral tuples: ("dense", units, activation, initializer),
("bn", momentum), ("act", name), ("dropout", rate), ("alpha_dropout", rate). A softmax on the
last Dense is folded into the loss by both frameworks (PyTorch's model outputs logits).
"""

import numpy as np

FEATURES, CLASSES = 784, 10
DATA_SEED = 0  # the one permutation of the data set both frameworks walk through


def _deep_bn():
    return [layer for _ in range(20) for layer in (("dense", 100, "relu", "glorot_uniform"), ("bn", 0.99))] \
        + [("dense", 10, "softmax", "glorot_uniform")]


def _bn_elu():
    return [("dense", 300, None, "he_normal"), ("bn", 0.9), ("act", "elu"),
            ("dense", 100, None, "he_normal"), ("bn", 0.9), ("act", "elu"),
            ("dense", 10, None, "he_normal"), ("bn", 0.9)]


def _wide():
    return [("dense", 1000, "relu", "glorot_uniform"), ("dense", 10, "softmax", "glorot_uniform")]


def _five_relu_dropout():
    return [("dense", 200, "relu", "glorot_uniform"), ("dense", 100, "relu", "glorot_uniform"), ("dropout", 0.25),
            ("dense", 60, "relu", "glorot_uniform"), ("dropout", 0.25),
            ("dense", 30, "relu", "glorot_uniform"), ("dropout", 0.25), ("dense", 10, "softmax", "glorot_uniform")]


def _selu():
    return [("dense", 100, "selu", "lecun_normal")] * 20 + [("alpha_dropout", 0.5),
                                                           ("dense", 10, "softmax", "glorot_uniform")]


# target: fastdnn / PyTorch training samples/s, each at its best thread count, in the early
# window and in the late one (issue 12's "Done when").
WORKLOADS = {
    "W1": dict(title="20×(Dense100 relu → BN), SGD, b32", layers=_deep_bn, optimizer=("sgd", 0.01),
               batch=32, target=6.0),
    "W2": dict(title="300-100-10 BN + ELU, SGD, b200 (the tutorial's 97.4% network)", layers=_bn_elu,
               optimizer=("sgd", 0.01), batch=200, target=1.5),
    "W3": dict(title="Dense1000 relu → Dense10, Adam, b1024", layers=_wide, optimizer=("adam", 0.001),
               batch=1024, target=1.1, ceiling_target=0.75),
    "W3b32": dict(title="Dense1000 relu → Dense10, Adam, b32", layers=_wide, optimizer=("adam", 0.001),
                  batch=32, target=2.0),
    "W4": dict(title="784-200-100-60-30-10 + Dropout(0.25), Adam, b100", layers=_five_relu_dropout,
               optimizer=("adam", 0.001), batch=100, target=2.0),
    "W5": dict(title="20×Dense100 selu → AlphaDropout(0.5), Adam, b32", layers=_selu,
               optimizer=("adam", 0.001), batch=32, target=5.0),
}
ALIASES = {"W3-1024": "W3", "W3-32": "W3b32"}  # the names before issue 12
INFERENCE_BATCHES = (32, 10_000)
INFERENCE_TARGETS = {32: 2.0, 10_000: 1.1}


def dense_shapes(layers):
    """(in, out) of every Dense layer, in order."""
    shapes, width = [], FEATURES
    for layer in layers:
        if layer[0] == "dense":
            shapes.append((width, layer[1]))
            width = layer[1]
    return shapes


def flop_counts(layers):
    """FLOPs per sample of the Dense products, exactly as an engine must do them: a product of a
    sample's `in` values by an in x out kernel is in*out multiply-adds, 2*in*out FLOPs.
    Training: the forward product, the kernel gradient (same size) and the input gradient, which
    the first Dense does not need (its input is the data) and no engine computes. Not counted:
    bias adds and bias gradients, activations, BatchNormalization, dropout, the loss and the
    optimizer update (all O(in + out) per sample or per parameter, not per product)."""
    products = [2 * i * o for i, o in dense_shapes(layers)]
    forward = sum(products)
    counts = {"forward": forward, "kernel_gradients": forward, "input_gradients": sum(products[1:])}
    counts["training"] = counts["forward"] + counts["kernel_gradients"] + counts["input_gradients"]
    counts["inference"] = forward
    return counts


def from_logits(layers):
    return not (layers[-1][0] == "dense" and layers[-1][2] == "softmax")


def mnist_data(rows=None):
    """The real MNIST training set as a Keras user prepares it: x (60000, 784) float32 in [0, 1],
    y the uint8 labels. Rows permuted once by DATA_SEED (so that --rows takes a random subset,
    not the first rows), the same arrays for both frameworks."""
    import fastdnn
    (x, y), _ = fastdnn.datasets.mnist.load_data()
    order = np.random.default_rng(DATA_SEED).permutation(len(x))[:rows]
    x = x.reshape(len(x), FEATURES)[order].astype(np.float32)
    x /= 255.0
    return x, y[order]


def random_data(rows=60_000):
    """Uniform random [0, 1) float32 inputs with uniformly random labels: nothing to learn, so the
    optimizer state drifts towards zero and goes subnormal (which slows float32 arithmetic)."""
    rng = np.random.default_rng(DATA_SEED)
    return rng.random((rows, FEATURES), dtype=np.float32), rng.integers(0, CLASSES, size=rows).astype(np.uint8)


DATA = {
    "mnist": ("the real MNIST training set (fastdnn.datasets.mnist), x/255 as float32", mnist_data),
    "random": ("uniform random float32 inputs in [0, 1) with random labels (NOT MNIST: nothing to learn)",
               random_data),
}


def load(kind, rows):
    """(x, y, description) for --data kind, rows rows (None: the whole set, 60,000)."""
    description, make = DATA[kind]
    x, y = make(rows) if rows else make()
    return x, y, f"{description}, {len(x):,} rows"

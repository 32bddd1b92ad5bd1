"""fastdnn against real Keras 3 (torch backend), number for number.

Every test builds the same network twice from one `build(lib)` function — `lib` is the
`fastdnn` module or the `keras` module, so the model code is literally the same Keras
program with its import changed — copies one set of float32 weights into both with
set_weights (Keras' order and shapes: kernel (in, out), bias; gamma, beta, moving_mean,
moving_variance; PReLU alpha), runs both, and compares.

The reference: Keras runs in float64 (keras.config.set_floatx("float64") around each test,
restored afterwards). Its code paths are the same as in float32 (same layers, losses,
trainers, optimizer update_step), but its own rounding (~1e-16) vanishes, so every
tolerance below is a budget for fastdnn's float32 arithmetic alone; u = 2^-24 is the
float32 unit roundoff. (One exception, negligible against the loss tolerances: the torch
backend's divide_no_nan returns float32, so Keras' reported loss carries one float32
rounding; its gradients do not.)

Tolerances (per element, derivations next to each constant):
- forward values (predict, BN moving statistics, losses): a few dot products of length
  K ≤ 20 (one of 784 for Flatten) and elementwise functions; see FORWARD_RTOL.
- one or more optimizer steps: gradient errors are amplified by the optimizer (Adam's or
  Adamax's first step is nearly lr·sign(g), so a gradient that is ~0 gives any update in
  [−lr, lr]). Instead of picking seeds where no gradient is small, the budget for the
  gradient error is measured on Keras itself: the same float64 training steps are re-run
  with every gradient g of a weight tensor shifted by ±ETA·max|g| (the bound on fastdnn's
  float32 gradient error, see ETA), and the spread of those weights is allowed; plus the
  update's own rounding r·Σ|Δw| with r as tests/test_optimizers.py derives it, plus the
  rounding of the stored weight.

Keras' torch backend clips probabilities to [1e-7, 1 − 1e-7] in the cross-entropies where
fastdnn (like Keras' TF backend) computes them from the logits; the nets here keep logits
moderate (every probability > 1e-5, asserted) so both compute the same function.
"""

import numpy as np
import pytest

import fastdnn
from keras_reference import keras, keras_float64, torch, TORCH_PYTREE_WARNING  # noqa: F401 (the fixture)

pytestmark = TORCH_PYTREE_WARNING

U = 2.0 ** -24  # float32 unit roundoff

# Forward values: each output is at most 3 chained dot products of length K ≤ 20 plus
# elementwise functions. A float32 dot product is off by ≤ K·u·Σ|aᵢbᵢ| (standard bound;
# ≈ √K·u in practice) and Σ|aᵢbᵢ| is a few times the largest output here; the activation
# kernels add a few u (more where they amplify: exp, softplus). 256u ≈ 1.5e-5 relative to the
# largest output of the tensor is that bound with a factor ≥ 2 to spare. The differences this
# is meant to catch are ≥ 1e-4 relative: LeakyReLU slope 0.2 vs 0.3, the tanh GELU
# (≤ 4.7e-4 off), Keras 2's hard_sigmoid (0.2x + 0.5), BN ε 1e-3 vs 1e-5, a Bessel-corrected
# variance (×32/31), Flatten in the wrong order (O(1)).
FORWARD_RTOL = 256 * U
# Flatten feeds one dot product of length 784: its bound grows by 784/20 in the worst case
# and ≈ √(784/20) ≈ 6 in practice; 8× the above.
FLATTEN_RTOL = 8 * FORWARD_RTOL

# Gradient error: measured max|g_fastdnn − g_keras64| / max|g| ≤ 1.4e-6 (≈ 24u) per weight
# tensor of _training_net over 8 seeds (float32 backprop through 5 layers, sums over 32
# samples with cancellation). ETA gives that ≥ 7× headroom. (Across 8 seeds of every test in
# this file, the largest |fastdnn − Keras| / tolerance seen was 0.24.)
ETA = 1e-5


# --- helpers --------------------------------------------------------------------------------

def random_weights(model, rng, gain=1.0):
    """float32 values for every weight of `model`, by its Keras name: kernels N(0, gain²/fan_in),
    biases N(0, 0.1²), γ ∈ U(0.5, 1.5), β N(0, 0.2²), non-trivial moving statistics
    (mean N(0, 0.5²), variance U(0.5, 2)), PReLU α ∈ U(0, 0.4)."""
    values = []
    for w in model.weights:
        shape = tuple(w.shape)
        if w.name == "kernel":
            v = rng.normal(0.0, gain / np.sqrt(shape[0]), shape)
        elif w.name == "bias":
            v = rng.normal(0.0, 0.1, shape)
        elif w.name == "gamma":
            v = rng.uniform(0.5, 1.5, shape)
        elif w.name == "beta":
            v = rng.normal(0.0, 0.2, shape)
        elif w.name == "moving_mean":
            v = rng.normal(0.0, 0.5, shape)
        elif w.name == "moving_variance":
            v = rng.uniform(0.5, 2.0, shape)
        elif w.name == "alpha":
            v = rng.uniform(0.0, 0.4, shape)
        else:
            raise AssertionError(f"no rule for weight {w.name}")
        values.append(v.astype(np.float32))
    return values


def twins(build, rng, gain=1.0):
    """(fastdnn model, Keras model, weights): build(lib) for both libraries, same weights in both."""
    ours, theirs = build(fastdnn), build(keras)
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    weights = random_weights(ours, rng, gain)
    ours.set_weights(weights)
    theirs.set_weights(weights)
    return ours, theirs, weights


def assert_within(actual, desired, tol, what):
    """|actual − desired| ≤ tol elementwise, with a message naming the worst element."""
    actual = np.asarray(actual, dtype=np.float64)
    desired = np.asarray(desired, dtype=np.float64)
    assert actual.shape == desired.shape, f"{what}: shape {actual.shape} != {desired.shape}"
    tol = np.broadcast_to(np.asarray(tol, dtype=np.float64), desired.shape)
    excess = np.abs(actual - desired) - tol
    if np.all(excess <= 0):
        return
    i = np.unravel_index(np.argmax(excess), desired.shape)
    raise AssertionError(
        f"{what}: {int(np.sum(excess > 0))} of {desired.size} elements beyond tolerance; worst at {i}: "
        f"fastdnn {actual[i]!r}, Keras {desired[i]!r}, |diff| {abs(actual[i] - desired[i]):.3e}, "
        f"tolerance {tol[i]:.3e}")


def assert_forward_close(actual, desired, what, rtol=FORWARD_RTOL):
    """Forward values: error budget rtol relative to the largest value of the tensor (FORWARD_RTOL)."""
    desired = np.asarray(desired, dtype=np.float64)
    assert_within(actual, desired, rtol * max(np.abs(desired).max(), 1e-30), what)


def dense_input(rng, n=32, width=10):
    return rng.normal(size=(n, width)).astype(np.float32)


# --- 1. predictions ----------------------------------------------------------------------------

ACTIVATIONS = ["linear", "relu", "leaky_relu", "relu6", "elu", "selu", "sigmoid", "tanh", "softmax",
               "softplus", "softsign", "silu", "swish", "gelu", "hard_sigmoid", "hard_silu", "hard_swish",
               "exponential"]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_predict_dense_activation_matches_keras(activation):
    # Pre-activations with standard deviation ≈ 3 reach every piece of the piecewise functions
    # (hard_sigmoid's ±3, relu6's 6) and the tails of the smooth ones.
    def build(lib):
        return lib.Sequential([lib.Input(shape=(10,)), lib.layers.Dense(20, activation=activation),
                               lib.layers.Dense(5)])

    rng = np.random.default_rng(1)
    ours, theirs, _ = twins(build, rng, gain=3.0)
    x = dense_input(rng)
    assert_forward_close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), f"Dense({activation!r})")


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_predict_output_activation_matches_keras(output):
    def build(lib):
        return lib.Sequential([lib.Input(shape=(10,)), lib.layers.Dense(20, activation="relu"),
                               lib.layers.Dense(5, activation=output)])

    rng = np.random.default_rng(2)
    ours, theirs, _ = twins(build, rng, gain=2.0)
    x = dense_input(rng)
    got, want = ours.predict(x, verbose=0), theirs.predict(x, verbose=0)
    assert_within(got, want, FORWARD_RTOL * want, f"{output} output (relative per element)")


BN_VARIANTS = {
    "defaults": {},
    "epsilon_0.01": {"epsilon": 0.01},
    "no_center": {"center": False},
    "no_scale": {"scale": False},
}


@pytest.mark.parametrize("variant", sorted(BN_VARIANTS))
def test_predict_batch_normalization_uses_moving_statistics(variant):
    def build(lib):
        return lib.Sequential([lib.Input(shape=(10,)), lib.layers.Dense(20),
                               lib.layers.BatchNormalization(**BN_VARIANTS[variant]), lib.layers.Dense(5)])

    rng = np.random.default_rng(3)
    ours, theirs, weights = twins(build, rng)
    x = dense_input(rng)
    assert_forward_close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), f"BatchNormalization {variant}")
    # predict is inference: the moving statistics are untouched
    for got, want in zip(ours.get_weights(), weights):
        np.testing.assert_array_equal(got, want)


def test_predict_dropout_and_alpha_dropout_are_identity():
    def build(lib):
        L = lib.layers
        return lib.Sequential([lib.Input(shape=(10,)), L.Dense(20, activation="selu"), L.AlphaDropout(0.3),
                               L.Dense(20, activation="relu"), L.Dropout(0.5), L.Dense(5)])

    rng = np.random.default_rng(4)
    ours, theirs, _ = twins(build, rng, gain=1.5)
    x = dense_input(rng)
    first = ours.predict(x, verbose=0)
    assert_forward_close(first, theirs.predict(x, verbose=0), "Dropout/AlphaDropout at inference")
    np.testing.assert_array_equal(ours.predict(x, verbose=0), first)  # no randomness at inference


ACTIVATION_LAYERS = {
    "Activation_tanh": lambda lib: lib.layers.Activation("tanh"),
    "Activation_gelu": lambda lib: lib.layers.Activation("gelu"),
    "ReLU_defaults": lambda lib: lib.layers.ReLU(),
    "ReLU_max_value": lambda lib: lib.layers.ReLU(max_value=1.5),
    "ReLU_max_value_negative_slope_threshold":
        lambda lib: lib.layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.2),
    "ReLU_negative_slope_threshold": lambda lib: lib.layers.ReLU(negative_slope=0.05, threshold=0.5),
    "LeakyReLU_default_slope": lambda lib: lib.layers.LeakyReLU(),
    "LeakyReLU_0.05": lambda lib: lib.layers.LeakyReLU(negative_slope=0.05),
    "PReLU": lambda lib: lib.layers.PReLU(),
    "PReLU_shared": lambda lib: lib.layers.PReLU(shared_axes=[1]),
    "ELU_default": lambda lib: lib.layers.ELU(),
    "ELU_alpha_0.5": lambda lib: lib.layers.ELU(alpha=0.5),
    "Softmax": lambda lib: lib.layers.Softmax(),
}


@pytest.mark.parametrize("layer", sorted(ACTIVATION_LAYERS))
def test_predict_activation_layer_matches_keras(layer):
    def build(lib):
        return lib.Sequential([lib.Input(shape=(10,)), lib.layers.Dense(20), ACTIVATION_LAYERS[layer](lib),
                               lib.layers.Dense(5)])

    rng = np.random.default_rng(5)
    ours, theirs, _ = twins(build, rng, gain=2.0)  # PReLU gets random α ∈ (0, 0.4), not Keras' zeros
    x = dense_input(rng)
    assert_forward_close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), layer)


def test_predict_flatten_of_28x28_images():
    def build(lib):
        L = lib.layers
        return lib.Sequential([lib.Input(shape=(28, 28)), L.Flatten(), L.Dense(16, activation="relu"),
                               L.Dense(5, activation="softmax")])

    rng = np.random.default_rng(6)
    ours, theirs, _ = twins(build, rng, gain=2.0)
    x = rng.uniform(0.0, 1.0, size=(16, 28, 28)).astype(np.float32)  # pixel-like
    got = ours.predict(x, verbose=0)
    assert got.shape == (16, 5)
    assert_forward_close(got, theirs.predict(x, verbose=0), "Flatten (28, 28)", rtol=FLATTEN_RTOL)


# --- 2. evaluate ----------------------------------------------------------------------------

def _targets(kind, rng, n, units):
    if kind == "int":
        return rng.integers(0, units, n)
    if kind == "int_column":
        return rng.integers(0, units, (n, 1))
    if kind == "onehot":
        return np.eye(units, dtype=np.float32)[rng.integers(0, units, n)]
    if kind == "binary":
        return rng.integers(0, 2, (n, units)).astype(np.float32)
    if kind == "regression":
        return rng.normal(size=(n, units)).astype(np.float32)
    raise AssertionError(kind)


# (loss for lib, output activation, output units, targets)
EVALUATE_CASES = {
    "sparse_categorical_crossentropy": (lambda lib: "sparse_categorical_crossentropy", "softmax", 5, "int"),
    "sparse_categorical_crossentropy_column_labels":
        (lambda lib: "sparse_categorical_crossentropy", "softmax", 5, "int_column"),
    "sparse_categorical_crossentropy_from_logits":
        (lambda lib: lib.losses.SparseCategoricalCrossentropy(from_logits=True), None, 5, "int"),
    "categorical_crossentropy": (lambda lib: "categorical_crossentropy", "softmax", 5, "onehot"),
    "categorical_crossentropy_from_logits":
        (lambda lib: lib.losses.CategoricalCrossentropy(from_logits=True), None, 5, "onehot"),
    "binary_crossentropy": (lambda lib: "binary_crossentropy", "sigmoid", 1, "binary"),
    "binary_crossentropy_multilabel": (lambda lib: "binary_crossentropy", "sigmoid", 3, "binary"),
    "binary_crossentropy_from_logits":
        (lambda lib: lib.losses.BinaryCrossentropy(from_logits=True), None, 1, "binary"),
    "mse": (lambda lib: "mse", None, 3, "regression"),
    "mae": (lambda lib: "mae", None, 3, "regression"),
    "MeanSquaredError_object": (lambda lib: lib.losses.MeanSquaredError(), None, 1, "regression"),
}


@pytest.mark.parametrize("case", sorted(EVALUATE_CASES))
def test_evaluate_loss_matches_keras(case):
    loss, output, units, target_kind = EVALUATE_CASES[case]

    def build(lib):
        return lib.Sequential([lib.Input(shape=(10,)), lib.layers.Dense(20, activation="tanh"),
                               lib.layers.Dense(units, activation=output)])

    rng = np.random.default_rng(7)
    ours, theirs, _ = twins(build, rng, gain=1.5)
    x = dense_input(rng, n=40)
    y = _targets(target_kind, rng, 40, units)
    for lib, model in [(fastdnn, ours), (keras, theirs)]:
        model.compile(optimizer="sgd", loss=loss(lib))
    if output is not None:  # away from the torch backend's clipping at 1e-7 (module docstring)
        p = theirs.predict(x, verbose=0)
        assert p.min() > 1e-5 and p.max() < 1 - 1e-5
    # batch_size 16 over 40 samples: batches of 16, 16 and 8, averaged per sample by both
    got = ours.evaluate(x, y, batch_size=16, verbose=0)
    want = theirs.evaluate(x, y, batch_size=16, verbose=0)
    # The loss is a mean of per-sample terms computed from the outputs: its error is at most the
    # outputs' (FORWARD_RTOL of the largest) times the loss' slope, which is ≤ 1 for mae and
    # the cross-entropies in the logits, ≤ 2·|residual| for mse; plus a few u for log/exp and
    # the mean. FORWARD_RTOL relative to the loss itself with the output scale as a floor.
    assert isinstance(got, float)
    assert_within(got, want, FORWARD_RTOL * (abs(want) + 1.0), f"evaluate loss {case}")


# --- 3. one (and five) optimizer steps ----------------------------------------------------

def _training_net(lib):
    # BN follows tanh, not a Dense directly: a Dense's bias just before a training-mode BN has a
    # gradient of exactly 0 (BN subtracts the batch mean), i.e. pure rounding noise, and Adam,
    # Adamax or Nadam turn that noise into updates of up to ±lr in any library.
    L = lib.layers
    return lib.Sequential([lib.Input(shape=(8,)), L.Dense(12, activation="tanh"), L.BatchNormalization(),
                           L.Dense(10, activation="elu"), L.PReLU(), L.Dense(4, activation="softmax")])


def _keras_steps_with_shifted_gradients(build, weights, optimizer, loss, batches, shift):
    """Keras' torch train_step (keras/src/backend/torch/trainer.py) in float64, with every gradient
    g of a weight tensor replaced by g + shift·ETA·max|g| before optimizer.apply; the final weights."""
    model = build(keras)
    model.set_weights(weights)
    model.compile(optimizer=optimizer, loss=loss)
    for x, y in batches:
        x = keras.ops.convert_to_tensor(x, dtype="float64")
        y = keras.ops.convert_to_tensor(y)
        y_pred = model(x, training=True)
        total = model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
        variables = model.trainable_weights
        grads = torch.autograd.grad(total, [v.value for v in variables])
        grads = [g + shift * ETA * g.abs().max() for g in grads]
        with torch.no_grad():
            model.optimizer.apply(grads, variables)
    return model.get_weights()


# hyper-parameters that enter the update as (1 − h), for r below
_ONE_MINUS = {"SGD": [], "Adam": ["beta_1", "beta_2"], "AdamW": ["beta_1", "beta_2"],
              "Nadam": ["beta_1", "beta_2"], "Adamax": ["beta_1"], "RMSprop": ["rho"],
              "Adadelta": ["rho"], "Adagrad": []}


def _update_rate(name, optimizer):
    """r, the relative rounding error per unit of update path (tests/test_optimizers.py's module
    docstring): 64u for a chain of ≲ 10 float32 operations, plus 2u·h/(1−h) for each hyper-parameter
    h held in float32 and used as 1 − h (999u·2 for β₂ = 0.999)."""
    return 64 * U + 2 * U * sum(getattr(optimizer, h) / (1 - getattr(optimizer, h)) for h in _ONE_MINUS[name])


def check_training_parity(build, name, kwargs, loss, batches, seed, what):
    """train_on_batch over `batches` in both libraries; the returned losses and the trainable
    weights must agree within the budget described in the module docstring."""
    rng = np.random.default_rng(seed)
    ours, theirs, weights = twins(build, rng)
    ours.compile(optimizer=getattr(fastdnn.optimizers, name)(**kwargs), loss=loss)
    theirs.compile(optimizer=getattr(keras.optimizers, name)(**kwargs), loss=loss)
    trainable = [w.trainable for w in ours.weights]
    path = [np.zeros(w.shape) for w in weights]  # Σ_t |Δw_t| of the reference
    before = [w.astype(np.float64) for w in weights]
    for step, (x, y) in enumerate(batches):
        got, want = ours.train_on_batch(x, y), theirs.train_on_batch(x, y)
        # the loss of the batch before the update: a forward value (see test_evaluate_loss_matches_keras)
        assert_within(got, want, FORWARD_RTOL * (abs(want) + 1.0), f"{what}: loss of step {step + 1}")
        after = theirs.get_weights()
        path = [p + np.abs(a - b) for p, a, b in zip(path, after, before)]
        before = after
    spread = [np.zeros(w.shape) for w in weights]
    for shift in (+1.0, -1.0):
        shifted = _keras_steps_with_shifted_gradients(build, weights, getattr(keras.optimizers, name)(**kwargs),
                                                      loss, batches, shift)
        spread = [np.maximum(s, np.abs(a - b)) for s, a, b in zip(spread, shifted, before)]
    r = _update_rate(name, ours.optimizer)
    steps = len(batches)
    checked = 0
    for i, (w, got, want) in enumerate(zip(ours.weights, ours.get_weights(), before)):
        if not trainable[i]:
            continue
        tol = spread[i] + r * path[i] + 4 * steps * U * np.abs(want)
        # the updates must be visible: somewhere ≥ 10× the tolerance, or the comparison says nothing
        assert np.max(path[i] / tol) >= 10, f"{what}: {w.path} hardly moved; the comparison would be vacuous"
        assert_within(got, want, tol, f"{what}: {w.path} after {steps} step(s)")
        checked += 1
    assert checked == sum(trainable)


OPTIMIZERS = {
    "SGD": ("SGD", {"learning_rate": 0.1}),
    "SGD_momentum": ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    "SGD_nesterov": ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    "Adam": ("Adam", {"learning_rate": 0.01}),
    "Adam_amsgrad": ("Adam", {"learning_rate": 0.01, "amsgrad": True}),
    "AdamW": ("AdamW", {"learning_rate": 0.01}),  # Keras' default weight_decay 0.004
    "RMSprop": ("RMSprop", {"learning_rate": 0.01}),
    "RMSprop_momentum": ("RMSprop", {"learning_rate": 0.01, "momentum": 0.9}),
    "RMSprop_centered": ("RMSprop", {"learning_rate": 0.01, "centered": True}),
    "Adagrad": ("Adagrad", {"learning_rate": 0.1}),
    "Adadelta": ("Adadelta", {"learning_rate": 0.1}),
    "Adamax": ("Adamax", {"learning_rate": 0.01}),
    "Nadam": ("Nadam", {"learning_rate": 0.01}),
}


def _classification_batches(rng, steps, n=32):
    return [(rng.normal(size=(n, 8)).astype(np.float32), rng.integers(0, 4, n)) for _ in range(steps)]


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_one_training_step_matches_keras(optimizer):
    name, kwargs = OPTIMIZERS[optimizer]
    batches = _classification_batches(np.random.default_rng(100), 1)
    check_training_parity(_training_net, name, kwargs, "sparse_categorical_crossentropy", batches, seed=8,
                          what=optimizer)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_five_training_steps_match_keras(optimizer):
    # Adam's bias corrections and Nadam's momentum schedule μₜ = β₁(1 − ½·0.96ᵗ) change every
    # step; the momenta (SGD, RMSprop), Adadelta's E[Δ²], AMSGrad's max and Adamax's norm only
    # act from the second step on.
    name, kwargs = OPTIMIZERS[optimizer]
    batches = _classification_batches(np.random.default_rng(101), 5)
    check_training_parity(_training_net, name, kwargs, "sparse_categorical_crossentropy", batches, seed=9,
                          what=f"{optimizer} x5")


# --- 4. BatchNormalization's moving statistics -----------------------------------------------

@pytest.mark.parametrize("momentum", [0.99, 0.9])
def test_batch_normalization_moving_statistics_after_one_step(momentum):
    def build(lib):
        return lib.Sequential([lib.Input(shape=(10,)), lib.layers.Dense(12),
                               lib.layers.BatchNormalization(momentum=momentum), lib.layers.Dense(3)])

    rng = np.random.default_rng(10)
    ours, theirs, weights = twins(build, rng)
    x = (dense_input(rng) + 0.5).astype(np.float32)  # batch mean ≠ 0
    y = rng.normal(size=(32, 3)).astype(np.float32)
    for lib, model in [(fastdnn, ours), (keras, theirs)]:
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
    got_loss, want_loss = ours.train_on_batch(x, y), theirs.train_on_batch(x, y)
    assert_within(got_loss, want_loss, FORWARD_RTOL * (abs(want_loss) + 1.0), "loss in training mode")
    names = [w.name for w in ours.weights]
    for stat in ("moving_mean", "moving_variance"):
        i = names.index(stat)
        got, want, old = ours.get_weights()[i], theirs.get_weights()[i], weights[i]
        batch_part = want - momentum * old.astype(np.float64)  # (1 − momentum)·batch statistic
        assert np.abs(batch_part).max() > 1e-3, "the batch statistics should move the moving ones"
        # m·old + (1−m)·stat rounds twice (4u of the result) and the batch statistic is a forward
        # value of the layer input (FORWARD_RTOL of the largest; twice for the variance, a square).
        tol = 4 * U * np.abs(want) + 2 * FORWARD_RTOL * np.abs(batch_part).max()
        assert_within(got, want, tol, f"{stat} (momentum {momentum})")


# --- 5. L2 kernel regularizer --------------------------------------------------------------

def _regularized_net(lib):
    L = lib.layers
    return lib.Sequential([lib.Input(shape=(10,)),
                           L.Dense(12, activation="tanh", kernel_regularizer=lib.regularizers.L2(0.05)),
                           L.Dense(3, kernel_regularizer=lib.regularizers.L2(0.02))])


def _l2_penalty(weights):
    kernels = [w for w in weights if w.ndim == 2]
    return 0.05 * np.sum(np.square(kernels[0], dtype=np.float64)) + 0.02 * np.sum(np.square(kernels[1], dtype=np.float64))


def test_l2_regularizer_training_loss_includes_penalty():
    rng = np.random.default_rng(11)
    ours, theirs, weights = twins(_regularized_net, rng)
    x, y = dense_input(rng), rng.normal(size=(32, 3)).astype(np.float32)
    for lib, model in [(fastdnn, ours), (keras, theirs)]:
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
    data_loss = float(np.mean(np.square(theirs.predict(x, verbose=0) - y)))
    penalty = _l2_penalty(weights)
    assert penalty > 0.1 * data_loss  # the penalty is a visible part of the loss
    got, want = ours.train_on_batch(x, y), theirs.train_on_batch(x, y)
    # Keras: compiled loss + Σ regularization losses (its torch backend rounds the compiled
    # loss to float32 in divide_no_nan — torch.where with a Python 0 — hence u, not 1e-16)
    assert abs(want - (data_loss + penalty)) < U * want
    assert_within(got, want, FORWARD_RTOL * (abs(want) + 1.0), "regularized training loss")


def test_l2_regularizer_step_matches_keras():
    rng = np.random.default_rng(12)
    batches = [(dense_input(rng), rng.normal(size=(32, 3)).astype(np.float32))]
    check_training_parity(_regularized_net, "SGD", {"learning_rate": 0.1}, "mse", batches, seed=13,
                          what="L2-regularized SGD step")


def test_l2_regularizer_in_evaluate_loss():
    # Keras 3's test_step calls the same compute_loss, which adds the regularization losses
    rng = np.random.default_rng(14)
    ours, theirs, weights = twins(_regularized_net, rng)
    x, y = dense_input(rng), rng.normal(size=(32, 3)).astype(np.float32)
    for lib, model in [(fastdnn, ours), (keras, theirs)]:
        model.compile(optimizer="sgd", loss="mse")
    got, want = ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0)
    assert want > _l2_penalty(weights)
    assert_within(got, want, FORWARD_RTOL * (abs(want) + 1.0), "regularized evaluate loss")

"""Constraints against real Keras 3 (torch backend, float64): the same network with the same
constraints and weights, a few SGD steps in both, and every weight compared (within 1e-4).

Keras projects each trainable variable after apply_gradients (variable.assign(constraint(variable))),
fastdnn in the engine after optimizer.step; the skip logic follows tests/test_keras_parity.py.
"""

import numpy as np
import pytest

import fastdnn
from keras_reference import keras, keras_float64, TORCH_PYTREE_WARNING  # noqa: F401 (the fixture)

pytestmark = TORCH_PYTREE_WARNING

# A few float32 SGD steps on O(1) weights differ from float64 by ~1e-6; the projections add one
# float32 rounding each. 1e-4 is the bar and ≥ 10× that error; the constraints themselves
# move the weights by O(0.1-1) (asserted), so a missing or wrong projection cannot pass.
ATOL = 1e-4


def build(lib, kind, settings):
    C = getattr(lib.constraints, kind)
    L = lib.layers
    return lib.Sequential([
        lib.Input(shape=(6,)),
        L.Dense(5, kernel_constraint=C(**settings.get("kernel", {})), bias_constraint=C(**settings.get("bias", {}))),
        L.BatchNormalization(gamma_constraint=C(**settings.get("vector", {})),
                             beta_constraint=None if settings.get("free_beta") else C(**settings.get("vector", {}))),
        L.PReLU(alpha_constraint=C(**settings.get("vector", {}))),
        L.Dense(3),
    ])


CASES = {
    "MaxNorm": ("MaxNorm", {"kernel": {"max_value": 0.5}, "bias": {"max_value": 0.3}, "vector": {"max_value": 0.8}}),
    "MaxNorm_axis_1": ("MaxNorm", {"kernel": {"max_value": 0.5, "axis": 1}, "bias": {"max_value": 0.3},
                                   "vector": {"max_value": 0.8, "axis": -1}}),
    "MaxNorm_axis_all": ("MaxNorm", {"kernel": {"max_value": 1.0, "axis": [0, 1]}}),
    # NonNeg on both γ and β of a feature can zero them both, and then PReLU sees exactly 0 at its
    # kink, where Keras' derivative (relu(x) − α·relu(−x) under torch: 0) and fastdnn's (α) differ:
    # not a constraint matter, so β stays free here.
    "NonNeg": ("NonNeg", {"free_beta": True}),
    "UnitNorm": ("UnitNorm", {}),
    "UnitNorm_axis_-1": ("UnitNorm", {"kernel": {"axis": -1}}),
    "MinMaxNorm": ("MinMaxNorm", {"kernel": {"min_value": 0.6, "max_value": 0.9, "rate": 0.5},
                                  "bias": {"min_value": 0.4, "max_value": 0.5},
                                  "vector": {"min_value": 0.9, "max_value": 1.1, "rate": 0.8}}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_weights_after_sgd_steps_with_constraints_match_keras(case):
    kind, settings = CASES[case]
    rng = np.random.default_rng(20)
    ours, theirs = build(fastdnn, kind, settings), build(keras, kind, settings)
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    weights = [rng.normal(0.0, 1.0, w.shape).astype(np.float32) for w in ours.weights]
    weights[4] = np.zeros(5, np.float32)  # moving mean and variance (not trained)
    weights[5] = np.ones(5, np.float32)
    ours.set_weights(weights)
    theirs.set_weights(weights)
    for model in (ours, theirs):
        model.compile(optimizer=model is ours and fastdnn.optimizers.SGD(0.05) or keras.optimizers.SGD(0.05),
                      loss="mean_squared_error")
    for _ in range(3):
        x = rng.normal(size=(16, 6)).astype(np.float32)
        y = rng.normal(size=(16, 3)).astype(np.float32)
        ours.train_on_batch(x, y)
        theirs.train_on_batch(x, y)
    for w, got, want, start in zip(ours.weights, ours.get_weights(), theirs.get_weights(), weights):
        np.testing.assert_allclose(got, want, rtol=0, atol=ATOL, err_msg=f"{case}: {w.path}")
    moved = max(np.abs(want - start).max() for want, start in zip(theirs.get_weights(), weights))
    assert moved > 0.1, f"{case}: the weights hardly moved; the comparison would be vacuous"


# --- LayerNormalization -------------------------------------------------------------------------

LN_CASES = {
    "MaxNorm": ({}, "MaxNorm", {"max_value": 0.8}, {"max_value": 0.3}),
    "NonNeg": ({}, "NonNeg", {}, {}),
    "UnitNorm": ({}, "UnitNorm", {}, {}),
    "MinMaxNorm": ({}, "MinMaxNorm", {"min_value": 0.9, "max_value": 1.1, "rate": 0.8},
                   {"min_value": 0.4, "max_value": 0.5}),
    # Keras' deprecated mode has gamma only; beta_constraint is kept but has no weight to act on.
    "rms_scaling": ({"rms_scaling": True}, "MaxNorm", {"max_value": 0.8}, {"max_value": 0.3}),
}


def build_layer_norm(lib, case):
    options, kind, gamma, beta = LN_CASES[case]
    C = getattr(lib.constraints, kind)
    return lib.Sequential([
        lib.Input(shape=(6,)),
        lib.layers.Dense(5, activation="tanh"),
        lib.layers.LayerNormalization(gamma_constraint=C(**gamma), beta_constraint=C(**beta), **options),
        lib.layers.Dense(3),
    ])


@pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`:UserWarning")
@pytest.mark.parametrize("case", sorted(LN_CASES))
def test_layer_normalization_weights_after_sgd_steps_with_constraints_match_keras(case):
    rng = np.random.default_rng(21)
    ours, theirs = build_layer_norm(fastdnn, case), build_layer_norm(keras, case)
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    # γ and β start at N(0, 1), so every constraint here moves them by O(0.1-1) at the first step.
    weights = [rng.normal(0.0, 1.0, w.shape).astype(np.float32) for w in ours.weights]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    ours.compile(optimizer=fastdnn.optimizers.SGD(0.05), loss="mean_squared_error")
    theirs.compile(optimizer=keras.optimizers.SGD(0.05), loss="mean_squared_error")
    for _ in range(3):
        x = rng.normal(size=(16, 6)).astype(np.float32)
        y = rng.normal(size=(16, 3)).astype(np.float32)
        ours.train_on_batch(x, y)
        theirs.train_on_batch(x, y)
    for w, got, want in zip(ours.weights, ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(got, want, rtol=0, atol=ATOL, err_msg=f"{case}: {w.path}")
    normalized = [(w, start) for w, start in zip(theirs.weights, weights) if w.name in ("gamma", "beta")]
    moved = max(np.abs(keras.ops.convert_to_numpy(w.value) - start).max() for w, start in normalized)
    assert moved > 0.1, f"{case}: gamma/beta hardly moved; the comparison would be vacuous"

"""keras.constraints: the engine's kernels against NumPy float64, the Python API, and the
projection applied inside fit after every optimizer step."""

import numpy as np
import pytest

import fastdnn as keras
from fastdnn import _core, constraints, layers

import reference_constraints as ref

U = 2.0 ** -24  # float32 unit roundoff

# The kernel forms ν and the factor d/(ε + ν) in double, then rounds w·factor to float32 once:
# |kernel − reference| ≤ u·|reference| (plus ~1e-16 relative from the double arithmetic).
KERNEL_RTOL = 2 * U


def random_matrix(rng, rows, cols, scale=1.0):
    return (rng.normal(size=(rows, cols)) * scale).astype(np.float32)


# --- kernels ---------------------------------------------------------------------------------

def test_non_neg_kernel_zeroes_the_negative_weights_only():
    w = random_matrix(np.random.default_rng(0), 7, 5)
    np.testing.assert_array_equal(_core.kernels.non_neg_constraint(w), ref.non_neg(w))


NORM_SETTINGS = {
    "max_norm": (0.0, 1.5, 1.0),
    "unit_norm": (1.0, 1.0, 1.0),
    "min_max_norm": (0.8, 1.2, 1.0),
    "min_max_norm_rate_0.3": (0.8, 1.2, 0.3),
}


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("setting", sorted(NORM_SETTINGS))
def test_min_max_norm_kernel_matches_reference(setting, axis):
    min_value, max_value, rate = NORM_SETTINGS[setting]
    rng = np.random.default_rng(1)
    w = random_matrix(rng, 9, 6, scale=0.5)
    w[:, 2] *= 8.0  # norms on both sides of the bounds
    w[4, :] *= 8.0
    got = _core.kernels.min_max_norm_constraint(w, axis, min_value, max_value, rate)
    want = ref.min_max_norm(w, min_value, max_value, rate, axis)
    np.testing.assert_allclose(got, want, rtol=KERNEL_RTOL, atol=1e-30)


def test_min_max_norm_kernel_leaves_an_all_zero_column_zero():
    w = random_matrix(np.random.default_rng(2), 4, 3)
    w[:, 1] = 0.0
    got = _core.kernels.min_max_norm_constraint(w, 0, 1.0, 1.0, 1.0)
    assert np.all(got[:, 1] == 0.0) and np.all(np.isfinite(got))


@pytest.mark.parametrize("kwargs, message", [
    ({"axis": 2}, "axis"), ({"rate": 1.5}, "rate"), ({"max_value": -1.0}, "max_value"),
    ({"min_value": 2.0, "max_value": 1.0}, "min_value"),
])
def test_min_max_norm_kernel_refuses_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _core.kernels.min_max_norm_constraint(np.ones((2, 2), np.float32), **kwargs)


# --- the Python objects ----------------------------------------------------------------------

CASES = [
    (constraints.MaxNorm(max_value=0.7), lambda w: ref.max_norm(w, 0.7, 0)),
    (constraints.MaxNorm(max_value=0.7, axis=-1), lambda w: ref.max_norm(w, 0.7, 1)),
    (constraints.MaxNorm(max_value=2.5, axis=[0, 1]), lambda w: ref.max_norm(w, 2.5, (0, 1))),
    (constraints.NonNeg(), ref.non_neg),
    (constraints.UnitNorm(), lambda w: ref.unit_norm(w, 0)),
    (constraints.UnitNorm(axis=1), lambda w: ref.unit_norm(w, 1)),
    (constraints.MinMaxNorm(0.5, 0.9, rate=0.4), lambda w: ref.min_max_norm(w, 0.5, 0.9, 0.4, 0)),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_calling_a_constraint_on_numpy_applies_keras_formula(case):
    constraint, reference = CASES[case]
    w = np.random.default_rng(3).normal(size=(6, 4))
    np.testing.assert_allclose(constraint(w), reference(w), rtol=1e-12, atol=1e-15)


def test_snake_case_names_are_the_classes():
    assert (constraints.max_norm, constraints.non_neg, constraints.unit_norm, constraints.min_max_norm) == (
        constraints.MaxNorm, constraints.NonNeg, constraints.UnitNorm, constraints.MinMaxNorm)


@pytest.mark.parametrize("name, cls", [("max_norm", constraints.MaxNorm), ("MaxNorm", constraints.MaxNorm),
                                       ("non_neg", constraints.NonNeg), ("unit_norm", constraints.UnitNorm),
                                       ("min_max_norm", constraints.MinMaxNorm)])
def test_get_by_name_gives_an_instance_with_keras_defaults(name, cls):
    got = constraints.get(name)
    assert type(got) is cls and got.get_config() == cls().get_config()


def test_keras_defaults():
    assert constraints.MaxNorm().get_config() == {"max_value": 2, "axis": 0}
    assert constraints.MinMaxNorm().get_config() == {"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0}
    assert constraints.UnitNorm().get_config() == {"axis": 0}


def test_get_refuses_an_unknown_name():
    with pytest.raises(ValueError, match="max_normm"):
        constraints.get("max_normm")


@pytest.mark.parametrize("constraint", [c for c, _ in CASES])
def test_serialize_and_deserialize_round_trip(constraint):
    config = constraints.serialize(constraint)
    assert config["module"] == "keras.constraints" and config["class_name"] == type(constraint).__name__
    again = constraints.deserialize(config)
    assert type(again) is type(constraint) and again.get_config() == constraint.get_config()


@pytest.mark.parametrize("make, message", [
    (lambda: constraints.MaxNorm(max_value=-1.0), "max_value"),
    (lambda: constraints.MinMaxNorm(rate=1.5), "rate"),
    (lambda: constraints.MinMaxNorm(rate=-0.1), "rate"),
    (lambda: constraints.MinMaxNorm(min_value=2.0, max_value=1.0), "min_value <= max_value"),
    (lambda: constraints.MinMaxNorm(min_value=-1.0), "min_value"),
    (lambda: constraints.UnitNorm(axis="rows"), "axis"),
    (lambda: constraints.MaxNorm(max_value=float("nan")), "max_value"),
])
def test_bad_settings_raise_naming_the_argument(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("make", [
    lambda: layers.Dense(3, kernel_constraint=constraints.MaxNorm(axis=2)),
    lambda: layers.Dense(3, kernel_constraint=constraints.MaxNorm(axis=[0, -3])),
    lambda: layers.Dense(3, bias_constraint=constraints.UnitNorm(axis=1)),
    lambda: layers.BatchNormalization(gamma_constraint=constraints.MaxNorm(axis=-2)),
    lambda: layers.PReLU(alpha_constraint=constraints.MinMaxNorm(axis=1)),
    lambda: layers.LayerNormalization(gamma_constraint=constraints.UnitNorm(axis=1)),
    lambda: layers.LayerNormalization(beta_constraint=constraints.MaxNorm(axis=[0, 1])),
])
def test_an_axis_outside_the_weight_raises(make):
    with pytest.raises(ValueError, match="axis .* out of range"):
        make()


class ClipAtOne(constraints.Constraint):
    def __call__(self, w):
        return np.minimum(w, 1.0)


def test_a_custom_constraint_class_is_refused_by_name():
    with pytest.raises(ValueError, match="ClipAtOne"):
        layers.Dense(3, kernel_constraint=ClipAtOne())


def test_a_plain_function_as_constraint_is_refused_by_name():
    def clip_at_one(w):
        return np.minimum(w, 1.0)

    with pytest.raises(ValueError, match="clip_at_one"):
        layers.Dense(3, bias_constraint=clip_at_one)


# --- inside fit -------------------------------------------------------------------------------

def regression_data(rng, n=64, width=6, units=4):
    return rng.normal(size=(n, width)).astype(np.float32), rng.normal(size=(n, units)).astype(np.float32) * 5


def test_after_fit_every_kernel_column_norm_is_at_most_max_value():
    rng = np.random.default_rng(4)
    x, y = regression_data(rng)
    model = keras.Sequential([layers.Input(shape=(6,)), layers.Dense(4, kernel_constraint=constraints.MaxNorm(0.5))])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.layers[0].kernel.assign(random_matrix(rng, 6, 4, scale=3.0))  # norms ≈ 7, far above 0.5
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert np.all(np.linalg.norm(model.layers[0].kernel.numpy(), axis=0) <= 0.5 * (1 + 8 * U))


def test_after_fit_every_row_norm_is_at_most_max_value_with_axis_1():
    rng = np.random.default_rng(5)
    x, y = regression_data(rng)
    model = keras.Sequential([layers.Input(shape=(6,)),
                              layers.Dense(4, kernel_constraint=constraints.MaxNorm(0.5, axis=1))])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.layers[0].kernel.assign(random_matrix(rng, 6, 4, scale=3.0))
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert np.all(np.linalg.norm(model.layers[0].kernel.numpy(), axis=1) <= 0.5 * (1 + 8 * U))


def test_after_fit_every_weight_is_non_negative_with_non_neg():
    rng = np.random.default_rng(6)
    x, y = regression_data(rng)
    model = keras.Sequential([layers.Input(shape=(6,)),
                              layers.Dense(4, kernel_constraint="non_neg", bias_constraint="non_neg")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    kernel, bias = model.layers[0].get_weights()
    assert kernel.min() >= 0.0 and bias.min() >= 0.0


def _net(constraint_args):
    return keras.Sequential([layers.Input(shape=(6,)), layers.Dense(5, **constraint_args.get("dense", {})),
                             layers.BatchNormalization(**constraint_args.get("bn", {})),
                             layers.PReLU(**constraint_args.get("prelu", {})), layers.Dense(3)])


ONE_WEIGHT = {
    "kernel": ("dense", "kernel_constraint", 0, constraints.MaxNorm(0.4)),
    "kernel_axis_all": ("dense", "kernel_constraint", 0, constraints.MaxNorm(1.0, axis=[0, 1])),
    "bias": ("dense", "bias_constraint", 1, constraints.NonNeg()),
    "gamma": ("bn", "gamma_constraint", 2, constraints.UnitNorm()),
    "beta": ("bn", "beta_constraint", 3, constraints.MinMaxNorm(0.5, 0.6, rate=0.5)),
    "alpha": ("prelu", "alpha_constraint", 6, constraints.MaxNorm(0.1)),
}


@pytest.mark.parametrize("weight", sorted(ONE_WEIGHT))
def test_the_engine_projects_the_weight_after_the_step(weight):
    # One SGD step with the constraint equals the same step without it, then the NumPy formula.
    layer, argument, index, constraint = ONE_WEIGHT[weight]
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(16, 6)).astype(np.float32), rng.normal(size=(16, 3)).astype(np.float32)
    constrained, free = _net({layer: {argument: constraint}}), _net({})
    weights = [rng.normal(size=w.shape).astype(np.float32) for w in free.weights]
    weights[4], weights[5] = np.zeros(5, np.float32), np.ones(5, np.float32)  # moving statistics
    for model in (constrained, free):
        model.set_weights(weights)
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        model.train_on_batch(x, y)
    stepped = free.get_weights()[index]
    want = constraint(stepped.astype(np.float64))
    assert not np.allclose(want, stepped, atol=1e-3), "the constraint must change the weight for this test to say anything"
    np.testing.assert_allclose(constrained.get_weights()[index], want, rtol=4 * U, atol=1e-7)


def test_a_frozen_layer_is_not_projected():
    # Keras constrains only the variables the optimizer updates.
    rng = np.random.default_rng(8)
    x, y = regression_data(rng)
    model = keras.Sequential([layers.Input(shape=(6,)), layers.Dense(4, kernel_constraint=constraints.MaxNorm(0.5)),
                              layers.Dense(4)])
    kernel = random_matrix(rng, 6, 4, scale=3.0)
    model.layers[0].kernel.assign(kernel)
    model.layers[0].trainable = False
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), kernel)


def test_the_base_constraint_is_the_identity_in_the_engine():
    rng = np.random.default_rng(9)
    x, y = regression_data(rng)
    models = [keras.Sequential([layers.Input(shape=(6,)), layers.Dense(4, **kwargs)])
              for kwargs in ({"kernel_constraint": constraints.Constraint()}, {})]
    weights = models[1].get_weights()
    for model in models:
        model.set_weights(weights)
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        model.train_on_batch(x, y)
    np.testing.assert_array_equal(models[0].get_weights()[0], models[1].get_weights()[0])


# --- configs and files -------------------------------------------------------------------------

def test_layer_configs_keep_the_constraints():
    model = _net({"dense": {"kernel_constraint": constraints.MaxNorm(3, axis=1), "bias_constraint": "non_neg"},
                  "bn": {"gamma_constraint": "unit_norm", "beta_constraint": constraints.MinMaxNorm(0.1, 0.2)},
                  "prelu": {"alpha_constraint": constraints.NonNeg()}})
    again = keras.Sequential.from_config(model.get_config())
    assert again.get_config() == model.get_config()
    assert again.layers[0].kernel_constraint.get_config() == {"max_value": 3, "axis": 1}
    assert type(again.layers[2].alpha_constraint) is constraints.NonNeg


def test_a_saved_model_keeps_applying_its_constraints(tmp_path):
    rng = np.random.default_rng(10)
    x, y = regression_data(rng)
    model = keras.Sequential([layers.Input(shape=(6,)), layers.Dense(4, kernel_constraint=constraints.MaxNorm(0.5))])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.save(tmp_path / "model.fdnn")
    loaded = keras.models.load_model(tmp_path / "model.fdnn")
    assert loaded.layers[0].kernel_constraint.get_config() == {"max_value": 0.5, "axis": 0}
    loaded.layers[0].kernel.assign(random_matrix(rng, 6, 4, scale=3.0))
    loaded.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert np.all(np.linalg.norm(loaded.layers[0].kernel.numpy(), axis=0) <= 0.5 * (1 + 8 * U))


# --- LayerNormalization ------------------------------------------------------------------------

def _layer_norm_net(**constraint_args):
    return keras.Sequential([layers.Input(shape=(6,)), layers.Dense(5, activation="tanh"),
                             layers.LayerNormalization(**constraint_args), layers.Dense(4)])


def test_after_fit_layer_normalization_gamma_is_non_negative_and_beta_within_max_norm():
    rng = np.random.default_rng(11)
    x, y = regression_data(rng)
    model = _layer_norm_net(gamma_constraint="non_neg", beta_constraint=constraints.MaxNorm(0.3))
    layer = model.layers[1]
    layer.gamma.assign(-np.abs(rng.normal(size=5)).astype(np.float32) - 0.5)  # all < 0 before fit
    layer.beta.assign(rng.normal(size=5).astype(np.float32) * 3)  # norm ≈ 7, far above 0.3
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert layer.gamma.numpy().min() >= 0.0
    assert np.linalg.norm(layer.beta.numpy()) <= 0.3 * (1 + 8 * U)


@pytest.mark.parametrize("weight, constraint", [("gamma", constraints.UnitNorm()),
                                                ("beta", constraints.MinMaxNorm(0.5, 0.6, rate=0.5))])
def test_the_engine_projects_layer_normalization_weights_after_the_step(weight, constraint):
    # One SGD step with the constraint equals the same step without it, then the NumPy formula.
    rng = np.random.default_rng(12)
    x, y = rng.normal(size=(16, 6)).astype(np.float32), rng.normal(size=(16, 4)).astype(np.float32)
    constrained, free = _layer_norm_net(**{f"{weight}_constraint": constraint}), _layer_norm_net()
    weights = [rng.normal(size=w.shape).astype(np.float32) for w in free.weights]
    for model in (constrained, free):
        model.set_weights(weights)
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        model.train_on_batch(x, y)
    index = [w.name for w in free.weights].index(weight)
    stepped = free.get_weights()[index]
    want = constraint(stepped.astype(np.float64))
    assert not np.allclose(want, stepped, atol=1e-3), "the constraint must change the weight for this test to say anything"
    np.testing.assert_allclose(constrained.get_weights()[index], want, rtol=4 * U, atol=1e-7)


def test_layer_normalization_config_keeps_its_constraints():
    layer = layers.LayerNormalization(gamma_constraint=constraints.MaxNorm(1.5), beta_constraint="non_neg")
    config = layer.get_config()
    assert config["gamma_constraint"]["class_name"] == "MaxNorm" and config["beta_constraint"]["class_name"] == "NonNeg"
    again = layers.LayerNormalization.from_config(config)
    assert again.get_config() == config
    assert again.gamma_constraint.get_config() == {"max_value": 1.5, "axis": 0}
    assert type(again.beta_constraint) is constraints.NonNeg


def test_a_saved_layer_normalization_keeps_applying_its_constraints(tmp_path):
    rng = np.random.default_rng(13)
    x, y = regression_data(rng)
    model = _layer_norm_net(gamma_constraint=constraints.MaxNorm(0.5), beta_constraint="non_neg")
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.save(tmp_path / "model.fdnn")
    loaded = keras.models.load_model(tmp_path / "model.fdnn")
    layer = loaded.layers[1]
    assert layer.get_config() == model.layers[1].get_config()
    layer.gamma.assign(np.full(5, 3.0, np.float32))  # norm ≈ 6.7, far above 0.5
    layer.beta.assign(-np.ones(5, np.float32))
    loaded.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert np.linalg.norm(layer.gamma.numpy()) <= 0.5 * (1 + 8 * U)
    assert layer.beta.numpy().min() >= 0.0


# --- the binding boundary ----------------------------------------------------------------------

@pytest.mark.parametrize("op, message", [
    ({"kind": "dense", "units": 2, "kernel_constraint": {"kind": "max_norm", "max_value": -1.0}}, "max_value"),
    ({"kind": "dense", "units": 2, "kernel_constraint": {"kind": "clip"}}, "unknown constraint 'clip'"),
    ({"kind": "dense", "units": 2, "bias_constraint": {"kind": "unit_norm", "axis": 1}}, "axis"),
    ({"kind": "dense", "units": 2, "kernel_constraint": {"kind": "min_max_norm", "rate": 2.0}}, "rate"),
    ({"kind": "dense", "units": 2, "kernel_constraint": {"kind": "non_neg", "axis": 0}}, "unknown setting"),
    ({"kind": "prelu", "alpha_constraint": "non_neg"}, "must be a dict"),
    ({"kind": "layer_normalization", "gamma_constraint": {"kind": "unit_norm", "axis": 1}}, "axis"),
    ({"kind": "layer_normalization", "beta_constraint": {"kind": "max_norm", "max_value": -1.0}}, "max_value"),
])
def test_the_engine_refuses_a_bad_constraint_description(op, message):
    with pytest.raises((ValueError, TypeError), match=message):
        _core.Network(3, [op], {"kind": "mean_squared_error"}, {"kind": "sgd"})

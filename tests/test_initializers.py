"""Initializers (keras.initializers) against their formulas.

Statistical tolerances: a sample of n = 10⁶ values has standard error σ/√n = σ/1000
on its mean and σ·√((κ−1)/(4n)) ≤ σ/1414 on its std (κ ≤ 3 for every distribution
here), so "4 standard errors" is 0.004σ on the mean and 0.003σ on the std: a correct
initializer fails such a check with probability ~1e-4.
"""

import math
import re

import numpy as np
import pytest

from fastdnn import _random
from fastdnn import initializers

N = 10**6
SHAPE = (500, 2000)  # 10⁶ values; fan_in 500, fan_out 2000, fan_avg 1250 tell the modes apart
TRUNC_STD = 0.87962566103423978  # std of N(0, 1) truncated to [-2, 2]


@pytest.fixture(autouse=True)
def seeded_global_generator(monkeypatch):
    """Each test starts from a fixed global generator (so the ~50 statistical checks, each failing
    a correct initializer with probability ~1e-4, cannot flake) and leaves the original in place."""
    monkeypatch.setattr(_random, "_generator", np.random.default_rng(20240601))


def assert_moments(x, mean, std):
    se_mean, se_std = std / math.sqrt(x.size), std / math.sqrt(x.size / 2)
    assert abs(x.mean(dtype=np.float64) - mean) < 4 * se_mean
    assert abs(x.std(dtype=np.float64) - std) < 4 * se_std


# --- compute_fans ---------------------------------------------------------------------
def test_fans_of_dense_kernel_are_its_rows_and_columns():
    assert initializers.compute_fans((3, 5)) == (3, 5)


def test_fans_of_vector_are_its_length():
    assert initializers.compute_fans((7,)) == (7, 7)


def test_fans_of_scalar_are_one():
    assert initializers.compute_fans(()) == (1, 1)


def test_fans_of_conv_kernel_include_receptive_field():
    assert initializers.compute_fans((3, 3, 4, 8)) == (36, 72)


# --- constant initializers --------------------------------------------------------------
def test_zeros_ones_and_constant_fill_float32_arrays():
    for init, value in [(initializers.Zeros(), 0.0), (initializers.Ones(), 1.0), (initializers.Constant(2.5), 2.5)]:
        x = init((2, 3))
        assert x.dtype == np.float32 and x.shape == (2, 3)
        assert np.all(x == value)


def test_dtype_argument_is_honoured():
    assert initializers.GlorotUniform()((4, 4), dtype="float64").dtype == np.float64


def test_identity_is_gain_times_eye():
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((2, 3)), 3.0 * np.eye(2, 3, dtype=np.float32))


def test_identity_refuses_non_matrix_shapes():
    with pytest.raises(ValueError, match="2D matrices"):
        initializers.Identity()((3,))


# --- random initializers: distributions -------------------------------------------------
def test_random_normal_has_requested_mean_and_std():
    x = initializers.RandomNormal(mean=1.0, stddev=0.5)(SHAPE)
    assert x.dtype == np.float32
    assert_moments(x, 1.0, 0.5)


def test_random_uniform_stays_in_bounds_with_uniform_moments():
    x = initializers.RandomUniform(minval=-1.0, maxval=3.0)(SHAPE)
    assert x.min() >= -1.0 and x.max() <= 3.0
    assert_moments(x, 1.0, 4.0 / math.sqrt(12))


def test_truncated_normal_redraws_beyond_two_stddev():
    x = initializers.TruncatedNormal(mean=1.0, stddev=0.5)(SHAPE)
    assert x.min() >= 1.0 - 1.0 and x.max() <= 1.0 + 1.0
    # Without redrawing, 4.6% of the values would lie beyond 2σ; redrawn, the tails are filled
    # right up to the bound (a 10⁻³-wide strip at each end holds ~100 values).
    assert (x > 1.999).any() and (x < 0.001).any()
    assert_moments(x, 1.0, 0.5 * TRUNC_STD)


@pytest.mark.parametrize("cls, scale, fan", [
    (initializers.GlorotUniform, 1.0, 1250),
    (initializers.HeUniform, 2.0, 500),
    (initializers.LecunUniform, 1.0, 500),
])
def test_uniform_variance_scaling_presets_have_limit_sqrt_3_scale_over_n(cls, scale, fan):
    limit = math.sqrt(3.0 * scale / fan)
    x = cls()(SHAPE)
    assert np.abs(x).max() <= limit * (1 + 1e-7)  # float32 rounding of a value just below the limit
    assert np.abs(x).max() > limit * (1 - 1e-4)  # P(no value that close to the edge) = e^(-100)
    assert_moments(x, 0.0, limit / math.sqrt(3))


@pytest.mark.parametrize("cls, scale, fan", [
    (initializers.GlorotNormal, 1.0, 1250),
    (initializers.HeNormal, 2.0, 500),
    (initializers.LecunNormal, 1.0, 500),
])
def test_normal_variance_scaling_presets_are_truncated_with_std_sqrt_scale_over_n(cls, scale, fan):
    std = math.sqrt(scale / fan)
    bound = 2 * std / TRUNC_STD
    x = cls()(SHAPE)
    assert np.abs(x).max() <= bound * (1 + 1e-7)
    assert np.abs(x).max() > bound * 0.999
    assert_moments(x, 0.0, std)


@pytest.mark.parametrize("mode, n", [("fan_in", 500), ("fan_out", 2000), ("fan_avg", 1250)])
def test_variance_scaling_mode_chooses_n(mode, n):
    x = initializers.VarianceScaling(scale=3.0, mode=mode, distribution="untruncated_normal")(SHAPE)
    assert_moments(x, 0.0, math.sqrt(3.0 / n))


def test_variance_scaling_untruncated_normal_has_tails_beyond_two_stddev():
    x = initializers.VarianceScaling(distribution="untruncated_normal")(SHAPE)
    assert abs((np.abs(x) > 2 * math.sqrt(1 / 500)).mean() - 0.0455) < 0.002  # SE of that fraction is 2e-4


def test_variance_scaling_accepts_normal_as_truncated_normal():
    assert initializers.VarianceScaling(distribution="Normal").distribution == "truncated_normal"


def test_variance_scaling_treats_fans_below_one_as_one():
    x = initializers.VarianceScaling(scale=1.0, mode="fan_in", distribution="uniform")((0, 5))
    assert x.shape == (0, 5)
    assert initializers.VarianceScaling(distribution="uniform")(()).shape == ()


@pytest.mark.parametrize("kwargs, message", [
    ({"scale": 0.0}, "Argument `scale` must be positive float. Received: scale=0.0"),
    ({"mode": "fan_mean"}, "Invalid `mode` argument: fan_mean"),
    ({"distribution": "gamma"}, "Invalid `distribution` argument: gamma"),
])
def test_variance_scaling_validates_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        initializers.VarianceScaling(**kwargs)


@pytest.mark.parametrize("shape", [(6, 3), (3, 6)])
def test_orthogonal_has_orthonormal_columns_or_rows(shape):
    q = initializers.Orthogonal(gain=2.0)(shape).astype(np.float64) / 2.0
    small = min(shape)
    gram = q.T @ q if shape[0] >= shape[1] else q @ q.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-6)


def test_orthogonal_refuses_vectors():
    with pytest.raises(ValueError, match="at least two-dimensional"):
        initializers.Orthogonal()((4,))


# --- randomness ---------------------------------------------------------------------
def test_seeded_initializer_repeats_its_values():
    init = initializers.HeNormal(seed=7)
    np.testing.assert_array_equal(init((20, 30)), init((20, 30)))
    np.testing.assert_array_equal(init((20, 30)), initializers.HeNormal(seed=7)((20, 30)))


def test_different_seeds_give_different_values():
    assert not np.array_equal(initializers.RandomNormal(seed=1)((10,)), initializers.RandomNormal(seed=2)((10,)))


def test_unseeded_initializer_gives_new_values_on_each_call():
    init = initializers.GlorotUniform()
    assert not np.array_equal(init((20, 30)), init((20, 30)))


def test_set_seed_makes_unseeded_initializers_reproducible():
    _random.set_seed(123)
    first = [initializers.GlorotUniform()((20, 30)), initializers.TruncatedNormal()((5,))]
    _random.set_seed(123)
    second = [initializers.GlorotUniform()((20, 30)), initializers.TruncatedNormal()((5,))]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_seeded_initializer_leaves_global_generator_alone():
    _random.set_seed(5)
    expected = _random.generator().random()
    _random.set_seed(5)
    initializers.GlorotUniform(seed=1)((10, 10))
    assert _random.generator().random() == expected


def test_seed_must_be_an_integer():
    with pytest.raises(ValueError, match="seed"):
        initializers.RandomNormal(seed="7")


# --- get / serialize / deserialize --------------------------------------------------------
@pytest.mark.parametrize("name, cls", [
    ("glorot_uniform", initializers.GlorotUniform), ("GlorotUniform", initializers.GlorotUniform),
    ("he_normal", initializers.HeNormal), ("lecun_uniform", initializers.LecunUniform),
    ("zeros", initializers.Zeros), ("Ones", initializers.Ones), ("one", initializers.Ones),
    ("uniform", initializers.RandomUniform), ("normal", initializers.RandomNormal),
    ("truncated_normal", initializers.TruncatedNormal), ("variance_scaling", initializers.VarianceScaling),
    ("orthogonal", initializers.Orthogonal), ("identity", initializers.Identity),
])
def test_get_resolves_keras_names(name, cls):
    assert type(initializers.get(name)) is cls


def test_get_of_unknown_name_lists_known_names():
    with pytest.raises(ValueError, match="glorot_uniform"):
        initializers.get("glorot_uniformm")


def test_get_passes_none_instances_and_functions_through_and_instantiates_classes():
    init = initializers.HeUniform(seed=3)

    def custom(shape, dtype=None):
        return np.full(shape, 0.5, dtype=np.float32)

    assert initializers.get(None) is None
    assert initializers.get(init) is init
    assert initializers.get(custom) is custom
    assert type(initializers.get(initializers.LecunNormal)) is initializers.LecunNormal


def test_lowercase_aliases_are_the_classes():
    assert initializers.glorot_uniform is initializers.GlorotUniform
    assert initializers.he_normal is initializers.HeNormal
    assert initializers.random_normal is initializers.RandomNormal


def test_serialize_uses_keras_3_format():
    assert initializers.serialize(initializers.GlorotUniform(seed=3)) == {
        "module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": 3}, "registered_name": None,
    }


@pytest.mark.parametrize("init", [
    initializers.Zeros(), initializers.Constant(0.25), initializers.Identity(gain=2.0),
    initializers.RandomNormal(mean=0.5, stddev=2.0, seed=1), initializers.RandomUniform(-2.0, 1.0, seed=1),
    initializers.TruncatedNormal(stddev=0.3, seed=1), initializers.GlorotNormal(seed=4),
    initializers.VarianceScaling(scale=0.5, mode="fan_avg", distribution="uniform", seed=2),
    initializers.Orthogonal(gain=1.5, seed=1),
])
def test_serialize_deserialize_round_trip_gives_same_initializer(init):
    copy = initializers.deserialize(initializers.serialize(init))
    assert type(copy) is type(init) and copy.get_config() == init.get_config()
    np.testing.assert_array_equal(copy((4, 4)), init((4, 4)))


def test_get_accepts_keras_2_style_config_dict():
    init = initializers.get({"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out"}})
    assert (init.scale, init.mode, init.distribution) == (2.0, "fan_out", "truncated_normal")


def test_presets_have_only_seed_in_config():
    assert initializers.HeNormal(seed=1).get_config() == {"seed": 1}

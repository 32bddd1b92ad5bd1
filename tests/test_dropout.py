"""Dropout, AlphaDropout, RReLU and mask_backward.

Random masks can only be checked distributionally (keras-semantics.md 2.2: "only distributional
parity with Keras is achievable"). Statistical checks use 4 standard errors of the statistic for
the sample at hand: for a correct kernel a given seed fails with probability ≈ 6e-5, and the seeds
are fixed, so the tests are deterministic; a wrong keep probability, scale or slope range moves
the statistic by far more than 4 SE at these sample sizes (≥ 1.5e5 draws).
The deterministic parts (y = x·mask, alpha-dropout's affine map) are checked against the reference
to a few u = 2^-24.
"""

import numpy as np
import pytest

import fastdnn
import reference as ref
from fastdnn._core import kernels as K
from helpers import U32, assert_within, f32

BIG = (512, 300)  # 153,600 draws
SHAPES = [(1, 7), (13, 33), BIG]
RATES = [0.1, 0.5, 0.9]


def _x(rng, shape):
    return f32(rng.standard_normal(shape))


# ----------------------------------------------------------------------------------------------
# Dropout
# ----------------------------------------------------------------------------------------------


def _scale_rtol(rate):
    """Relative error of 1/(1−rate) computed in float32: rate rounded to float32 (δ ≤ u·rate) moves
    1 − rate by u·rate/(1−rate) relative (cancellation), then the subtraction and the division
    round once each: (2 + 2·rate/(1−rate))·u with a factor 2 margin on the first term."""
    return (2 + 2 * rate / (1 - rate)) * U32


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("rate", RATES)
def test_dropout_mask_is_zero_or_inverse_keep_probability(shape, rate):
    _, mask = K.dropout_forward(_x(np.random.default_rng(501), shape), rate, seed=3)
    kept = mask != 0
    np.testing.assert_allclose(mask[kept], 1 / (1 - rate), rtol=_scale_rtol(rate), atol=0)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("rate", RATES)
def test_dropout_output_is_input_times_mask(shape, rate):
    x = _x(np.random.default_rng(502), shape)
    y, mask = K.dropout_forward(x, rate, seed=4)
    want = ref.mask_backward(x, mask)  # x·mask with the kernel's own mask, in float64
    assert_within(y, want, U32 * np.abs(want) + 1e-37)  # one correctly rounded product


@pytest.mark.parametrize("rate", RATES)
def test_dropout_keeps_a_fraction_one_minus_rate(rate):
    _, mask = K.dropout_forward(np.ones(BIG), rate, seed=5)
    n = mask.size
    se = np.sqrt(rate * (1 - rate) / n)  # binomial standard error of the kept fraction
    assert abs((mask != 0).mean() - (1 - rate)) < 4 * se


@pytest.mark.parametrize("rate", RATES)
def test_dropout_preserves_the_mean(rate):
    # On x = 1: y ∈ {0, 1/(1−rate)}, E[y] = 1, Var[y] = rate/(1−rate).
    y, _ = K.dropout_forward(np.ones(BIG), rate, seed=6)
    se = np.sqrt(rate / (1 - rate) / y.size)
    assert abs(y.astype(np.float64).mean() - 1.0) < 4 * se


@pytest.mark.parametrize("rate", [0.5, 0.25])
def test_dropout_max_output_on_ones_is_inverse_keep_probability(rate):
    # Keras' dropout_test: mean ≈ 1 and max = 2 at rate 0.5.
    y, _ = K.dropout_forward(np.ones(BIG), rate, seed=7)
    np.testing.assert_allclose(y.max(), 1 / (1 - rate), rtol=_scale_rtol(rate))
    assert y.min() == 0


@pytest.mark.parametrize("rate", [0.5])
def test_dropout_masks_of_different_rows_and_columns_differ(rate):
    # A counter-based generator fed the wrong counter (e.g. the column only) would repeat rows.
    _, mask = K.dropout_forward(np.ones(BIG), rate, seed=8)
    assert len({row.tobytes() for row in mask}) == BIG[0]
    assert len({col.tobytes() for col in mask.T}) == BIG[1]


def test_dropout_keep_decisions_are_uncorrelated_between_neighbours():
    # Lag-1 correlation of keep indicators along rows and down columns: SE ≈ 1/√n.
    _, mask = K.dropout_forward(np.ones(BIG), 0.5, seed=9)
    keep = (mask != 0).astype(np.float64) - 0.5
    for a, b in ((keep[:, 1:], keep[:, :-1]), (keep[1:, :], keep[:-1, :])):
        corr = (a * b).mean() / 0.25
        assert abs(corr) < 4 / np.sqrt(a.size)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_dropout_rate_zero_is_identity(shape):
    x = _x(np.random.default_rng(510), shape)
    y, mask = K.dropout_forward(x, 0.0, seed=10)
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(mask, np.ones(shape, np.float32))


def test_dropout_same_seed_and_stream_give_identical_masks():
    x = np.ones(BIG)
    a = K.dropout_forward(x, 0.3, seed=11, stream=2)
    b = K.dropout_forward(x, 0.3, seed=11, stream=2)
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[0], b[0])


def test_dropout_different_streams_give_different_masks():
    x = np.ones(BIG)
    a = K.dropout_forward(x, 0.3, seed=12, stream=0)[1]
    b = K.dropout_forward(x, 0.3, seed=12, stream=1)[1]
    # independent masks agree on a fraction 0.7² + 0.3² = 0.58 of the entries
    assert abs((a == b).mean() - 0.58) < 4 * np.sqrt(0.58 * 0.42 / a.size)


def test_dropout_different_seeds_give_different_masks():
    x = np.ones(BIG)
    a = K.dropout_forward(x, 0.3, seed=13)[1]
    b = K.dropout_forward(x, 0.3, seed=14)[1]
    assert abs((a == b).mean() - 0.58) < 4 * np.sqrt(0.58 * 0.42 / a.size)


def test_dropout_mask_depends_only_on_seed_stream_and_shape_not_on_values():
    rng = np.random.default_rng(515)
    a = K.dropout_forward(_x(rng, BIG), 0.3, seed=15)[1]
    b = K.dropout_forward(_x(rng, BIG) * 7, 0.3, seed=15)[1]
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("shape", [BIG, (13, 33)], ids=str)
def test_dropout_mask_is_identical_with_one_and_two_threads(shape, restore_threads):
    x = np.ones(shape)
    fastdnn.set_num_threads(1)
    one = K.dropout_forward(x, 0.4, seed=16, stream=3)
    fastdnn.set_num_threads(2)
    two = K.dropout_forward(x, 0.4, seed=16, stream=3)
    np.testing.assert_array_equal(one[1], two[1])
    np.testing.assert_array_equal(one[0], two[0])


@pytest.mark.parametrize("rate", [1.0, 1.5, -0.1, float("nan"), float("inf")])
def test_dropout_rate_outside_zero_one_raises_value_error(rate):
    with pytest.raises(ValueError, match="rate"):
        K.dropout_forward(np.ones((4, 3)), rate)


def test_dropout_with_empty_batch_raises_value_error():
    with pytest.raises(ValueError):
        K.dropout_forward(np.ones((0, 3)), 0.5)


@pytest.mark.parametrize("bad", [np.array([[object()] * 3] * 2), np.full((2, 3), "x")], ids=["object", "str"])
def test_dropout_with_non_numeric_input_raises_type_error(bad):
    with pytest.raises(TypeError):
        K.dropout_forward(bad, 0.5)


def test_dropout_of_float64_input_equals_float32_input():
    x = np.random.default_rng(517).standard_normal((13, 33))
    a = K.dropout_forward(x, 0.3, seed=17)
    b = K.dropout_forward(f32(x), 0.3, seed=17)
    assert a[0].dtype == np.float32
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_dropout_of_non_contiguous_input_equals_contiguous_copy():
    x = _x(np.random.default_rng(518), (13, 66))[:, ::2]
    a = K.dropout_forward(x, 0.3, seed=18)
    b = K.dropout_forward(np.ascontiguousarray(x), 0.3, seed=18)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


# ----------------------------------------------------------------------------------------------
# mask_backward
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_mask_backward_is_dy_times_mask(shape):
    rng = np.random.default_rng(519)
    dy = _x(rng, shape)
    mask = f32(rng.uniform(-2, 2, shape) * (rng.random(shape) < 0.7))
    got = K.mask_backward(dy, mask)
    want = ref.mask_backward(dy, mask)
    assert_within(got, want, U32 * np.abs(want) + 1e-37)  # one correctly rounded product


def test_mask_backward_with_mismatched_shapes_raises_value_error():
    with pytest.raises(ValueError, match="mask"):
        K.mask_backward(np.ones((4, 3)), np.ones((4, 2)))


def test_mask_backward_of_non_contiguous_inputs_equals_contiguous_copies():
    rng = np.random.default_rng(520)
    dy, mask = _x(rng, (13, 66))[:, ::2], _x(rng, (33, 13)).T
    np.testing.assert_array_equal(
        K.mask_backward(dy, mask), K.mask_backward(np.ascontiguousarray(dy), np.ascontiguousarray(mask))
    )


# ----------------------------------------------------------------------------------------------
# AlphaDropout
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("rate", RATES)
def test_alpha_dropout_is_keras_affine_map_given_keep_pattern(shape, rate):
    x = _x(np.random.default_rng(521), shape)
    y, mask = K.alpha_dropout_forward(x, rate, seed=21)
    keep = mask > 0
    want_y, want_mask = ref.alpha_dropout_forward(x, keep, rate)
    alpha_p, a, b = ref.alpha_dropout_constants(rate)
    # y = a·x̃ + b: a handful of roundings, relative to the terms combined (a·x vs b may cancel);
    # a and b themselves come from rate in float32: ~8u, plus rate's rounding amplified by 1 − rate
    # (as for dropout's scale) and by 1 + p·α′² (≤ u·p·α′²/(1 + p·α′²) < u).
    rel = 8 * U32 + _scale_rtol(rate)
    bound = rel * (np.abs(a * x) + abs(a * alpha_p) + abs(b))
    assert_within(y, want_y, bound)
    assert_within(mask, want_mask, rel * a + 1e-37)


@pytest.mark.parametrize("rate", RATES)
def test_alpha_dropout_keeps_a_fraction_one_minus_rate(rate):
    _, mask = K.alpha_dropout_forward(np.ones(BIG), rate, seed=22)
    se = np.sqrt(rate * (1 - rate) / mask.size)
    assert abs((mask > 0).mean() - (1 - rate)) < 4 * se


@pytest.mark.parametrize("rate", [0.05, 0.2, 0.5])
def test_alpha_dropout_keeps_selu_fixed_point_mean_zero_variance_one(rate):
    # SELU applied to N(0,1) samples has mean 0 and variance 1 (the self-normalising fixed point);
    # AlphaDropout's a, b are chosen to keep it there. 200k iid samples: compare the sample mean and
    # variance with 0 and 1 within 4 standard errors estimated from the sample itself.
    rng = np.random.default_rng(523)
    x = f32(ref.activation_forward("selu", rng.standard_normal((400, 500))))
    y, _ = K.alpha_dropout_forward(x, rate, seed=23)
    y = y.astype(np.float64).ravel()
    n = y.size
    mean = y.mean()
    dev2 = (y - mean) ** 2
    assert abs(mean) < 4 * y.std() / np.sqrt(n)
    assert abs(dev2.mean() - 1.0) < 4 * dev2.std() / np.sqrt(n)


def test_alpha_dropout_rate_zero_is_identity():
    x = _x(np.random.default_rng(524), (13, 33))
    y, mask = K.alpha_dropout_forward(x, 0.0, seed=24)
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(mask, np.ones((13, 33), np.float32))


def test_alpha_dropout_same_seed_and_stream_give_identical_results():
    x = _x(np.random.default_rng(525), BIG)
    a = K.alpha_dropout_forward(x, 0.3, seed=25, stream=1)
    b = K.alpha_dropout_forward(x, 0.3, seed=25, stream=1)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_alpha_dropout_different_streams_give_different_masks():
    x = np.ones(BIG)
    a = K.alpha_dropout_forward(x, 0.3, seed=26, stream=0)[1] > 0
    b = K.alpha_dropout_forward(x, 0.3, seed=26, stream=1)[1] > 0
    assert abs((a == b).mean() - 0.58) < 4 * np.sqrt(0.58 * 0.42 / a.size)


def test_alpha_dropout_mask_is_identical_with_one_and_two_threads(restore_threads):
    x = np.ones(BIG)
    fastdnn.set_num_threads(1)
    one = K.alpha_dropout_forward(x, 0.4, seed=27, stream=2)
    fastdnn.set_num_threads(2)
    two = K.alpha_dropout_forward(x, 0.4, seed=27, stream=2)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])


@pytest.mark.parametrize("rate", [1.0, -0.1, float("nan")])
def test_alpha_dropout_rate_outside_zero_one_raises_value_error(rate):
    with pytest.raises(ValueError, match="rate"):
        K.alpha_dropout_forward(np.ones((4, 3)), rate)


def test_alpha_dropout_with_empty_batch_raises_value_error():
    with pytest.raises(ValueError):
        K.alpha_dropout_forward(np.ones((0, 3)), 0.5)


# ----------------------------------------------------------------------------------------------
# RReLU
# ----------------------------------------------------------------------------------------------

LOWER, UPPER = 1 / 8, 1 / 3


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("training", [True, False])
def test_rrelu_output_is_input_times_multiplier(shape, training):
    x = _x(np.random.default_rng(531), shape)
    y, mult = K.rrelu_forward(x, training=training, seed=31)
    want = ref.rrelu_forward(x, mult)
    assert_within(y, want, U32 * np.abs(want) + 1e-37)  # one correctly rounded product


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_rrelu_multiplier_is_one_for_nonnegative_inputs(shape):
    x = _x(np.random.default_rng(532), shape)
    x[0, 0] = 0.0  # x ≥ 0 branch includes 0
    _, mult = K.rrelu_forward(x, seed=32)
    np.testing.assert_array_equal(mult[x >= 0], 1.0)


@pytest.mark.parametrize("lower, upper", [(LOWER, UPPER), (0.01, 0.5), (0.3, 0.3)])
def test_rrelu_training_slopes_of_negative_inputs_lie_in_lower_upper(lower, upper):
    x = -np.abs(_x(np.random.default_rng(533), BIG))
    _, mult = K.rrelu_forward(x, lower=lower, upper=upper, seed=33)
    # bounds as float32 values (one rounding of each end)
    assert mult.min() >= np.float32(lower) * (1 - 2 * U32)
    assert mult.max() <= np.float32(upper) * (1 + 2 * U32)


@pytest.mark.parametrize("lower, upper", [(LOWER, UPPER), (0.01, 0.5)])
def test_rrelu_training_slopes_have_uniform_mean(lower, upper):
    x = -np.abs(_x(np.random.default_rng(534), BIG)) - 1e-3
    _, mult = K.rrelu_forward(x, lower=lower, upper=upper, seed=34)
    m = mult.astype(np.float64).ravel()
    se = (upper - lower) / np.sqrt(12 * m.size)  # SE of the mean of U[lower, upper]
    assert abs(m.mean() - (lower + upper) / 2) < 4 * se


@pytest.mark.parametrize("lower, upper", [(LOWER, UPPER), (0.01, 0.5)])
def test_rrelu_training_slopes_have_uniform_variance(lower, upper):
    x = -np.abs(_x(np.random.default_rng(535), BIG)) - 1e-3
    _, mult = K.rrelu_forward(x, lower=lower, upper=upper, seed=35)
    m = mult.astype(np.float64).ravel()
    w = upper - lower
    var, mu4 = w**2 / 12, w**4 / 80  # variance and 4th central moment of U[lower, upper]
    se = np.sqrt((mu4 - var**2) / m.size)  # SE of the sample variance
    assert abs(m.var() - var) < 4 * se


def test_rrelu_training_slopes_fill_the_quartiles_uniformly():
    x = -np.abs(_x(np.random.default_rng(536), BIG)) - 1e-3
    _, mult = K.rrelu_forward(x, seed=36)
    u = (mult.astype(np.float64).ravel() - LOWER) / (UPPER - LOWER)
    counts = np.histogram(u, bins=4, range=(0, 1))[0] / u.size
    se = np.sqrt(0.25 * 0.75 / u.size)
    assert np.all(np.abs(counts - 0.25) < 4 * se), counts


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_rrelu_inference_uses_mean_slope(shape):
    x = _x(np.random.default_rng(537), shape)
    y, mult = K.rrelu_forward(x, training=False, seed=37)
    want = ref.rrelu_inference_multiplier(x)
    assert_within(mult, want, 2 * U32 * want)
    assert_within(y, ref.rrelu_forward(x, want), 3 * U32 * np.abs(x) + 1e-37)


def test_rrelu_inference_is_independent_of_seed_and_stream():
    x = _x(np.random.default_rng(538), (13, 33))
    a = K.rrelu_forward(x, training=False, seed=1, stream=0)
    b = K.rrelu_forward(x, training=False, seed=99, stream=5)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_rrelu_same_seed_and_stream_give_identical_multipliers():
    x = _x(np.random.default_rng(539), BIG)
    a = K.rrelu_forward(x, seed=39, stream=4)
    b = K.rrelu_forward(x, seed=39, stream=4)
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[0], b[0])


def test_rrelu_different_streams_give_different_multipliers():
    x = -np.abs(_x(np.random.default_rng(540), BIG)) - 1e-3
    a = K.rrelu_forward(x, seed=40, stream=0)[1]
    b = K.rrelu_forward(x, seed=40, stream=1)[1]
    # independent U[l, u] slopes: the correlation of the two draws has SE 1/√n around 0
    corr = np.corrcoef(a.ravel(), b.ravel())[0, 1]
    assert abs(corr) < 4 / np.sqrt(a.size)


def test_rrelu_multipliers_are_identical_with_one_and_two_threads(restore_threads):
    x = _x(np.random.default_rng(541), BIG)
    fastdnn.set_num_threads(1)
    one = K.rrelu_forward(x, seed=41, stream=2)
    fastdnn.set_num_threads(2)
    two = K.rrelu_forward(x, seed=41, stream=2)
    np.testing.assert_array_equal(one[1], two[1])


def test_rrelu_with_lower_above_upper_raises_value_error():
    with pytest.raises(ValueError):
        K.rrelu_forward(np.ones((4, 3)), lower=0.5, upper=0.2)


def test_rrelu_with_empty_batch_raises_value_error():
    with pytest.raises(ValueError):
        K.rrelu_forward(np.ones((0, 3)))

"""keras.optimizers.schedules against their formulas, one step at a time and vectorized."""

import math

import numpy as np
import pytest

from fastdnn.optimizers import schedules

STEPS = np.array([0, 1, 5, 10, 15, 20, 25, 100])


def assert_scalar_and_vector_agree(schedule, expected):
    """schedule(s) for each s of STEPS, and schedule(STEPS) at once, both equal expected(s)."""
    want = np.array([expected(int(s)) for s in STEPS])
    for s, w in zip(STEPS, want):
        got = schedule(int(s))
        assert type(got) is float
        assert got == pytest.approx(w, rel=1e-12, abs=1e-15)
    got = schedule(STEPS)
    assert got.dtype == np.float64 and got.shape == STEPS.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_exponential_decay():
    assert_scalar_and_vector_agree(schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5),
                                   lambda s: 0.1 * 0.5 ** (s / 10))


def test_exponential_decay_staircase_floors_the_exponent():
    sched = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert_scalar_and_vector_agree(sched, lambda s: 0.1 * 0.5 ** (s // 10))
    assert sched(9) == 0.1 and sched(10) == 0.05


def test_inverse_time_decay():
    assert_scalar_and_vector_agree(schedules.InverseTimeDecay(0.1, decay_steps=10, decay_rate=0.5),
                                   lambda s: 0.1 / (1 + 0.5 * s / 10))


def test_inverse_time_decay_staircase_floors_the_ratio():
    assert_scalar_and_vector_agree(schedules.InverseTimeDecay(0.1, 10, 0.5, staircase=True),
                                   lambda s: 0.1 / (1 + 0.5 * (s // 10)))


def test_piecewise_constant_decay_boundary_step_keeps_the_earlier_value():
    sched = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [sched(s) for s in (0, 10, 11, 20, 21, 1000)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]
    assert_scalar_and_vector_agree(sched, lambda s: 1.0 if s <= 10 else 0.5 if s <= 20 else 0.1)


def test_piecewise_constant_decay_returns_floats_for_int_values():
    assert schedules.PiecewiseConstantDecay([5], [2, 1])(6) == 1.0


def test_piecewise_constant_decay_needs_one_more_value_than_boundaries():
    with pytest.raises(ValueError, match="The length of boundaries should be 1 less than the length of values"):
        schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5])


def test_piecewise_constant_decay_needs_increasing_boundaries():
    with pytest.raises(ValueError, match="strictly increasing"):
        schedules.PiecewiseConstantDecay([20, 10], [1.0, 0.5, 0.1])


def test_polynomial_decay_reaches_end_rate_and_stays():
    sched = schedules.PolynomialDecay(0.1, decay_steps=20, end_learning_rate=0.01, power=0.5)
    assert_scalar_and_vector_agree(sched, lambda s: 0.09 * (1 - min(s, 20) / 20) ** 0.5 + 0.01)
    assert sched(1000) == pytest.approx(0.01, rel=1e-12)


def test_polynomial_decay_cycle_stretches_decay_steps_to_next_multiple():
    sched = schedules.PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0, power=1.0, cycle=True)
    assert_scalar_and_vector_agree(sched, lambda s: 0.1 * (1 - s / (10 * max(1, math.ceil(s / 10)))))
    assert sched(15) == pytest.approx(0.1 * (1 - 15 / 20), rel=1e-12)


def test_cosine_decay_goes_from_initial_rate_to_alpha_times_it():
    sched = schedules.CosineDecay(0.1, decay_steps=20, alpha=0.1)
    assert_scalar_and_vector_agree(sched, lambda s: 0.1 * (0.9 * 0.5 * (1 + math.cos(math.pi * min(s, 20) / 20)) + 0.1))
    assert [sched(0), sched(10), sched(20)] == pytest.approx([0.1, 0.1 * 0.55, 0.01])


def test_cosine_decay_warmup_rises_linearly_then_decays_from_target():
    sched = schedules.CosineDecay(0.0, decay_steps=20, warmup_target=0.2, warmup_steps=10)
    assert [sched(s) for s in (0, 5, 10)] == pytest.approx([0.0, 0.1, 0.2])
    assert sched(20) == pytest.approx(0.1)  # halfway through the decay
    assert sched(30) == pytest.approx(0.0, abs=1e-15) and sched(500) == pytest.approx(0.0, abs=1e-15)

    def expected(s):
        s = min(s, 30)
        return 0.2 * s / 10 if s < 10 else 0.2 * 0.5 * (1 + math.cos(math.pi * (s - 10) / 20))

    assert_scalar_and_vector_agree(sched, expected)


def test_cosine_decay_with_target_but_no_warmup_steps_decays_from_target():
    sched = schedules.CosineDecay(0.5, decay_steps=20, warmup_target=0.2)
    assert sched(0) == pytest.approx(0.2) and sched(10) == pytest.approx(0.1)


def test_cosine_decay_restarts_with_constant_period():
    sched = schedules.CosineDecayRestarts(0.1, first_decay_steps=10, t_mul=1.0, m_mul=0.5)
    assert_scalar_and_vector_agree(
        sched, lambda s: 0.1 * 0.5 ** (s // 10) * 0.5 * (1 + math.cos(math.pi * (s % 10) / 10))
    )


def test_cosine_decay_restarts_periods_grow_by_t_mul():
    # Periods [0, 10), [10, 30), [30, 70): restarts at 10 and 30, midpoints at 5, 20 and 50.
    sched = schedules.CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=2.0, alpha=0.1)
    assert [sched(s) for s in (0, 10, 30)] == pytest.approx([1.0, 1.0, 1.0])
    assert [sched(s) for s in (5, 20, 50)] == pytest.approx([0.55, 0.55, 0.55])
    np.testing.assert_allclose(sched(np.array([0, 5, 10, 20, 30, 50])), [1.0, 0.55, 1.0, 0.55, 1.0, 0.55])


@pytest.mark.parametrize("make, name", [
    (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), "decay_steps"),
    (lambda: schedules.InverseTimeDecay(0.1, -1, 0.5), "decay_steps"),
    (lambda: schedules.PolynomialDecay(0.1, 0), "decay_steps"),
    (lambda: schedules.CosineDecay(0.1, 0), "decay_steps"),
    (lambda: schedules.CosineDecayRestarts(0.1, 0), "first_decay_steps"),
])
def test_decay_steps_must_be_positive(make, name):
    with pytest.raises(ValueError, match=f"Argument `{name}` must be > 0"):
        make()


@pytest.mark.parametrize("sched", [
    schedules.ExponentialDecay(0.1, 10, 0.9, staircase=True, name="exp"),
    schedules.InverseTimeDecay(0.1, 10, 0.5),
    schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]),
    schedules.PolynomialDecay(0.1, 10, 0.001, power=2.0, cycle=True),
    schedules.CosineDecay(0.0, 20, alpha=0.1, warmup_target=0.1, warmup_steps=5),
    schedules.CosineDecayRestarts(0.1, 10, t_mul=1.5, m_mul=0.8, alpha=0.05),
])
def test_serialize_deserialize_round_trip(sched):
    config = schedules.serialize(sched)
    assert config["module"] == "keras.optimizers.schedules" and config["class_name"] == type(sched).__name__
    copy = schedules.deserialize(config)
    assert type(copy) is type(sched) and copy.get_config() == sched.get_config()
    np.testing.assert_array_equal(copy(STEPS), sched(STEPS))


def test_deserialize_of_unknown_class_lists_known_schedules():
    with pytest.raises(ValueError, match="ExponentialDecay"):
        schedules.deserialize({"class_name": "StepDecay", "config": {}})


def test_base_schedule_must_be_overridden():
    with pytest.raises(NotImplementedError, match="must override `__call__"):
        schedules.LearningRateSchedule()(0)


def test_learning_rates_falls_back_to_per_step_calls_for_scalar_only_schedules():
    class Halving(schedules.LearningRateSchedule):
        def __call__(self, step):
            if step < 3:  # not vectorizable: an array here raises
                return 1.0
            return 0.5

    np.testing.assert_array_equal(schedules.learning_rates(Halving(), np.arange(5)), [1.0, 1.0, 1.0, 0.5, 0.5])


def test_learning_rates_calls_a_vectorizable_schedule_once():
    calls = []

    class Counting(schedules.LearningRateSchedule):
        def __call__(self, step):
            calls.append(step)
            return 0.1 / (step + 1)

    np.testing.assert_allclose(schedules.learning_rates(Counting(), np.arange(4)), [0.1, 0.05, 0.1 / 3, 0.025])
    assert len(calls) == 1

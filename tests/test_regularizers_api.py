"""keras.regularizers API: penalties, defaults, argument checks, get/serialize/deserialize.

(The engine's use of the l1/l2 factors during training is tested in test_regularization.py.)
"""

import numpy as np
import pytest

from fastdnn import regularizers

X = np.array([[1.0, -2.0], [0.5, 0.0]], dtype=np.float32)  # Σ|x| = 3.5, Σx² = 5.25


def test_l1_penalty_is_l1_times_sum_of_abs():
    assert regularizers.L1(0.1)(X) == pytest.approx(0.35, rel=1e-12)


def test_l2_penalty_is_l2_times_sum_of_squares():
    assert regularizers.L2(0.1)(X) == pytest.approx(0.525, rel=1e-12)


def test_l1l2_penalty_is_the_sum_of_both():
    assert regularizers.L1L2(l1=0.1, l2=0.2)(X) == pytest.approx(0.35 + 1.05, rel=1e-12)


def test_penalty_is_a_python_float():
    assert type(regularizers.L2()(X)) is float


def test_penalty_of_zero_weights_is_zero():
    assert regularizers.L1L2(l1=0.3, l2=0.3)(np.zeros((3, 3), np.float32)) == 0.0


def test_keras_3_defaults():
    assert (regularizers.L1().l1, regularizers.L2().l2) == (0.01, 0.01)
    assert (regularizers.L1L2().l1, regularizers.L1L2().l2) == (0.0, 0.0)


def test_every_regularizer_exposes_float_l1_and_l2():
    for reg, expected in [(regularizers.L1(1), (1.0, 0.0)), (regularizers.L2(2), (0.0, 2.0)),
                          (regularizers.L1L2(np.float32(0.5), 3), (0.5, 3.0))]:
        assert (reg.l1, reg.l2) == expected
        assert type(reg.l1) is float and type(reg.l2) is float


def test_none_means_the_default_factor():
    assert regularizers.L1(None).l1 == 0.01
    assert regularizers.L1L2(l1=None, l2=0.5).l1 == 0.0


def test_keras_2_lowercase_call_style_builds_the_classes():
    assert isinstance(regularizers.l2(0.01), regularizers.L2)
    assert isinstance(regularizers.l1(0.01), regularizers.L1)
    reg = regularizers.l1_l2(l1=0.01, l2=0.02)
    assert isinstance(reg, regularizers.L1L2) and (reg.l1, reg.l2) == (0.01, 0.02)


def test_l1_l2_alias_defaults_to_no_penalty_as_in_keras_3():
    assert (regularizers.l1_l2().l1, regularizers.l1_l2().l2) == (0.0, 0.0)


@pytest.mark.parametrize("make, name", [
    (lambda: regularizers.L1(-0.1), "l1"),
    (lambda: regularizers.L2(float("nan")), "l2"),
    (lambda: regularizers.L1L2(l2=float("inf")), "l2"),
    (lambda: regularizers.L1L2(l1="0.1"), "l1"),
    (lambda: regularizers.L2(True), "l2"),
])
def test_invalid_factor_raises_value_error_naming_the_argument(make, name):
    with pytest.raises(ValueError, match=f"Invalid value for argument {name}: expected a non-negative float"):
        make()


@pytest.mark.parametrize("name, cls, factors", [
    ("l1", regularizers.L1, (0.01, 0.0)), ("L1", regularizers.L1, (0.01, 0.0)),
    ("l2", regularizers.L2, (0.0, 0.01)), ("L2", regularizers.L2, (0.0, 0.01)),
    ("l1l2", regularizers.L1L2, (0.0, 0.0)), ("L1L2", regularizers.L1L2, (0.0, 0.0)),
    ("l1_l2", regularizers.L1L2, (0.01, 0.01)),
])
def test_get_resolves_names_with_defaults(name, cls, factors):
    reg = regularizers.get(name)
    assert type(reg) is cls and (reg.l1, reg.l2) == factors


def test_get_of_unknown_name_lists_known_names():
    with pytest.raises(ValueError, match="'l2'"):
        regularizers.get("l3")


def test_get_passes_none_instances_and_functions_through_and_instantiates_classes():
    reg = regularizers.L2(0.3)

    def custom(x):
        return 0.0

    assert regularizers.get(None) is None
    assert regularizers.get(reg) is reg
    assert regularizers.get(custom) is custom
    assert type(regularizers.get(regularizers.L1)) is regularizers.L1


def test_get_config_holds_only_the_class_arguments():
    assert regularizers.L1(0.2).get_config() == {"l1": 0.2}
    assert regularizers.L2(0.2).get_config() == {"l2": 0.2}
    assert regularizers.L1L2(0.1, 0.2).get_config() == {"l1": 0.1, "l2": 0.2}


def test_serialize_uses_keras_3_format():
    assert regularizers.serialize(regularizers.L2(0.5)) == {
        "module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.5}, "registered_name": None,
    }


@pytest.mark.parametrize("reg", [regularizers.L1(0.2), regularizers.L2(0.3), regularizers.L1L2(0.1, 0.4)])
def test_serialize_deserialize_round_trip(reg):
    copy = regularizers.deserialize(regularizers.serialize(reg))
    assert type(copy) is type(reg) and (copy.l1, copy.l2) == (reg.l1, reg.l2)
    assert copy(X) == reg(X)


def test_get_accepts_config_dict():
    reg = regularizers.get({"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.001}})
    assert (reg.l1, reg.l2) == (0.0, 0.001)

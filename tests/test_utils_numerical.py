"""keras.utils.to_categorical and normalize (NumPy input)."""

import numpy as np
import pytest

from fastdnn.utils import normalize, to_categorical


def test_to_categorical_is_float64_one_hot():
    y = to_categorical([0, 1, 2, 3], num_classes=4)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, np.eye(4))


def test_to_categorical_infers_num_classes_from_max_label():
    assert to_categorical(np.array([2, 0])).shape == (2, 3)


def test_to_categorical_zero_num_classes_means_infer():
    assert to_categorical([1, 4], num_classes=0).shape == (2, 5)


def test_to_categorical_drops_a_trailing_axis_of_one():
    y = to_categorical(np.array([[1], [0], [2]]), num_classes=3)
    np.testing.assert_array_equal(y, np.eye(3)[[1, 0, 2]])


def test_to_categorical_appends_class_axis_to_other_shapes():
    labels = np.array([[0, 1], [2, 1]])
    y = to_categorical(labels, 3)
    assert y.shape == (2, 2, 3)
    np.testing.assert_array_equal(y.argmax(-1), labels)


def test_to_categorical_of_a_scalar_is_a_vector():
    np.testing.assert_array_equal(to_categorical(1, 3), [0.0, 1.0, 0.0])


def test_to_categorical_accepts_whole_float_labels():
    np.testing.assert_array_equal(to_categorical(np.array([2.0, 0.0], np.float32), 3), [[0, 0, 1], [1, 0, 0]])


def test_to_categorical_of_empty_labels_with_num_classes_is_empty():
    assert to_categorical(np.array([], dtype=np.int64), 4).shape == (0, 4)


def test_to_categorical_of_empty_labels_needs_num_classes():
    with pytest.raises(ValueError, match="num_classes"):
        to_categorical(np.array([], dtype=np.int64))


@pytest.mark.parametrize("labels, message", [
    ([0, -1, 2], "labels >= 0; got -1 at index \\[1\\]"),
    ([0.0, 1.5], "integer class labels; got 1.5"),
    ([0.0, np.nan], "integer class labels; got nan"),
])
def test_to_categorical_refuses_labels_that_are_not_class_indices(labels, message):
    with pytest.raises(ValueError, match=message):
        to_categorical(labels, 3)


def test_to_categorical_refuses_label_not_below_num_classes():
    with pytest.raises(ValueError, match="label 3, but num_classes=3"):
        to_categorical([0, 3], num_classes=3)


def test_to_categorical_refuses_negative_num_classes():
    with pytest.raises(ValueError, match="num_classes"):
        to_categorical([0], num_classes=-2)


def test_normalize_gives_unit_l2_rows_in_the_same_direction():
    x = np.array([[3.0, 4.0], [1.0, 1.0]])
    np.testing.assert_allclose(normalize(x), [[0.6, 0.8], [2**-0.5, 2**-0.5]], rtol=1e-15)


def test_normalize_leaves_zero_rows_zero():
    np.testing.assert_array_equal(normalize(np.array([[0.0, 0.0], [2.0, 0.0]])), [[0.0, 0.0], [1.0, 0.0]])


def test_normalize_along_axis_0_normalizes_columns():
    x = np.array([[3.0, 1.0], [4.0, 1.0]])
    np.testing.assert_allclose(normalize(x, axis=0), [[0.6, 2**-0.5], [0.8, 2**-0.5]], rtol=1e-15)


def test_normalize_with_order_1_makes_abs_sums_one():
    np.testing.assert_allclose(np.abs(normalize(np.array([[1.0, -3.0, 4.0]]), order=1)).sum(-1), [1.0])


def test_normalize_keeps_float32():
    assert normalize(np.ones((2, 3), np.float32)).dtype == np.float32

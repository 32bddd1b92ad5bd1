"""Bad DAG plans and arguments: each a ValueError / TypeError naming what is wrong,
raised at the binding boundary before the engine touches a pointer."""

import numpy as np
import pytest

from fastdnn import _core

MSE = {"kind": "mean_squared_error"}
SGD = {"kind": "sgd"}


def network(input_width, ops, loss=None):
    return _core.Network(input_width, ops, loss if loss is not None else MSE, SGD)


def two_input_net():
    ops = [{"kind": "dense", "units": 2, "inputs": [0]}, {"kind": "concatenate", "inputs": [2, 1]}]
    return network([3, 4], ops, [{"slot": 3, "loss": MSE}, {"slot": 2, "loss": None}])


@pytest.mark.parametrize(
    "ops, message",
    [
        ([{"kind": "dense", "units": 2, "inputs": [1]}], r"ops\[0\]\['inputs'\]\[0\] = 1: op 0 may read only slots 0 .. 0"),
        ([{"kind": "dense", "units": 2}, {"kind": "dense", "units": 2, "inputs": [2]}],
         r"ops\[1\]\['inputs'\]\[0\] = 2: op 1 may read only slots 0 .. 1"),
        ([{"kind": "dense", "units": 2, "inputs": [-1]}], r"ops\[0\]\['inputs'\]\[0\] must be in \[0, "),
        ([{"kind": "dense", "units": 2, "inputs": []}], r"ops\[0\]\['inputs'\] must list at least one slot"),
        ([{"kind": "dense", "units": 2, "inputs": [0, 0]}], r"ops\[0\]\['inputs'\] must list exactly one slot"),
        ([{"kind": "add"}], r"ops\[0\]\['inputs'\] is required for a merge op"),
        ([{"kind": "dense", "units": 2}, {"kind": "subtract", "inputs": [0, 1, 1]}],
         r"ops\[1\]\['inputs'\]: subtract takes exactly 2 inputs; got 3"),
        ([{"kind": "dense", "units": 2}, {"kind": "add", "inputs": [0, 1]}],
         r"ops\[1\]\['inputs'\]: an elementwise merge needs inputs of equal width \(no broadcasting\); got widths 3, 2"),
        ([{"kind": "dense", "units": 4}, {"kind": "concatenate", "inputs": [0, 1], "blocks": 2}],
         r"ops\[1\]\['inputs'\]: concatenate over 2 blocks needs input widths divisible by 2; got widths 3, 4"),
        ([{"kind": "dense", "units": 2}, {"kind": "concatenate", "inputs": [1], "blocks": 0}],
         r"ops\[1\]\['blocks'\] must be in \[1, "),
        ([{"kind": "dense", "units": 2, "shares": 0}], r"ops\[0\]\['shares'\] = 0: an op can share the parameters of an earlier op only"),
        ([{"kind": "dense", "units": 2}, {"kind": "dense", "units": 2, "shares": 2}],
         r"ops\[1\]\['shares'\] = 2: an op can share the parameters of an earlier op only \(0 .. 0\)"),
        ([{"kind": "dense", "units": 3}, {"kind": "batch_normalization", "shares": 0}],
         r"ops\[1\]\['shares'\] = 0: op 0 is of another kind"),
        ([{"kind": "dense", "units": 3}, {"kind": "dense", "units": 4, "shares": 0}],
         r"ops\[1\]\['shares'\] = 0: op 0's parameters are kernel \(3, 3\), bias \(3,\); this op's would be kernel \(3, 4\), bias \(4,\)"),
        ([{"kind": "dense", "units": 3}, {"kind": "dense", "units": 3, "use_bias": False, "shares": 0}],
         r"op 0's parameters are kernel \(3, 3\), bias \(3,\); this op's would be kernel \(3, 3\)$"),
    ],
)
def test_a_bad_plan_is_a_value_error_naming_the_op(ops, message):
    with pytest.raises(ValueError, match=message):
        network(3, ops)


def test_inputs_must_be_a_list():
    with pytest.raises(TypeError, match=r"ops\[0\]\['inputs'\] must be a list of slot numbers"):
        network(3, [{"kind": "dense", "units": 2, "inputs": 0}])


@pytest.mark.parametrize(
    "loss, message",
    [
        ([], "loss must list at least one head"),
        ([{"slot": 5, "loss": MSE}], r"loss\[0\]\['slot'\] = 5 is not a slot of the network \(0 .. 1\)"),
        ([{"slot": -1, "loss": MSE}], r"loss\[0\]\['slot'\] must be in \[0, "),
        ([{"loss": MSE}], r"loss\[0\]\['slot'\] is required"),
        ([{"slot": 1, "loss": MSE, "weight": -1.0}], r"loss\[0\]\['weight'\] must be in \[0"),
        ([{"slot": 1, "loss": MSE, "weights": 2.0}], r"loss\[0\]"),
    ],
)
def test_a_bad_head_is_a_value_error_naming_it(loss, message):
    with pytest.raises(ValueError, match=message):
        network(3, [{"kind": "dense", "units": 2}], loss)


@pytest.mark.parametrize("widths, message", [([], "input_width must list at least one width"),
                                              ([3, 0], r"input_width\[1\] must be in \[1, ")])
def test_bad_input_widths_are_value_errors(widths, message):
    with pytest.raises(ValueError, match=message):
        network(widths, [{"kind": "dense", "units": 2}])


def test_x_list_of_the_wrong_length_is_a_value_error():
    net = two_input_net()
    with pytest.raises(ValueError, match=r"x must list one array per input \(2\); got 1"):
        net.predict([np.ones((2, 3), np.float32)])


def test_a_single_x_for_two_inputs_is_a_type_error():
    with pytest.raises(TypeError, match="x must be a list of 2 arrays, one per input"):
        two_input_net().predict(np.ones((2, 3), np.float32))


def test_x_of_the_wrong_width_names_the_input():
    with pytest.raises(ValueError, match=r"x\[1\] must have shape \(2, 4\); got shape \(2, 5\)"):
        two_input_net().predict([np.ones((2, 3), np.float32), np.ones((2, 5), np.float32)])


def test_x_with_unequal_rows_names_the_input():
    with pytest.raises(ValueError, match=r"x\[1\] must have shape \(2, 4\); got shape \(3, 4\)"):
        two_input_net().predict([np.ones((2, 3), np.float32), np.ones((3, 4), np.float32)])


def test_y_list_of_the_wrong_length_is_a_value_error():
    x = [np.ones((2, 3), np.float32), np.ones((2, 4), np.float32)]
    with pytest.raises(ValueError, match=r"y must list one entry per head \(2\); got 1"):
        two_input_net().train_step(x, [np.ones((2, 6), np.float32)], 0.1)


def test_y_none_for_a_head_with_a_loss_is_a_value_error():
    x = [np.ones((2, 3), np.float32), np.ones((2, 4), np.float32)]
    with pytest.raises(ValueError, match=r"y\[0\] is None, but head 0 has a loss"):
        two_input_net().evaluate(x, [None, None])


def test_y_of_the_wrong_width_names_the_head():
    x = [np.ones((2, 3), np.float32), np.ones((2, 4), np.float32)]
    with pytest.raises(ValueError, match=r"y\[0\] must have shape \(2, 6\)"):
        two_input_net().compute_gradients(x, [np.ones((2, 5), np.float32), None])


def test_outputs_list_of_the_wrong_length_is_a_value_error():
    x = [np.ones((2, 3), np.float32), np.ones((2, 4), np.float32)]
    with pytest.raises(ValueError, match=r"outputs must list one buffer \(or None\) per head \(2\); got 1"):
        two_input_net().evaluate(x, [np.ones((2, 6), np.float32), None], outputs=[None])


def test_outputs_buffer_of_the_wrong_shape_names_the_head():
    x = [np.ones((2, 3), np.float32), np.ones((2, 4), np.float32)]
    with pytest.raises(ValueError, match=r"outputs\[1\] must have shape \(2, 2\)"):
        two_input_net().evaluate(x, [np.ones((2, 6), np.float32), None],
                                 outputs=[None, np.zeros((2, 3), np.float32)])


@pytest.mark.parametrize("buffer, error, message", [
    (np.zeros(3), ValueError, r"head_losses must have shape \(2,\); got \(3,\)"),
    (np.zeros(2, np.float32), TypeError, "head_losses must be a float64 array"),
    ([0.0, 0.0], TypeError, "head_losses must be a NumPy float64 array or None"),
])
def test_bad_head_losses_buffer_is_an_error_naming_it(buffer, error, message):
    x = [np.ones((2, 3), np.float32), np.ones((2, 4), np.float32)]
    with pytest.raises(error, match=message):
        two_input_net().train_step(x, [np.ones((2, 6), np.float32), None], 0.1, head_losses=buffer)


def test_train_batches_head_losses_needs_one_row_per_batch():
    x = [np.ones((4, 3), np.float32), np.ones((4, 4), np.float32)]
    with pytest.raises(ValueError, match=r"head_losses must have shape \(2, 2\); got \(1, 2\)"):
        two_input_net().train_batches(x, [np.ones((4, 6), np.float32), None], np.arange(4), 2,
                                      np.ones(2, np.float32), head_losses=np.zeros((1, 2)))


def test_non_finite_second_input_is_refused_naming_it():
    x = [np.ones((2, 3), np.float32), np.array([[1, 2, 3, np.nan]] * 2, np.float32)]
    with pytest.raises(ValueError, match=r"x\[1\] contains NaN or Inf \(row 0, column 3\)"):
        two_input_net().train_step(x, [np.ones((2, 6), np.float32), None], 0.1)

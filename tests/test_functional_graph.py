"""The functional API's graph, as Keras 3 builds it: symbolic tensors, layer calls, Model(inputs,
outputs), layer order, names, summary, and the errors for graphs and data that do not fit. These
need no training; test_functional_training.py trains the graphs."""

import numpy as np
import pytest

import fastdnn as keras
from course_models import WideDeepModel
from fastdnn import backend


@pytest.fixture(autouse=True)
def fresh_names():
    backend.clear_session()


def wide_and_deep():
    """The course's multi-input Wide & Deep model (functional-api.md 1.5)."""
    input_wide = keras.layers.Input(shape=[5])
    input_deep = keras.layers.Input(shape=[6])
    hidden1 = keras.layers.Dense(30, activation="relu")(input_deep)
    hidden2 = keras.layers.Dense(30, activation="relu")(hidden1)
    concat = keras.layers.concatenate([input_wide, hidden2])
    output = keras.layers.Dense(1)(concat)
    return keras.models.Model(inputs=[input_wide, input_deep], outputs=[output])


def test_input_returns_a_symbolic_tensor_with_the_batch_dimension():
    x = keras.Input(shape=(8,))
    assert isinstance(x, keras.KerasTensor)
    assert x.shape == (None, 8)
    assert repr(x) == "<KerasTensor shape=(None, 8), dtype=float32, sparse=False, ragged=False, name=keras_tensor>"


def test_input_with_an_integer_shape_is_refused_as_keras_3_does():
    with pytest.raises(ValueError, match="Cannot convert '5' to a shape"):
        keras.Input(shape=5)


def test_a_layer_called_on_a_tensor_returns_its_output_tensor_and_builds_the_layer():
    x = keras.Input(shape=(8,))
    dense = keras.layers.Dense(30)
    y = dense(x)
    assert y.shape == (None, 30)
    assert dense.built and dense.kernel.shape == (8, 30)
    assert y._keras_history[0] is dense


def test_a_shared_layer_called_on_another_width_is_refused():
    dense = keras.layers.Dense(4)
    dense(keras.Input(shape=(5,)))
    with pytest.raises(ValueError, match="incompatible with the layer"):
        dense(keras.Input(shape=(6,)))


def test_concatenate_joins_the_last_axis():
    a, b = keras.Input(shape=(5,)), keras.Input(shape=(30,))
    assert keras.layers.concatenate([a, b]).shape == (None, 35)


def test_concatenate_of_mismatched_shapes_names_them():
    a, b = keras.Input(shape=(2, 5)), keras.Input(shape=(3, 6))
    with pytest.raises(ValueError, match="matching shapes except for the concatenation axis"):
        keras.layers.concatenate([a, b])


def test_concatenate_along_a_middle_axis_is_one_block_per_sample():
    a, b = keras.Input(shape=(2, 3)), keras.Input(shape=(4, 3))
    layer = keras.layers.Concatenate(axis=1)
    assert layer([a, b]).shape == (None, 6, 3)
    assert layer._ops() == [{"kind": "concatenate", "blocks": 1}]


def test_concatenate_along_the_last_of_three_axes_joins_one_block_per_row():
    a, b = keras.Input(shape=(2, 3)), keras.Input(shape=(2, 4))
    layer = keras.layers.Concatenate()
    assert layer([a, b]).shape == (None, 2, 7)
    assert layer._ops() == [{"kind": "concatenate", "blocks": 2}]


def test_elementwise_merges_refuse_inputs_of_different_shapes():
    a, b = keras.Input(shape=(5,)), keras.Input(shape=(6,))
    with pytest.raises(ValueError, match="Inputs have incompatible shapes"):
        keras.layers.add([a, b])


def test_subtract_takes_exactly_two_inputs():
    a = keras.Input(shape=(5,))
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        keras.layers.subtract([a, a, a])


@pytest.mark.parametrize("fn, expected", [
    ("add", lambda a, b: a + b), ("subtract", lambda a, b: a - b), ("multiply", lambda a, b: a * b),
    ("average", lambda a, b: (a + b) / 2), ("maximum", np.maximum), ("minimum", np.minimum)])
def test_merge_functions_on_numpy_arrays_compute_eagerly(fn, expected):
    a, b = np.arange(6, dtype=np.float32).reshape(2, 3), np.full((2, 3), 2.5, np.float32)
    np.testing.assert_allclose(getattr(keras.layers, fn)([a, b]), expected(a, b))


def test_reshape_changes_the_shape_keeping_the_size():
    x = keras.Input(shape=(12,))
    assert keras.layers.Reshape((3, -1))(x).shape == (None, 3, 4)
    with pytest.raises(ValueError, match="total size of new array must be unchanged"):
        keras.layers.Reshape((5,))(x)


def test_model_of_tensors_is_a_functional_model_named_as_keras_3():
    model = wide_and_deep()
    assert type(model).__name__ == "Functional"
    assert isinstance(model, keras.Model)
    assert model.name == "functional"


def test_layers_are_in_depth_order_with_the_deeper_input_first():
    names = [layer.name for layer in wide_and_deep().layers]
    assert names == ["input_layer_1", "dense", "input_layer", "dense_1", "concatenate", "dense_2"]


def test_input_and_output_shapes_follow_the_structures_given():
    model = wide_and_deep()
    assert model.input_shape == [(None, 5), (None, 6)]
    assert model.output_shape == (None, 1)
    assert model.count_params() == 1176


def test_output_names_are_the_output_layers_names():
    a = keras.Input(shape=(4,))
    h = keras.layers.Dense(3)(a)
    model = keras.Model(a, [keras.layers.Dense(1, name="main_output")(h), keras.layers.Dense(1, name="aux")(h)])
    assert model.output_names == ["main_output", "aux"]


def test_two_outputs_of_one_layer_get_distinct_names():
    a = keras.Input(shape=(4,))
    h = keras.layers.Dense(3, name="h")(a)
    assert keras.Model(a, [h, h]).output_names == ["h", "h_1"]


def test_a_disconnected_graph_names_the_unreachable_input():
    a, b = keras.Input(shape=(4,), name="wide"), keras.Input(shape=(3,), name="deep")
    out = keras.layers.concatenate([a, b])
    with pytest.raises(ValueError, match="needs the tensor 'deep' of Input layer 'deep'"):
        keras.Model(inputs=a, outputs=out)


def test_duplicate_layer_names_are_refused():
    a = keras.Input(shape=(4,))
    out = keras.layers.Dense(2, name="x")(keras.layers.Dense(3, name="x")(a))
    with pytest.raises(ValueError, match='The name "x" is used 2 times'):
        keras.Model(a, out)


def test_outputs_must_be_tensors():
    with pytest.raises(ValueError, match="must be KerasTensors"):
        keras.Model(keras.Input(shape=(3,)), np.zeros(3))


def test_summary_has_keras_2s_connected_to_column():
    lines = []
    wide_and_deep().summary(print_fn=lines.append)
    text = lines[0]
    assert "Connected to" in text
    assert " concatenate (Concatenate)      (None, 35)           0           input_layer[0][0]" in text
    assert "dense_1[0][0]" in text.split("concatenate (Concatenate)")[1].splitlines()[1]
    assert "Total params: 1,176" in text


def test_summary_of_a_plain_stack_has_three_columns():
    x = keras.Input(shape=(4,))
    model = keras.Model(x, keras.layers.Dense(2)(keras.layers.Dense(3)(x)))
    lines = []
    model.summary(print_fn=lines.append)
    assert "Connected to" not in lines[0]
    assert "input_layer (InputLayer)" in lines[0]


def test_a_shared_layer_appears_once_with_both_calls():
    left, right = keras.Input(shape=(3,), name="left"), keras.Input(shape=(3,), name="right")
    shared = keras.layers.Dense(4, name="shared")
    model = keras.Model([left, right], keras.layers.add([shared(left), shared(right)]))
    assert [layer.name for layer in model.layers].count("shared") == 1
    assert model.count_params() == 16
    ops = model._graph.plan().ops
    assert sum("shares" in op for op in ops) == 1
    lines = []
    model.summary(print_fn=lines.append)
    assert "shared[0][0]" in lines[0] and "shared[1][0]" in lines[0]


def test_a_subclassed_model_lists_the_layers_its_init_assigned():
    model = WideDeepModel()
    assert [layer.name for layer in model.layers] == ["dense", "dense_1", "dense_2"]
    assert model.name == "wide_deep_model"


def test_build_traces_call_so_summary_shows_shapes_before_any_data():
    model = WideDeepModel()
    model.build(input_shape=(None, 8))
    lines = []
    model.summary(print_fn=lines.append)
    assert "dense_1 (Dense)             (None, 30)                930" in lines[0]
    assert "Total params: 1,239" in lines[0]


def test_a_subclassed_model_inside_sequential_builds_and_counts_its_parameters():
    model = keras.models.Sequential([WideDeepModel()])
    model.build(input_shape=(None, 8))
    assert model.output_shape == (None, 1)
    assert model.count_params() == 1239


def test_python_control_flow_on_a_tensor_names_the_line_of_call():
    class Branchy(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            if x:
                return self.dense(x)
            return x

    with pytest.raises(TypeError, match=r"Branchy.call\(\) \(at .*test_functional_graph.py, line \d+: if x:\)"):
        Branchy().build((None, 4))


def test_predict_with_too_many_input_arrays_names_the_inputs():
    model = wide_and_deep()
    x = np.zeros((3, 5)), np.zeros((3, 6)), np.zeros((3, 6))
    with pytest.raises(ValueError, match=r"has 2 input\(s\) \['input_layer', 'input_layer_1'\] but x holds 3"):
        model.predict(list(x))


def test_predict_with_a_wrong_shape_names_the_input_and_both_shapes():
    model = wide_and_deep()
    with pytest.raises(ValueError, match=r'Input 1 \("input_layer_1"\) expects arrays of shape \(None, 6\); '
                                         r"received shape \(None, 5\)"):
        model.predict([np.zeros((3, 5)), np.zeros((3, 5))])


def test_predict_with_an_unknown_dict_key_names_it():
    a, b = keras.Input(shape=(2,), name="wide"), keras.Input(shape=(3,), name="deep")
    model = keras.Model({"wide": a, "deep": b}, keras.layers.concatenate([a, b]))
    with pytest.raises(ValueError, match=r"unknown: \['extra'\]"):
        model.predict({"wide": np.zeros((1, 2)), "deep": np.zeros((1, 3)), "extra": np.zeros((1, 1))})


def test_inputs_with_different_sample_counts_are_refused():
    model = wide_and_deep()
    with pytest.raises(ValueError, match="Data cardinality is ambiguous"):
        model.predict([np.zeros((3, 5)), np.zeros((4, 6))])


def test_a_two_output_model_given_one_target_says_how_to_give_two():
    a = keras.Input(shape=(4,))
    h = keras.layers.Dense(3)(a)
    model = keras.Model(a, [keras.layers.Dense(1)(h), keras.layers.Dense(1)(h)])
    model.compile(loss="mse", optimizer="sgd")
    with pytest.raises(ValueError, match="pass y as a list of 2 arrays or a dict keyed by output name"):
        model.fit(np.zeros((8, 4)), np.zeros(8), verbose=0)


def test_a_loss_dict_with_an_unknown_output_name_is_refused():
    a = keras.Input(shape=(4,))
    model = keras.Model(a, [keras.layers.Dense(1, name="main")(a), keras.layers.Dense(1, name="aux")(a)])
    model.compile(loss={"main": "mse", "other": "mse"}, optimizer="sgd")
    with pytest.raises(ValueError, match=r"Expected keys \['main', 'aux'\] in loss dict"):
        model.fit(np.zeros((8, 4)), [np.zeros(8), np.zeros(8)], verbose=0)


def test_arithmetic_on_tensors_records_merge_layers():
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(3,))
    assert type((a + b)._keras_history[0]).__name__ == "Add"
    assert type((a - b)._keras_history[0]).__name__ == "Subtract"
    assert type((a * b)._keras_history[0]).__name__ == "Multiply"


def test_arithmetic_with_a_number_records_a_rescaling():
    a = keras.Input(shape=(3,))
    layer = (2.0 - a)._keras_history[0]
    assert type(layer).__name__ == "Rescaling" and (layer.scale, layer.offset) == (-1.0, 2.0)
    layer = (a / 4)._keras_history[0]
    assert (layer.scale, layer.offset) == (0.25, 0.0)

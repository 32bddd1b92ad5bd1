"""Functional.get_config against real Keras 3's for the same programs (Géron's Wide & Deep with its
auxiliary output, a shared layer, dict inputs and outputs): the same keys, layer classes, names and
order, inbound nodes (tensor shapes and keras_history) and input/output references. The layers'
own configs differ where fastdnn's arguments do (dtype as a string, no quantization_config) and
are not compared here; test_functional_config.py checks that fastdnn reads its own back."""

import json

import fastdnn
# Keras' default float32 here (not keras_reference's float64 fixture): the configs name the dtype.
from keras_reference import keras, TORCH_PYTREE_WARNING

pytestmark = TORCH_PYTREE_WARNING


def wide_and_deep(lib):
    input_a = lib.layers.Input(shape=[5], name="wide_input")
    input_b = lib.layers.Input(shape=[6], name="deep_input")
    hidden1 = lib.layers.Dense(30, activation="relu", name="hidden1")(input_b)
    hidden2 = lib.layers.Dense(30, activation="relu", name="hidden2")(hidden1)
    concat = lib.layers.concatenate([input_a, hidden2], name="concat")
    output = lib.layers.Dense(1, name="main_output")(concat)
    aux_output = lib.layers.Dense(1, name="aux_output")(hidden2)
    return lib.models.Model(inputs=[input_a, input_b], outputs=[output, aux_output])


def shared(lib):
    left, right = lib.Input(shape=(5,), name="left"), lib.Input(shape=(5,), name="right")
    dense = lib.layers.Dense(4, name="shared")
    added = lib.layers.Add(name="add")([dense(left), dense(right)])
    return lib.Model([left, right], lib.layers.Dense(1, name="out")(added))


def dict_io(lib):
    a, b = lib.Input(shape=(3,), name="a"), lib.Input(shape=(2,), name="b")
    merged = lib.layers.Concatenate(name="merged")([a, b])
    return lib.Model({"a": a, "b": b}, {"y": lib.layers.Dense(1, name="y_head")(merged)})


def fixed_training(lib):
    x = lib.Input(shape=(3,), name="x")
    return lib.Model(x, lib.layers.Dense(1, name="d")(lib.layers.Dropout(0.5, name="drop")(x, training=True)))


def skeleton(config):
    """The structure of a functional config (as JSON gives it back: Keras' holds tuples), without
    the layers' own argument dicts."""
    config = json.loads(json.dumps(config))
    layers = [{"keys": sorted(set(e) - {"config"}), "class_name": e["class_name"], "name": e["name"],
               "inbound_nodes": e["inbound_nodes"], "build_config": e.get("build_config")}
              for e in config["layers"]]
    return {"keys": list(config), "layers": layers, "input_layers": config["input_layers"],
            "output_layers": config["output_layers"]}


def same_program(build):
    keras.backend.clear_session()
    fastdnn.backend.clear_session()
    return skeleton(build(fastdnn).get_config()), skeleton(build(keras).get_config())


def test_wide_and_deep_config_has_keras_structure():
    ours, theirs = same_program(wide_and_deep)
    assert ours == theirs


def test_shared_layer_config_has_keras_structure():
    ours, theirs = same_program(shared)
    assert ours == theirs


def test_dict_inputs_and_outputs_config_has_keras_structure():
    ours, theirs = same_program(dict_io)
    assert ours == theirs


def test_a_call_with_training_fixed_has_keras_structure():
    ours, theirs = same_program(fixed_training)
    assert ours == theirs

"""Functional.get_config / from_config in Keras 3's format (and Keras 2's node format read),
to_json / model_from_json, clone_model, layers.serialize / deserialize of the merging layers and
Reshape, and the refusal of hostile configurations."""

import copy
import json

import numpy as np
import pytest

import fastdnn as keras
from fastdnn import layers
from fastdnn.models import Functional
from functional_models import course_wide_and_deep, nested_model, shared_layer_model, wide_and_deep


@pytest.fixture(autouse=True)
def fresh_names():
    keras.backend.clear_session()  # layer names count from dense again


def structure(model):
    """What a rebuilt model must share with the original: layers (name, class, input shape),
    inputs and outputs (names, shapes), weight shapes."""
    return ([(l.name, type(l).__name__) for l in model.layers], [t.shape for t in model.inputs],
            [t.shape for t in model.outputs], model.output_names, [w.shape for w in model.weights])


# --- the format --------------------------------------------------------------------------------

def test_config_has_keras_3s_top_level_keys():
    assert list(wide_and_deep().get_config()) == ["name", "trainable", "layers", "input_layers", "output_layers"]


def test_each_layer_entry_has_keras_3s_keys():
    for entry in wide_and_deep().get_config()["layers"]:
        assert {"module", "class_name", "config", "registered_name", "name", "inbound_nodes"} <= set(entry)


def test_layers_are_listed_in_keras_depth_order():
    names = [e["name"] for e in wide_and_deep().get_config()["layers"]]
    assert names[:3] == ["deep_input", "dense", "wide_input"]


def test_an_inbound_node_records_the_tensors_as_keras_tensor_dicts():
    concat = next(e for e in wide_and_deep().get_config()["layers"] if e["class_name"] == "Concatenate")
    (node,) = concat["inbound_nodes"]
    assert node["kwargs"] == {}
    wide, hidden = node["args"][0]
    assert wide == {"class_name": "__keras_tensor__",
                    "config": {"shape": [None, 5], "dtype": "float32", "keras_history": ["wide_input", 0, 0]}}
    assert hidden["config"]["keras_history"][1:] == [0, 0] and hidden["config"]["shape"] == [None, 30]


def test_input_and_output_layers_keep_a_list_structure():
    config = wide_and_deep().get_config()
    assert config["input_layers"] == [["wide_input", 0, 0], ["deep_input", 0, 0]]
    assert config["output_layers"] == [["main_output", 0, 0], ["aux_output", 0, 0]]


def test_input_and_output_layers_keep_a_dict_structure():
    a, b = layers.Input(shape=(3,), name="a"), layers.Input(shape=(2,), name="b")
    merged = layers.concatenate([a, b])
    model = keras.Model({"a": a, "b": b}, {"y": layers.Dense(1, name="y_head")(merged)})
    config = model.get_config()
    assert config["input_layers"] == {"a": ["a", 0, 0], "b": ["b", 0, 0]}
    assert config["output_layers"] == {"y": ["y_head", 0, 0]}
    again = Functional.from_config(config)
    assert isinstance(again.input, dict) and sorted(again.input) == ["a", "b"] and list(again.output) == ["y"]


def test_a_single_tensor_input_is_a_bare_reference():
    i = layers.Input(shape=(3,), name="x")
    config = keras.Model(i, layers.Dense(2, name="d")(i)).get_config()
    assert config["input_layers"] == ["x", 0, 0] and config["output_layers"] == ["d", 0, 0]


def test_the_config_is_json():
    config = wide_and_deep().get_config()
    assert json.loads(json.dumps(config)) == config


# --- round trips -------------------------------------------------------------------------------

def test_from_config_rebuilds_the_same_structure():
    model = wide_and_deep()
    assert structure(Functional.from_config(model.get_config())) == structure(model)


def test_from_config_gives_the_same_config_again():
    config = wide_and_deep().get_config()
    assert Functional.from_config(copy.deepcopy(config)).get_config() == config


def test_model_from_config_makes_a_functional_model():
    again = keras.Model.from_config(course_wide_and_deep().get_config())
    assert type(again) is Functional and len(again.layers) == 5


def test_to_json_and_model_from_json_round_trip():
    model = wide_and_deep()
    again = keras.models.model_from_json(model.to_json())
    assert type(again) is Functional and structure(again) == structure(model)
    assert json.loads(model.to_json())["class_name"] == "Functional"


def test_a_shared_layer_is_one_entry_with_two_inbound_nodes():
    entry = next(e for e in shared_layer_model().get_config()["layers"] if e["name"] == "shared")
    histories = [n["args"][0]["config"]["keras_history"] for n in entry["inbound_nodes"]]
    assert histories == [["left", 0, 0], ["right", 0, 0]]


def test_a_consumer_of_a_shared_layer_addresses_its_second_call_as_node_1():
    entry = next(e for e in shared_layer_model().get_config()["layers"] if e["name"] == "add")
    assert [t["config"]["keras_history"] for t in entry["inbound_nodes"][0]["args"][0]] == [["shared", 0, 0],
                                                                                           ["shared", 1, 0]]


def test_a_shared_layer_is_rebuilt_once_and_called_twice():
    model = shared_layer_model()
    again = Functional.from_config(model.get_config())
    assert len(again.get_layer("shared")._inbound_nodes) == 2
    assert structure(again) == structure(model) and again.count_params() == model.count_params() == 29


def test_nested_functional_and_sequential_models_round_trip():
    model = nested_model()
    again = Functional.from_config(model.get_config())
    assert structure(again) == structure(model)
    assert type(again.get_layer("inner")) is Functional and type(again.get_layer("stack")) is keras.Sequential


def test_a_layer_called_only_outside_the_model_does_not_count_its_calls():
    shared = layers.Dense(2, name="reused")
    other = layers.Input(shape=(3,), name="other")
    shared(other)  # a call that belongs to no model saved here
    x = layers.Input(shape=(3,), name="x")
    config = keras.Model(x, layers.Dense(1, name="head")(shared(x))).get_config()
    entry = next(e for e in config["layers"] if e["name"] == "reused")
    assert len(entry["inbound_nodes"]) == 1
    head = next(e for e in config["layers"] if e["name"] == "head")
    assert head["inbound_nodes"][0]["args"][0]["config"]["keras_history"] == ["reused", 0, 0]


def test_clone_model_keeps_the_structure_with_fresh_weights():
    model = wide_and_deep()
    clone = keras.models.clone_model(model)
    assert structure(clone) == structure(model)
    kernels = [w for w in model.weights if w.name == "kernel"]
    assert not any(np.array_equal(a.value, b.value) for a, b in zip(kernels, [w for w in clone.weights
                                                                               if w.name == "kernel"]))


def test_keras_2_inbound_nodes_are_read():
    config = {
        "name": "model", "layers": [
            {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 8], "name": "input_1"},
             "name": "input_1", "inbound_nodes": []},
            {"class_name": "Dense", "config": {"name": "dense", "units": 30, "activation": "relu"},
             "name": "dense", "inbound_nodes": [[["input_1", 0, 0, {}]]]},
            {"class_name": "Concatenate", "config": {"name": "concatenate", "axis": -1},
             "name": "concatenate", "inbound_nodes": [[["input_1", 0, 0, {}], ["dense", 0, 0, {}]]]},
            {"class_name": "Dense", "config": {"name": "dense_1", "units": 1}, "name": "dense_1",
             "inbound_nodes": [[["concatenate", 0, 0, {}]]]}],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_1", 0, 0]]}
    model = keras.models.model_from_json(json.dumps({"class_name": "Model", "config": config}))
    assert [l.name for l in model.layers] == ["input_1", "dense", "concatenate", "dense_1"]
    assert model.count_params() == 8 * 30 + 30 + 38 + 1 and model.output_shape == (None, 1)


def test_layers_listed_after_their_readers_are_replayed_in_dependency_order():
    config = course_wide_and_deep().get_config()
    config["layers"].reverse()
    assert Functional.from_config(config).count_params() == 1239


@pytest.mark.parametrize("layer", [layers.Concatenate(axis=1), layers.Add(), layers.Subtract(), layers.Multiply(),
                                   layers.Average(), layers.Maximum(), layers.Minimum(),
                                   layers.Reshape((2, 3))], ids=lambda l: type(l).__name__)
def test_merging_layers_and_reshape_round_trip_through_serialize(layer):
    again = layers.deserialize(layers.serialize(layer))
    assert type(again) is type(layer) and again.get_config() == layer.get_config()


def test_serialize_gives_keras_3s_layer_entry():
    entry = layers.serialize(layers.Concatenate(name="c"))
    assert entry == {"module": "keras.layers", "class_name": "Concatenate",
                     "config": {"name": "c", "trainable": True, "dtype": "float32", "axis": -1},
                     "registered_name": None}


# --- hostile configurations --------------------------------------------------------------------

def edited(edit):
    config = course_wide_and_deep().get_config()
    edit(config)
    return config


def entry_named(config, class_name):
    return next(e for e in config["layers"] if e["class_name"] == class_name)


def test_a_reference_to_a_missing_layer_is_refused():
    def edit(config):
        entry_named(config, "Concatenate")["inbound_nodes"][0]["args"][0][1]["config"]["keras_history"][0] = "ghost"

    with pytest.raises(ValueError, match="reads the layer 'ghost', which the configuration does not define"):
        Functional.from_config(edited(edit))


def test_a_cycle_is_refused():
    def edit(config):  # the first Dense now reads the last one, which (through it) reads the first
        first = next(e for e in config["layers"] if e["class_name"] == "Dense")
        first["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = [config["layers"][-1]["name"], 0, 0]

    with pytest.raises(ValueError, match="has a cycle"):
        Functional.from_config(edited(edit))


def test_an_unknown_class_is_refused_naming_it_and_custom_objects():
    with pytest.raises(ValueError, match="Unknown layer class 'Evil'.*custom_objects"):
        Functional.from_config(edited(lambda c: entry_named(c, "Concatenate").update(class_name="Evil",
                                                                                       module="os")))


def test_a_lambda_layer_is_refused():
    with pytest.raises(ValueError, match="Lambda layer: its function is Python code"):
        Functional.from_config(edited(lambda c: entry_named(c, "Concatenate").update(class_name="Lambda")))


def test_a_reference_to_a_call_never_made_is_refused():
    def edit(config):
        config["output_layers"] = [[config["output_layers"][0][0], 3, 0]]

    with pytest.raises(ValueError, match="reads call 3 of layer"):
        Functional.from_config(edited(edit))


def test_a_second_output_tensor_is_refused():
    def edit(config):
        config["output_layers"] = [[config["output_layers"][0][0], 0, 1]]

    with pytest.raises(ValueError, match="fastdnn layers have one output"):
        Functional.from_config(edited(edit))


@pytest.mark.parametrize("reference", [["dense", "0", 0], ["dense", -1, 0], "dense", ["dense", 0]])
def test_a_malformed_tensor_reference_is_refused(reference):
    def edit(config):
        entry_named(config, "Concatenate")["inbound_nodes"][0]["args"][0][1]["config"]["keras_history"] = reference

    with pytest.raises(ValueError, match="malformed tensor reference"):
        Functional.from_config(edited(edit))


def test_a_layer_defined_twice_is_refused():
    with pytest.raises(ValueError, match="defines the layer 'dense' twice"):
        Functional.from_config(edited(lambda c: c["layers"].append(copy.deepcopy(c["layers"][1]))))


def test_a_call_with_training_fixed_records_and_replays_it():
    x = layers.Input(shape=(3,), name="x")
    model = keras.Model(x, layers.Dense(1, name="d")(layers.Dropout(0.5, name="drop")(x, training=True)))
    config = model.get_config()
    drop = next(e for e in config["layers"] if e["name"] == "drop")
    assert drop["inbound_nodes"][0]["kwargs"] == {"training": True}
    assert Functional.from_config(config).get_layer("drop")._inbound_nodes[0].training is True


def test_keyword_arguments_in_a_call_are_refused():
    with pytest.raises(ValueError, match="training=True/False at most"):
        Functional.from_config(edited(lambda c: entry_named(c, "Concatenate")["inbound_nodes"][0].update(
            kwargs={"mask": [1, 2]})))


def test_a_configuration_without_output_layers_is_refused():
    with pytest.raises(ValueError, match="lacks \\['output_layers'\\]"):
        Functional.from_config(edited(lambda c: c.pop("output_layers")))

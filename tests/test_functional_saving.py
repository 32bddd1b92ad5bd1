"""model.save / load_model and save_weights / load_weights for functional and subclassed models
(and a Sequential holding one), in fastdnn's format: weights bitwise, structure, names, output
names and per-output compile settings survive; a subclassed model comes back through
custom_objects only; hostile files are refused naming the file, before large allocations."""

import json
import sys
import zipfile

import numpy as np
import pytest

import fastdnn as keras
from fastdnn import layers
from functional_models import (ConfiguredModel, MCDropout, WideAndDeepModel, WideDeepModel, course_wide_and_deep,
                               mc_dropout_model, nested_model, shared_layer_model, wide_and_deep)

pytestmark = pytest.mark.filterwarnings("ignore:fastdnn writes:UserWarning")


@pytest.fixture(autouse=True)
def fresh_names():
    keras.backend.clear_session()


def saved_and_loaded(model, tmp_path, **load_kwargs):
    path = tmp_path / "model.fdnn"
    model.save(path)
    return keras.models.load_model(path, **load_kwargs)


def assert_same_weights(a, b):
    assert len(a.weights) == len(b.weights)
    for x, y in zip(a.get_weights(), b.get_weights()):
        assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


def layer_table(model):
    return [(l.name, type(l).__name__) for l in model.layers]


def rewrite_manifest(src, dst, edit):
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w") as b:
        for name in a.namelist():
            data = a.read(name)
            if name == "fastdnn.json":
                manifest = json.loads(data)
                edit(manifest)
                data = json.dumps(manifest).encode()
            b.writestr(name, data)
    return dst


# --- functional models -------------------------------------------------------------------------

def test_a_functional_model_reloads_with_bitwise_weights(tmp_path):
    model = wide_and_deep()
    assert_same_weights(saved_and_loaded(model, tmp_path), model)


def test_a_functional_model_reloads_with_its_layers_names_and_outputs(tmp_path):
    model = wide_and_deep()
    again = saved_and_loaded(model, tmp_path)
    assert type(again) is keras.models.Functional and again.name == model.name
    assert layer_table(again) == layer_table(model)
    assert again.output_names == ["main_output", "aux_output"]
    assert [t.shape for t in again.inputs] == [(None, 5), (None, 6)]


def test_per_output_loss_list_loss_weights_and_metrics_round_trip(tmp_path):
    model = wide_and_deep()
    model.compile(loss=["mse", keras.losses.MeanAbsoluteError()], loss_weights=[0.9, 0.1],
                  optimizer=keras.optimizers.SGD(learning_rate=1e-3), metrics=[["mae"], ["RootMeanSquaredError"]])
    again = saved_and_loaded(model, tmp_path)
    assert again.loss[0] == "mse" and type(again.loss[1]) is keras.losses.MeanAbsoluteError
    assert again._loss_weights == [0.9, 0.1] and again._compiled_metrics == [["mae"], ["RootMeanSquaredError"]]
    assert again.optimizer.learning_rate == pytest.approx(1e-3)


def test_per_output_loss_and_metric_dicts_round_trip(tmp_path):
    model = wide_and_deep()
    model.compile(loss={"main_output": "mse", "aux_output": "mae"},
                  loss_weights={"main_output": 0.8, "aux_output": 0.2},
                  metrics={"aux_output": ["mae"]}, weighted_metrics={"main_output": "mse"}, optimizer="adam")
    again = saved_and_loaded(model, tmp_path)
    assert again.loss == {"main_output": "mse", "aux_output": "mae"}
    assert again._loss_weights == {"main_output": 0.8, "aux_output": 0.2}
    assert again._compiled_metrics == {"aux_output": ["mae"]}
    assert again._compiled_weighted_metrics == {"main_output": "mse"}


def test_a_metric_object_in_a_per_output_list_round_trips(tmp_path):
    model = wide_and_deep()
    model.compile(loss="mse", metrics=[[keras.metrics.MeanAbsoluteError(name="abs_err")], None], optimizer="sgd")
    metric = saved_and_loaded(model, tmp_path)._compiled_metrics[0][0]
    assert type(metric) is keras.metrics.MeanAbsoluteError and metric.name == "abs_err"


def test_compile_false_leaves_the_loaded_model_uncompiled(tmp_path):
    model = course_wide_and_deep()
    model.compile(loss="mse", optimizer="sgd")
    assert not saved_and_loaded(model, tmp_path, compile=False).compiled


def test_save_weights_and_load_weights_round_trip_a_functional_model(tmp_path):
    model, other = wide_and_deep(), wide_and_deep()
    model.save_weights(tmp_path / "w.fdnn")
    other.load_weights(tmp_path / "w.fdnn")
    assert_same_weights(other, model)


def test_a_shared_layer_model_reloads_with_one_shared_layer(tmp_path):
    model = shared_layer_model()
    again = saved_and_loaded(model, tmp_path)
    assert len(again.get_layer("shared")._inbound_nodes) == 2
    assert_same_weights(again, model)


def test_nested_models_reload_bitwise(tmp_path):
    model = nested_model()
    again = saved_and_loaded(model, tmp_path)
    assert layer_table(again) == layer_table(model)
    assert_same_weights(again, model)


def test_a_sequential_holding_a_functional_model_reloads(tmp_path):
    model = keras.Sequential([course_wide_and_deep(), layers.Dense(2)])
    model.build((None, 8))
    again = saved_and_loaded(model, tmp_path)
    assert type(again.layers[0]) is keras.models.Functional
    assert_same_weights(again, model)


def test_the_file_names_the_model_class_and_holds_no_code(tmp_path):
    path = tmp_path / "model.fdnn"
    wide_and_deep().save(path)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("fastdnn.json"))
        assert all(n == "fastdnn.json" or n.endswith(".npy") for n in archive.namelist())
    assert manifest["model_class"] == {"module": "keras.src.models.functional", "class_name": "Functional",
                                       "registered_name": "Functional"}


def test_a_layer_class_with_its_own_call_reloads_through_custom_objects(tmp_path):
    model = mc_dropout_model()
    again = saved_and_loaded(model, tmp_path, custom_objects={"MCDropout": MCDropout})
    assert type(again.get_layer("mc")) is MCDropout and again.get_layer("mc").rate == 0.3
    assert again.get_layer("mc")._engine_seed == model.get_layer("mc")._engine_seed
    assert_same_weights(again, model)


def test_a_layer_class_of_ones_own_without_custom_objects_is_refused(tmp_path):
    path = tmp_path / "model.fdnn"
    mc_dropout_model().save(path)
    with pytest.raises(ValueError, match="'MCDropout'.*custom_objects"):
        keras.models.load_model(path)


def test_a_reloaded_functional_model_predicts_the_same(tmp_path):
    model = wide_and_deep()
    x = [np.random.default_rng(0).normal(size=(16, 5)), np.random.default_rng(1).normal(size=(16, 6))]
    expected = model.predict(x, verbose=0)
    got = saved_and_loaded(model, tmp_path).predict(x, verbose=0)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


# --- subclassed models -------------------------------------------------------------------------

def built_geron_model():
    model = WideAndDeepModel(30, activation="relu", name="my_cool_model")
    model.build([(None, 5), (None, 6)])
    return model


def test_a_subclass_without_get_config_stores_its_init_arguments():
    assert built_geron_model().get_config() == {"name": "my_cool_model", "trainable": True, "units": 30,
                                                "activation": "relu"}


def test_a_subclass_reloads_through_custom_objects(tmp_path):
    model = built_geron_model()
    model.compile(loss="mse", loss_weights=[0.9, 0.1], optimizer="sgd")
    again = saved_and_loaded(model, tmp_path, custom_objects={"WideAndDeepModel": WideAndDeepModel})
    assert type(again) is WideAndDeepModel and again.name == "my_cool_model"
    assert again.hidden1.units == 30 and again._loss_weights == [0.9, 0.1]
    assert_same_weights(again, model)


def test_a_subclass_with_other_init_arguments_reloads_them(tmp_path):
    model = WideAndDeepModel(units=7, activation="tanh")
    model.build([(None, 5), (None, 6)])
    again = saved_and_loaded(model, tmp_path, custom_objects={"WideAndDeepModel": WideAndDeepModel})
    assert again.hidden1.units == 7 and again.hidden2.activation.__name__ == "tanh"
    assert_same_weights(again, model)


def test_a_subclass_with_no_init_arguments_reloads(tmp_path):
    model = WideDeepModel()
    model.build((None, 8))
    again = saved_and_loaded(model, tmp_path, custom_objects={"WideDeepModel": WideDeepModel})
    assert type(again) is WideDeepModel and again.name == model.name
    assert_same_weights(again, model)


def test_the_courses_sequential_holding_a_subclass_reloads(tmp_path):
    model = keras.models.Sequential([WideDeepModel()])
    model.build(input_shape=(None, 8))
    model.compile(loss="mean_squared_error", optimizer="sgd")
    again = saved_and_loaded(model, tmp_path, custom_objects={"WideDeepModel": WideDeepModel})
    assert type(again.layers[0]) is WideDeepModel
    assert_same_weights(again, model)


def test_a_subclass_called_inside_a_functional_model_reloads(tmp_path):
    inputs = layers.Input(shape=(8,), name="x")
    model = keras.Model(inputs, layers.Dense(2, name="head")(WideDeepModel()(inputs)))
    again = saved_and_loaded(model, tmp_path, custom_objects={"WideDeepModel": WideDeepModel})
    assert [type(l).__name__ for l in again.layers] == ["InputLayer", "WideDeepModel", "Dense"]
    assert_same_weights(again, model)


def test_a_subclass_with_its_own_get_config_reloads(tmp_path):
    model = ConfiguredModel(6, depth=3, name="configured")
    model.build((None, 4))
    again = saved_and_loaded(model, tmp_path, custom_objects={"ConfiguredModel": ConfiguredModel})
    assert again.depth == 3 and again.width == 6 and again.name == "configured"
    assert_same_weights(again, model)


def test_a_subclass_without_custom_objects_is_refused_naming_the_class(tmp_path):
    path = tmp_path / "model.fdnn"
    built_geron_model().save(path)
    with pytest.raises(ValueError, match="'WideAndDeepModel'.*custom_objects") as info:
        keras.models.load_model(path)
    assert str(path) in str(info.value)


def test_a_file_naming_a_module_never_gets_it_imported(tmp_path):
    path = tmp_path / "model.fdnn"
    built_geron_model().save(path)
    forged = rewrite_manifest(path, tmp_path / "forged.fdnn", lambda m: m["model_class"].update(
        module="fastdnn_never_imported_module", class_name="Payload", registered_name="Payload"))
    with pytest.raises(ValueError, match="'Payload'"):
        keras.models.load_model(forged)
    assert "fastdnn_never_imported_module" not in sys.modules


class HoldsAnObject(keras.Model):
    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        self.inner = layer

    def call(self, inputs):
        return self.inner(inputs)


def test_a_subclass_with_unstorable_arguments_saves_with_a_warning_and_refuses_to_load(tmp_path):
    model = HoldsAnObject(layers.Dense(2))
    model.build((None, 3))
    path = tmp_path / "model.fdnn"
    with pytest.warns(UserWarning, match="saved without its __init__ arguments"):
        model.save(path)
    with pytest.raises(ValueError, match="HoldsAnObject saved without its __init__ arguments"):
        keras.models.load_model(path, custom_objects={"HoldsAnObject": HoldsAnObject})


def test_a_subclass_can_be_cloned():
    model = built_geron_model()
    clone = keras.models.clone_model(model)
    assert type(clone) is WideAndDeepModel and clone.built
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]


def test_a_reloaded_subclass_predicts_the_same(tmp_path):
    model = built_geron_model()
    x = (np.ones((4, 5)), np.ones((4, 6)))
    expected = model.predict(x, verbose=0)
    got = saved_and_loaded(model, tmp_path, custom_objects={"WideAndDeepModel": WideAndDeepModel}).predict(x, verbose=0)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


# --- hostile files -----------------------------------------------------------------------------

@pytest.fixture
def saved_functional(tmp_path):
    path = tmp_path / "good.fdnn"
    course_wide_and_deep().save(path)
    return path


def dense_entry(manifest):
    return next(e for e in manifest["model"]["layers"] if e["class_name"] == "Dense")


def test_an_enormous_layer_in_a_functional_file_is_refused_before_allocating(saved_functional, tmp_path):
    import tracemalloc

    bad = rewrite_manifest(saved_functional, tmp_path / "big.fdnn",
                           lambda m: dense_entry(m)["config"].update(units=2_000_000))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="implies more weights than the file holds") as info:
            keras.models.load_model(bad)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(bad) in str(info.value) and peak < 4 << 20


def test_an_enormous_subclass_argument_is_refused_before_allocating(tmp_path):
    path = tmp_path / "model.fdnn"
    built_geron_model().save(path)
    bad = rewrite_manifest(path, tmp_path / "big.fdnn", lambda m: m["model"].update(units=10**9))
    with pytest.raises(ValueError, match="implies more weights than the file holds"):
        keras.models.load_model(bad, custom_objects={"WideAndDeepModel": WideAndDeepModel})


def test_a_lambda_layer_in_a_functional_file_is_refused_naming_the_file(saved_functional, tmp_path):
    bad = rewrite_manifest(saved_functional, tmp_path / "lambda.fdnn",
                           lambda m: dense_entry(m).update(class_name="Lambda"))
    with pytest.raises(ValueError, match="Lambda") as info:
        keras.models.load_model(bad)
    assert str(bad) in str(info.value)


def test_a_missing_layer_reference_in_a_functional_file_is_refused_naming_the_file(saved_functional, tmp_path):
    bad = rewrite_manifest(saved_functional, tmp_path / "ghost.fdnn",
                           lambda m: m["model"].update(output_layers=[["ghost", 0, 0]]))
    with pytest.raises(ValueError, match="'ghost'") as info:
        keras.models.load_model(bad)
    assert str(bad) in str(info.value)


def test_malformed_layer_seeds_are_refused(saved_functional, tmp_path):
    bad = rewrite_manifest(saved_functional, tmp_path / "seeds.fdnn", lambda m: m.update(layer_seeds=[1]))
    with pytest.raises(ValueError, match="layer seeds"):
        keras.models.load_model(bad)


@pytest.mark.parametrize("subclassed", [False, True], ids=["functional", "subclassed"])
def test_training_resumes_exactly_from_a_saved_two_output_model(tmp_path, subclassed):
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(64, 5)).astype("float32"), rng.normal(size=(64, 6)).astype("float32")]
    y = rng.normal(size=(64, 1)).astype("float32")
    model = WideAndDeepModel(8) if subclassed else wide_and_deep()
    model.compile(loss=["mse", "mae"], loss_weights=[0.9, 0.1], optimizer="adam", metrics=[["mae"], ["mse"]])
    model.fit(x, [y, y], epochs=1, batch_size=16, verbose=0)
    again = saved_and_loaded(model, tmp_path, custom_objects={"WideAndDeepModel": WideAndDeepModel})
    assert again.evaluate(x, [y, y], verbose=0) == model.evaluate(x, [y, y], verbose=0)
    histories = [m.fit(x, [y, y], epochs=2, initial_epoch=1, batch_size=16, verbose=0, shuffle=False).history
                 for m in (model, again)]
    assert histories[0] == histories[1]
    assert_same_weights(again, model)


def test_a_layer_argument_fastdnn_does_not_support_is_refused_naming_the_file(saved_functional, tmp_path):
    bad = rewrite_manifest(saved_functional, tmp_path / "unsupported.fdnn",
                           lambda m: dense_entry(m)["config"].update(activity_regularizer="l2"))
    with pytest.raises(ValueError, match="malformed configuration") as info:
        keras.models.load_model(bad)
    assert str(bad) in str(info.value)


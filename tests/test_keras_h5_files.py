"""Legacy Keras HDF5 model files (.h5) written and read by fastdnn (fastdnn.saving_h5): exact
round trips, Keras' layout, and damaged or forged files refused naming the file."""

import json

import numpy as np
import pytest

import fastdnn as keras
from test_keras_files import trained_model

h5py = pytest.importorskip("h5py", reason="Keras files need h5py (the keras-files extra)")


def text(name):
    return name.decode() if isinstance(name, bytes) else str(name)


def saved(tmp_path):
    model, x = trained_model()
    model.save(tmp_path / "m.h5")
    return model, x, tmp_path / "m.h5"


def test_an_h5_round_trip_predicts_bit_for_bit_the_same(tmp_path):
    model, x, path = saved(tmp_path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.optimizer.get_config() == model.optimizer.get_config()


def test_an_h5_file_has_the_legacy_keras_layout(tmp_path):
    model, _, path = saved(tmp_path)
    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["model_config"])
        assert config["class_name"] == "Sequential"
        assert "module" not in config["config"]["layers"][1]
        assert json.loads(f.attrs["training_config"])["optimizer_config"]["class_name"] == "Adam"
        names = [text(n) for n in f["model_weights"].attrs["layer_names"]]
        assert names == [layer.name for layer in model.layers]
        dense = model.layers[0].name
        weight_names = [text(n) for n in f[f"model_weights/{dense}"].attrs["weight_names"]]
        assert weight_names == [f"{model.name}/{dense}/kernel", f"{model.name}/{dense}/bias"]
        assert f[f"model_weights/{dense}/{weight_names[0]}"].shape == (6, 12)


def test_a_tf_keras_2_style_file_loads(tmp_path):
    # Keras 2's names: batch_input_shape on the first layer, "kernel:0" weight names
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "Dense", "config": {"name": "dense", "trainable": True, "dtype": "float32",
                                           "batch_input_shape": [None, 3], "units": 2, "activation": "relu",
                                           "use_bias": True, "kernel_initializer": {"class_name": "GlorotUniform",
                                                                                    "config": {"seed": None}},
                                           "bias_initializer": {"class_name": "Zeros", "config": {}},
                                           "kernel_regularizer": None, "bias_regularizer": None,
                                           "activity_regularizer": None, "kernel_constraint": None,
                                           "bias_constraint": None}}]}}
    kernel, bias = np.arange(6, dtype="f4").reshape(3, 2) - 2, np.array([0.5, -1], "f4")
    with h5py.File(tmp_path / "old.h5", "w") as f:
        f.attrs["keras_version"], f.attrs["backend"] = "2.4.0", "tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode()
        f.create_group("model_weights").attrs["layer_names"] = [b"dense"]
        layer = f["model_weights"].create_group("dense")
        layer.attrs["weight_names"] = [b"dense/kernel:0", b"dense/bias:0"]
        layer.create_dataset("dense/kernel:0", data=kernel)
        layer.create_dataset("dense/bias:0", data=bias)
    model = keras.models.load_model(tmp_path / "old.h5")
    x = np.array([[1, 2, 3]], "f4")
    np.testing.assert_allclose(model.predict(x, verbose=0), np.maximum(x @ kernel + bias, 0), rtol=1e-6)


def rewrite_config(path, change):
    with h5py.File(path, "a") as f:
        config = json.loads(f.attrs["model_config"])
        change(config)
        f.attrs["model_config"] = json.dumps(config)


def test_a_lambda_layer_in_an_h5_file_is_refused_by_name(tmp_path):
    _, _, path = saved(tmp_path)
    rewrite_config(path, lambda c: c["config"]["layers"].insert(1, {"class_name": "Lambda",
                                                                    "config": {"function": "x"}}))
    with pytest.raises(ValueError, match=r"m\.h5.*Lambda"):
        keras.models.load_model(path)


def test_a_forged_huge_layer_in_an_h5_file_is_refused_before_building(tmp_path):
    _, _, path = saved(tmp_path)
    rewrite_config(path, lambda c: c["config"]["layers"][1]["config"].update(units=10 ** 12))
    with pytest.raises(ValueError, match=r"m\.h5.*more weights"):
        keras.models.load_model(path)


def test_a_forged_dataset_in_an_h5_file_is_refused_before_reading(tmp_path):
    _, _, path = saved(tmp_path)
    with h5py.File(path, "a") as f:
        f.create_dataset("model_weights/huge", shape=(10 ** 5, 10 ** 5), dtype="f4")
    with pytest.raises(ValueError, match=r"m\.h5.*declare"):
        keras.models.load_model(path)


def test_an_h5_weight_of_the_wrong_shape_is_refused(tmp_path):
    model, _, path = saved(tmp_path)
    dense = model.layers[0].name
    name = f"model_weights/{dense}/{model.name}/{dense}/kernel"
    with h5py.File(path, "a") as f:
        del f[name]
        f.create_dataset(name, data=np.zeros((7, 12), "f4"))
    with pytest.raises(ValueError, match=r"m\.h5.*shape \[7, 12\]"):
        keras.models.load_model(path)


def test_an_h5_weights_only_file_is_refused_with_advice(tmp_path):
    _, _, path = saved(tmp_path)
    with h5py.File(path, "a") as f:
        del f.attrs["model_config"]
    with pytest.raises(ValueError, match=r"m\.h5 holds no model_config"):
        keras.models.load_model(path)


def test_a_truncated_h5_file_is_refused(tmp_path):
    _, _, path = saved(tmp_path)
    path.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(ValueError, match=r"m\.h5"):
        keras.models.load_model(path)


def test_a_flipped_byte_anywhere_in_an_h5_file_is_refused_or_harmless(tmp_path):
    model, _, path = saved(tmp_path)
    data = path.read_bytes()
    x = np.ones((2, 6), "float32")
    expected = model.predict(x, verbose=0)
    refused = 0
    for position in range(0, len(data), max(1, len(data) // 400)):
        damaged = bytearray(data)
        damaged[position] ^= 0x5A
        flipped = tmp_path / "flip.h5"
        flipped.write_bytes(bytes(damaged))
        try:
            loaded = keras.models.load_model(flipped)
        except ValueError as e:
            assert "flip.h5" in str(e)
            refused += 1
            continue
        # HDF5 keeps no checksums of plain datasets: a flip in a weight's bytes loads, changed
        predicted = loaded.predict(x, verbose=0)
        assert predicted.shape == expected.shape
    assert refused > 50

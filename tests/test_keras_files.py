"""Keras 3's .keras and .weights.h5 files written and read by fastdnn (fastdnn.saving_keras):
exact round trips, Keras' layout, and damaged, forged or hostile files refused naming the file.
Parity with real Keras 3 is in test_keras_parity_files.py."""

import io
import json
import zipfile

import numpy as np
import pytest

import fastdnn as keras
from fastdnn import layers

h5py = pytest.importorskip("h5py", reason="Keras files need h5py (the keras-files extra)")


def trained_model(optimizer="adam", dropout=0.2):
    keras.backend.clear_session()
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = rng.normal(size=(64, 2)).astype("float32")
    model = keras.Sequential([layers.Input(shape=(6,)), layers.Dense(12, activation="elu"),
                              layers.BatchNormalization(momentum=0.9), layers.Dropout(dropout),
                              layers.Activation("tanh"), layers.Dense(8, activation="relu"), layers.Dense(2)])
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    return model, x


def members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rewrite(path, **replaced):
    contents = {**members(path), **replaced}
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)


def test_a_keras_file_round_trip_predicts_bit_for_bit_the_same(tmp_path):
    model, x = trained_model()
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    for mine, theirs in zip(loaded.weights, model.weights):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_a_keras_file_holds_keras_members_and_layout(tmp_path):
    model, _ = trained_model()
    model.save(tmp_path / "m.keras")
    contents = members(tmp_path / "m.keras")
    assert list(contents) == ["metadata.json", "config.json", "model.weights.h5"]
    config = json.loads(contents["config.json"])
    assert (config["module"], config["class_name"]) == ("keras", "Sequential")
    assert [e["class_name"] for e in config["config"]["layers"]][1:] == [
        "Dense", "BatchNormalization", "Dropout", "Activation", "Dense", "Dense"]
    with h5py.File(io.BytesIO(contents["model.weights.h5"]), "r") as f:
        assert f["layers/dense/vars/0"].shape == (6, 12)
        assert f["layers/batch_normalization/vars/3"].shape == (12,)  # moving_variance
        assert f["layers/dense_2/vars/1"].shape == (2,)
        assert f["layers/dense_1/vars"].attrs["name"] == model.layers[4].name


def test_adam_state_is_written_in_keras_order_and_read_back(tmp_path):
    model, _ = trained_model("adam")
    model.save(tmp_path / "m.keras")
    slots = model._network.optimizer_slots()
    with h5py.File(io.BytesIO(members(tmp_path / "m.keras")["model.weights.h5"]), "r") as f:
        assert int(f["optimizer/vars/0"][()]) == 8  # iterations: 2 epochs of 4 batches
        np.testing.assert_array_equal(f["optimizer/vars/2"][()], slots["momentum"][0])
        np.testing.assert_array_equal(f["optimizer/vars/3"][()], slots["velocity"][0])
    loaded = keras.models.load_model(tmp_path / "m.keras")
    pending, iterations, _ = loaded._pending_optimizer_state
    assert iterations == 8
    np.testing.assert_array_equal(pending["velocity"][-1], slots["velocity"][-1])


def test_training_resumed_from_a_keras_file_matches_resuming_from_fastdnns_format(tmp_path):
    # Dropout 0: a .keras file holds no dropout seed streams (only .fdnn resumes those exactly)
    model, x = trained_model("adam", dropout=0.0)
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.fdnn")
    from_keras, from_fdnn = (keras.models.load_model(tmp_path / name) for name in ("m.keras", "m.fdnn"))
    y = np.ones((64, 2), "float32")
    for resumed in (from_keras, from_fdnn):
        resumed.fit(x, y, epochs=1, batch_size=64, verbose=0)  # one batch: no shuffling stream involved
    np.testing.assert_array_equal(from_keras.predict(x, verbose=0), from_fdnn.predict(x, verbose=0))


def test_weights_h5_round_trip_is_exact(tmp_path):
    model, x = trained_model()
    model.save_weights(tmp_path / "w.weights.h5")
    other, _ = trained_model("sgd")
    other.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
    with h5py.File(tmp_path / "w.weights.h5", "r") as f:
        assert f["layers/dense/vars/0"].shape == (6, 12)


def test_a_fastdnn_file_named_keras_still_loads(tmp_path):
    model, x = trained_model()
    model.save(tmp_path / "m.fdnn")
    (tmp_path / "m.fdnn").rename(tmp_path / "old.keras")
    loaded = keras.models.load_model(tmp_path / "old.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_functional_model_round_trips_through_a_keras_file(tmp_path):
    keras.backend.clear_session()
    a, b = layers.Input(shape=(3,), name="a"), layers.Input(shape=(2,), name="b")
    merged = layers.Concatenate()([layers.Dense(4, activation="relu")(a), b])
    model = keras.Model([a, b], layers.Dense(1)(layers.BatchNormalization()(merged)))
    x = [np.ones((5, 3), "float32"), np.arange(10, dtype="float32").reshape(5, 2)]
    model.save(tmp_path / "f.keras")
    loaded = keras.models.load_model(tmp_path / "f.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


# --- hostile files ---------------------------------------------------------------------------

def saved(tmp_path):
    model, _ = trained_model()
    model.save(tmp_path / "m.keras")
    return tmp_path / "m.keras"


def config_of(path):
    return json.loads(members(path)["config.json"])


def test_a_lambda_layer_is_refused_by_name(tmp_path):
    path = saved(tmp_path)
    config = config_of(path)
    config["config"]["layers"][2] = {"module": "keras.layers", "class_name": "Lambda",
                                     "config": {"name": "l", "function": "print"}}
    rewrite(path, **{"config.json": json.dumps(config)})
    with pytest.raises(ValueError, match=r"m\.keras.*Lambda"):
        keras.models.load_model(path)


def test_an_unknown_layer_is_refused_by_name(tmp_path):
    path = saved(tmp_path)
    config = config_of(path)
    config["config"]["layers"][2]["class_name"] = "Conv2D"
    rewrite(path, **{"config.json": json.dumps(config)})
    with pytest.raises(ValueError, match=r"m\.keras.*Conv2D"):
        keras.models.load_model(path)


def test_a_forged_huge_dense_is_refused_before_building(tmp_path):
    path = saved(tmp_path)
    config = config_of(path)
    config["config"]["layers"][1]["config"]["units"] = 10 ** 12
    rewrite(path, **{"config.json": json.dumps(config)})
    with pytest.raises(ValueError, match=r"m\.keras.*(refused|more weights)"):
        keras.models.load_model(path)


def test_a_forged_dataset_shape_is_refused_before_reading(tmp_path):
    path = saved(tmp_path)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:  # a dataset declaring 10**10 floats with no data written
        f.create_dataset("layers/dense/vars/0", shape=(10 ** 5, 10 ** 5), dtype="f4")
    rewrite(path, **{"model.weights.h5": buffer.getvalue()})
    with pytest.raises(ValueError, match=r"m\.keras.*declare"):
        keras.models.load_model(path)


def test_a_weight_of_the_wrong_shape_is_refused(tmp_path):
    path = saved(tmp_path)
    data = io.BytesIO(members(path)["model.weights.h5"])
    with h5py.File(data, "a") as f:
        del f["layers/dense/vars/0"]
        f.create_dataset("layers/dense/vars/0", data=np.zeros((5, 12), "f4"))
    rewrite(path, **{"model.weights.h5": data.getvalue()})
    with pytest.raises(ValueError, match=r"m\.keras.*layers/dense/vars/0 has shape \[5, 12\]"):
        keras.models.load_model(path)


def test_a_string_dataset_is_refused(tmp_path):
    path = saved(tmp_path)
    data = io.BytesIO(members(path)["model.weights.h5"])
    with h5py.File(data, "a") as f:
        f.create_dataset("layers/evil", data=np.array([b"x" * 10]))
    rewrite(path, **{"model.weights.h5": data.getvalue()})
    with pytest.raises(ValueError, match=r"m\.keras.*not numbers"):
        keras.models.load_model(path)


def test_damaged_weights_are_refused(tmp_path):
    path = saved(tmp_path)
    rewrite(path, **{"model.weights.h5": b"\x89HDF\r\n\x1a\n" + b"\0" * 200})
    with pytest.raises(ValueError, match=r"m\.keras.*HDF5"):
        keras.models.load_model(path)


def test_malformed_json_is_refused(tmp_path):
    path = saved(tmp_path)
    rewrite(path, **{"config.json": b"{not json"})
    with pytest.raises(ValueError, match=r"m\.keras is not a readable Keras file"):
        keras.models.load_model(path)


def test_a_non_model_config_is_refused(tmp_path):
    path = saved(tmp_path)
    rewrite(path, **{"config.json": json.dumps({"module": "os", "class_name": "system", "config": {}})})
    with pytest.raises(ValueError, match=r"m\.keras.*'system'"):
        keras.models.load_model(path)


def test_a_zip_member_declaring_more_than_the_file_holds_is_refused(tmp_path):
    path = saved(tmp_path)
    raw = bytearray(path.read_bytes())
    central = raw.rfind(b"PK\x01\x02")  # the last member's central directory entry
    raw[central + 24:central + 28] = (10 ** 9).to_bytes(4, "little")  # its uncompressed size
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"m\.keras is not a readable Keras file"):
        keras.models.load_model(path)


def test_a_quantized_dense_is_refused_by_field(tmp_path):
    path = saved(tmp_path)
    config = config_of(path)
    config["config"]["layers"][1]["config"]["quantization_config"] = {"mode": "int8"}
    rewrite(path, **{"config.json": json.dumps(config)})
    with pytest.raises(ValueError, match=r"m\.keras.*quantization_config"):
        keras.models.load_model(path)


def test_an_unknown_layer_field_is_refused(tmp_path):
    path = saved(tmp_path)
    config = config_of(path)
    config["config"]["layers"][1]["config"]["mystery"] = 1
    rewrite(path, **{"config.json": json.dumps(config)})
    with pytest.raises(ValueError, match=r"m\.keras.*mystery"):
        keras.models.load_model(path)


def test_missing_h5py_names_the_extra(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_h5py(name, *args, **kwargs):
        if name == "h5py":
            raise ImportError("no h5py")
        return real_import(name, *args, **kwargs)

    model, _ = trained_model()
    monkeypatch.setattr(builtins, "__import__", no_h5py)
    with pytest.raises(ImportError, match=r"fastdnn\[keras-files\]"):
        model.save(tmp_path / "m.keras")


def test_a_flipped_byte_anywhere_in_a_keras_file_is_refused_or_harmless(tmp_path):
    path = saved(tmp_path)
    data = path.read_bytes()
    model = keras.models.load_model(path)
    x = np.ones((2, 6), "float32")
    expected = model.predict(x, verbose=0)
    outcomes = {"refused": 0, "identical": 0}
    for position in range(0, len(data), max(1, len(data) // 400)):
        damaged = bytearray(data)
        damaged[position] ^= 0x5A
        flipped = tmp_path / "flip.keras"
        flipped.write_bytes(bytes(damaged))
        try:
            loaded = keras.models.load_model(flipped)
        except ValueError as e:
            assert "flip.keras" in str(e)
            outcomes["refused"] += 1
            continue
        # a flip nothing reads (a date, an attribute, padding) loads the saved model exactly
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
        outcomes["identical"] += 1
    assert outcomes["refused"] > 100


def test_overwrite_false_keeps_an_existing_keras_file(tmp_path):
    model, _ = trained_model()
    (tmp_path / "m.keras").write_bytes(b"keep")
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save(tmp_path / "m.keras", overwrite=False)
    assert (tmp_path / "m.keras").read_bytes() == b"keep"


def test_a_subclassed_model_is_not_written_as_a_keras_file(tmp_path):
    class Twice(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs) * 2

    model = Twice()
    model(np.ones((1, 3), "float32"))
    with pytest.raises(ValueError, match=r"class of your own.*\.fdnn"):
        model.save(tmp_path / "m.keras")


def test_a_forged_weights_h5_is_refused_before_reading(tmp_path):
    model, _ = trained_model()
    with h5py.File(tmp_path / "w.weights.h5", "w") as f:
        f.create_dataset("layers/dense/vars/0", shape=(10 ** 5, 10 ** 5), dtype="f4")
    with pytest.raises(ValueError, match=r"w\.weights\.h5.*declare"):
        model.load_weights(tmp_path / "w.weights.h5")


def test_a_weights_h5_for_another_model_is_refused_naming_the_weight(tmp_path):
    model, _ = trained_model()
    model.save_weights(tmp_path / "w.weights.h5")
    keras.backend.clear_session()
    other = keras.Sequential([layers.Input(shape=(5,)), layers.Dense(12)])
    with pytest.raises(ValueError, match=r"w\.weights\.h5.*layers/dense/vars/0 has shape \[6, 12\]"):
        other.load_weights(tmp_path / "w.weights.h5")


def test_loading_a_keras_file_without_h5py_names_the_extra(monkeypatch, tmp_path):
    import builtins

    model, _ = trained_model()
    model.save(tmp_path / "m.keras")
    real_import = builtins.__import__

    def no_h5py(name, *args, **kwargs):
        if name == "h5py":
            raise ImportError("no h5py")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_h5py)
    with pytest.raises(ImportError, match=r"fastdnn\[keras-files\]"):
        keras.models.load_model(tmp_path / "m.keras")

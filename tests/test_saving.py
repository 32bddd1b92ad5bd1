"""model.save / load_model / save_weights: one file, no pickle, atomic, exact."""

import io
import json
import os
import warnings
import zipfile

import numpy as np
import pytest

import fastdnn as keras
from fastdnn import layers


def trained_model(tmp_path=None, optimizer="adam"):
    keras.backend.clear_session()
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 6)).astype("float32")
    y = (x[:, 0] > 0).astype(int)
    model = keras.Sequential([layers.Input(shape=(6,)), layers.Dense(12, activation="elu"),
                              layers.BatchNormalization(momentum=0.9), layers.Dropout(0.2),
                              layers.Dense(8), layers.PReLU(), layers.Dense(2, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    return model, x, y


def test_a_loaded_model_predicts_bit_for_bit_the_same(tmp_path):
    model, x, _ = trained_model()
    model.save(tmp_path / "model.fdnn")
    loaded = keras.models.load_model(tmp_path / "model.fdnn")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]
    assert json.loads(json.dumps(loaded.get_config())) == json.loads(json.dumps(model.get_config()))


@pytest.mark.parametrize("optimizer", ["adam", "nadam", "rmsprop", "sgd"])
def test_training_resumes_exactly_from_a_saved_model(tmp_path, optimizer):
    model, x, y = trained_model(optimizer=optimizer)
    model.save(tmp_path / "model.fdnn")
    loaded = keras.models.load_model(tmp_path / "model.fdnn")
    assert loaded.optimizer.iterations == model.optimizer.iterations == 12
    for m in (model, loaded):
        for i in range(0, 96, 16):
            m.train_on_batch(x[i:i + 16], y[i:i + 16])
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_save_weights_and_load_weights_round_trip(tmp_path):
    model, x, _ = trained_model()
    model.save_weights(tmp_path / "w.weights.h5")
    other, _, _ = trained_model()
    other.set_weights([np.zeros_like(w) for w in other.get_weights()])
    other.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))


def test_the_file_is_a_zip_of_json_and_npy_without_pickle(tmp_path):
    model, _, _ = trained_model()
    model.save(tmp_path / "m.fdnn")
    with zipfile.ZipFile(tmp_path / "m.fdnn") as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("fastdnn.json"))
        for name in names:
            assert name == "fastdnn.json" or name.endswith(".npy")
            if name.endswith(".npy"):
                np.load(io.BytesIO(archive.read(name)), allow_pickle=False)
    assert manifest["format"] == "fastdnn" and manifest["kind"] == "model"
    assert "optimizer_state" in manifest and manifest["optimizer_state"]["iterations"] == 12


def test_weights_under_a_legacy_h5_name_get_fastdnns_format_and_a_warning_once(tmp_path, capsys):
    from fastdnn import saving

    saving._noted_foreign_suffix = False
    model, x, _ = trained_model()
    with pytest.warns(UserWarning, match="fastdnn writes 'w.h5' in its own format") as caught:
        model.save_weights(tmp_path / "w.h5")
    assert caught[0].filename == __file__  # points at the caller's save_weights()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.save_weights(tmp_path / "w2.h5")  # once
    assert capsys.readouterr().err == ""
    other, _, _ = trained_model("sgd")
    other.load_weights(tmp_path / "w.h5")
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))


def test_model_checkpoint_of_weights_with_a_legacy_h5_name_warns_when_made_not_during_fit(tmp_path):
    from fastdnn import saving

    saving._noted_foreign_suffix = False
    with pytest.warns(UserWarning, match="fastdnn writes 'best.h5' in its own format"):
        checkpoint = keras.callbacks.ModelCheckpoint(str(tmp_path / "best.h5"), save_weights_only=True)
    model, x, y = trained_model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, y, epochs=1, verbose=0, callbacks=[checkpoint])
    assert (tmp_path / "best.h5").is_file()


def test_saving_replaces_the_file_atomically_and_leaves_no_temporary(tmp_path):
    model, _, _ = trained_model()
    path = tmp_path / "m.fdnn"
    model.save(path)
    model.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.fdnn"]


def test_a_failed_save_keeps_the_previous_file_and_removes_the_temporary(tmp_path, monkeypatch):
    from fastdnn import saving

    model, x, _ = trained_model()
    path = tmp_path / "m.fdnn"
    model.save(path)
    before = path.read_bytes()

    def broken(array):
        raise OSError("disk full")

    monkeypatch.setattr(saving, "_npy_bytes", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.fdnn"]


def test_overwrite_false_refuses_an_existing_file(tmp_path):
    model, _, _ = trained_model()
    model.save(tmp_path / "m.fdnn")
    with pytest.raises(FileExistsError):
        model.save(tmp_path / "m.fdnn", overwrite=False)


def test_a_truncated_file_is_refused_clearly(tmp_path):
    model, _, _ = trained_model()
    model.save(tmp_path / "m.fdnn")
    data = (tmp_path / "m.fdnn").read_bytes()
    (tmp_path / "cut.fdnn").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable fastdnn model file"):
        keras.models.load_model(tmp_path / "cut.fdnn")


def _rewrite(src, dst, replace):
    """Copies a zip, letting `replace(name, data)` change or drop (None) entries."""
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w") as b:
        for name in a.namelist():
            data = replace(name, a.read(name))
            if data is not None:
                b.writestr(name, data)


def test_an_array_whose_shape_differs_from_the_config_is_refused(tmp_path):
    model, _, _ = trained_model()
    model.save(tmp_path / "m.fdnn")

    def wrong_shape(name, data):
        if name == "weights/0000.npy":
            buffer = io.BytesIO()
            np.save(buffer, np.zeros((7, 12), np.float32))
            return buffer.getvalue()
        return data

    _rewrite(tmp_path / "m.fdnn", tmp_path / "bad.fdnn", wrong_shape)
    with pytest.raises(ValueError, match=r"holds float32 \(7, 12\); expected float32 \(6, 12\)"):
        keras.models.load_model(tmp_path / "bad.fdnn")


def test_a_pickled_array_is_refused_and_never_unpickled(tmp_path):
    model, _, _ = trained_model()
    model.save(tmp_path / "m.fdnn")

    class Boom:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    def smuggle(name, data):
        if name == "weights/0000.npy":
            buffer = io.BytesIO()
            np.save(buffer, np.array([Boom()], dtype=object), allow_pickle=True)
            return buffer.getvalue()
        return data

    _rewrite(tmp_path / "m.fdnn", tmp_path / "evil.fdnn", smuggle)
    with pytest.raises(ValueError, match="expected float32"):
        keras.models.load_model(tmp_path / "evil.fdnn")
    assert not (tmp_path / "pwned").exists()


def test_a_missing_array_is_refused(tmp_path):
    model, _, _ = trained_model()
    model.save(tmp_path / "m.fdnn")
    _rewrite(tmp_path / "m.fdnn", tmp_path / "bad.fdnn", lambda n, d: None if n == "weights/0002.npy" else d)
    with pytest.raises(ValueError, match="lacks the array weights/0002.npy"):
        keras.models.load_model(tmp_path / "bad.fdnn")


def test_a_file_that_is_not_fastdnns_is_refused(tmp_path):
    (tmp_path / "x.fdnn").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(ValueError, match="not a readable fastdnn model file"):
        keras.models.load_model(tmp_path / "x.fdnn")


def test_a_saved_file_gets_the_permissions_of_any_new_file(tmp_path):
    import stat
    from fastdnn._atomic import _UMASK, atomic_write
    with atomic_write(tmp_path / "new.bin") as f:
        f.write(b"x")
    assert stat.S_IMODE(os.stat(tmp_path / "new.bin").st_mode) == 0o666 & ~_UMASK
    os.chmod(tmp_path / "new.bin", 0o640)
    with atomic_write(tmp_path / "new.bin") as f:
        f.write(b"y")
    assert stat.S_IMODE(os.stat(tmp_path / "new.bin").st_mode) == 0o640

"""ModelCheckpoint: file names, save_best_only with Keras' messages, save_freq in batches."""

import os

import pytest

from fake_model import FakeModel, losses, run_fit
from fastdnn.callbacks import ModelCheckpoint


def names(model, tmp_path):
    return [(method, os.path.relpath(path, tmp_path)) for method, path, _ in model.saved]


def test_saves_the_model_every_epoch_with_a_formatted_name(tmp_path):
    model = FakeModel()
    path = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.keras")
    run_fit([ModelCheckpoint(path)], model, losses(0.5, 0.25))
    assert names(model, tmp_path) == [("save", "ckpt-01-0.50.keras"), ("save", "ckpt-02-0.25.keras")]
    assert all(overwrite is True for _, _, overwrite in model.saved)


def test_save_weights_only_calls_save_weights(tmp_path):
    model = FakeModel()
    run_fit([ModelCheckpoint(str(tmp_path / "w.weights.h5"), save_weights_only=True)], model, losses(0.5))
    assert names(model, tmp_path) == [("save_weights", "w.weights.h5")]


def test_accepts_any_file_name_and_path_objects(tmp_path):
    model = FakeModel()
    run_fit([ModelCheckpoint(tmp_path / "model.bin")], model, losses(0.5))
    assert names(model, tmp_path) == [("save", "model.bin")]


def test_creates_a_missing_parent_directory(tmp_path):
    model = FakeModel()
    run_fit([ModelCheckpoint(str(tmp_path / "a" / "b" / "m.keras"))], model, losses(0.5))
    assert (tmp_path / "a" / "b" / "m.keras").read_text() == "save"


def test_save_best_only_saves_only_improvements(tmp_path):
    model = FakeModel()
    path = str(tmp_path / "e{epoch}.keras")
    run_fit([ModelCheckpoint(path, save_best_only=True)], model, losses(0.5, 0.6, 0.4, 0.4))
    assert names(model, tmp_path) == [("save", "e1.keras"), ("save", "e3.keras")]


def test_save_best_only_messages_match_keras(tmp_path, capsys):
    path = str(tmp_path / "m.keras")
    run_fit([ModelCheckpoint(path, save_best_only=True, verbose=1)], FakeModel(), losses(0.12345, 0.2, 0.1))
    assert capsys.readouterr().out == (
        f"\nEpoch 1: val_loss improved from inf to 0.12345, saving model to {path}\n"
        f"\nEpoch 1: finished saving model to {path}\n"
        "\nEpoch 2: val_loss did not improve from 0.12345\n"
        f"\nEpoch 3: val_loss improved from 0.12345 to 0.10000, saving model to {path}\n"
        f"\nEpoch 3: finished saving model to {path}\n"
    )


def test_verbose_message_without_save_best_only(tmp_path, capsys):
    path = str(tmp_path / "m.keras")
    run_fit([ModelCheckpoint(path, verbose=1)], FakeModel(), losses(0.5))
    assert capsys.readouterr().out == (
        f"\nEpoch 1: saving model to {path}\n\nEpoch 1: finished saving model to {path}\n"
    )


def test_auto_mode_maximises_accuracy(tmp_path):
    model = FakeModel()
    cb = ModelCheckpoint(str(tmp_path / "e{epoch}.keras"), monitor="val_accuracy", save_best_only=True)
    run_fit([cb], model, losses(0.5, 0.4, 0.7, key="val_accuracy"))
    assert names(model, tmp_path) == [("save", "e1.keras"), ("save", "e3.keras")]
    assert cb.best == 0.7


def test_initial_value_threshold_must_be_beaten_first(tmp_path):
    model = FakeModel()
    cb = ModelCheckpoint(str(tmp_path / "e{epoch}.keras"), save_best_only=True, initial_value_threshold=0.3)
    run_fit([cb], model, losses(0.5, 0.4, 0.2))
    assert names(model, tmp_path) == [("save", "e3.keras")]


def test_missing_monitor_with_save_best_only_warns_and_saves(tmp_path):
    model = FakeModel()
    with pytest.warns(UserWarning, match="Can save best model only with val_loss available"):
        run_fit([ModelCheckpoint(str(tmp_path / "m.keras"), save_best_only=True)], model, [{"loss": 1.0}])
    assert len(model.saved) == 1


def test_int_save_freq_counts_batches_across_epochs(tmp_path):
    model = FakeModel()
    cb = ModelCheckpoint(str(tmp_path / "e{epoch}-b{batch}.keras"), save_freq=2)
    run_fit([cb], model, losses(0.5, 0.4, 0.3), steps=3)
    # Batches 2, 4, 6, 8 of 9: epoch 1 batch 2, epoch 2 batches 1 and 3, epoch 3 batch 2.
    assert [n for _, n in names(model, tmp_path)] == ["e1-b2.keras", "e2-b1.keras", "e2-b3.keras", "e3-b2.keras"]


def test_int_save_freq_with_grouped_batch_reports(tmp_path):
    model = FakeModel()
    cb = ModelCheckpoint(str(tmp_path / "e{epoch}-b{batch}.keras"), save_freq=4)
    # fit reports only every third batch end: batches 2, 5, 8 (0-based) of 9. At batch 6 the
    # count (6) passes 4: save, and the count restarts from 0 (as Keras with steps_per_execution).
    run_fit([cb], model, losses(0.5, 0.4), steps=9, batch_ends=[2, 5, 8])
    assert [n for _, n in names(model, tmp_path)] == ["e1-b6.keras", "e2-b3.keras", "e2-b9.keras"]


def test_batch_saves_use_the_running_batch_logs(tmp_path):
    model = FakeModel()
    cb = ModelCheckpoint(str(tmp_path / "{loss:.1f}.keras"), save_freq=1)
    run_fit([cb], model, [{"loss": 0.7}], steps=1, batch_logs=lambda e, b: {"loss": 0.3})
    assert names(model, tmp_path) == [("save", "0.3.keras")]


def test_epoch_save_freq_does_not_need_batch_hooks(tmp_path):
    assert not ModelCheckpoint(str(tmp_path / "m.keras"))._implements_train_batch_hooks()
    assert ModelCheckpoint(str(tmp_path / "m.keras"), save_freq=5)._implements_train_batch_hooks()


def test_invalid_save_freq_raises(tmp_path):
    with pytest.raises(ValueError, match="Unrecognized save_freq: often"):
        ModelCheckpoint(str(tmp_path / "m.keras"), save_freq="often")


def test_unformattable_filepath_raises_key_error(tmp_path):
    cb = ModelCheckpoint(str(tmp_path / "{val_accuracy:.2f}.keras"))
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        run_fit([cb], FakeModel(), losses(0.5))


def test_existing_directory_as_filepath_raises(tmp_path):
    with pytest.raises(IOError, match="non-directory filepath"):
        run_fit([ModelCheckpoint(str(tmp_path))], FakeModel(), losses(0.5))

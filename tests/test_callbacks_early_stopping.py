"""EarlyStopping: Keras 3's rules for improvement, patience, baseline, warm-up and restoring weights."""

import numpy as np
import pytest

from fake_model import FakeModel, losses, run_fit
from fastdnn.callbacks import EarlyStopping


def test_stops_once_patience_epochs_pass_without_improvement():
    model = FakeModel()
    ran = run_fit([EarlyStopping(patience=2)], model, losses(1.0, 0.9, 0.95, 0.96, 0.97, 0.98))
    assert ran == 4  # best at epoch 1; epochs 2 and 3 do not improve
    assert model.stop_training


def test_patience_zero_stops_at_the_first_epoch_without_improvement():
    ran = run_fit([EarlyStopping()], FakeModel(), losses(1.0, 0.9, 0.9, 0.8))
    assert ran == 3  # an equal value is no improvement


def test_min_delta_requires_a_larger_improvement():
    ran = run_fit([EarlyStopping(min_delta=0.1, patience=1)], FakeModel(), losses(1.0, 0.95, 0.92, 0.5))
    assert ran == 2


def test_auto_mode_maximises_accuracy():
    logs = losses(0.5, 0.6, 0.55, 0.7, key="val_accuracy")
    ran = run_fit([EarlyStopping(monitor="val_accuracy")], FakeModel(), logs)
    assert ran == 3


def test_explicit_mode_overrides_the_name():
    ran = run_fit([EarlyStopping(monitor="val_loss", mode="max")], FakeModel(), losses(1.0, 2.0, 1.5, 3.0))
    assert ran == 3


def test_restores_best_weights_even_when_training_ran_to_the_end():
    model = FakeModel()
    ran = run_fit([EarlyStopping(patience=5, restore_best_weights=True)], model, losses(1.0, 0.5, 0.7, 0.8))
    assert ran == 4
    for w in model.get_weights():
        np.testing.assert_array_equal(w, 2.0)  # the weights at the end of epoch 1


def test_restores_best_weights_and_prints_keras_messages_when_stopping(capsys):
    model = FakeModel()
    cb = EarlyStopping(patience=1, verbose=1, restore_best_weights=True)
    run_fit([cb], model, losses(1.0, 0.5, 0.7, 0.8, 0.1))
    out = capsys.readouterr().out
    assert out == "Epoch 3: early stopping\nRestoring model weights from the end of the best epoch: 2.\n"
    assert cb.stopped_epoch == 2 and cb.best_epoch == 1 and cb.best == 0.5
    np.testing.assert_array_equal(model.get_weights()[0], 2.0)


def test_silent_by_default(capsys):
    run_fit([EarlyStopping(restore_best_weights=True)], FakeModel(), losses(1.0, 2.0))
    assert capsys.readouterr().out == ""


def test_weights_are_kept_without_restore_best_weights():
    model = FakeModel()
    run_fit([EarlyStopping(patience=1)], model, losses(1.0, 0.5, 0.7, 0.8))
    np.testing.assert_array_equal(model.get_weights()[0], 3.0)


def test_improvements_that_miss_the_baseline_do_not_reset_patience():
    logs = losses(1.0, 0.9, 0.95, 0.97)
    assert run_fit([EarlyStopping(patience=2)], FakeModel(), logs) == 4
    assert run_fit([EarlyStopping(patience=2, baseline=0.1)], FakeModel(), logs) == 3


def test_baseline_beaten_resets_patience():
    ran = run_fit([EarlyStopping(patience=1, baseline=0.95)], FakeModel(), losses(1.0, 0.9, 0.8, 0.85, 0.9))
    assert ran == 4


def test_start_from_epoch_ignores_the_warm_up_epochs():
    logs = losses(0.1, 0.5, 0.9, 0.95, 0.1)
    assert run_fit([EarlyStopping()], FakeModel(), logs) == 2
    assert run_fit([EarlyStopping(start_from_epoch=2)], FakeModel(), logs) == 4  # first monitored: 0.9


def test_missing_monitor_warns_with_the_available_keys():
    with pytest.warns(UserWarning, match="`val_loss` which is not available. Available metrics are: loss,accuracy"):
        ran = run_fit([EarlyStopping()], FakeModel(), [{"loss": 1.0, "accuracy": 0.5}] * 3)
    assert ran == 3


def test_auto_mode_with_a_metric_of_unknown_direction_raises():
    with pytest.raises(ValueError, match="mode='max'"):
        run_fit([EarlyStopping(monitor="val_widgets")], FakeModel(), losses(1.0, key="val_widgets"))


def test_unknown_mode_warns_and_falls_back_to_auto():
    with pytest.warns(UserWarning, match="mode 'sideways' is unknown, fallback to auto mode"):
        cb = EarlyStopping(mode="sideways")
    assert cb.mode == "auto"


def test_state_is_reset_at_each_train_begin():
    cb = EarlyStopping(patience=0)
    assert run_fit([cb], FakeModel(), losses(0.1, 0.2)) == 2
    # A fresh fit: 0.5 is worse than the old best 0.1 but is the new run's first value.
    assert run_fit([cb], FakeModel(), losses(0.5, 0.4, 0.3)) == 3


def test_does_not_need_batch_hooks():
    assert not EarlyStopping()._implements_train_batch_hooks()

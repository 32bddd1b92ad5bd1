"""History, CSVLogger, LearningRateScheduler, ReduceLROnPlateau, TerminateOnNaN, LambdaCallback."""

import math

import numpy as np
import pytest

from fake_model import FakeModel, losses, run_fit
from fastdnn.callbacks import (
    CSVLogger,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ReduceLROnPlateau,
    TerminateOnNaN,
)

# History


def test_history_records_each_key_per_epoch():
    history = History()
    logs = [{"accuracy": 0.5, "loss": 1.0, "val_accuracy": 0.4, "val_loss": 1.2},
            {"accuracy": 0.6, "loss": 0.8, "val_accuracy": 0.5, "val_loss": 1.1}]
    run_fit([history], FakeModel(), logs)
    assert history.history == {"accuracy": [0.5, 0.6], "loss": [1.0, 0.8],
                               "val_accuracy": [0.4, 0.5], "val_loss": [1.2, 1.1]}
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.epoch == [0, 1]


def test_history_is_set_on_the_model_and_holds_fit_params():
    model, history = FakeModel(), History()
    run_fit([history], model, losses(1.0), steps=7, verbose=2)
    assert model.history is history
    assert history.params == {"verbose": 2, "epochs": 1, "steps": 7}


# CSVLogger


def test_csv_logger_writes_a_header_and_one_row_per_epoch(tmp_path):
    path = tmp_path / "log.csv"
    run_fit([CSVLogger(str(path))], FakeModel(), [{"val_loss": 0.5, "loss": 1.0}, {"val_loss": 0.25, "loss": 0.5}])
    assert path.read_bytes() == b"epoch,loss,val_loss\r\n0,1.0,0.5\r\n1,0.5,0.25\r\n"


def test_csv_logger_uses_the_separator(tmp_path):
    path = tmp_path / "log.csv"
    run_fit([CSVLogger(path, separator=";")], FakeModel(), [{"loss": 1.0, "acc": 0.5}])
    assert path.read_text().splitlines() == ["epoch;acc;loss", "0;0.5;1.0"]


def test_csv_logger_append_keeps_a_single_header(tmp_path):
    path = tmp_path / "log.csv"
    run_fit([CSVLogger(path)], FakeModel(), [{"loss": 1.0}])
    run_fit([CSVLogger(path, append=True)], FakeModel(), [{"loss": 0.5}])
    assert path.read_text().splitlines() == ["epoch,loss", "0,1.0", "0,0.5"]


def test_csv_logger_without_append_overwrites(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("old\n")
    run_fit([CSVLogger(path)], FakeModel(), [{"loss": 1.0}])
    assert path.read_text().splitlines() == ["epoch,loss", "0,1.0"]


def test_csv_logger_writes_na_for_missing_keys_and_quotes_arrays(tmp_path):
    path = tmp_path / "log.csv"
    model = FakeModel()
    model.metrics_names = ["loss", "val_loss"]  # the model announces a validation column
    run_fit([CSVLogger(path)], model, [{"loss": 1.0, "w": np.array([1, 2])}])
    assert path.read_text().splitlines() == ["epoch,loss,w,val_loss", '0,1.0,"""[1, 2]""",NA']


def test_csv_logger_closes_the_file_at_train_end(tmp_path):
    cb = CSVLogger(tmp_path / "log.csv")
    run_fit([cb], FakeModel(), [{"loss": 1.0}])
    assert cb.csv_file.closed


# LearningRateScheduler


def test_scheduler_sets_the_rate_from_epoch_and_current_rate():
    model, seen = FakeModel(learning_rate=0.1), []

    def schedule(epoch, lr):
        seen.append((epoch, lr))
        return lr * 0.5

    run_fit([LearningRateScheduler(schedule)], model, losses(1.0, 1.0, 1.0))
    assert seen == [(0, 0.1), (1, 0.05), (2, 0.025)]
    assert model.optimizer.learning_rate == 0.0125


def test_scheduler_accepts_a_one_argument_schedule():
    model = FakeModel()
    run_fit([LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))], model, losses(1.0, 1.0))
    assert model.optimizer.learning_rate == 0.05


def test_scheduler_adds_the_learning_rate_to_the_epoch_logs():
    history = History()
    run_fit([LearningRateScheduler(lambda epoch, lr: 0.5 ** epoch), history], FakeModel(), losses(1.0, 1.0))
    assert history.history["learning_rate"] == [1.0, 0.5]


def test_scheduler_rejects_a_non_float_rate():
    with pytest.raises(ValueError, match="should be a float. Got: 1"):
        run_fit([LearningRateScheduler(lambda epoch, lr: 1)], FakeModel(), losses(1.0))


def test_scheduler_verbose_message(capsys):
    run_fit([LearningRateScheduler(lambda epoch, lr: 0.02, verbose=1)], FakeModel(), losses(1.0))
    assert capsys.readouterr().out == "\nEpoch 1: LearningRateScheduler setting learning rate to 0.02.\n"


# ReduceLROnPlateau


def test_plateau_reduces_the_rate_after_patience_epochs():
    model = FakeModel(learning_rate=1.0)
    run_fit([ReduceLROnPlateau(patience=2, factor=0.5)], model, losses(1.0, 1.0, 1.0, 1.0, 1.0))
    assert model.optimizer.learning_rate == 0.25  # reduced at epochs 2 and 4


def test_plateau_ignores_changes_below_min_delta():
    model = FakeModel(learning_rate=1.0)
    run_fit([ReduceLROnPlateau(patience=1, factor=0.5, min_delta=0.1)], model, losses(1.0, 0.95))
    assert model.optimizer.learning_rate == 0.5


def test_plateau_respects_min_lr():
    model = FakeModel(learning_rate=1.0)
    run_fit([ReduceLROnPlateau(patience=1, factor=0.1, min_lr=0.05)], model, losses(*[1.0] * 5))
    assert model.optimizer.learning_rate == 0.05


def test_plateau_cooldown_suspends_waiting():
    model = FakeModel(learning_rate=1.0)
    run_fit([ReduceLROnPlateau(patience=1, factor=0.5, cooldown=2)], model, losses(*[1.0] * 5))
    assert model.optimizer.learning_rate == 0.25  # reduced at epochs 1 and 4


def test_plateau_auto_mode_maximises_names_with_acc():
    model = FakeModel(learning_rate=1.0)
    run_fit([ReduceLROnPlateau(monitor="val_acc", patience=1, factor=0.5)], model,
            losses(0.5, 0.6, 0.7, key="val_acc"))
    assert model.optimizer.learning_rate == 1.0


def test_plateau_message_and_learning_rate_in_logs(capsys):
    history = History()
    run_fit([ReduceLROnPlateau(patience=1, factor=0.5, verbose=1), history], FakeModel(1.0), losses(1.0, 1.0, 1.0))
    assert capsys.readouterr().out == (
        "\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.5.\n"
        "\nEpoch 3: ReduceLROnPlateau reducing learning rate to 0.25.\n"
    )
    assert history.history["learning_rate"] == [1.0, 1.0, 0.5]  # the rate each epoch ran with


def test_plateau_missing_monitor_warns():
    with pytest.warns(UserWarning, match="`val_loss` which is not available. Available metrics are: loss"):
        run_fit([ReduceLROnPlateau()], FakeModel(), [{"loss": 1.0}])


def test_plateau_rejects_a_factor_of_one_or_more():
    with pytest.raises(ValueError, match="factor >= 1.0. Received factor=1.5"):
        ReduceLROnPlateau(factor=1.5)


def test_plateau_accepts_keras2_epsilon_with_a_warning():
    with pytest.warns(UserWarning, match="use `min_delta` instead"):
        cb = ReduceLROnPlateau(epsilon=0.01)
    assert cb.min_delta == 0.01
    with pytest.raises(TypeError, match="unexpected keyword arguments: \\['bogus'\\]"):
        ReduceLROnPlateau(bogus=1)


# TerminateOnNaN


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_terminate_on_nan_stops_training_after_the_batch(bad, capsys):
    model = FakeModel()
    ran = run_fit([TerminateOnNaN()], model, losses(1.0, 1.0, 1.0), steps=4,
                  batch_logs=lambda epoch, batch: {"loss": bad if (epoch, batch) == (1, 2) else 0.5})
    assert ran == 2 and model.stop_training
    assert capsys.readouterr().out == "Batch 2: Invalid loss, terminating training\n"


def test_terminate_on_nan_ignores_finite_losses(capsys):
    model = FakeModel()
    assert run_fit([TerminateOnNaN()], model, losses(1.0, 1.0)) == 2
    assert capsys.readouterr().out == ""


def test_terminate_on_nan_can_raise():
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 0"):
        run_fit([TerminateOnNaN(raise_error=True)], FakeModel(), [{"loss": math.nan}])


def test_terminate_on_nan_needs_batch_hooks():
    assert TerminateOnNaN()._implements_train_batch_hooks()


# LambdaCallback


def test_lambda_callback_calls_the_given_functions():
    calls = []
    cb = LambdaCallback(
        on_train_begin=lambda logs: calls.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch)),
        on_train_batch_end=lambda batch, logs: calls.append(("batch_end", batch, logs["loss"])),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, logs["loss"])),
        on_train_end=lambda logs: calls.append("train_end"),
    )
    run_fit([cb], FakeModel(), [{"loss": 0.5}], steps=2)
    assert calls == ["train_begin", ("epoch_begin", 0), ("batch_end", 0, 0.5), ("batch_end", 1, 0.5),
                     ("epoch_end", 0, 0.5), "train_end"]


def test_lambda_callback_without_batch_functions_needs_no_batch_hooks():
    cb = LambdaCallback(on_epoch_end=lambda epoch, logs: None)
    assert not cb._implements_train_batch_hooks()
    assert not cb._implements_test_batch_hooks()
    assert not cb._implements_predict_batch_hooks()


def test_lambda_callback_with_a_batch_function_needs_batch_hooks():
    assert LambdaCallback(on_train_batch_begin=lambda batch, logs: None)._implements_train_batch_hooks()
    assert LambdaCallback(on_batch_end=lambda batch, logs: None)._implements_train_batch_hooks()
    assert LambdaCallback(on_test_batch_end=lambda batch, logs: None)._implements_test_batch_hooks()
    assert LambdaCallback(on_predict_batch_end=lambda batch, logs: None)._implements_predict_batch_hooks()


def test_lambda_callback_accepts_other_hooks_by_keyword():
    calls = []
    cb = LambdaCallback(on_batch_end=lambda batch, logs: calls.append(batch),
                        on_test_end=lambda logs: calls.append(logs))
    run_fit([cb], FakeModel(), [{"loss": 0.5}], steps=2)
    cb.on_test_end({"loss": 0.1})
    assert calls == [0, 1, {"loss": 0.1}]

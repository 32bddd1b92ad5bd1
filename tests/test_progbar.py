"""Progbar and ProgbarLogger: Keras 3's progress lines, with a fake clock."""

import io
import re
import sys
from types import SimpleNamespace

import pytest

import fastdnn.utils.progbar as progbar_module
from fake_model import FakeModel, run_fit
from fastdnn.callbacks import ProgbarLogger
from fastdnn.utils.progbar import Progbar, _format_eta, _format_time

ANSI = re.compile(r"\x1b\[[0-9;]*m")
BAR = "━" * 20


def plain(text):
    return ANSI.sub("", text)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(progbar_module, "time", SimpleNamespace(time=c))
    return c


def run_bar(clock, bar, steps, values, step_time=0.005):
    for i in range(1, steps + 1):
        clock.advance(step_time)
        bar.update(i, values)


# Progbar


def test_verbose1_final_line_matches_keras(clock, capsys):
    run_bar(clock, Progbar(57), 57, [("accuracy", 0.6833), ("loss", 0.9326)])
    out = capsys.readouterr().out
    assert out.endswith("\n") and out.count("\n") == 1
    last = plain(out).split("\r")[-1]
    assert last == f"57/57 {BAR} 0s 5ms/step - accuracy: 0.6833 - loss: 0.9326\n"


def test_verbose1_styles_like_keras(clock, capsys):
    run_bar(clock, Progbar(57), 57, [("loss", 0.9326)])
    last = capsys.readouterr().out.split("\r")[-1]
    assert last == (f"\x1b[1m57/57\x1b[0m \x1b[32m{BAR}\x1b[0m\x1b[37m\x1b[0m \x1b[1m0s\x1b[0m"
                    " 5ms/step - loss: 0.9326\n")


def test_running_bar_shows_progress_and_eta(clock, capsys):
    bar = Progbar(20, interval=0)
    clock.advance(1)
    bar.update(1)
    clock.advance(4)
    bar.update(5, [("loss", 0.5)])  # 1 s per step after the first: 15 steps left
    last = capsys.readouterr().out.split("\r")[-1]
    assert plain(last) == f" 5/20 {BAR} 15s 1s/step - loss: 0.5000"
    assert f"\x1b[32m{'━' * 5}\x1b[0m\x1b[37m{'━' * 15}\x1b[0m" in last


def test_verbose2_prints_one_line_when_finished(clock, capsys):
    run_bar(clock, Progbar(57, verbose=2), 57, [("accuracy", 0.6833), ("loss", 0.9326)])
    assert capsys.readouterr().out == "57/57 - 0s - 5ms/step - accuracy: 0.6833 - loss: 0.9326\n"


def test_small_values_use_scientific_notation(clock, capsys):
    Progbar(1, verbose=2).update(1, [("loss", 0.0001), ("zero", 0.0), ("big", 12.5)])
    assert capsys.readouterr().out.endswith(" - loss: 1.0000e-04 - zero: 0.0000e+00 - big: 12.5000\n")


def test_time_and_eta_formats():
    assert [_format_time(t, "step") for t in (2.4, 0, 0.005, 5e-6)] == [
        " 2s/step", " 0s/step", " 5ms/step", " 5us/step"]
    assert [_format_eta(t) for t in (4000, 75, 59)] == ["1:06:40", "1:15", "59s"]


def test_redraws_are_throttled_by_interval(clock, capsys):
    # Binary fractions keep the clock exact: a redraw every 4th step, 1/16 s apart.
    run_bar(clock, Progbar(100, interval=1 / 16), 100, [], step_time=1 / 64)
    draws = [plain(d).split("/")[0].strip() for d in capsys.readouterr().out.split("\r")[1:]]
    assert draws == [str(step) for step in range(1, 100, 4)] + ["100"]


def test_values_are_averaged_over_steps_unless_stateful(clock, capsys):
    bar = Progbar(4, interval=0, stateful_metrics=["acc"])
    bar.update(1, [("loss", 1.0), ("acc", 1.0)])
    bar.update(3, [("loss", 4.0), ("acc", 4.0)])  # loss counts for steps 2 and 3
    assert capsys.readouterr().out.endswith(" - loss: 3.0000 - acc: 4.0000")


def test_finalizing_update_shows_the_value_given(clock, capsys):
    bar = Progbar(2, interval=0)
    bar.update(1, [("loss", 1.0)])
    bar.update(2, [("loss", 5.0)])
    assert capsys.readouterr().out.endswith(" - loss: 5.0000\n")


def test_add_advances_the_bar(clock, capsys):
    bar = Progbar(20, interval=0)
    bar.add(2)
    bar.add(3)
    assert plain(capsys.readouterr().out.split("\r")[-1]).startswith(" 5/20 ")


def test_unknown_target(clock, capsys):
    Progbar(None, interval=0).update(3)
    assert plain(capsys.readouterr().out).startswith("\r      3/Unknown 0s")


def test_redraw_blanks_the_rest_of_a_longer_previous_line(clock, capsys):
    bar = Progbar(20, interval=0)
    bar._prev_total_width = 60
    bar.update(1)
    drawn = plain(capsys.readouterr().out)
    assert len(drawn) == 1 + 60 and drawn.endswith(" ")


def test_falls_back_to_ascii_when_the_console_cannot_encode_the_bar(clock, monkeypatch):
    stream = io.TextIOWrapper(io.BytesIO(), encoding="cp1252", newline="")
    monkeypatch.setattr(sys, "stdout", stream)
    bar = Progbar(20, interval=0)
    clock.advance(1)
    bar.update(1)
    clock.advance(4)
    bar.update(5, [("loss", 0.5)])
    stream.flush()
    out = stream.buffer.getvalue().decode("cp1252")
    assert out.split("\r")[-1] == " 5/20 =====............... 15s 1s/step - loss: 0.5000"


def test_silent_with_verbose_0(clock, capsys):
    run_bar(clock, Progbar(5, verbose=0), 5, [("loss", 1.0)])
    assert capsys.readouterr().out == ""


# ProgbarLogger


def fit_with_logger(clock, epoch_logs, steps, verbose=1, **kwargs):
    def batch_logs(epoch, batch):
        clock.advance(1)
        return {"loss": 1.0 + batch}

    run_fit([ProgbarLogger()], FakeModel(), epoch_logs, steps=steps, verbose=verbose, batch_logs=batch_logs, **kwargs)


def test_logger_prints_epoch_lines_and_the_bar_of_each_epoch(clock, capsys):
    fit_with_logger(clock, [{"loss": 1.5, "val_loss": 0.5}, {"loss": 1.25, "val_loss": 0.25}], steps=2)
    lines = [segment.split("\r")[-1] for segment in plain(capsys.readouterr().out).split("\n")]
    assert lines == [
        "Epoch 1/2",
        f"2/2 {BAR} 2s 1s/step - loss: 1.5000 - val_loss: 0.5000",
        "Epoch 2/2",
        f"2/2 {BAR} 2s 1s/step - loss: 1.2500 - val_loss: 0.2500",
        "",
    ]


def test_logger_bar_shows_each_batch_with_its_running_logs(clock, capsys):
    fit_with_logger(clock, [{"loss": 9.0}], steps=2)
    draws = plain(capsys.readouterr().out).split("\r")[1:]
    assert draws[0] == f"1/2 {'━' * 10}{'━' * 10} 1s 1s/step - loss: 1.0000"
    assert draws[1] == f"2/2 {BAR} 0s 1s/step - loss: 2.0000"  # as given, not averaged with 1.0
    assert draws[2] == f"2/2 {BAR} 2s 1s/step - loss: 9.0000\n"


def test_logger_without_epoch_line_for_a_single_epoch(clock, capsys):
    fit_with_logger(clock, [{"loss": 1.0}], steps=2)
    assert "Epoch" not in capsys.readouterr().out


def test_logger_shows_the_step_of_a_grouped_report(clock, capsys):
    fit_with_logger(clock, [{"loss": 1.0}], steps=10, batch_ends=[4, 9])
    draws = plain(capsys.readouterr().out).split("\r")[1:]
    assert [d.split(" ")[0] for d in draws] == ["", "10/10", "10/10"]
    assert draws[0].startswith(" 5/10 ")


def test_logger_verbose2_prints_one_line_per_epoch(clock, capsys):
    fit_with_logger(clock, [{"loss": 1.0, "val_loss": 0.5}] * 2, steps=3, verbose=2)
    assert capsys.readouterr().out == (
        "Epoch 1/2\n3/3 - 3s - 1s/step - loss: 1.0000 - val_loss: 0.5000\n"
        "Epoch 2/2\n3/3 - 3s - 1s/step - loss: 1.0000 - val_loss: 0.5000\n"
    )


def test_logger_is_silent_for_validation_inside_fit(clock, capsys):
    logger = ProgbarLogger()
    logger.set_params({"verbose": 1, "epochs": 1, "steps": 2})
    logger.on_train_begin()
    logger.on_test_begin()
    logger.on_test_batch_end(0, {"loss": 1.0})
    logger.on_test_end({"loss": 1.0})
    assert capsys.readouterr().out == ""


def test_logger_shows_evaluate_progress(clock, capsys):
    logger = ProgbarLogger()
    logger.set_params({"verbose": "auto", "epochs": 1, "steps": 2})
    logger.on_test_begin()
    logger.on_test_batch_end(0, {"loss": 1.0})
    logger.on_test_batch_end(1, {"loss": 2.0})
    logger.on_test_end({"loss": 2.0})
    out = plain(capsys.readouterr().out)
    assert out.split("\r")[-1] == f"2/2 {BAR} 0s 0s/step - loss: 2.0000\n"


def test_logger_shows_predict_progress_without_values(clock, capsys):
    logger = ProgbarLogger()
    logger.set_params({"verbose": 1, "epochs": 1, "steps": 1})
    logger.on_predict_begin()
    logger.on_predict_batch_end(0, {"outputs": [1.0]})
    logger.on_predict_end()
    assert plain(capsys.readouterr().out).split("\r")[-1] == f"1/1 {BAR} 0s 0s/step\n"


def test_logger_never_asks_for_every_batch():
    logger = ProgbarLogger()
    logger.set_params({"verbose": 1, "epochs": 1, "steps": 1})
    assert not logger._implements_train_batch_hooks()
    assert not logger._implements_test_batch_hooks()
    assert not logger._implements_predict_batch_hooks()

"""Progbar: the progress line that fit, evaluate and predict print, as keras.utils.Progbar."""

import math
import os
import re
import sys
import time

import numpy as np

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _bold(text, styled):
    return f"\x1b[1m{text}\x1b[0m" if styled else text


def _can_encode(stream, text):
    """Whether `stream` can write `text`; a stream that names no encoding is taken to be Unicode."""
    encoding = getattr(stream, "encoding", None)
    if not encoding:
        return True
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _format_value(value):
    # Keras' rule: four decimals, or scientific notation for magnitudes at or below 1e-3.
    return f" {value:.4f}" if abs(value) > 1e-3 else f" {value:.4e}"


def _format_time(seconds_per_unit, unit_name):
    """` 5ms/step`: whole seconds, milliseconds or microseconds per unit, as Keras prints them."""
    if seconds_per_unit >= 1 or seconds_per_unit == 0:
        return f" {seconds_per_unit:.0f}s/{unit_name}"
    if seconds_per_unit >= 1e-3:
        return f" {seconds_per_unit * 1e3:.0f}ms/{unit_name}"
    return f" {seconds_per_unit * 1e6:.0f}us/{unit_name}"


def _format_eta(eta):
    if eta > 3600:
        return "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
    if eta > 60:
        return "%d:%02d" % (eta // 60, eta % 60)
    return "%ds" % eta


class Progbar:
    """Displays a progress bar, as `keras.utils.Progbar` (Keras 3).

    Args:
        target: total number of steps expected, None if unknown.
        width: bar width in characters (Keras default 20).
        verbose: 0 silent, 1 a bar redrawn in place, 2 one line when finished.
        interval: minimum time in seconds between two redraws (default 0.05).
        stateful_metrics: names of values shown as given; all others are
            averaged over the steps they were reported for (Keras' default).
        unit_name: name of a step in the time per step (`"step"`).

    verbose=1 prints `\\r57/57 ━━━━━━━━━━━━━━━━━━━━ 0s 5ms/step - loss: 0.9326`,
    with the count in bold and the done part of the bar green (ANSI codes, as
    Keras), an ETA instead of the elapsed time while running, and a newline
    when finished. verbose=2 prints only the finished line
    `57/57 - 0s - 5ms/step - loss: 0.9326`. Output goes to `sys.stdout`, looked
    up at every print.

    Differences from Keras: when `sys.stdout` cannot encode '━' (a cp1252 or
    ASCII console) the bar is drawn with '=' (done) and '.' (to do) and without
    ANSI codes, instead of failing with UnicodeEncodeError; a redraw starts
    with '\\r' alone (Keras also writes a backspace per previous character);
    verbose=2 uses |value| for the choice of number format, as verbose=1 does.
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None, unit_name="step"):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics else set()
        # Keras redraws in place on any POSIX system, tty or not, in notebooks and in PyCharm.
        self._dynamic_display = (
            (hasattr(sys.stdout, "isatty") and sys.stdout.isatty())
            or "ipykernel" in sys.modules
            or "posix" in sys.modules
            or "PYCHARM_HOSTED" in os.environ
        )
        self._values = {}  # name -> [weighted sum, weight]
        self._values_order = []
        self._seen_so_far = 0
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step = None
        self._prev_total_width = 0

    def update(self, current, values=None, finalize=None):
        """Shows step `current` (1-based count of steps done).

        values: list of (name, value) pairs for this step. finalize: whether
        this is the last update; defaults to `current >= target`.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._accumulate(current, values or [], finalize)
        self._seen_so_far = current

        now = time.time()
        time_per_unit = self._estimate_step_duration(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._draw_bar(current, now, time_per_unit, finalize)
        elif self.verbose == 2 and finalize and self.target is not None and self.target > 0:
            self._write(self._finished_line(current, now, time_per_unit))
        self._last_update = now

    def add(self, n, values=None):
        """Advances the bar by `n` steps."""
        self.update(self._seen_so_far + n, values)

    def _accumulate(self, current, values, finalize):
        for name, value in values:
            if name not in self._values_order:
                self._values_order.append(name)
            if name in self.stateful_metrics or finalize:
                # A finalizing update carries the epoch's own value: show it, not an average.
                self._values[name] = [value, 1]
            else:
                # Weight by the steps since the last update, so grouped updates average fairly.
                steps = max(current - self._seen_so_far, 1)
                total = self._values.setdefault(name, [0.0, 0])
                total[0] += value * steps
                total[1] += steps

    def _average(self, name):
        total, count = self._values[name]
        if not isinstance(total, float):
            total = np.mean(total)
        return total / max(1, count)

    def _metrics_text(self):
        return "".join(f" - {name}:{_format_value(self._average(name))}" for name in self._values_order)

    def _bar_text(self, current, styled):
        if self.target is None or self.target <= 0:
            return "%7d/Unknown" % current
        digits = int(math.log10(self.target)) + 1
        count = _bold(f"%{digits}d/%d" % (current, self.target), styled) + " "
        done = min(self.width, int(self.width * float(current) / self.target))
        if styled:
            done_part = f"\x1b[32m{'━' * done}\x1b[0m" if done > 0 else ""
            return count + done_part + f"\x1b[37m{'━' * (self.width - done)}\x1b[0m"
        return count + "=" * done + "." * (self.width - done)

    def _draw_bar(self, current, now, time_per_unit, finalize):
        styled = _can_encode(sys.stdout, "━")
        text = self._bar_text(current, styled)
        if self.target is not None and self.target > 0 and not finalize:
            text += " " + _bold(_format_eta(time_per_unit * (self.target - current)), styled)
        else:
            text += " " + _bold(f"{now - self._start:.0f}s", styled)
        text += _format_time(time_per_unit, self.unit_name) + self._metrics_text()

        total_width = len(_ANSI.sub("", text))
        # Blank out what is left of a longer previous line.
        text += " " * max(0, self._prev_total_width - total_width)
        prefix = "\r" if self._dynamic_display else "\n"
        self._write(prefix + text + ("\n" if finalize else ""))
        self._prev_total_width = total_width

    def _finished_line(self, current, now, time_per_unit):
        digits = int(math.log10(self.target)) + 1
        count = f"%{digits}d/%d" % (current, self.target)
        line = f"{count} - {now - self._start:.0f}s -{_format_time(time_per_unit, self.unit_name)}"
        return line + self._metrics_text() + "\n"

    @staticmethod
    def _write(text):
        sys.stdout.write(text)
        sys.stdout.flush()

    def _estimate_step_duration(self, current, now):
        """Seconds per step; after step 1 the first step (often slower) is left out, as Keras does."""
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            per_step = (now - self._time_after_first_step) / (current - 1)
        else:
            per_step = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_step

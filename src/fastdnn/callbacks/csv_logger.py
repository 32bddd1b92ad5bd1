"""CSVLogger: stream each epoch's logs to a CSV file, as keras.callbacks.CSVLogger."""

import collections.abc
import csv
import os

import numpy as np

from fastdnn.callbacks.callback import Callback


def _cell(value):
    """Strings as they are; iterables (1-D arrays, lists) as one quoted "[a, b]" cell, as Keras writes them."""
    if isinstance(value, str):
        return value
    if isinstance(value, collections.abc.Iterable) and not (isinstance(value, np.ndarray) and value.ndim == 0):
        return f'"[{", ".join(map(str, value))}]"'
    return value


class CSVLogger(Callback):
    """Writes one CSV row per epoch: `epoch` (0-based) then the log keys in sorted order.

    Args (Keras defaults):
        filename: the CSV file, e.g. "run/log.csv".
        separator: field separator, ",".
        append: True appends to an existing file (its header is kept and not
            written again unless the file is empty); False overwrites. False.

    The columns are fixed by the first epoch's keys, plus any `val_` names of
    `model.metrics_names` when the model has them (so a validation column that
    appears later still fits); a key missing from an epoch is written "NA".
    Rows end with "\\r\\n" (the csv module's excel dialect, as Keras' files on
    Linux) and the file is flushed after each row and closed at the end of training.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        mode = "w"
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, "r", newline="") as f:
                    self.append_header = not f.readline()
            mode = "a"
        self._close()
        # newline="": the csv module writes its own line endings.
        self.csv_file = open(self.filename, mode, newline="")
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs.keys())
            for name in getattr(self.model, "metrics_names", None) or []:
                if name.startswith("val_") and name not in self.keys:
                    self.keys.append(name)
        if self.writer is None:
            dialect = type("CSVLoggerDialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys, dialect=dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, _cell(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        self._close()
        self.writer = None

    def _close(self):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()

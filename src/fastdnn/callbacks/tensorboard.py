"""TensorBoard: write training logs as TensorBoard event files, as keras.callbacks.TensorBoard."""

import os
import time
import warnings

import numpy as np

from fastdnn.callbacks._weight_images import image_summary, weight_image
from fastdnn.callbacks.callback import Callback

_INSTALL_HINT = (
    "The TensorBoard callback writes event files with the tensorboardX package, which is not installed. "
    'Install it with `pip install "fastdnn[tensorboard]"` (or `pip install tensorboardX`).'
)


def _import_tensorboardx():
    try:
        import tensorboardX
    except ImportError as e:
        raise ImportError(_INSTALL_HINT) from e
    return tensorboardX


class TensorBoard(Callback):
    """Writes event files that TensorBoard opens (`tensorboard --logdir logs`), like Keras 3's.

    Needs tensorboardX (`pip install "fastdnn[tensorboard]"`), imported when the
    callback is built; Keras needs TensorFlow instead.

    Args (Keras defaults):
        log_dir: root directory, "logs"; training events go to `log_dir/train`,
            validation events to `log_dir/validation`.
        histogram_freq: every this many epochs (epoch % freq == 0, 0-based),
            write a histogram of every weight, tagged `<weight.path>/histogram`
            (e.g. `dense/kernel/histogram`). 0 (never).
        write_graph: ignored: fastdnn has no graph to draw. True.
        write_images: with the histograms, write each weight as an image
            `<weight.path>/image` (Keras' layout, values saturated to [0, 1]). False.
        write_steps_per_second: also write `epoch_steps_per_second` (from
            `model.optimizer.iterations`) and, with batch updates,
            `batch_steps_per_second`. False.
        update_freq: "epoch", "batch" (= 1) or an int N: also write the running
            batch logs as `batch_<name>` every N training batches, at step =
            batches done since training began. "epoch".
        profile_batch, embeddings_freq, embeddings_metadata: ignored (no profiler,
            no Embedding layers in fastdnn); a value other than the default warns.

    At each epoch end, in the train writer: `epoch_<name>` for each log key
    without `val_`, plus `epoch_learning_rate` when the optimizer has one; in the
    validation writer: `epoch_<name>` for each `val_<name>`; step = epoch
    (0-based). `on_test_end` writes `evaluation_<name>_vs_iterations` at step
    `model.optimizer.iterations` in the validation writer, as Keras does.

    Differences from Keras 3: histogram tags use `weight.path`, which is
    unique (Keras 3.15 uses `weight.name`, so every layer's `kernel` shares
    one tag; Keras fixed this upstream in keras-team/keras#22317). With an
    int update_freq, batch scalars are written whenever a multiple of N
    batches was crossed, also when fit reports batches in groups; Keras'
    `record_if` check uses a step fixed at the start of training.
    `batch_steps_per_second` is measured between successive reports.
    """

    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_graph=True,
        write_images=False,
        write_steps_per_second=False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq=0,
        embeddings_metadata=None,
    ):
        super().__init__()
        self._tbx = _import_tensorboardx()
        if update_freq != "epoch" and update_freq != "batch" and not (isinstance(update_freq, int) and update_freq > 0):
            raise ValueError(f"update_freq must be 'epoch', 'batch' or a positive integer. Received: {update_freq!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.profile_batch = profile_batch
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        for name, value, default in (("profile_batch", profile_batch, 0), ("embeddings_freq", embeddings_freq, 0),
                                     ("embeddings_metadata", embeddings_metadata, None)):
            if value != default:
                warnings.warn(f"fastdnn's TensorBoard callback ignores {name} (received {name}={value!r}).",
                              stacklevel=2)
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._writers = {}
        self._in_fit = False
        self._global_train_batch = 0
        self._epoch_first_batch = 0
        self._last_batch_report = (0, 0.0)  # (global batch, time)
        self._epoch_start = (0, 0.0)  # (optimizer iterations, time)

    def _implements_train_batch_hooks(self):
        return self.update_freq != "epoch"

    def _writer(self, name):
        if name not in self._writers:
            logdir = self._train_dir if name == "train" else self._val_dir
            self._writers[name] = self._tbx.SummaryWriter(logdir=logdir)
        return self._writers[name]

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def on_train_begin(self, logs=None):
        self._in_fit = True
        self._global_train_batch = 0
        self._writer("train")  # Keras creates the train run even before the first scalar.

    def on_train_end(self, logs=None):
        self._in_fit = False
        self._close_writers()

    def on_epoch_begin(self, epoch, logs=None):
        now = time.time()
        self._epoch_first_batch = self._global_train_batch
        self._last_batch_report = (self._global_train_batch, now)
        self._epoch_start = (self._iterations(), now)

    def on_train_batch_end(self, batch, logs=None):
        previous, previous_time = self._last_batch_report
        # batch is 0-based within the epoch; fit may report only a group's last batch.
        self._global_train_batch = self._epoch_first_batch + batch + 1
        now = time.time()
        self._last_batch_report = (self._global_train_batch, now)
        if self.update_freq == "epoch" or self._global_train_batch // self.update_freq <= previous // self.update_freq:
            return
        writer = self._writer("train")
        step = self._global_train_batch
        if self.write_steps_per_second and now > previous_time:
            writer.add_scalar("batch_steps_per_second", (step - previous) / (now - previous_time), step)
        for name, value in (logs or {}).items():
            writer.add_scalar("batch_" + name, float(value), step)

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_test_end(self, logs=None):
        iterations = self._iterations()
        if iterations is not None and logs:
            writer = self._writer("val")
            for name, value in logs.items():
                writer.add_scalar(f"evaluation_{name}_vs_iterations", float(value), int(iterations))
        if not self._in_fit:
            self._close_writers()
        elif "val" in self._writers:
            self._writers["val"].flush()

    def _iterations(self):
        optimizer = getattr(self.model, "optimizer", None)
        return getattr(optimizer, "iterations", None)

    def _log_epoch_metrics(self, epoch, logs):
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if hasattr(optimizer, "learning_rate"):
            train_logs["learning_rate"] = float(optimizer.learning_rate)
        if self.write_steps_per_second:
            train_logs["steps_per_second"] = self._steps_per_second()
        for run, run_logs in (("train", train_logs), ("val", val_logs)):
            if run_logs:
                writer = self._writer(run)
                for name, value in run_logs.items():
                    writer.add_scalar("epoch_" + name, float(value), epoch)

    def _steps_per_second(self):
        start_iterations, start_time = self._epoch_start
        elapsed = time.time() - start_time
        iterations = self._iterations()
        if start_iterations is None or iterations is None or elapsed <= 0:
            return 0.0
        return (iterations - start_iterations) / elapsed

    def _log_weights(self, epoch):
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                name = weight.path.replace(":", "_")
                values = np.asarray(weight.numpy())
                # A histogram of no finite value cannot be drawn; NaNs are left out of the rest.
                finite = values[np.isfinite(values)]
                if finite.size == 0:
                    continue
                writer.add_histogram(f"{name}/histogram", finite, epoch)
                if self.write_images:
                    image = weight_image(values)
                    if image is not None:
                        # add_image would need Pillow to encode; the file writer takes a ready Summary.
                        writer._get_file_writer().add_summary(image_summary(f"{name}/image", image), epoch)

"""TensorBoard: the event files are read back (TFRecord framing + Event protos) and checked."""

import glob
import os
import struct
import sys
import warnings
import zlib

import numpy as np
import pytest

from fake_model import FakeModel, run_fit
from fastdnn.callbacks import TensorBoard

try:
    from tensorboardX.proto.event_pb2 import Event
    from tensorboardX.record_writer import masked_crc32c
except ImportError:  # an optional extra: the tests that write events are skipped without it
    Event = None

needs_tensorboardx = pytest.mark.skipif(
    Event is None, reason='tensorboardX is not installed (pip install "fastdnn[tensorboard]")')


def read_events(run_dir):
    """Every Event of every event file in `run_dir`, checking the TFRecord framing and its CRCs."""
    events = []
    for path in sorted(glob.glob(os.path.join(run_dir, "events.out.tfevents.*"))):
        with open(path, "rb") as f:
            data = f.read()
        pos = 0
        while pos < len(data):
            header = data[pos:pos + 8]
            (length,) = struct.unpack("<Q", header)
            assert struct.unpack("<I", data[pos + 8:pos + 12])[0] == masked_crc32c(header)
            body = data[pos + 12:pos + 12 + length]
            assert struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])[0] == masked_crc32c(body)
            events.append(Event.FromString(body))
            pos += 16 + length
    return events


def scalars(run_dir):
    """{tag: [(step, value), ...]} of the scalar summaries in a run."""
    out = {}
    for event in read_events(run_dir):
        for value in event.summary.value:
            if value.WhichOneof("value") == "simple_value":
                out.setdefault(value.tag, []).append((event.step, pytest.approx(value.simple_value)))
    return out


def summaries(run_dir, kind):
    """[(tag, step, proto)] of the summaries of one kind ('histo', 'image') in a run."""
    return [(v.tag, e.step, getattr(v, kind)) for e in read_events(run_dir)
            for v in e.summary.value if v.WhichOneof("value") == kind]


EPOCH_LOGS = [
    {"accuracy": 0.5, "loss": 1.0, "val_accuracy": 0.4, "val_loss": 1.5},
    {"accuracy": 0.75, "loss": 0.5, "val_accuracy": 0.6, "val_loss": 1.25},
]


@needs_tensorboardx
def test_epoch_scalars_go_to_the_train_and_validation_runs(tmp_path):
    run_fit([TensorBoard(log_dir=tmp_path)], FakeModel(learning_rate=0.25), EPOCH_LOGS)
    assert scalars(tmp_path / "train") == {
        "epoch_accuracy": [(0, 0.5), (1, 0.75)],
        "epoch_loss": [(0, 1.0), (1, 0.5)],
        "epoch_learning_rate": [(0, 0.25), (1, 0.25)],
    }
    assert scalars(tmp_path / "validation") == {
        "epoch_accuracy": [(0, 0.4), (1, 0.6)],
        "epoch_loss": [(0, 1.5), (1, 1.25)],
    }


@needs_tensorboardx
def test_epoch_updates_write_no_batch_scalars_and_need_no_batch_hooks(tmp_path):
    cb = TensorBoard(log_dir=tmp_path)
    assert not cb._implements_train_batch_hooks()
    run_fit([cb], FakeModel(), EPOCH_LOGS, steps=4)
    assert not any(tag.startswith("batch_") for tag in scalars(tmp_path / "train"))


@needs_tensorboardx
def test_batch_updates_write_running_logs_at_the_global_batch(tmp_path):
    cb = TensorBoard(log_dir=tmp_path, update_freq="batch")
    assert cb._implements_train_batch_hooks()
    run_fit([cb], FakeModel(), EPOCH_LOGS, steps=3, batch_logs=lambda e, b: {"loss": 10 * e + b})
    assert scalars(tmp_path / "train")["batch_loss"] == [(1, 0), (2, 1), (3, 2), (4, 10), (5, 11), (6, 12)]


@needs_tensorboardx
def test_int_update_freq_writes_every_n_batches(tmp_path):
    run_fit([TensorBoard(log_dir=tmp_path, update_freq=2)], FakeModel(), EPOCH_LOGS, steps=3,
            batch_logs=lambda e, b: {"loss": 10 * e + b})
    assert scalars(tmp_path / "train")["batch_loss"] == [(2, 1), (4, 10), (6, 12)]


@needs_tensorboardx
def test_int_update_freq_with_grouped_batch_reports(tmp_path):
    # fit reports batches 3, 6, 9, 10 of each 10-batch epoch (global 3, 6, 9, 10, 13, 16, 19, 20):
    # a report is written when it reaches or passes a multiple of 4.
    run_fit([TensorBoard(log_dir=tmp_path, update_freq=4)], FakeModel(), EPOCH_LOGS, steps=10,
            batch_ends=[2, 5, 8, 9], batch_logs=lambda e, b: {"loss": b})
    assert [step for step, _ in scalars(tmp_path / "train")["batch_loss"]] == [6, 9, 13, 16, 20]


@needs_tensorboardx
def test_histograms_of_every_weight_every_histogram_freq_epochs(tmp_path):
    model = FakeModel()
    run_fit([TensorBoard(log_dir=tmp_path, histogram_freq=2)], model, EPOCH_LOGS * 2)
    histograms = summaries(tmp_path / "train", "histo")
    tags = ["dense/kernel/histogram", "dense/bias/histogram", "dense_1/kernel/histogram", "dense_1/bias/histogram"]
    assert [(tag, step) for tag, step, _ in histograms] == [(t, s) for s in (0, 2) for t in tags]
    sizes = {tag: histo.num for tag, _, histo in histograms}
    assert sizes == {"dense/kernel/histogram": 12, "dense/bias/histogram": 3,
                     "dense_1/kernel/histogram": 6, "dense_1/bias/histogram": 2}
    # Epoch 2's weights are all 3.0 (the fake model sets them to epoch + 1).
    last = histograms[-1][2]
    assert (last.min, last.max, last.sum) == (3.0, 3.0, 6.0)


@needs_tensorboardx
def test_write_images_writes_each_weight_as_a_png(tmp_path):
    run_fit([TensorBoard(log_dir=tmp_path, histogram_freq=1, write_images=True)], FakeModel(), EPOCH_LOGS[:1])
    images = {tag: image for tag, _, image in summaries(tmp_path / "train", "image")}
    assert sorted(images) == ["dense/bias/image", "dense/kernel/image", "dense_1/bias/image", "dense_1/kernel/image"]
    kernel = images["dense/kernel/image"]  # 4×3 is taller than wide: drawn transposed, 3×4
    assert (kernel.height, kernel.width, kernel.colorspace) == (3, 4, 1)
    assert (images["dense/bias/image"].height, images["dense/bias/image"].width) == (3, 1)
    png = kernel.encoded_image_string
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    # Decode the single IDAT chunk: every pixel is 255 (the weights are 1.0 after epoch 0).
    idat_at = png.index(b"IDAT")
    (length,) = struct.unpack(">I", png[idat_at - 4:idat_at])
    rows = zlib.decompress(png[idat_at + 4:idat_at + 4 + length])
    assert rows == (b"\x00" + b"\xff" * 4) * 3


@needs_tensorboardx
def test_write_steps_per_second(tmp_path):
    run_fit([TensorBoard(log_dir=tmp_path, write_steps_per_second=True, update_freq=1)], FakeModel(), EPOCH_LOGS)
    train = scalars(tmp_path / "train")
    assert [step for step, _ in train["epoch_steps_per_second"]] == [0, 1]
    assert [step for step, _ in train["batch_steps_per_second"]] == [1, 2, 3, 4, 5, 6]


@needs_tensorboardx
def test_evaluation_scalars_at_the_optimizer_iteration(tmp_path):
    model = FakeModel()
    model.optimizer.iterations = 42
    cb = TensorBoard(log_dir=tmp_path)
    cb.set_model(model)
    cb.on_test_begin()
    cb.on_test_end({"loss": 0.5, "accuracy": 0.9})
    assert scalars(tmp_path / "validation") == {
        "evaluation_loss_vs_iterations": [(42, 0.5)],
        "evaluation_accuracy_vs_iterations": [(42, 0.9)],
    }


def test_without_tensorboardx_raises_import_error_saying_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r'pip install "fastdnn\[tensorboard\]"'):
        TensorBoard()


@needs_tensorboardx
def test_ignored_arguments_warn_only_when_set(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TensorBoard(log_dir=tmp_path, write_graph=True, profile_batch=0, embeddings_freq=0)
    with pytest.warns(UserWarning, match="ignores profile_batch"):
        TensorBoard(log_dir=tmp_path, profile_batch=(10, 20))
    with pytest.warns(UserWarning, match="ignores embeddings_freq"):
        TensorBoard(log_dir=tmp_path, embeddings_freq=1)


@needs_tensorboardx
def test_invalid_update_freq_raises(tmp_path):
    with pytest.raises(ValueError, match="update_freq"):
        TensorBoard(log_dir=tmp_path, update_freq="often")


@needs_tensorboardx
def test_nan_weights_are_left_out_of_the_histogram(tmp_path):
    model = FakeModel()
    cb = TensorBoard(log_dir=tmp_path, histogram_freq=1)
    cb.set_model(model)
    cb.on_train_begin()
    model.layers[0].weights[0].value[:] = np.nan
    model.layers[0].weights[1].value[0] = np.nan
    cb.on_epoch_end(0, {"loss": 1.0})
    cb.on_train_end()
    tags = [tag for tag, _, _ in summaries(tmp_path / "train", "histo")]
    assert "dense/kernel/histogram" not in tags and "dense/bias/histogram" in tags

"""The examples, run as a user runs them, for one epoch: each must exit cleanly
(without a single warning), print a test accuracy a one-epoch model reaches,
and write its PNG plots.

They need the real MNIST / Fashion-MNIST: these tests run when the data set is
already on this machine (fastdnn's cache, or Debian's Fashion-MNIST folder),
and fetch it only when FASTDNN_TEST_DOWNLOAD=1 (CI sets it)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fastdnn.datasets import _dataset, fashion_mnist, mnist

pytest.importorskip("matplotlib", reason="the examples draw their plots with matplotlib")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DOWNLOAD = os.environ.get("FASTDNN_TEST_DOWNLOAD") == "1"
TIMEOUT = 600  # seconds; each example takes a few seconds at --epochs 1 on an idle machine

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def require(module):
    """Skips unless `module`'s data set loads without the network, or downloads are allowed
    (then it is fetched and cached here, once, before the example runs)."""
    cached = os.path.isfile(os.path.join(_dataset.datasets_folder(), module.DATASET.name + ".npz"))
    in_system_folder = module is fashion_mnist and os.path.isdir(fashion_mnist.SYSTEM_FOLDER)
    if not (cached or in_system_folder):
        if not DOWNLOAD:
            pytest.skip(f"{module.DATASET.name} is not cached in {_dataset.datasets_folder()}; "
                        "set FASTDNN_TEST_DOWNLOAD=1 to let the test fetch it")
        module.load_data()


def run_example(script, out, *args):
    """Runs examples/<script> with --epochs 1 --out <out>; returns its output (stdout and stderr)."""
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONWARNINGS="error")  # any warning fails the example
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--epochs", "1", "--out", str(out), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT, env=env)
    assert completed.returncode == 0, f"{script} exited with {completed.returncode}:\n{completed.stdout}"
    assert "Warning" not in completed.stdout, completed.stdout
    assert "total training time:" in completed.stdout, completed.stdout
    return completed.stdout


def check_test_accuracies(output, above):
    """Every 'test accuracy: X' the example printed, each checked to be above `above`."""
    accuracies = [float(value) for value in re.findall(r"test accuracy: ([0-9.]+)", output)]
    assert accuracies, f"no test accuracy printed:\n{output}"
    assert min(accuracies) > above, f"test accuracies {accuracies}, expected all above {above}:\n{output}"
    return accuracies


def assert_pngs(out, *names):
    for name in names:
        path = out / name
        assert path.is_file(), f"{name} was not written; the folder holds {sorted(p.name for p in out.iterdir())}"
        assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{name} is not a PNG"


def test_mnist_bn(tmp_path):
    require(mnist)
    output = run_example("mnist_bn.py", tmp_path)
    check_test_accuracies(output, above=0.8)  # about 0.89 after one epoch
    assert_pngs(tmp_path, "history.png", "samples.png")


def test_fashion_mnist_deep_bn(tmp_path):
    require(fashion_mnist)
    pytest.importorskip("tensorboardX", reason="the example's TensorBoard callback needs tensorboardX")
    output = run_example("fashion_mnist_deep_bn.py", tmp_path)
    check_test_accuracies(output, above=0.6)  # about 0.76 after one epoch
    assert_pngs(tmp_path, "history.png", "model.png", "samples.png")
    assert (tmp_path / "best_model.keras").is_file()  # ModelCheckpoint
    assert any((tmp_path / "logs" / "train").iterdir())  # TensorBoard event files


def test_fashion_mnist_deep_bn_before_activation(tmp_path):
    require(fashion_mnist)
    pytest.importorskip("tensorboardX", reason="the example's TensorBoard callback needs tensorboardX")
    output = run_example("fashion_mnist_deep_bn.py", tmp_path, "--variant", "bn-before-activation")
    check_test_accuracies(output, above=0.6)
    assert_pngs(tmp_path, "history.png", "model.png", "samples.png")


def test_selu_dropout(tmp_path):
    require(fashion_mnist)
    output = run_example("selu_dropout.py", tmp_path)
    assert len(check_test_accuracies(output, above=0.5)) == 2  # both variants, about 0.72 each after one epoch
    assert_pngs(tmp_path, "history.png")


def test_optimizers(tmp_path):
    require(fashion_mnist)
    output = run_example("optimizers.py", tmp_path, "--train-size", "5000")
    check_test_accuracies(output, above=0.6)  # the best of nine, about 0.78 after one epoch on 5,000 images
    for name in ["SGD + Nesterov", "Adadelta", "Nadam"]:
        assert f"--- {name}" in output
    assert_pngs(tmp_path, "validation_accuracy.png")


def test_overfitting(tmp_path):
    require(mnist)
    output = run_example("overfitting.py", tmp_path)
    assert len(check_test_accuracies(output, above=0.6)) == 4  # 0.78 to 0.86 after one epoch
    assert_pngs(tmp_path, "curves.png", "weights.png")

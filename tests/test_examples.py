"""The examples, run as a user runs them, for one epoch: each must exit cleanly
(without a single warning), print a test accuracy a one-epoch model reaches,
and write its PNG plots; and with only `pip install .` (matplotlib and
tensorboardX made unimportable) train and print just the same, and say which
plots were skipped and how to get them.

They need the real MNIST / Fashion-MNIST: these tests run when the data set is
already on this machine (fastdnn's cache, or Debian's Fashion-MNIST folder),
and fetch it only when FASTDNN_TEST_DOWNLOAD=1 (CI sets it)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fastdnn.datasets import _dataset, california_housing, fashion_mnist, mnist

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DOWNLOAD = os.environ.get("FASTDNN_TEST_DOWNLOAD") == "1"
TIMEOUT = 600  # seconds; each example takes a few seconds at --epochs 1 on an idle machine

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FORMAT_NOTE = "fastdnn writes"  # the start of fastdnn's warning that weights under a .h5 name get its own format


def require(module):
    """Skips unless `module`'s data set loads without the network, or downloads are allowed
    (then it is fetched and cached here, once, before the example runs)."""
    name = "california_housing" if module is california_housing else module.DATASET.name
    cached = os.path.isfile(os.path.join(_dataset.datasets_folder(), name + ".npz"))
    in_system_folder = module is fashion_mnist and os.path.isdir(fashion_mnist.SYSTEM_FOLDER)
    if not (cached or in_system_folder):
        if not DOWNLOAD:
            pytest.skip(f"{module.DATASET.name} is not cached in {_dataset.datasets_folder()}; "
                        "set FASTDNN_TEST_DOWNLOAD=1 to let the test fetch it")
        if module is california_housing:
            pytest.importorskip("brotli", reason="California housing's registry copy is Brotli-compressed")
        module.load_data()


def run_example(script, out, *args, unimportable=()):
    """Runs examples/<script> with --epochs 1 --out <out>; returns its output (stdout and stderr).
    The modules named in `unimportable` raise ModuleNotFoundError on import, as when not installed."""
    # Any warning fails the example, but fastdnn's note that a .h5 weights name gets its own format.
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONWARNINGS=f"error,default:{FORMAT_NOTE}:UserWarning")
    if unimportable:
        blockers = out.parent / (out.name + "-unimportable")
        for module in unimportable:
            (blockers / module).mkdir(parents=True)
            (blockers / module / "__init__.py").write_text(
                f"raise ModuleNotFoundError(\"No module named '{module}'\", name={module!r})\n")
        env["PYTHONPATH"] = os.pathsep.join([str(blockers), env.get("PYTHONPATH", "")])
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--epochs", "1", "--out", str(out), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT, env=env)
    assert completed.returncode == 0, f"{script} exited with {completed.returncode}:\n{completed.stdout}"
    warnings = [line for line in completed.stdout.splitlines() if "Warning" in line and FORMAT_NOTE not in line]
    assert not warnings, completed.stdout
    if script != "activations.py":  # the one example that trains nothing
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


def require_matplotlib():
    pytest.importorskip("matplotlib", reason="the examples draw their plots with matplotlib")


def test_mnist_bn(tmp_path):
    require(mnist)
    require_matplotlib()
    output = run_example("mnist_bn.py", tmp_path)
    check_test_accuracies(output, above=0.8)  # about 0.89 after one epoch
    assert_pngs(tmp_path, "history.png", "samples.png")


def test_fashion_mnist_deep_bn(tmp_path):
    require(fashion_mnist)
    require_matplotlib()
    pytest.importorskip("tensorboardX", reason="the example's TensorBoard callback needs tensorboardX")
    output = run_example("fashion_mnist_deep_bn.py", tmp_path)
    check_test_accuracies(output, above=0.6)  # about 0.76 after one epoch
    assert_pngs(tmp_path, "history.png", "model.png", "samples.png")
    assert (tmp_path / "best_model.keras").is_file()  # ModelCheckpoint
    assert any((tmp_path / "logs" / "train").iterdir())  # TensorBoard event files


def test_fashion_mnist_deep_bn_before_activation(tmp_path):
    require(fashion_mnist)
    require_matplotlib()
    pytest.importorskip("tensorboardX", reason="the example's TensorBoard callback needs tensorboardX")
    output = run_example("fashion_mnist_deep_bn.py", tmp_path, "--variant", "bn-before-activation")
    check_test_accuracies(output, above=0.6)
    assert_pngs(tmp_path, "history.png", "model.png", "samples.png")


def test_selu_dropout(tmp_path):
    require(fashion_mnist)
    require_matplotlib()
    output = run_example("selu_dropout.py", tmp_path)
    assert len(check_test_accuracies(output, above=0.5)) == 2  # both variants, about 0.72 each after one epoch
    assert_pngs(tmp_path, "history.png")


def test_optimizers(tmp_path):
    require(fashion_mnist)
    require_matplotlib()
    output = run_example("optimizers.py", tmp_path, "--train-size", "5000")
    check_test_accuracies(output, above=0.6)  # the best of nine, about 0.78 after one epoch on 5,000 images
    for name in ["SGD + Nesterov", "Adadelta", "Nadam"]:
        assert f"--- {name}" in output
    assert_pngs(tmp_path, "validation_accuracy.png")


def check_test_mses(output, below):
    """Every 'test MSE X' the example printed, each checked to be below `below`."""
    mses = [float(value) for value in re.findall(r"test MSE ([0-9.]+|nan)", output)]
    assert mses, f"no test MSE printed:\n{output}"
    assert max(mses) < below, f"test MSEs {mses}, expected all below {below}:\n{output}"
    return mses


def test_california_housing(tmp_path):
    require(california_housing)
    require_matplotlib()
    output = run_example("california_housing.py", tmp_path, "--epochs", "5")
    assert len(check_test_mses(output, below=0.6)) == 5  # 0.35 to 0.45 after five epochs; the mean predictor 1.3
    assert "Connected to" in output  # the functional models' summaries
    assert_pngs(tmp_path, *(f"{name}.png" for name in CALIFORNIA_PROGRAMS))


CALIFORNIA_PROGRAMS = ["regression", "functional", "subclassed", "multi_input", "multi_output"]


def test_mnist_distributed_in_one_process(tmp_path):
    require(mnist)
    require_matplotlib()
    output = run_example("mnist_distributed.py", tmp_path, "--replicas", "2")
    check_test_accuracies(output, above=0.8)
    assert "2 replicas (LocalStrategy)" in output
    assert_pngs(tmp_path, "history.png")
    assert (tmp_path / "model.keras").is_file()


def test_mnist_distributed_under_mpiexec(tmp_path):
    require(mnist)
    pytest.importorskip("mpi4py", reason='needs mpi4py: pip install "fastdnn[mpi]"')
    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    completed = subprocess.run(
        [mpiexec, "-n", "2", sys.executable, "-m", "mpi4py", str(EXAMPLES / "mnist_distributed.py"), "--epochs", "1",
         "--out", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT,
        env=dict(os.environ, MPLBACKEND="Agg"))
    assert completed.returncode == 0, completed.stdout
    assert "2 replicas (MPIStrategy)" in completed.stdout
    assert completed.stdout.count("test accuracy") == 1  # the chief alone prints
    check_test_accuracies(completed.stdout, above=0.8)


def test_overfitting(tmp_path):
    require(mnist)
    require_matplotlib()
    output = run_example("overfitting.py", tmp_path)
    assert len(check_test_accuracies(output, above=0.6)) == 4  # 0.78 to 0.86 after one epoch
    assert_pngs(tmp_path, "curves.png", "weights.png")


# Script, its data set, its extra arguments, the plots it draws.
EXAMPLE_RUNS = [
    ("mnist_bn.py", mnist, (), ["samples.png", "history.png"]),
    ("fashion_mnist_deep_bn.py", fashion_mnist, (), ["samples.png", "model.png", "history.png"]),
    ("selu_dropout.py", fashion_mnist, (), ["history.png"]),
    ("optimizers.py", fashion_mnist, ("--train-size", "5000"), ["validation_accuracy.png"]),
    ("overfitting.py", mnist, (), ["curves.png", "weights.png"]),
    ("activations.py", None, (), ["activations.png"]),
    ("california_housing.py", california_housing, ("--epochs", "5"), [f"{n}.png" for n in CALIFORNIA_PROGRAMS]),
    ("mnist_distributed.py", mnist, ("--replicas", "2"), ["history.png"]),
]


def test_every_example_is_covered():
    scripts = {path.name for path in EXAMPLES.glob("*.py")} - {"tutorial_data.py", "optional_extras.py"}
    assert scripts == {run[0] for run in EXAMPLE_RUNS}


@pytest.mark.parametrize("script, dataset, args, plots", EXAMPLE_RUNS, ids=[run[0] for run in EXAMPLE_RUNS])
def test_example_runs_without_the_optional_extras(tmp_path, script, dataset, args, plots):
    if dataset is not None:
        require(dataset)
    out = tmp_path / "out"
    output = run_example(script, out, *args, unimportable=("matplotlib", "tensorboardX"))
    if dataset is california_housing:
        check_test_mses(output, below=0.6)
    elif dataset is not None:
        check_test_accuracies(output, above=0.5)
    skipped = [line for line in output.splitlines() if line.startswith("plots skipped")]
    assert skipped == [f"plots skipped, matplotlib is not installed: {', '.join(plots)}; "
                       'to draw them: pip install "fastdnn[plot]"'], output
    assert not out.exists() or not list(out.glob("*.png")), sorted(p.name for p in out.iterdir())
    if script == "fashion_mnist_deep_bn.py":
        assert 'TensorBoard logs skipped, tensorboardX is not installed' in output
        assert (out / "best_model.keras").is_file()

"""MPIStrategy under real MPI: `mpiexec -n 2|3|4` runs of tests/distributed_cases.py give weights
bitwise equal (SHA-256) to LocalStrategy(replicas=N) in this process, and the same history; and
bad use fails fast with a clear error. Needs the `mpi` extra (mpi4py and the mpich wheel)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpi4py", reason='the MPI tests need mpi4py: pip install "fastdnn[mpi]"')

import distributed_cases  # noqa: E402
from fastdnn.distribute import LocalStrategy  # noqa: E402

HERE = Path(__file__).resolve().parent
MPIEXEC = shutil.which("mpiexec", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
TIMEOUT = 240  # seconds per launch; a few seconds each on an idle 2-core machine

if MPIEXEC is None:
    pytest.skip("mpiexec is not on PATH (the mpich wheel of the `mpi` extra provides it)", allow_module_level=True)


def launch(ranks, *args, script="distributed_cases.py", timeout=TIMEOUT, **environment):
    """Runs `mpiexec -n ranks python -m mpi4py tests/<script> args`; returns the CompletedProcess."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS="1", **environment)
    return subprocess.run([MPIEXEC, "-n", str(ranks), sys.executable, "-m", "mpi4py", str(HERE / script), *args],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout, env=env)


def result_of(completed):
    assert completed.returncode == 0, completed.stdout
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1, completed.stdout  # rank 0 alone prints
    return json.loads(lines[0])


@pytest.mark.parametrize("ranks", [2, 3, 4])
@pytest.mark.parametrize("case", ["dense_sgd", "batch_norm_adam", "dropout_adam", "empty_shard_adam"])
def test_mpi_training_equals_local_strategy_bitwise(case, ranks):
    reference_digest, reference_history, _ = distributed_cases.train(case, LocalStrategy(replicas=ranks))
    result = result_of(launch(ranks, case))
    assert result["world"] == ranks
    assert result["digest"] == reference_digest
    assert result["history"] == reference_history


@pytest.mark.parametrize("case", ["dense_adam", "batch_norm_sgd", "dropout_sgd"])
def test_mpi_training_equals_local_strategy_on_two_ranks(case):
    reference_digest, reference_history, _ = distributed_cases.train(case, LocalStrategy(replicas=2))
    result = result_of(launch(2, case))
    assert (result["digest"], result["history"]) == (reference_digest, reference_history)


@pytest.mark.parametrize("ranks", [2, 3])
def test_the_chunked_reduction_gives_the_same_bits(ranks):
    # The reduce-scatter form used beyond 4 ranks, forced here on a few: each element is still added
    # in rank order, so the result is LocalStrategy's bit for bit.
    reference_digest, reference_history, _ = distributed_cases.train("dropout_adam", LocalStrategy(replicas=ranks))
    result = result_of(launch(ranks, "dropout_adam", FASTDNN_MPI_REDUCTION="scatter"))
    assert (result["digest"], result["history"]) == (reference_digest, reference_history)


def test_ranks_with_different_data_fail_fast_naming_the_data(tmp_path):
    script = tmp_path / "different_data.py"
    script.write_text(
        "import numpy as np, fastdnn as keras\n"
        "from fastdnn.distribute import MPIStrategy\n"
        "s = MPIStrategy()\n"
        "with s.scope():\n"
        "    m = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])\n"
        "    m.compile(loss='mse', optimizer='sgd')\n"
        "m.fit(np.zeros((10 + s.rank, 4)), np.zeros(10 + s.rank), verbose=0)\n")
    completed = launch(2, script=str(script), timeout=120)
    assert completed.returncode != 0
    assert "differ from rank 0 in the training data" in completed.stdout


def test_an_error_on_one_rank_ends_the_job_instead_of_hanging(tmp_path):
    script = tmp_path / "one_rank_fails.py"
    script.write_text(
        "import numpy as np, fastdnn as keras\n"
        "from fastdnn.distribute import MPIStrategy\n"
        "s = MPIStrategy()\n"
        "class Fail(keras.callbacks.Callback):\n"
        "    def on_epoch_end(self, epoch, logs=None):\n"
        "        if s.rank == 1: raise RuntimeError('boom on rank 1')\n"
        "with s.scope():\n"
        "    m = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])\n"
        "    m.compile(loss='mse', optimizer='sgd')\n"
        "m.fit(np.zeros((64, 4)), np.zeros(64), epochs=50, verbose=0, callbacks=[Fail()])\n")
    completed = launch(2, script=str(script), timeout=120)
    assert completed.returncode != 0
    assert "rank 1 failed (RuntimeError: boom on rank 1)" in completed.stdout


def test_a_model_built_outside_the_scope_warns_of_independent_copies(tmp_path):
    script = tmp_path / "unscoped.py"
    script.write_text(
        "import warnings, numpy as np, fastdnn as keras\n"
        "m = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])\n"
        "m.compile(loss='mse', optimizer='sgd')\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    m.fit(np.zeros((8, 4)), np.zeros(8), verbose=0)\n"
        "print('WARNED' if any('independent copies' in str(w.message) for w in caught) else 'SILENT')\n")
    completed = launch(2, script=str(script), timeout=120)
    assert completed.returncode == 0, completed.stdout
    assert completed.stdout.count("WARNED") == 2


def test_only_the_chief_writes_checkpoints_and_they_resume(tmp_path):
    script = tmp_path / "checkpoint.py"
    script.write_text(
        "import os, sys, numpy as np, fastdnn as keras\n"
        "from fastdnn.distribute import MPIStrategy\n"
        "s = MPIStrategy()\n"
        "folder = sys.argv[1]\n"
        "keras.utils.set_random_seed(3)\n"
        "x = np.random.default_rng(0).standard_normal((64, 4)).astype('float32'); y = x[:, :1] * 2\n"
        "with s.scope():\n"
        "    m = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])\n"
        "    m.compile(loss='mse', optimizer='adam')\n"
        "path = os.path.join(folder, 'rank%d.keras' % s.rank)\n"
        "m.fit(x, y, epochs=2, verbose=0, callbacks=[keras.callbacks.ModelCheckpoint(path)])\n"
        "m.save(os.path.join(folder, 'final%d.keras' % s.rank))\n")
    completed = launch(2, str(tmp_path), script=str(script), timeout=120)
    assert completed.returncode == 0, completed.stdout
    assert sorted(p.name for p in tmp_path.glob("*.keras")) == ["final0.keras", "rank0.keras"]
    import fastdnn

    model = fastdnn.models.load_model(tmp_path / "final0.keras")
    history = model.fit(np.ones((8, 4), np.float32), np.ones(8), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])

"""fastdnn.distribute in one process: strategies' scope, LocalStrategy against plain fit, and the
errors of bad use. (test_distribute_mpi.py runs MPIStrategy under mpiexec.)"""

import sys

import numpy as np
import pytest

import distributed_cases
import fastdnn as keras
from fastdnn.distribute import LocalStrategy, get_strategy


def test_a_model_built_in_a_scope_carries_its_strategy():
    strategy = LocalStrategy(replicas=2)
    with strategy.scope():
        assert get_strategy() is strategy
        model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
    assert get_strategy() is None
    assert model.distribute_strategy is strategy
    assert (strategy.num_replicas_in_sync, strategy.rank, strategy.is_chief) == (2, 0, True)


def test_a_model_compiled_in_a_scope_takes_its_strategy():
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
    strategy = LocalStrategy(replicas=3)
    with strategy.scope():
        model.compile(loss="mse", optimizer="sgd")
    assert model.distribute_strategy is strategy


@pytest.mark.parametrize("replicas", [0, -1, 1.5, True, "2"])
def test_local_strategy_refuses_a_replica_count_that_is_not_a_positive_int(replicas):
    with pytest.raises(ValueError, match="replicas must be an int >= 1"):
        LocalStrategy(replicas=replicas)


@pytest.mark.parametrize("case", ["dense_adam", "batch_norm_sgd", "dropout_adam"])
def test_one_local_replica_trains_bitwise_as_plain_fit(case):
    assert distributed_cases.train(case, LocalStrategy(replicas=1))[:2] == distributed_cases.train(case)[:2]


@pytest.mark.parametrize("case", ["dense_sgd", "dense_adam", "dropout_sgd", "dropout_adam"])
@pytest.mark.parametrize("replicas", [2, 3, 4])
def test_local_replicas_agree_with_plain_fit_to_rounding(case, replicas):
    # The shards' gradients are the batch's, added in another order: float32 rounding (~1e-7 relative
    # per step), and the dropout masks are the same rows' masks. Over 9 steps the losses stay within
    # 1e-4 relative; a missing shard or a per-shard denominator would move them by > 1e-2.
    _, sharded, _ = distributed_cases.train(case, LocalStrategy(replicas=replicas))
    _, plain, _ = distributed_cases.train(case)
    for key in plain:
        np.testing.assert_allclose(sharded[key], plain[key], rtol=1e-4, atol=1e-6, err_msg=key)


def test_local_replicas_with_batch_norm_use_per_replica_statistics():
    # Keras' default under a strategy: each replica normalizes with its own shard's statistics, so
    # training differs from plain fit beyond rounding, but it still learns.
    _, sharded, _ = distributed_cases.train("batch_norm_adam", LocalStrategy(replicas=2), epochs=6)
    _, plain, _ = distributed_cases.train("batch_norm_adam", epochs=6)
    assert sharded["loss"][-1] < sharded["loss"][0]
    assert sharded["loss"] != plain["loss"]


def test_an_empty_shard_is_fine():
    digest, history, weights = distributed_cases.train("empty_shard_adam", LocalStrategy(replicas=4))
    assert all(np.isfinite(w).all() for w in weights)
    assert np.isfinite(history["loss"]).all()


def test_mpi_strategy_without_mpi4py_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    from fastdnn.distribute import mpi

    with pytest.raises(ImportError, match=r'pip install "fastdnn\[mpi\]"'):
        mpi.MPIStrategy()


def test_mpi_strategy_of_one_process_trains_as_plain_fit():
    pytest.importorskip("mpi4py", reason='needs mpi4py: pip install "fastdnn[mpi]"')
    from fastdnn.distribute import MPIStrategy

    threads = keras.get_num_threads()
    try:
        assert distributed_cases.train("dropout_adam", MPIStrategy())[:2] == distributed_cases.train("dropout_adam")[:2]
    finally:
        keras.set_num_threads(threads)

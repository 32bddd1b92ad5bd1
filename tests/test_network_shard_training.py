"""train_batches(replica=(rank, world), reducer=...) (issue 14): one native call per epoch in
which each global batch is cut into contiguous shards, this replica's shard goes through
compute_shard, the Python reducer sums the replicas' buffers (with the GIL held), and the
update follows. N replicas are played by N identical networks in N threads joined by an
in-process all-reduce (shard_helpers.ThreadAllReduce), against a one-process reference."""

import numpy as np
import pytest

from engine_helpers import make_network
from shard_helpers import (SCCE, bn_dropout_ops, dag_heads, dag_ops, identical_nets, local_strategy_epoch,
                           run_replicas, shard_bounds)

ORDERS = [np.arange(10), np.random.default_rng(7).permutation(10)]  # batches of 4, 4 and 2 rows


def data(rows=10, width=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(rows, width)).astype(np.float32), rng.integers(0, classes, rows)


def assert_same_weights(a, b):
    for p, q in zip(a.parameters(), b.parameters()):
        assert p["value"].tobytes() == q["value"].tobytes(), p["name"]
    assert a.iterations == b.iterations


def pass_through(rows, loss_sum, *hits):
    """The reducer of a lone replica: the shard is the batch."""
    return (loss_sum, *hits, False)


@pytest.mark.parametrize("optimizer", [{"kind": "sgd", "momentum": 0.9}, {"kind": "adam"}], ids=["sgd", "adam"])
@pytest.mark.parametrize("world", [1, 2, 3, 4])
def test_replicas_in_threads_train_as_the_one_process_reference_bitwise(world, optimizer):
    # The last batch has 2 rows: with 3 or 4 replicas some have none.
    x, y = data()
    replicas = identical_nets(world, 4, bn_dropout_ops(), SCCE, optimizer)
    reference = make_network(4, bn_dropout_ops(), SCCE, optimizer)
    results, _ = run_replicas(replicas, x, y, ORDERS, 4, 0.1)
    expected = [local_strategy_epoch(reference, x, y, order, 4, 0.1, world) for order in ORDERS]
    for rank in range(world):
        assert_same_weights(replicas[rank], reference)
        for got, want in zip(results[rank], expected):
            assert [a.tobytes() for a in got] == [a.tobytes() for a in want]


def test_replicas_of_a_dag_with_sample_weights_train_as_the_reference_bitwise():
    rng = np.random.default_rng(1)
    x = [rng.normal(size=(10, 3)).astype(np.float32), rng.normal(size=(10, 4)).astype(np.float32)]
    y = [rng.normal(size=(10, 2)).astype(np.float32), rng.normal(size=(10, 3)).astype(np.float32)]
    w = rng.uniform(0.0, 2.0, 10).astype(np.float32)
    replicas = identical_nets(3, [3, 4], dag_ops(), dag_heads(), {"kind": "adam"})
    reference = make_network([3, 4], dag_ops(), dag_heads(), {"kind": "adam"})
    results, _ = run_replicas(replicas, x, y, ORDERS, 4, 0.01, sample_weight=w)
    expected = [local_strategy_epoch(reference, x, y, order, 4, 0.01, 3, sample_weight=w) for order in ORDERS]
    for rank in range(3):
        assert_same_weights(replicas[rank], reference)
        assert [a.tobytes() for a in results[rank][-1]] == [a.tobytes() for a in expected[-1]]


def test_each_replica_passes_the_reducer_its_shards_rows():
    x, y = data()
    _, reduce = run_replicas(identical_nets(4, 4, bn_dropout_ops(), SCCE, {"kind": "sgd"}), x, y, ORDERS[:1], 4, 0.1)
    assert reduce.calls == [[1, 1, 0], [1, 1, 1], [1, 1, 0], [1, 1, 1]]


def test_one_replica_with_a_pass_through_reducer_trains_as_train_batches_bitwise():
    x, y = data()
    plain, sharded = (make_network(4, bn_dropout_ops(), SCCE, {"kind": "adam"}) for _ in range(2))
    rates = np.full(3, 0.05, np.float32)
    for order in ORDERS:
        expected = plain.train_batches(x, y, order, 4, rates)
        got = sharded.train_batches(x, y, order, 4, rates, replica=(0, 1), reducer=pass_through)
        assert [a.tobytes() for a in got] == [a.tobytes() for a in expected]
    assert_same_weights(sharded, plain)
    assert sharded.state_buffer().tobytes() == plain.state_buffer().tobytes()


def test_outputs_receive_this_replicas_rows_at_their_positions():
    x, y = data()
    net = make_network(4, bn_dropout_ops(), SCCE)
    outputs = np.full((10, 3), np.nan, np.float32)
    net.train_batches(x, y, ORDERS[0], 4, np.full(3, 0.1, np.float32), outputs=outputs, replica=(1, 3),
                      reducer=pass_through)
    mine = [start + r for start, rows in ((0, 4), (4, 4), (8, 2)) for r in range(*shard_bounds(1, 3, rows))]
    assert np.flatnonzero(~np.isnan(outputs[:, 0])).tolist() == mine == [1, 5, 8]


def test_a_stop_from_the_reducer_ends_the_epoch_after_that_batch():
    x, y = data()
    net = make_network(4, bn_dropout_ops(), SCCE)
    calls = []

    def stop_at_second(rows, loss_sum, hits):
        calls.append(rows)
        return loss_sum, hits, len(calls) == 2

    losses, hits = net.train_batches(x, y, ORDERS[0], 4, np.full(3, 0.1, np.float32), replica=(0, 1),
                                     reducer=stop_at_second)
    assert len(losses) == len(hits) == 2 and np.all(np.isfinite(losses))
    assert net.iterations == 2 and len(calls) == 2


def test_an_exception_in_the_reducer_propagates_before_that_step_is_applied():
    x, y = data()
    failing, reference = (make_network(4, bn_dropout_ops(), SCCE) for _ in range(2))
    calls = []

    def fail_at_second(rows, loss_sum, hits):
        calls.append(rows)
        if len(calls) == 2:
            raise KeyboardInterrupt("rank 1 was interrupted")
        return loss_sum, hits, False

    with pytest.raises(KeyboardInterrupt, match="rank 1 was interrupted"):
        failing.train_batches(x, y, ORDERS[0], 4, np.full(3, 0.1, np.float32), replica=(0, 1), reducer=fail_at_second)
    reference.train_batches(x, y, ORDERS[0][:4], 4, np.full(1, 0.1, np.float32))
    assert_same_weights(failing, reference)


@pytest.mark.parametrize("returned, error, match", [
    (lambda loss, hits: (loss, hits), ValueError, r"reducer must return a tuple \(loss, hits, stop\) \(3 items\); got 2"),
    (lambda loss, hits: np.array([loss, hits, 0.0]), TypeError, r"reducer must return a tuple \(loss, hits, stop\)"),
    (lambda loss, hits: (loss, hits, 1), TypeError, r"reducer's stop \(item 2\) must be True or False; got 1"),
    (lambda loss, hits: (None, hits, False), TypeError, r"reducer's loss \(item 0\) must be a number; got None"),
    (lambda loss, hits: (loss, "3", False), TypeError, r"reducer's hits \(item 1\) must be a number"),
])
def test_a_reducer_returning_the_wrong_shape_is_an_error_and_nothing_is_applied(returned, error, match):
    x, y = data()
    net = make_network(4, bn_dropout_ops(), SCCE)
    values = net.value_buffer().copy()
    with pytest.raises(error, match=match):
        net.train_batches(x, y, ORDERS[0], 4, np.full(3, 0.1, np.float32), replica=(0, 1),
                          reducer=lambda rows, loss, hits: returned(loss, hits))
    assert net.iterations == 0 and net.value_buffer().tobytes() == values.tobytes()


def test_with_sample_weights_the_reducer_takes_and_returns_the_weighted_hits():
    x, y = data()
    net = make_network(4, bn_dropout_ops(), SCCE)
    seen = []

    def reducer(rows, loss_sum, hits, weighted_hits):
        seen.append(weighted_hits)
        return loss_sum, hits, weighted_hits, False

    _, _, weighted = net.train_batches(x, y, ORDERS[0], 4, np.full(3, 0.1, np.float32), np.full(10, 0.5),
                                       replica=(0, 1), reducer=reducer)
    assert weighted.tolist() == seen
    with pytest.raises(ValueError, match=r"\(loss, hits, weighted_hits, stop\) \(4 items\); got 3"):
        net.train_batches(x, y, ORDERS[0], 4, np.full(3, 0.1, np.float32), np.full(10, 0.5), replica=(0, 1),
                          reducer=lambda rows, loss, hits, weighted: (loss, hits, False))


@pytest.mark.parametrize("replica, reducer, error, match", [
    ((0, 2), None, ValueError, r"replica=\(0, 2\) needs a reducer"),
    ((2, 2), pass_through, ValueError, r"replica's rank \(replica\[0\]\) must be in \[0, 1\]; got 2"),
    ((-1, 2), pass_through, ValueError, r"replica's rank \(replica\[0\]\) must be in \[0, 1\]"),
    ((0, 0), pass_through, ValueError, r"replica's world \(replica\[1\]\) must be in \[1, "),
    ((0.0, 1), pass_through, TypeError, r"replica's rank \(replica\[0\]\) must be an integer"),
    ((0,), pass_through, TypeError, r"replica must be a pair \(rank, world\) of ints; got \(0,\)"),
    ("01", pass_through, TypeError, r"replica must be a pair \(rank, world\)"),
    (None, pass_through, ValueError, r"reducer is given but replica is None"),
    ((0, 1), 3, TypeError, r"reducer must be callable \(or None\); got 3"),
])
def test_train_batches_rejects_a_bad_replica_or_reducer(replica, reducer, error, match):
    x, y = data()
    net = make_network(4, bn_dropout_ops(), SCCE)
    with pytest.raises(error, match=match):
        net.train_batches(x, y, ORDERS[0], 4, np.full(3, 0.1, np.float32), replica=replica, reducer=reducer)
    assert net.iterations == 0


@pytest.mark.parametrize("rank", [0, 1])
def test_activity_regularization_refuses_several_replicas_on_every_rank(rank):
    # Batches of one row: rank 1's shard is always the whole batch, yet it must refuse as rank 0 does.
    x, y = data()
    ops = [{"kind": "dense", "units": 3}, {"kind": "activity_regularization", "l1": 0.1},
           {"kind": "activation", "activation": "softmax"}]
    net = make_network(4, ops, SCCE)
    with pytest.raises(ValueError, match=r"ops\[1\] is ActivityRegularization.*several replicas"):
        net.train_batches(x, y, ORDERS[0], 1, np.full(10, 0.1, np.float32), replica=(rank, 2), reducer=pass_through)
    assert net.iterations == 0

"""The engine's data-parallel pieces (issue 14), through _core.Network: the flat buffer views,
compute_shard (one replica's shard of a global batch: gradients over the global row count,
random draws at the global row offset) and apply_gradients (the rest of a train_step).
train_batches' replica path is in tests/test_network_shard_training.py."""

import numpy as np
import pytest

from engine_helpers import make_network
from shard_helpers import MSE, SCCE, bn_dropout_ops, dag_heads, dag_ops, shard_bounds, take

CCE = {"kind": "categorical_crossentropy", "metric": "categorical_accuracy"}


def assert_same_network_state(a, b):
    """Every parameter and statistic, every optimizer slot and the step count, bit for bit."""
    for p, q in zip(a.parameters(), b.parameters()):
        assert p["value"].tobytes() == q["value"].tobytes(), p["name"]
    for name, slots in a.optimizer_slots().items():
        for s, t in zip(slots, b.optimizer_slots()[name]):
            assert s.tobytes() == t.tobytes(), name
    assert a.iterations == b.iterations


def batches(rng, steps, rows, x_widths, y_of):
    out = []
    for _ in range(steps):
        x = [rng.normal(size=(rows, w)).astype(np.float32) for w in x_widths]
        out.append((x if len(x) > 1 else x[0], y_of(rng, rows), rng.uniform(0.0, 2.0, rows).astype(np.float32)))
    return out


def labels(classes):
    return lambda rng, rows: rng.integers(0, classes, rows)


def one_hot(classes):
    return lambda rng, rows: np.eye(classes, dtype=np.float32)[rng.integers(0, classes, rows)]


def values(width):
    return lambda rng, rows: rng.normal(size=(rows, width)).astype(np.float32)


def dag_targets(rng, rows):
    return [rng.normal(size=(rows, 2)).astype(np.float32), rng.normal(size=(rows, 3)).astype(np.float32)]


# Each: input width(s), ops, loss, optimizer, targets, weighted.
STEP_CASES = {
    "sgd_momentum": (4, [{"kind": "dense", "units": 6}, {"kind": "activation", "activation": "relu"},
                         {"kind": "dense", "units": 3}, {"kind": "activation", "activation": "softmax"}],
                     SCCE, {"kind": "sgd", "momentum": 0.9}, labels(3), False),
    "adam_batchnorm_dropout_l2": (4, bn_dropout_ops(), SCCE, {"kind": "adam"}, labels(3), False),
    "alpha_dropout_sample_weights": (4, [{"kind": "dense", "units": 6, "kernel_l1": 0.01},
                                         {"kind": "activation", "activation": "selu"},
                                         {"kind": "alpha_dropout", "rate": 0.2, "seed": 9}, {"kind": "dense", "units": 3}],
                                     CCE | {"from_logits": True}, {"kind": "adam"}, one_hot(3), True),
    "clipnorm_regularizers": (4, [{"kind": "dense", "units": 6, "kernel_l2": 0.1, "bias_l1": 0.1},
                                  {"kind": "rrelu", "seed": 4}, {"kind": "dense", "units": 2}],
                              MSE, {"kind": "sgd", "momentum": 0.5, "clipnorm": 0.05}, values(2), False),
    "global_clipnorm_noise": (4, [{"kind": "gaussian_noise", "stddev": 0.3, "seed": 1}, {"kind": "dense", "units": 6},
                                  {"kind": "gaussian_dropout", "rate": 0.3, "seed": 2}, {"kind": "dense", "units": 2}],
                              MSE, {"kind": "rmsprop", "global_clipnorm": 0.1}, values(2), True),
    "dag_two_heads": ([3, 4], dag_ops(), dag_heads(), {"kind": "nadam"}, dag_targets, True),
}


@pytest.mark.parametrize("case", sorted(STEP_CASES))
def test_train_step_equals_compute_shard_then_apply_gradients_bitwise(case):
    widths, ops, loss, optimizer, targets, weighted = STEP_CASES[case]
    stepped, sharded = (make_network(widths, ops, loss, optimizer, seed=1) for _ in range(2))
    heads = len(loss) if isinstance(loss, list) else 1
    for x, y, w in batches(np.random.default_rng(0), 3, 9, widths if isinstance(widths, list) else [widths], targets):
        w = w if weighted else None
        step_heads, shard_heads = np.zeros(heads), np.zeros(heads)
        expected = stepped.train_step(x, y, 0.05, sample_weight=w, head_losses=step_heads)
        loss_sum, *hits = sharded.compute_shard(x, y, w, total_rows=9, head_losses=shard_heads)
        penalty = sharded.apply_gradients(0.05)
        assert (loss_sum + penalty, *hits) == expected
        assert shard_heads.tobytes() == step_heads.tobytes()
    assert_same_network_state(stepped, sharded)


def test_clipping_and_regularization_change_the_applied_update():
    # The bitwise case above would pass vacuously if apply_gradients ignored the penalty and the clip.
    widths, ops, loss, _, targets, _ = STEP_CASES["clipnorm_regularizers"]
    clipped, plain = make_network(widths, ops, loss, {"kind": "sgd", "clipnorm": 0.05}), make_network(
        widths, [{k: v for k, v in op.items() if not k.endswith(("_l1", "_l2"))} for op in ops], loss, {"kind": "sgd"})
    x, y, _ = batches(np.random.default_rng(0), 1, 9, [widths], targets)[0]
    for net in (clipped, plain):
        net.compute_shard(x, y, total_rows=9)
    assert clipped.gradient_buffer().tobytes() == plain.gradient_buffer().tobytes()
    assert clipped.apply_gradients(0.05) > 0.0 == plain.apply_gradients(0.05)
    assert clipped.value_buffer().tobytes() != plain.value_buffer().tobytes()


def test_compute_shard_leaves_the_weights_and_the_step_count():
    net = make_network(4, bn_dropout_ops(), SCCE, {"kind": "adam"})
    values = net.value_buffer().copy()
    x, y, _ = batches(np.random.default_rng(1), 1, 8, [4], labels(3))[0]
    net.compute_shard(x, y, total_rows=8)
    assert net.value_buffer().tobytes() == values.tobytes()
    assert net.iterations == 0
    net.apply_gradients(0.1)
    assert net.iterations == 1
    assert net.value_buffer().tobytes() != values.tobytes()


# ------------------------------------------------------------------ the flat buffers


def test_gradient_buffer_is_every_gradient_at_a_16_float_aligned_place():
    net = make_network(4, bn_dropout_ops(), SCCE)
    buffer = net.gradient_buffer()
    buffer[:] = np.arange(buffer.size, dtype=np.float32)
    for p in net.parameters():
        if p["trainable"]:
            start = int(p["grad"].ravel()[0])
            assert start % 16 == 0
            assert np.array_equal(p["grad"].ravel(), np.arange(start, start + p["grad"].size, dtype=np.float32))


def test_value_and_state_buffers_are_writable_views_of_the_parameters():
    net = make_network(4, bn_dropout_ops(), SCCE)
    net.value_buffer()[:] = 2.0
    net.state_buffer()[:] = 3.0
    for p in net.parameters():
        assert np.all(p["value"] == (2.0 if p["trainable"] else 3.0)), p["name"]


def test_buffers_stay_valid_after_the_network_name_is_dropped():
    buffer = make_network(4, bn_dropout_ops(), SCCE).value_buffer()
    assert np.all(np.isfinite(buffer))  # the view keeps the network alive (AddressSanitizer checks the rest)


def test_a_network_without_state_has_an_empty_state_buffer():
    net = make_network(3, [{"kind": "dense", "units": 2}], MSE)
    assert net.state_buffer().shape == (0,)
    assert net.gradient_buffer().shape == net.value_buffer().shape == (16 + 16,)  # kernel 6 and bias 2, padded


# ------------------------------------------------------------------ shards of a batch


RANDOM_OPS = [{"kind": "dropout", "rate": 0.5, "seed": 3}, {"kind": "alpha_dropout", "rate": 0.5, "seed": 3},
              {"kind": "gaussian_noise", "stddev": 1.0, "seed": 3}, {"kind": "gaussian_dropout", "rate": 0.5, "seed": 3},
              {"kind": "rrelu", "seed": 3}]


@pytest.mark.parametrize("world", [2, 3, 4])
@pytest.mark.parametrize("op", RANDOM_OPS, ids=lambda op: op["kind"])
def test_the_shards_draws_together_are_the_whole_batch_draws(op, world):
    # Width 7: most shards start inside a Philox block of four elements.
    net = make_network(7, [op], MSE)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(10, 7)).astype(np.float32), np.zeros((10, 7), np.float32)
    net.iterations = 5
    net.compute_shard(x, y, total_rows=10)
    whole = net.training_output()
    parts = []
    for rank in range(world):
        lo, hi = shard_bounds(rank, world, 10)
        net.compute_shard(x[lo:hi], y[lo:hi], total_rows=10, row_offset=lo)
        parts.append(net.training_output())
    assert np.concatenate(parts).tobytes() == whole.tobytes()


def test_a_shard_without_its_row_offset_draws_another_mask():
    net = make_network(7, [RANDOM_OPS[0]], MSE)
    x, y = np.ones((10, 7), np.float32), np.zeros((10, 7), np.float32)
    net.compute_shard(x, y, total_rows=10)
    whole = net.training_output()
    net.compute_shard(x[5:], y[5:], total_rows=10, row_offset=0)
    assert net.training_output().tobytes() != whole[5:].tobytes()


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("world", [2, 3, 4])
def test_shard_losses_and_gradients_sum_to_the_whole_batch(world, weighted):
    # No BatchNorm: its batch statistics are per shard. Dropout and AlphaDropout draw the same masks.
    ops = [{"kind": "dense", "units": 8}, {"kind": "dropout", "rate": 0.3, "seed": 1},
           {"kind": "activation", "activation": "tanh"}, {"kind": "alpha_dropout", "rate": 0.2, "seed": 2},
           {"kind": "dense", "units": 3}, {"kind": "activation", "activation": "softmax"}]
    net = make_network(5, ops, SCCE)
    x, y, w = batches(np.random.default_rng(world), 1, 11, [5], labels(3))[0]
    w = w if weighted else None
    whole_loss, *whole_hits = net.compute_shard(x, y, w, total_rows=11)
    whole_grad = net.gradient_buffer().copy()
    loss, hits, grad = 0.0, np.zeros(len(whole_hits)), np.zeros_like(whole_grad)
    for rank in range(world):
        lo, hi = shard_bounds(rank, world, 11)
        shard_loss, *shard_hits = net.compute_shard(x[lo:hi], y[lo:hi], None if w is None else w[lo:hi],
                                                    total_rows=11, row_offset=lo)
        loss, hits, grad = loss + shard_loss, hits + shard_hits, grad + net.gradient_buffer()
    # float32 terms: each gradient entry sums the rows in another grouping (and carries the float32
    # factor rows/11), a few ulps of the largest row term; the float64 loss only its float32 inputs.
    assert loss == pytest.approx(whole_loss, rel=1e-6)
    assert np.array_equal(hits, whole_hits)
    np.testing.assert_allclose(grad, whole_grad, rtol=1e-5, atol=1e-6)


def test_shard_head_losses_sum_to_the_whole_batch_head_losses():
    # dag_ops() without its BatchNorm (whose batch statistics are per shard).
    ops = [{"kind": "dense", "units": 5, "inputs": [0]}, {"kind": "concatenate", "inputs": [2, 1]},
           {"kind": "dense", "units": 2}, {"kind": "dense", "units": 3, "inputs": [3]}]
    net = make_network([3, 4], ops, [{"slot": 4, "loss": MSE, "weight": 0.5}, {"slot": 5, "loss": MSE}])
    x, y, _ = batches(np.random.default_rng(2), 1, 7, [3, 4], dag_targets)[0]
    whole, parts = np.zeros(2), np.zeros(2)
    whole_loss = net.compute_shard(x, y, total_rows=7, head_losses=whole)[0]
    for lo, hi in ((0, 3), (3, 7)):
        shard = np.zeros(2)
        net.compute_shard(take(x, slice(lo, hi)), take(y, slice(lo, hi)), total_rows=7, row_offset=lo,
                          head_losses=shard)
        parts += shard
    np.testing.assert_allclose(parts, whole, rtol=1e-6)
    assert whole_loss == pytest.approx(0.5 * whole[0] + whole[1], rel=1e-12)


def test_update_moving_stats_moves_them_by_the_shards_own_batch_statistics():
    moved, kept = (make_network(4, bn_dropout_ops(), SCCE) for _ in range(2))
    reference = make_network(4, bn_dropout_ops(), SCCE)
    x, y, _ = batches(np.random.default_rng(3), 1, 12, [4], labels(3))[0]
    state = kept.state_buffer().copy()
    moved.compute_shard(x[4:8], y[4:8], total_rows=12, row_offset=4)
    kept.compute_shard(x[4:8], y[4:8], total_rows=12, row_offset=4, update_moving_stats=False)
    reference.compute_shard(x[4:8], y[4:8], total_rows=4)  # the same rows as a batch of their own
    assert kept.state_buffer().tobytes() == state.tobytes()
    assert moved.state_buffer().tobytes() == reference.state_buffer().tobytes() != state.tobytes()
    assert moved.gradient_buffer().tobytes() == kept.gradient_buffer().tobytes()


@pytest.mark.parametrize("weighted", [False, True])
def test_an_empty_shard_zeroes_the_gradient_and_touches_nothing_else(weighted):
    net = make_network(4, bn_dropout_ops(), SCCE, {"kind": "adam"})
    net.gradient_buffer()[:] = 1.0
    state, values = net.state_buffer().copy(), net.value_buffer().copy()
    heads = np.ones(1)
    result = net.compute_shard(np.zeros((0, 4), np.float32), np.zeros(0, np.int64),
                               np.zeros(0, np.float32) if weighted else None, total_rows=5, row_offset=2,
                               head_losses=heads)
    assert result == ((0.0, 0.0, 0.0) if weighted else (0.0, 0.0))
    assert not np.any(net.gradient_buffer()) and heads[0] == 0.0
    assert net.state_buffer().tobytes() == state.tobytes() and net.value_buffer().tobytes() == values.tobytes()
    assert net.iterations == 0


def test_an_empty_shard_of_a_dag_takes_empty_lists():
    net = make_network([3, 4], dag_ops(), dag_heads())
    empty = [np.zeros((0, 3), np.float32), np.zeros((0, 4), np.float32)]
    assert net.compute_shard(empty, [np.zeros((0, 2)), np.zeros((0, 3))], total_rows=2) == (0.0, 0.0)


# ------------------------------------------------------------------ bad use


def small_net(ops=None):
    return make_network(4, ops or [{"kind": "dense", "units": 3}], MSE)


X4, Y3 = np.ones((4, 4), np.float32), np.zeros((4, 3), np.float32)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"total_rows": 3}, ValueError, r"total_rows must be in \[4, "),
    ({"total_rows": 0}, ValueError, r"total_rows must be in \[4, "),
    ({"total_rows": 2 ** 41}, ValueError, r"total_rows must be in"),
    ({"total_rows": 4.0}, TypeError, r"total_rows must be an integer"),
    ({"total_rows": 6, "row_offset": 3}, ValueError, r"row_offset must be in \[0, 2\]"),
    ({"total_rows": 6, "row_offset": -1}, ValueError, r"row_offset must be in \[0, 2\]"),
    ({"total_rows": 4, "update_moving_stats": None}, TypeError, r"update_moving_stats must be True or False"),
    ({"total_rows": 4, "head_losses": np.zeros(2)}, ValueError, r"head_losses must have shape \(1,\)"),
])
def test_compute_shard_rejects_bad_arguments(kwargs, error, match):
    net = small_net()
    grads = net.gradient_buffer().copy()
    with pytest.raises(error, match=match):
        net.compute_shard(X4, Y3, **kwargs)
    assert net.gradient_buffer().tobytes() == grads.tobytes()


def test_compute_shard_needs_total_rows_as_a_keyword():
    with pytest.raises(TypeError):
        small_net().compute_shard(X4, Y3, None, 4)


def test_an_empty_shard_with_the_wrong_width_is_refused():
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 4\); got shape \(0, 3\)"):
        small_net().compute_shard(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32), total_rows=2)


def test_an_empty_shard_with_targets_for_other_rows_is_refused():
    with pytest.raises(ValueError, match=r"y must have shape \(0, 3\)"):
        small_net().compute_shard(np.zeros((0, 4), np.float32), Y3, total_rows=2)


def test_activity_regularization_refuses_a_shard_smaller_than_the_batch():
    net = small_net([{"kind": "dense", "units": 3}, {"kind": "activity_regularization", "l2": 0.1}])
    net.compute_shard(X4, Y3, total_rows=4)  # the whole batch is fine
    with pytest.raises(ValueError, match=r"ops\[1\] is ActivityRegularization.*rows != total_rows"):
        net.compute_shard(X4, Y3, total_rows=8)


@pytest.mark.parametrize("rate, error", [("0.1", TypeError), (float("nan"), ValueError), (None, TypeError)])
def test_apply_gradients_rejects_a_bad_learning_rate(rate, error):
    net = small_net()
    with pytest.raises(error, match="learning_rate"):
        net.apply_gradients(rate)
    assert net.iterations == 0

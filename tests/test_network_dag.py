"""The engine running a DAG (issue 13): several input slots, ops reading any earlier
slots, fan-out with accumulated gradients, shared parameters, several loss heads.

Hand-written plans through _core.Network: finite-difference checks of each pattern
(test_network_gradients.directional_check), the old chain form against the same chain
written explicitly (bitwise), per-head results, and determinism across thread counts.
Bad plans and arguments are in tests/test_network_dag_bad_input.py.
"""

import numpy as np
import pytest

import fastdnn
from engine_helpers import make_network, snapshot, trainable
from test_network_gradients import directional_check

MSE = {"kind": "mean_squared_error"}
CCE = {"kind": "categorical_crossentropy"}
SGD = {"kind": "sgd"}


def head(slot, loss=MSE, weight=1.0):
    return {"slot": slot, "loss": loss, "weight": weight}


def data(rng, rows, *widths):
    return [rng.normal(size=(rows, w)).astype(np.float32) for w in widths]


def one_hot(rng, rows, classes):
    return np.eye(classes, dtype=np.float32)[rng.integers(0, classes, rows)]


# ---------------------------------------------------------------- finite differences


def test_residual_add_gradients_match_finite_differences():
    # slot 1 = dense(x) is read by a dense and by the add: its gradient is the sum of both.
    ops = [
        {"kind": "dense", "units": 5},
        {"kind": "dense", "units": 5},
        {"kind": "activation", "activation": "tanh"},
        {"kind": "add", "inputs": [3, 1]},
        {"kind": "dense", "units": 2},
    ]
    rng = np.random.default_rng(0)
    net = make_network(4, ops, [head(5)], SGD)
    x, y = data(rng, 8, 4, 2)
    directional_check(net, [x], [y], rng)


def test_two_input_concatenate_gradients_match_finite_differences():
    ops = [
        {"kind": "dense", "units": 5, "inputs": [0]},
        {"kind": "activation", "activation": "elu"},
        {"kind": "concatenate", "inputs": [3, 1]},
        {"kind": "dense", "units": 2},
    ]
    rng = np.random.default_rng(1)
    net = make_network([3, 4], ops, [head(5)], SGD)
    assert net.output_widths == [2]
    x0, x1, y = data(rng, 8, 3, 4, 2)
    directional_check(net, [x0, x1], [y], rng)


def test_concatenate_over_blocks_gradients_match_finite_differences():
    ops = [
        {"kind": "dense", "units": 6, "inputs": [0]},
        {"kind": "dense", "units": 4, "inputs": [1]},
        {"kind": "concatenate", "inputs": [2, 3], "blocks": 2},
        {"kind": "activation", "activation": "tanh"},
        {"kind": "dense", "units": 3},
    ]
    rng = np.random.default_rng(2)
    net = make_network([3, 4], ops, [head(6)], SGD)
    x0, x1, y = data(rng, 8, 3, 4, 3)
    directional_check(net, [x0, x1], [y], rng)


def test_shared_dense_gradients_match_finite_differences():
    # One Dense applied to both inputs: op 1 uses op 0's kernel and bias.
    ops = [
        {"kind": "dense", "units": 4, "inputs": [0]},
        {"kind": "dense", "units": 4, "inputs": [1], "shares": 0},
        {"kind": "multiply", "inputs": [2, 3]},
        {"kind": "dense", "units": 2},
    ]
    rng = np.random.default_rng(3)
    net = make_network([3, 3], ops, [head(5)], SGD)
    x0, x1, y = data(rng, 8, 3, 3, 2)
    directional_check(net, [x0, x1], [y], rng)


def test_shared_dense_lists_its_parameters_once_under_the_owner():
    ops = [
        {"kind": "dense", "units": 4, "inputs": [0]},
        {"kind": "dense", "units": 4, "inputs": [1], "shares": 0},
        {"kind": "add", "inputs": [2, 3]},
    ]
    net = make_network([3, 3], ops, [head(4)], SGD)
    assert [(p["name"], p["op"]) for p in net.parameters()] == [("kernel", 0), ("bias", 0)]


def test_shared_dense_applied_twice_to_one_input_equals_twice_the_gradient():
    # dense(x) + dense_shared(x) = 2·dense(x): the shared gradient is twice the single one.
    rng = np.random.default_rng(4)
    x, y = data(rng, 6, 3, 4)
    single = make_network(3, [{"kind": "dense", "units": 4}], [head(1)], SGD, seed=9)
    shared = make_network(
        3,
        [{"kind": "dense", "units": 4}, {"kind": "dense", "units": 4, "inputs": [0], "shares": 0},
         {"kind": "add", "inputs": [1, 2]}],
        [head(3)],
        SGD,
        seed=9,
    )
    single.compute_gradients(x, 0.5 * y)  # d/dp of mean((2f − y)²) = 4 · d/dp of mean((f − y/2)²)
    shared.compute_gradients(x, y)
    for a, b in zip(trainable(single), trainable(shared)):
        np.testing.assert_allclose(b["grad"], 4 * a["grad"], rtol=1e-5, atol=1e-6)


def test_shared_batch_normalization_gradients_match_finite_differences():
    ops = [
        {"kind": "dense", "units": 4, "inputs": [0]},
        {"kind": "batch_normalization"},
        {"kind": "dense", "units": 4, "inputs": [1]},
        {"kind": "batch_normalization", "shares": 1},
        {"kind": "concatenate", "inputs": [3, 5]},
        {"kind": "dense", "units": 2},
    ]
    rng = np.random.default_rng(5)
    net = make_network([3, 3], ops, [head(7)], SGD)
    x0, x1, y = data(rng, 10, 3, 3, 2)
    directional_check(net, [x0, x1], [y], rng)


def test_two_weighted_heads_gradients_match_finite_differences():
    # Head 1 fuses its softmax into the cross-entropy; both losses are weighted.
    ops = [
        {"kind": "dense", "units": 5},
        {"kind": "dense", "units": 2, "inputs": [1]},
        {"kind": "dense", "units": 3, "inputs": [1]},
        {"kind": "activation", "activation": "softmax"},
    ]
    rng = np.random.default_rng(6)
    net = make_network(4, ops, [head(2, MSE, 0.3), head(4, CCE, 2.0)], SGD)
    x, y0 = data(rng, 8, 4, 2)
    directional_check(net, [x], [y0, one_hot(rng, 8, 3)], rng)


def test_two_heads_total_loss_is_the_weighted_sum_of_head_losses():
    ops = [{"kind": "dense", "units": 2}, {"kind": "dense", "units": 3, "inputs": [0]}]
    rng = np.random.default_rng(7)
    net = make_network(4, ops, [head(1, MSE, 0.3), head(2, MSE, 2.0)], SGD)
    x, y0, y1 = data(rng, 8, 4, 2, 3)
    per_head = np.zeros(2)
    loss, _ = net.evaluate([x], [y0, y1], head_losses=per_head)
    p0, p1 = net.predict([x])
    np.testing.assert_allclose(per_head, [np.mean((p0 - y0) ** 2), np.mean((p1 - y1) ** 2)], rtol=1e-5)
    assert loss == pytest.approx(0.3 * per_head[0] + 2.0 * per_head[1], rel=1e-12)


def test_output_read_by_a_head_and_another_op_gradients_match_finite_differences():
    ops = [{"kind": "dense", "units": 3}, {"kind": "activation", "activation": "tanh"}, {"kind": "dense", "units": 2}]
    rng = np.random.default_rng(8)
    net = make_network(4, ops, [head(2), head(3, MSE, 0.5)], SGD)
    x, y0, y1 = data(rng, 8, 4, 3, 2)
    directional_check(net, [x], [y0, y1], rng)


def test_softmax_read_by_another_op_is_not_fused_and_gradients_match():
    ops = [
        {"kind": "dense", "units": 3},
        {"kind": "activation", "activation": "softmax"},
        {"kind": "dense", "units": 2},
    ]
    rng = np.random.default_rng(9)
    net = make_network(4, ops, [head(2, CCE), head(3)], SGD)
    x, y1 = data(rng, 8, 4, 2)
    directional_check(net, [x], [one_hot(rng, 8, 3), y1], rng)


@pytest.mark.parametrize("kind", ["add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate"])
def test_each_merge_kind_gradients_match_finite_differences(kind):
    branches = [1, 2] if kind == "subtract" else [1, 2, 3]
    ops = [
        {"kind": "dense", "units": 4, "inputs": [0]},
        {"kind": "dense", "units": 4, "inputs": [0]},
        {"kind": "dense", "units": 4, "inputs": [0]},
        {"kind": kind, "inputs": branches},
        {"kind": "dense", "units": 2},
    ]
    rng = np.random.default_rng(10)
    net = make_network(3, ops, [head(5)], SGD)
    x, y = data(rng, 8, 3, 2)
    directional_check(net, [x], [y], rng)


@pytest.mark.parametrize("kind", ["add", "multiply", "concatenate", "maximum"])
def test_merge_reading_one_slot_twice_gradients_match_finite_differences(kind):
    ops = [{"kind": "dense", "units": 4}, {"kind": kind, "inputs": [1, 1]}, {"kind": "dense", "units": 2}]
    rng = np.random.default_rng(11)
    net = make_network(3, ops, [head(3)], SGD)
    x, y = data(rng, 8, 3, 2)
    directional_check(net, [x], [y], rng)


def test_dead_branch_parameters_get_a_zero_gradient():
    # Op 1 only feeds a head without loss: it is predicted, never trained.
    ops = [{"kind": "dense", "units": 2, "inputs": [0]}, {"kind": "dense", "units": 3, "inputs": [0]}]
    rng = np.random.default_rng(12)
    net = make_network(4, ops, [head(1), {"slot": 2, "loss": None}], SGD)
    x, y = data(rng, 8, 4, 2)
    for p in net.parameters():
        p["grad"][...] = 7.0  # stale values a skipped backward would leave
    net.compute_gradients([x], [y, None])
    dead = [p["grad"] for p in net.parameters() if p["op"] == 1]
    assert all(np.all(g == 0.0) for g in dead)
    directional_check(net, [x], [y, None], rng)


def test_dead_branch_with_activity_regularization_still_gets_the_penalty_gradient():
    ops = [
        {"kind": "dense", "units": 2, "inputs": [0]},
        {"kind": "dense", "units": 3, "inputs": [0]},
        {"kind": "activity_regularization", "l2": 0.1},
    ]
    rng = np.random.default_rng(13)
    net = make_network(4, ops, [head(1), {"slot": 3, "loss": None}], SGD)
    x, y = data(rng, 8, 4, 2)
    directional_check(net, [x], [y, None], rng)


def test_identity_output_of_an_input_predicts_the_input():
    ops = [{"kind": "dense", "units": 2, "inputs": [0]}, {"kind": "identity", "inputs": [1]}]
    rng = np.random.default_rng(14)
    net = make_network([3, 5], ops, [head(2), {"slot": 3, "loss": None}], SGD)
    x0, x1 = data(rng, 4, 3, 5)
    out = net.predict([x0, x1])
    assert isinstance(out, list) and len(out) == 2
    np.testing.assert_array_equal(out[1], x1)


# ---------------------------------------------------------------- the chain stays the chain


def chain_ops(explicit):
    ops = [
        {"kind": "dense", "units": 32},
        {"kind": "activation", "activation": "relu"},
        {"kind": "batch_normalization"},
        {"kind": "dropout", "rate": 0.2, "seed": 5},
        {"kind": "dense", "units": 5},
        {"kind": "activation", "activation": "softmax"},
    ]
    if explicit:
        ops = [{**op, "inputs": [i]} for i, op in enumerate(ops)]
    return ops


@pytest.mark.parametrize("optimizer", [{"kind": "sgd", "momentum": 0.9}, {"kind": "adam"}])
def test_old_form_and_explicit_chain_train_bitwise_equal(optimizer):
    rng = np.random.default_rng(15)
    x = rng.normal(size=(96, 12)).astype(np.float32)
    y = rng.integers(0, 5, 96)
    w = rng.uniform(0.5, 2.0, 96).astype(np.float32)
    loss = {"kind": "sparse_categorical_crossentropy", "metric": "sparse_categorical_accuracy"}
    old = make_network(12, chain_ops(False), loss, optimizer, seed=2)
    new = make_network([12], chain_ops(True), [{"slot": 6, "loss": loss, "weight": 1.0}], optimizer, seed=2)
    order = rng.permutation(96)
    lrs = np.full(6, 0.01, np.float32)
    for _ in range(2):
        old_result = old.train_batches(x, y, order, 16, lrs, sample_weight=w)
        new_result = new.train_batches([x], [y], order, 16, lrs, sample_weight=w)
        for a, b in zip(old_result, new_result):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(snapshot(old), snapshot(new)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(old.predict(x), new.predict([x])[0])


# ---------------------------------------------------------------- per-head results


def two_head_net(seed=0):
    ops = [
        {"kind": "dense", "units": 6, "inputs": [0]},
        {"kind": "dense", "units": 6, "inputs": [1]},
        {"kind": "concatenate", "inputs": [2, 3]},
        {"kind": "dropout", "rate": 0.3, "seed": 3},
        {"kind": "dense", "units": 2},
        {"kind": "dense", "units": 3, "inputs": [5]},
        {"kind": "activation", "activation": "softmax"},
    ]
    loss1 = {"kind": "categorical_crossentropy", "metric": "categorical_accuracy"}
    return make_network([3, 4], ops, [head(6, MSE, 0.5), head(8, loss1, 1.5)], {"kind": "adam"}, seed=seed)


def two_head_data(rows=40, seed=16):
    rng = np.random.default_rng(seed)
    x0, x1, y0 = data(rng, rows, 3, 4, 2)
    return [x0, x1], [y0, one_hot(rng, rows, 3)]


def test_train_batches_reports_each_batch_head_losses_and_outputs():
    x, y = two_head_data()
    net, twin = two_head_net(), two_head_net()
    order = np.arange(40)
    per_head = np.zeros((4, 2))
    outputs = [np.zeros((40, 2), np.float32), np.zeros((40, 3), np.float32)]
    losses, _ = net.train_batches(x, y, order, 10, np.full(4, 1e-3, np.float32), outputs=outputs,
                                  head_losses=per_head)
    np.testing.assert_allclose(losses, 0.5 * per_head[:, 0] + 1.5 * per_head[:, 1], rtol=1e-12)
    for b in range(4):  # the same steps one by one
        step_heads = np.zeros(2)
        rows = slice(10 * b, 10 * b + 10)
        twin.train_step([x[0][rows], x[1][rows]], [y[0][rows], y[1][rows]], 1e-3, head_losses=step_heads)
        np.testing.assert_array_equal(step_heads, per_head[b])
        for out, got in zip(twin.training_output(), outputs):
            np.testing.assert_array_equal(out, got[rows])


def test_hits_are_head_zero_metric_only():
    ops = [{"kind": "dense", "units": 3}, {"kind": "dense", "units": 2, "inputs": [0]}]
    metric = {"kind": "categorical_crossentropy", "from_logits": True, "metric": "categorical_accuracy"}
    net = make_network(4, ops, [head(1, metric), head(2)], SGD)
    rng = np.random.default_rng(17)
    x, y1 = data(rng, 20, 4, 2)
    y0 = one_hot(rng, 20, 3)
    _, hits = net.evaluate([x], [y0, y1])
    p0, _ = net.predict([x])
    assert hits == np.sum(np.argmax(p0, 1) == np.argmax(y0, 1))


def test_evaluate_head_losses_are_means_over_all_rows():
    x, y = two_head_data(rows=37)
    net = two_head_net()
    whole, batched = np.zeros(2), np.zeros(2)
    net.evaluate(x, y, head_losses=whole)
    net.evaluate(x, y, batch_size=8, head_losses=batched)
    np.testing.assert_allclose(whole, batched, rtol=1e-6)


def test_dag_training_is_bitwise_identical_on_one_two_and_three_threads(restore_threads):
    rng = np.random.default_rng(18)
    rows = 1024
    x = [rng.normal(size=(rows, 400)).astype(np.float32), rng.normal(size=(rows, 300)).astype(np.float32)]
    y = [rng.normal(size=(rows, 2)).astype(np.float32), one_hot(rng, rows, 3)]
    ops = [
        {"kind": "dense", "units": 600, "inputs": [0]},  # 1024 × 600 values: split across threads
        {"kind": "dense", "units": 600, "inputs": [1]},
        {"kind": "add", "inputs": [2, 3]},
        {"kind": "activation", "activation": "relu"},
        {"kind": "concatenate", "inputs": [5, 2]},
        {"kind": "dropout", "rate": 0.3, "seed": 3},
        {"kind": "dense", "units": 2},
        {"kind": "dense", "units": 3, "inputs": [5]},
        {"kind": "activation", "activation": "softmax"},
    ]
    results = []
    for threads in (1, 2, 3):
        fastdnn.set_num_threads(threads)
        net = make_network([400, 300], ops, [head(8, MSE, 0.5), head(10, CCE)], {"kind": "adam"}, seed=4)
        losses = [net.train_step(x, y, 1e-3)[0] for _ in range(3)]
        results.append((losses, snapshot(net), net.predict(x)))
    for losses, weights, predictions in results[1:]:
        assert losses == results[0][0]
        for a, b in zip(weights, results[0][1]):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(predictions, results[0][2]):
            np.testing.assert_array_equal(a, b)

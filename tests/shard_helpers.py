"""Helpers for the data-parallel engine tests (tests/test_network_shards*.py): the nets they
train, the rows of a replica's shard, a one-process reference that plays N replicas
(what fastdnn.distribute.LocalStrategy computes), and an in-process all-reduce that lets N
networks run train_batches(replica=(rank, N)) in N threads as N MPI ranks would."""

import threading

import numpy as np

from engine_helpers import make_network

SCCE = {"kind": "sparse_categorical_crossentropy", "metric": "sparse_categorical_accuracy"}
MSE = {"kind": "mean_squared_error"}


def bn_dropout_ops(units=6, classes=3):
    """Dense → BatchNorm → relu → Dropout → Dense → softmax: batch statistics and a random mask."""
    return [
        {"kind": "dense", "units": units},
        {"kind": "batch_normalization", "momentum": 0.9},
        {"kind": "activation", "activation": "relu"},
        {"kind": "dropout", "rate": 0.3, "seed": 5},
        {"kind": "dense", "units": classes, "kernel_l2": 0.01},
        {"kind": "activation", "activation": "softmax"},
    ]


def dag_ops():
    """Two inputs (widths 3 and 4) joined, a shared trunk and two heads (slots 6 and 7)."""
    return [
        {"kind": "dense", "units": 5, "inputs": [0]},
        {"kind": "dropout", "rate": 0.25, "seed": 2},
        {"kind": "concatenate", "inputs": [3, 1]},
        {"kind": "batch_normalization"},
        {"kind": "dense", "units": 2},
        {"kind": "dense", "units": 3, "inputs": [5]},
    ]


def dag_heads():
    return [{"slot": 6, "loss": MSE, "weight": 0.5}, {"slot": 7, "loss": MSE, "weight": 1.0}]


def take(data, rows):
    """Rows of one array, or of each array of a list (a DAG's inputs / heads)."""
    if isinstance(data, list):
        return [d[rows] for d in data]
    return data[rows]


def shard_bounds(rank, world, rows):
    """Replica `rank`'s rows [lo, hi) of a global batch of `rows` rows (contiguous, maybe empty)."""
    return rank * rows // world, (rank + 1) * rows // world


def rank_order_sum(parts):
    """parts[0] + parts[1] + ..., added in rank order (float32 arrays stay float32)."""
    total = parts[0].copy() if isinstance(parts[0], np.ndarray) else parts[0]
    for part in parts[1:]:
        total += part
    return total


def rank_order_mean(parts):
    """The replicas' moving statistics averaged, in rank order: one choice of state reduction,
    the same in the reference and in the all-reduce below."""
    return rank_order_sum(parts) / np.float32(len(parts))


def local_strategy_epoch(net, x, y, order, batch_size, learning_rate, world, sample_weight=None):
    """One epoch as `world` replicas compute it, played by one network: for each global batch,
    every shard's gradient and moving statistics from the same starting point, the gradients
    summed and the statistics averaged in rank order, then one update. Returns what
    train_batches does: (losses, hits), and the weighted hits third with sample_weight."""
    losses, hits = [], []
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        state = net.state_buffer().copy()
        grads, states, loss_sums, hit_sums = [], [], [], []  # hit_sums: (hits, weighted hits) per rank
        for rank in range(world):
            lo, hi = shard_bounds(rank, world, len(batch))
            rows = batch[lo:hi]
            net.state_buffer()[:] = state
            weights = None if sample_weight is None else sample_weight[rows]
            loss_sum, *shard_hits = net.compute_shard(take(x, rows), take(y, rows), weights, total_rows=len(batch),
                                                      row_offset=lo)
            grads.append(net.gradient_buffer().copy())
            states.append(net.state_buffer().copy())
            loss_sums.append(loss_sum)
            hit_sums.append(np.array(shard_hits))
        net.gradient_buffer()[:] = rank_order_sum(grads)
        net.state_buffer()[:] = rank_order_mean(states)
        losses.append(rank_order_sum(loss_sums) + net.apply_gradients(learning_rate))
        hits.append(rank_order_sum(hit_sums))
    return (np.array(losses), *np.array(hits).T)


class ThreadAllReduce:
    """Plays MPI for `world` networks training in `world` threads: each reducer call deposits its
    replica's buffers and results, waits for every replica, then each takes the rank-order sum of
    the gradients and losses and the rank-order mean of the moving statistics."""

    def __init__(self, world):
        self.barrier = threading.Barrier(world, timeout=60)
        self.deposits = [None] * world
        self.calls = [[] for _ in range(world)]  # per rank: the shard_rows of each call

    def reducer(self, net, rank):
        def reduce(shard_rows, loss_sum, *hits):  # hits, and the weighted hits with sample weights
            self.calls[rank].append(shard_rows)
            self.deposits[rank] = (net.gradient_buffer().copy(), net.state_buffer().copy(), loss_sum, np.array(hits))
            self.barrier.wait()
            grads, states, loss_sums, hit_sums = zip(*self.deposits)
            net.gradient_buffer()[:] = rank_order_sum(list(grads))
            net.state_buffer()[:] = rank_order_mean(list(states))
            self.barrier.wait()  # every replica has read the deposits before the next step writes them
            return (rank_order_sum(list(loss_sums)), *rank_order_sum(list(hit_sums)), False)
        return reduce


def run_replicas(nets, x, y, orders, batch_size, learning_rate, sample_weight=None):
    """train_batches(replica=(rank, N)) on each of the N nets in its own thread, for each order (an
    epoch each). Returns, per rank, the list of (losses, hits) per epoch, and the all-reduce."""
    world = len(nets)
    reduce = ThreadAllReduce(world)
    results = [[] for _ in range(world)]
    errors = []

    def replica(rank):
        try:
            for order in orders:
                rates = np.full(-(-len(order) // batch_size), learning_rate, np.float32)
                results[rank].append(nets[rank].train_batches(x, y, order, batch_size, rates, sample_weight,
                                                              replica=(rank, world),
                                                              reducer=reduce.reducer(nets[rank], rank)))
        except BaseException as error:  # reported below, after releasing the others
            errors.append(error)
            reduce.barrier.abort()

    threads = [threading.Thread(target=replica, args=(rank,)) for rank in range(world)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results, reduce


def identical_nets(count, input_width, ops, loss, optimizer, seed=0):
    return [make_network(input_width, ops, loss, optimizer, seed) for _ in range(count)]

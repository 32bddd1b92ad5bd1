"""What every data-parallel strategy shares: the scope models are built in, the arithmetic that
combines the replicas' results (in rank order, so that every replica and every run holds the same
bits), and LocalStrategy, which runs that arithmetic for N replicas in one process.

Each global batch (fit's batch_size) is cut into `replicas` contiguous shards, rows
[r·n//N, (r+1)·n//N) of its n rows (a shard may be empty). Every replica computes its shard's
gradients with the global row count as denominator, and its random masks as one process would draw
them for those rows; the gradients are added in rank order (float32: g0 + g1 + ...); each replica's
BatchNormalization moves its moving statistics with its own shard's batch statistics (Keras'
default, per-replica statistics), and the replicas' moved statistics are then averaged, weighted by
their rows. Then one optimizer step, the same on every replica."""

import contextlib
import os
import warnings

import numpy as np

_active = []  # the strategies whose scope() is open, innermost last


def get_strategy():
    """The strategy whose scope() is open, or None (tf.distribute.get_strategy returns a default)."""
    return _active[-1] if _active else None


def shard_bounds(rows, rank, replicas):
    """Rows [begin, end) of a batch of `rows` rows that replica `rank` of `replicas` computes."""
    return rank * rows // replicas, (rank + 1) * rows // replicas


def combine_gradients(grads):
    """The replicas' gradients added in rank order, in float32 (acc = g0; acc += g1; ...)."""
    total = np.array(grads[0], dtype=np.float32, copy=True)
    for g in grads[1:]:
        total += g
    return total


def combine_states(states, rows, before):
    """The non-trainable state after a step: `before` plus the replicas' changes weighted by their
    rows (an empty shard changes nothing); a value no replica changed keeps its bits."""
    total = sum(rows)
    change = np.zeros(before.shape, np.float64)
    for state, r in zip(states, rows):
        if r:
            change += (r / total) * (state.astype(np.float64) - before)
    return (before.astype(np.float64) + change).astype(np.float32)


class Strategy:
    """The base of LocalStrategy and MPIStrategy: `scope()`, `num_replicas_in_sync`, `rank`,
    `is_chief`, as tf.distribute strategies."""

    num_replicas_in_sync = 1
    rank = 0
    shards = False  # whether fit cuts each batch into shards (several replicas, or LocalStrategy)

    @property
    def is_chief(self):
        return self.rank == 0

    @contextlib.contextmanager
    def scope(self):
        """Models created or compiled inside train under this strategy."""
        _active.append(self)
        try:
            yield self
        finally:
            _active.remove(self)

    # --- what fit calls (see models/trainer.py) ---------------------------------------------
    def begin_fit(self, model, net, x, y):
        """Before the first step: every replica starts from the same weights, optimizer state and
        shuffling stream."""

    def callbacks_for_rank(self, callbacks):
        return callbacks

    def agree_to_stop(self, stop):
        return stop

    def abort(self, error):
        """An error during fit: MPIStrategy ends the whole job; one process has nothing to do."""

    def train_batches(self, net, x, y, order, batch_size, learning_rates, sample_weight=None, outputs=None,
                      head_losses=None):
        raise NotImplementedError


class LocalStrategy(Strategy):
    """LocalStrategy(replicas=N): N-way data-parallel training computed in one process, with no
    MPI: each global batch in N shards, their gradients added in rank order, one update. It gives
    bitwise what `mpiexec -n N` with MPIStrategy gives (the tests' reference), and shows what N-way
    training computes. fastdnn's own; slower than plain fit (one engine call per shard)."""

    def __init__(self, replicas=2):
        if isinstance(replicas, bool) or not isinstance(replicas, (int, np.integer)) or replicas < 1:
            raise ValueError(f"replicas must be an int >= 1; got {replicas!r}")
        self.num_replicas_in_sync = int(replicas)

    shards = True

    def train_batches(self, net, x, y, order, batch_size, learning_rates, sample_weight=None, outputs=None,
                      head_losses=None):
        """As net.train_batches (the same results), shard by shard."""
        from fastdnn.models.data import take

        batches = len(learning_rates)
        losses, hits = np.zeros(batches), np.zeros(batches)
        weighted = np.zeros(batches) if sample_weight is not None else None
        grads, state = net.gradient_buffer(), net.state_buffer()
        for b in range(batches):
            batch = order[b * batch_size:(b + 1) * batch_size]
            before = state.copy()
            shard_grads, shard_states, shard_rows, parts = [], [], [], []
            for r in range(self.num_replicas_in_sync):
                state[...] = before
                begin, end = shard_bounds(len(batch), r, self.num_replicas_in_sync)
                rows = batch[begin:end]
                shard_head = None if head_losses is None else np.zeros(head_losses.shape[1])
                kwargs = {} if shard_head is None else {"head_losses": shard_head}
                result = net.compute_shard(take(x, rows), take(y, rows),
                                           None if sample_weight is None else sample_weight[rows],
                                           total_rows=len(batch), row_offset=begin, **kwargs)
                parts.append((result, shard_head))
                if outputs is not None:
                    _store_outputs(net, outputs, b * batch_size + begin, end - begin)
                shard_grads.append(grads.copy())
                shard_states.append(state.copy())
                shard_rows.append(end - begin)
            grads[...] = combine_gradients(shard_grads)
            state[...] = combine_states(shard_states, shard_rows, before)
            penalty = net.apply_gradients(float(learning_rates[b]))
            losses[b] = sum(float(p[0][0]) for p in parts) + penalty
            hits[b] = sum(float(p[0][1]) for p in parts)
            if weighted is not None:
                weighted[b] = sum(float(p[0][2]) for p in parts)
            if head_losses is not None:
                head_losses[b] = np.sum([p[1] for p in parts], axis=0)
        return (losses, hits) if weighted is None else (losses, hits, weighted)


def _store_outputs(net, outputs, start, rows):
    """The last shard's training outputs into the epoch's output buffers (one per output, or one)."""
    if rows == 0:
        return
    produced = net.training_output()
    for buffer, part in zip(outputs if isinstance(outputs, list) else [outputs],
                            produced if isinstance(produced, list) else [produced]):
        if buffer is not None:
            buffer[start:start + rows] = part[:rows]


def warn_unscoped(model):
    """fit of a model built outside any strategy's scope, in a job of several MPI processes (told by
    the launcher's environment: MPICH's PMI_SIZE, Open MPI's OMPI_COMM_WORLD_SIZE)."""
    size = os.environ.get("PMI_SIZE") or os.environ.get("OMPI_COMM_WORLD_SIZE")
    if size and size.isdigit() and int(size) > 1 and not getattr(model, "_warned_unscoped", False):
        model._warned_unscoped = True
        warnings.warn(f"fit runs in one of {size} MPI processes, but the model was not built in a strategy's "
                      f"scope: the processes train {size} independent copies. Build and compile it in `with "
                      "fastdnn.distribute.MPIStrategy().scope():` to train one model on all of them.",
                      UserWarning, stacklevel=4)

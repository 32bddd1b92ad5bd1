"""MPIStrategy: data-parallel training over MPI (mpi4py), one process per replica, on one machine or
many: `mpiexec -n 4 python -m mpi4py train.py`.

Every rank reads the same arrays; fit's batch_size is the global batch, cut into contiguous
shards (strategy.py). The engine runs each rank's epoch in one native call and calls the reducer
below after each step's backward pass. The reduction moves data only (Allgather) and adds in rank
order, so every rank holds the same bits, and they equal LocalStrategy(replicas=N)'s: MPI's own
SUM does not fix the order of the float additions."""

import hashlib
import os
import sys
import time

import numpy as np

from fastdnn.distribute.strategy import Strategy, combine_states


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError('MPIStrategy needs mpi4py and an MPI library: pip install "fastdnn[mpi]" (mpi4py and '
                          "the mpich wheel), or mpi4py built against your cluster's MPI") from error
    return MPI


class MPIStrategy(Strategy):
    """MPIStrategy(): one replica per MPI process of COMM_WORLD (world size 1 without mpiexec).
    Models built and compiled in `strategy.scope()` train data-parallel in fit. Each rank uses
    cores ÷ ranks-on-this-machine engine threads unless fastdnn.set_num_threads was called."""

    def __init__(self, communicator=None):
        MPI = _mpi()
        self._MPI = MPI
        self.comm = communicator or MPI.COMM_WORLD
        self.rank, self.num_replicas_in_sync = self.comm.Get_rank(), self.comm.Get_size()
        self.shards = self.num_replicas_in_sync > 1
        local = self.comm.Split_type(MPI.COMM_TYPE_SHARED, key=self.rank)
        self._local_ranks = local.Get_size()
        local.Free()
        self._buffers = {}
        self._one_machine = self.comm.allreduce(self._local_ranks, op=MPI.MIN) == self.num_replicas_in_sync
        self._share_cores()

    def _share_cores(self):
        from fastdnn import _core

        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        if os.environ.get("OMP_NUM_THREADS") or _core.get_num_threads() != cores:
            return  # the user chose
        _core.set_num_threads(max(1, cores // self._local_ranks))

    # --- collectives that move data only ---------------------------------------------------------
    def gather(self, array):
        """Every rank's `array` (same shape and dtype everywhere), stacked in rank order."""
        array = np.ascontiguousarray(array)
        out = np.empty((self.num_replicas_in_sync, *array.shape), array.dtype)
        self.comm.Allgather(array, out)
        return out

    def _scratch(self, key, shape, dtype):
        """A buffer kept between calls (the reducer runs every step: no allocation per step)."""
        buffer = self._buffers.get(key)
        if buffer is None or buffer.shape != shape or buffer.dtype != dtype:
            buffer = self._buffers[key] = np.empty(shape, dtype)
        return buffer

    def allreduce_sum(self, array, out=None):
        """Σ over ranks in rank order, float32: the same bits on every rank, whatever the MPI. On one
        machine with up to 4 ranks (shared memory: measured faster there), every rank gathers every
        buffer and adds them all (traffic (N-1)·size per rank); otherwise rank j gathers chunk j of
        every buffer, adds it, and the sums are gathered (traffic about 2·size per rank, as a ring
        all-reduce). Both add each element in rank order: the same bits. The sum goes to `out` (it may
        be `array` itself), or a new array. FASTDNN_MPI_REDUCTION=gather|scatter forces one (the tests
        check both)."""
        array = np.ascontiguousarray(array, np.float32)
        out = np.empty_like(array) if out is None else out
        world, n = self.num_replicas_in_sync, array.size
        default = "gather" if world <= 4 and self._one_machine else "scatter"
        method = os.environ.get("FASTDNN_MPI_REDUCTION") or default
        if method == "gather" or n < world:
            parts = self._scratch("parts", (world, n), np.float32)
            self.comm.Allgather(array, parts)
            _ordered_sum(parts, out.reshape(-1))
            return out
        MPI = self._MPI
        displs = [r * n // world for r in range(world)]
        counts = [(r + 1) * n // world - displs[r] for r in range(world)]
        mine = counts[self.rank]
        pieces = self._scratch("pieces", (world, mine), np.float32)
        self.comm.Alltoallv([array, counts, displs, MPI.FLOAT], [pieces, [mine] * world,
                                                               [mine * r for r in range(world)], MPI.FLOAT])
        chunk = self._scratch("chunk", (mine,), np.float32)
        _ordered_sum(pieces, chunk)
        self.comm.Allgatherv(chunk, [out.reshape(-1), counts, displs, MPI.FLOAT])
        return out

    def broadcast(self, array, root=0):
        """`array` overwritten in place with rank `root`'s."""
        self.comm.Bcast(np.ascontiguousarray(array), root=root)

    def barrier(self):
        self.comm.Barrier()

    # --- fit ---------------------------------------------------------------------------------
    def begin_fit(self, model, net, x, y):
        from fastdnn import _random

        self._agree("the training data (x and y shapes and dtypes)", _describe(x) + _describe(y))
        self._agree("the model (its layers, their settings and seeds; build it with the same code and "
                    "fastdnn.utils.set_random_seed on every rank)", repr(model._engine_ops()))
        for buffer in (net.value_buffer(), net.state_buffer()):
            self.comm.Bcast(buffer, root=0)
        for slots in net.optimizer_slots().values():
            for slot in slots:
                self.comm.Bcast(slot, root=0)
        net.iterations = self.comm.bcast(net.iterations, root=0)
        net.u_product = self.comm.bcast(net.u_product, root=0)
        generator = model._shuffle_generator or _random.generator()
        generator.bit_generator.state = self.comm.bcast(generator.bit_generator.state, root=0)
        self._before = net.state_buffer().copy()

    def _agree(self, what, description):
        digest = hashlib.sha256(description.encode()).hexdigest()
        digests = self.comm.allgather(digest)
        if len(set(digests)) > 1:
            ranks = [r for r, d in enumerate(digests) if d != digests[0]]
            raise ValueError(f"MPIStrategy: ranks {ranks} differ from rank 0 in {what}; every rank must train "
                             "the same model on the same arrays")

    def callbacks_for_rank(self, callbacks):
        """Callbacks that write (checkpoints, CSV, TensorBoard, the progress bar) run on the chief only;
        the others (EarlyStopping, schedules, user callbacks) run on every rank."""
        from fastdnn import callbacks as cb

        if self.is_chief:
            return callbacks
        writers = (cb.ModelCheckpoint, cb.CSVLogger, cb.TensorBoard, cb.ProgbarLogger)
        return [c for c in callbacks if not isinstance(c, writers)]

    def agree_to_stop(self, stop):
        return any(self.comm.allgather(bool(stop)))

    def train_batches(self, net, x, y, order, batch_size, learning_rates, sample_weight=None, outputs=None,
                      head_losses=None):
        """net.train_batches on this rank's shards, reduced after every step."""
        state, grads = net.state_buffer(), net.gradient_buffer()
        before = self._before

        def reducer(rows, *sums):
            small = self.gather(np.array([rows, *sums], np.float64))  # rows, loss, hits (, weighted hits)
            self.allreduce_sum(grads, out=grads)
            if state.size:
                state[...] = combine_states(list(self.gather(state)), [int(r) for r in small[:, 0]], before)
                before[...] = state
            totals = [0.0] * len(sums)
            for rank_sums in small[:, 1:]:  # float64, in rank order
                totals = [t + s for t, s in zip(totals, rank_sums)]
            return (*(float(t) for t in totals), False)

        buffers = outputs if isinstance(outputs, list) else ([outputs] if outputs is not None else [])
        for buffer in buffers:
            if buffer is not None:
                buffer[...] = 0.0  # other ranks' rows stay 0 here, so the sum below assembles them
        kwargs = {"sample_weight": sample_weight, "outputs": outputs}
        if head_losses is not None:
            kwargs["head_losses"] = head_losses
        result = net.train_batches(x, y, order, batch_size, learning_rates, replica=(self.rank,
                                   self.num_replicas_in_sync), reducer=reducer, **kwargs)
        for buffer in buffers:
            if buffer is not None:
                self.allreduce_sum(buffer, out=buffer)
        if head_losses is not None:
            head_losses[...] = self.gather(head_losses).sum(axis=0)
        return result

    def abort(self, error):
        """An exception on one rank ends the whole job instead of leaving the others waiting."""
        if self.num_replicas_in_sync > 1:
            sys.stderr.write(f"fastdnn: rank {self.rank} failed ({type(error).__name__}: {error}); aborting all "
                             f"{self.num_replicas_in_sync} ranks\n")
            sys.stderr.flush()
            time.sleep(0.5)  # lets the launcher forward the message before the abort tears the job down
            self.comm.Abort(1)


def _ordered_sum(parts, out):
    """out = parts[0] + parts[1] + ... in float32, in rank order: combine_gradients' additions, in place."""
    np.copyto(out, parts[0])
    for part in parts[1:]:
        out += part


def _describe(data):
    arrays = data if isinstance(data, list) else [data]
    return repr([(None if a is None else (a.shape, str(a.dtype))) for a in arrays])



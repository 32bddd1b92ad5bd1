"""Data-parallel training, as tf.distribute: MPIStrategy (one process per replica, over MPI
through mpi4py; `pip install "fastdnn[mpi]"`, launched with `mpiexec -n N python -m mpi4py
train.py`) and LocalStrategy (the same arithmetic for N replicas in one process). Build and compile
the model in `strategy.scope()`; fit's batch_size is then the global batch."""

from fastdnn.distribute.strategy import LocalStrategy, Strategy, get_strategy


def __getattr__(name):
    if name == "MPIStrategy":  # mpi4py is imported only when a strategy is made
        from fastdnn.distribute.mpi import MPIStrategy

        return MPIStrategy
    raise AttributeError(f"module 'fastdnn.distribute' has no attribute {name!r}")


__all__ = ["LocalStrategy", "MPIStrategy", "Strategy", "get_strategy"]

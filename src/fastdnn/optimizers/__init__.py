"""Optimizers, as tf.keras.optimizers."""

from fastdnn.optimizers import schedules
from fastdnn.optimizers.optimizer import (
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Nadam,
    Optimizer,
    RMSprop,
    deserialize,
    get,
    serialize,
)

from fastdnn import _missing  # noqa: E402
__getattr__, __dir__ = _missing.hooks(globals())

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

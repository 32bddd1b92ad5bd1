"""Functional, as keras.src.models.functional: what `Model(inputs, outputs)` makes."""

from fastdnn.models.model import Model


class Functional(Model):
    """A model built with the functional API: `Model(inputs, outputs)` returns one."""

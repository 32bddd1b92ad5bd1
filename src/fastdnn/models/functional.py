"""Functional, as keras.src.models.functional: what `Model(inputs, outputs)` makes."""

from fastdnn.models import functional_config
from fastdnn.models.model import Model


class Functional(Model):
    """A model built with the functional API: `Model(inputs, outputs)` returns one."""

    def get_config(self):
        """Keras 3's functional configuration: name, trainable, layers (each with its
        inbound_nodes), input_layers and output_layers (see models/functional_config.py)."""
        return functional_config.get_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """The model a get_config() (Keras 3's or Keras 2's node format) describes, with new layers
        (fresh weights); classes of the user's come from custom_objects only."""
        return functional_from_config(cls, config, custom_objects)


def functional_from_config(cls, config, custom_objects=None):
    inputs, outputs, name, trainable = functional_config.rebuild(config, custom_objects)
    return cls(inputs=inputs, outputs=outputs, name=name, trainable=trainable)

"""Input, Flatten, Dense and Activation."""

import numpy as np

from fastdnn import activations as activations_module
from fastdnn import constraints as constraints_module
from fastdnn import initializers as initializers_module
from fastdnn import regularizers as regularizers_module
from fastdnn.layers.base import Layer, weight_spec


class InputLayer(Layer):
    """The model's input. `Input(shape=(784,))` returns its symbolic tensor (Keras 3), to call
    layers on or to place first in a Sequential."""

    def __init__(self, shape=None, batch_size=None, name=None, input_shape=None, batch_shape=None,
                 input_tensor=None, **kwargs):
        shape = shape if shape is not None else input_shape
        batch_shape = batch_shape if batch_shape is not None else kwargs.pop("batch_input_shape", None)  # Keras 2
        if batch_shape is not None:
            shape = tuple(batch_shape)[1:]
        if shape is None:
            raise ValueError("You must pass a `shape` argument, e.g. Input(shape=(784,))")
        if not np.iterable(shape):
            raise ValueError(f"Cannot convert '{shape}' to a shape: pass a tuple, e.g. shape=({shape},)")
        shape = tuple(shape)
        if any(d is None or int(d) < 1 for d in shape):
            raise ValueError(f"fastdnn needs every dimension of an Input but the batch: got shape={shape}")
        super().__init__(name=name, input_shape=shape, **kwargs)
        self.batch_size = batch_size
        self._tensor_name = name  # Keras 3 names the tensor as the layer only when a name is given
        from fastdnn import _graph

        self.output = _graph.Node(self, [], (None, *self._input_shape_arg)).output
        self.build((None, *self._input_shape_arg))

    def get_config(self):
        return {"name": self.name, "batch_shape": (None, *self._input_shape_arg)}


def Input(shape=None, batch_size=None, name=None, batch_shape=None, **kwargs):
    """Keras' Input: the symbolic tensor of a new InputLayer, to call layers on (functional API)
    or to place first in a Sequential."""
    return InputLayer(shape=shape, batch_size=batch_size, name=name, batch_shape=batch_shape, **kwargs).output


class Flatten(Layer):
    """Flattens each sample to one dimension: (None, 28, 28) -> (None, 784). No weights, no op:
    the engine sees every input as (batch, features)."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format

    def compute_output_shape(self, input_shape):
        return (input_shape[0], int(np.prod(input_shape[1:])))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Dense(Layer):
    """y = activation(x·kernel + bias), kernel (in, units) as Keras stores it.

    Keras' arguments and defaults: glorot_uniform kernel, zeros bias, optional
    kernel/bias regularizers and constraints (built-in constraints only: the
    engine applies them after each step). `activation` is a name, a function of
    fastdnn.activations, or an activation layer (e.g. LeakyReLU(0.1)).
    activity_regularizer is not supported.
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units < 1:
            raise ValueError(f"Received an invalid value for `units`, expected a positive integer. Received: units={units!r}")
        if activity_regularizer is not None:
            raise NotImplementedError("Dense: activity_regularizer is not supported by fastdnn")
        self.units = int(units)
        self.activation = activations_module.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.kernel_regularizer = _engine_regularizer(kernel_regularizer)
        self.bias_regularizer = _engine_regularizer(bias_regularizer)
        self.kernel_constraint = engine_constraint(kernel_constraint, 2, "kernel_constraint")
        self.bias_constraint = engine_constraint(bias_constraint, 1, "bias_constraint")

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def _weight_specs(self, input_shape):
        specs = [weight_spec("kernel", (input_shape[-1], self.units), self.kernel_initializer, True, self.kernel_regularizer)]
        if self.use_bias:
            specs.append(weight_spec("bias", (self.units,), self.bias_initializer, True, self.bias_regularizer))
        return specs

    def _ops(self):
        op = {"kind": "dense", "units": self.units, "use_bias": self.use_bias, "trainable": self.trainable}
        for prefix, reg in [("kernel", self.kernel_regularizer), ("bias", self.bias_regularizer)]:
            if reg is not None:
                op[f"{prefix}_l1"], op[f"{prefix}_l2"] = float(reg.l1), float(reg.l2)
        add_constraints(op, kernel=(self.kernel_constraint, 2), bias=(self.bias_constraint, 1))
        activation = activations_module.op_spec(self.activation)
        return [op] + ([activation] if activation else [])

    @property
    def kernel(self):
        return self._weights[0] if self.built else None

    @property
    def bias(self):
        return self._weights[1] if self.built and self.use_bias else None

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": _serialize_activation(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers_module.serialize(self.kernel_initializer),
            "bias_initializer": initializers_module.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers_module.serialize(self.kernel_regularizer) if self.kernel_regularizer else None,
            "bias_regularizer": regularizers_module.serialize(self.bias_regularizer) if self.bias_regularizer else None,
            "kernel_constraint": constraints_module.serialize(self.kernel_constraint),
            "bias_constraint": constraints_module.serialize(self.bias_constraint),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("activation"), dict):
            from fastdnn.layers import deserialize

            config["activation"] = deserialize(config["activation"])
        return cls(**config)


def _engine_regularizer(identifier):
    """A regularizer the engine can apply: an L1/L2 mix with numeric .l1 and .l2."""
    regularizer = regularizers_module.get(identifier)
    if regularizer is not None and not (hasattr(regularizer, "l1") and hasattr(regularizer, "l2")):
        raise NotImplementedError(
            f"fastdnn applies regularization in C++ and supports L1/L2 penalties only "
            f"(regularizers.l1, l2, l1_l2); got {regularizer!r}")
    return regularizer


def engine_constraint(identifier, rank, argument):
    """A constraint the engine can apply to a weight of `rank` dimensions (ValueError otherwise)."""
    constraint = constraints_module.get(identifier)
    constraints_module._engine_spec(constraint, rank, argument)
    return constraint


def add_constraints(op, **weights):
    """Puts `<weight>_constraint` in an engine op for each weight=(constraint, rank) that has one."""
    for prefix, (constraint, rank) in weights.items():
        spec = constraints_module._engine_spec(constraint, rank, f"{prefix}_constraint")
        if spec is not None:
            op[f"{prefix}_constraint"] = spec


def _serialize_activation(activation):
    if hasattr(activation, "_activation_op"):  # an activation layer given as `activation=`
        return {"class_name": type(activation).__name__, "config": activation.get_config()}
    return activations_module.serialize(activation)


class Activation(Layer):
    """Applies an activation: Activation('relu')."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations_module.get(activation)

    def _ops(self):
        op = activations_module.op_spec(self.activation)
        return [op] if op else []

    def get_config(self):
        return {**super().get_config(), "activation": _serialize_activation(self.activation)}

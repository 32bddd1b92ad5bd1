"""Sequential, as tf.keras: a stack of layers, built, described and saved; the training
(compile, fit, evaluate, predict) is the Trainer's."""

from fastdnn import _network, _plan
from fastdnn._graph import call_layer, is_symbolic, map_graph, output_shape_of
from fastdnn._graph import KerasTensor
from fastdnn import layers as layers_module
from fastdnn.layers.base import has_own_call, require_engine_layer, unique_name
from fastdnn.layers.core import Input
from fastdnn.models.data import prepare_x
from fastdnn.models.model_weights import ModelWeights
from fastdnn.models.trainer import Trainer


class Sequential(Trainer, ModelWeights):
    """Sequential(layers=None, name=None): layers applied one after the other."""

    def __init__(self, layers=None, name=None, trainable=True):
        super().__init__()
        self.name = name or unique_name("sequential")
        self._layers = []
        self._input_layer = None
        self._plan = self._stack = None
        self._build_shape = None  # (None, ...) once built
        self.trainable = trainable
        for layer in layers or []:
            self.add(layer)

    # --- structure -----------------------------------------------------------------
    @property
    def layers(self):
        return list(self._layers)

    def add(self, layer):
        if isinstance(layer, KerasTensor) and isinstance(layer._keras_history[0], layers_module.InputLayer):
            layer = layer._keras_history[0]  # Input(shape=...) first in a Sequential, as Keras 3
        if not isinstance(layer, layers_module.Layer) and not _is_model(layer):
            raise TypeError(f"Only fastdnn layers can be added to a Sequential model; got {layer!r}")
        require_engine_layer(layer)
        if isinstance(layer, layers_module.InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError("An Input must be the first layer of a Sequential model")
            self._input_layer = layer
        else:
            if any(layer is existing for existing in self._layers):
                raise ValueError(f"The layer {layer.name} is already in this model")
            self._layers.append(layer)
        self._invalidate()
        shape = self._declared_input_shape()
        if shape is not None and self._build_shape is None:
            self.build((None, *shape))
        elif self._build_shape is not None:
            self.build(self._build_shape)

    def pop(self):
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        self._invalidate()
        if self._build_shape is not None:
            self.build(self._build_shape)
        return layer

    def _declared_input_shape(self):
        """The sample shape the model is built for before it sees data: an Input's, the first layer's
        input_shape=, or, as Keras does, the shape the first layer was already built for (e.g. a
        Normalization built by adapt())."""
        if self._input_layer is not None:
            return self._input_layer._input_shape_arg
        if not self._layers:
            return None
        first = self._layers[0]
        if first._input_shape_arg is None and first.built and first.input_shape is not None:
            return tuple(first.input_shape[1:])
        return first._input_shape_arg

    def _invalidate(self):
        """The layer stack changed: the engine network must be rebuilt."""
        self._network, self._network_key = None, None
        self._plan = self._stack = None

    def build(self, input_shape=None):
        """Builds every layer for inputs of `input_shape` (with the batch dimension, e.g. (None, 784))."""
        if input_shape is None:
            declared = self._declared_input_shape()
            if declared is None:
                raise ValueError("You must provide an `input_shape` argument.")
            input_shape = (None, *declared)
        shape = tuple(input_shape)
        for layer in self._layers:
            if layer.built and tuple(layer.input_shape[1:]) != tuple(shape[1:]):
                raise ValueError(
                    f'Input 0 of layer "{layer.name}" is incompatible with the layer: expected shape '
                    f"{layer.input_shape}, found shape {shape}")
            if not layer.built:
                layer.build(shape)
            shape = output_shape_of(layer, shape)
        self._build_shape = (None, *tuple(input_shape)[1:])

    @property
    def built(self):
        return self._build_shape is not None

    @property
    def input_shape(self):
        return self._build_shape

    def compute_output_shape(self, input_shape):
        if not self.built:
            self.build(input_shape)
        shape = tuple(input_shape)
        for layer in self._layers:
            shape = output_shape_of(layer, shape)
        return shape

    @property
    def output_shape(self):
        shape = self._build_shape
        for layer in self._layers:
            shape = output_shape_of(layer, shape)
        return shape

    # --- what the Trainer needs -------------------------------------------------------
    @property
    def _uses_heads(self):
        """A Sequential holding a model runs as a graph (one head); a plain stack, as a chain."""
        return any(_is_model(layer) or has_own_call(layer) for layer in self._layers)

    def _prepare_x(self, x):
        return prepare_x(self, x)

    def _split_y(self, y):
        return [y]

    def _output_names(self):
        return [self._layers[-1].name if self._layers else self.name]

    def _output_shapes(self):
        return [self.output_shape]

    def _create_network(self, loss, optimizer):
        if not self._uses_heads:
            return _network.create(self._layers, self._build_shape, loss, optimizer)
        losses, weights = loss if loss is not None else (None, None)
        return _network.create_from_plan(self._stack_plan(), losses, weights, optimizer)

    def _stack_plan(self):
        """The stack as a graph plan (for a Sequential holding a model), traced once per layer change."""
        if self._plan is None:
            self._plan = _plan.build(*self._inner_graph())
        return self._plan

    def _inner_graph(self):
        """The stack as a graph (inputs, outputs, nodes): how a Sequential runs inside another model,
        or when it holds a model."""
        if self._stack is None:
            inputs = Input(shape=self._build_shape[1:], name=f"{self.name}_input")
            outputs = inputs
            for layer in self._layers:
                outputs = layer(outputs)
            self._stack = ([inputs], [outputs], map_graph([inputs], [outputs])[0])
        return self._stack

    def _engine_ops(self):
        """The op descriptions the engine runs (settings and seeds included)."""
        if self._uses_heads:
            return self._stack_plan().ops
        return [op for layer in self._layers for op in layer._ops()]

    def _fixed_training(self):
        return self._uses_heads and any(op.get("training") for op in self._stack_plan().ops)

    def _leaf_layers(self):
        return self._stack_plan().layers if self._uses_heads else self._layers

    def _shaped_outputs(self, out, n):
        return super()._shaped_outputs(out[0] if isinstance(out, list) else out, n)

    # --- description ------------------------------------------------------------------
    def __call__(self, inputs, training=False):
        """The outputs for `inputs` as one batch, as Keras' model(x). training=True runs every layer
        in training mode with nothing updated (dropout active with fresh masks on each call,
        BatchNormalization on the batch's own statistics, its moving statistics untouched), as
        Keras does: Monte Carlo dropout. Unlike Keras, the result is a NumPy array, not a tensor."""
        if is_symbolic(inputs):
            return call_layer(self, inputs)
        x = prepare_x(self, inputs)
        out = _network.forward(self._get_network(), x, training, self._inference_draws())
        return out.reshape((len(x), *self.output_shape[1:]))

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                layer_range=None):
        """Prints the layer table in Keras 2's plain-text layout (fastdnn's choice: it prints the
        same on every console); Total / Trainable / Non-trainable params as Keras counts them."""
        from fastdnn.utils.summary import format_summary

        if not self.built:
            raise ValueError("This model has not yet been built. Build the model first by calling `build()` "
                             "or by calling the model on a batch of data.")
        text = format_summary(self, line_length=line_length or 65, positions=positions)
        (print_fn or print)(text)

    def get_config(self):
        config = {"name": self.name, "layers": [layers_module.serialize(layer) for layer in self._layers]}
        if self._input_layer is not None:
            config["layers"].insert(0, layers_module.serialize(self._input_layer))
        if self._build_shape is not None:
            config["build_input_shape"] = list(self._build_shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        model = cls(name=config.get("name"))
        for layer_config in config.get("layers", []):
            model.add(layers_module.deserialize(layer_config, custom_objects))
        if config.get("build_input_shape") and not model.built:
            model.build(tuple(config["build_input_shape"]))
        return model

    def to_json(self, **kwargs):
        import json

        return json.dumps({"class_name": "Sequential", "config": self.get_config()}, **kwargs)

    def save(self, filepath, overwrite=True, **kwargs):
        """One file with the configuration, the weights and the optimizer state, written
        atomically, in the format the name says: Keras 3's for ".keras", legacy Keras HDF5 for
        ".h5"/".hdf5" (both need h5py, the keras-files extra), else fastdnn's own (".fdnn": a zip
        of JSON and .npy arrays, no pickle, the one that resumes training exactly)."""
        from fastdnn import saving

        saving.save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=True):
        from fastdnn import saving

        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False):
        from fastdnn import saving

        saving.load_weights(self, filepath)

    def __repr__(self):
        return f"<Sequential name={self.name}, built={self.built}>"


def _is_model(layer):
    return hasattr(layer, "_inner_graph")

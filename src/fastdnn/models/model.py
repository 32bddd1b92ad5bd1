"""Model, as keras.Model: the functional API (`Model(inputs, outputs)`, which makes a
Functional) and subclassed models (`class M(Model)` with `__init__` creating layers and `call`
composing them). Both run as a graph of layer calls (models/graph.py) that the engine runs as one
plan; a subclassed model's graph is found by tracing `call` once on symbolic inputs (Keras 3 runs
`call` eagerly instead). The Trainer gives both compile, fit, evaluate and predict."""

import sys
import traceback

import numpy as np

from fastdnn import _graph, _network
from fastdnn.layers.base import Layer, snake_case, unique_name
from fastdnn.layers.core import Input
from fastdnn.models.data import rows_of
from fastdnn.models.graph import Graph
from fastdnn.models.model_config import ModelConfig, init_arguments
from fastdnn.models.model_weights import ModelWeights
from fastdnn.models.trainer import Trainer


class Model(Trainer, ModelConfig, ModelWeights):
    """Model(inputs, outputs, name=None): the model computing `outputs` from `inputs` (KerasTensors,
    or lists/tuples/dicts of them). Subclass it with `call(self, inputs)` for a subclassed model."""

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from fastdnn.models.functional import Functional

            return super().__new__(Functional)
        instance = super().__new__(cls)
        instance.__dict__["_init_arguments"] = init_arguments(cls, args, kwargs)  # what save() stores of a subclass
        return instance

    def __init__(self, *args, inputs=None, outputs=None, name=None, trainable=True, **kwargs):
        if args:
            if len(args) > 2 or inputs is not None or (len(args) == 2 and outputs is not None):
                raise TypeError("Model takes (inputs, outputs) once, positionally or by keyword")
            inputs, outputs = (args + (outputs,))[:2]
        kwargs.pop("dtype", None)
        if kwargs:
            raise TypeError(f"Model() got unexpected keyword argument(s): {sorted(kwargs)}")
        Trainer.__init__(self)
        self.__dict__["_tracked"] = []
        functional = type(self).__name__ == "Functional" and type(self).__module__.startswith("fastdnn.")
        self.name = name or unique_name("functional" if functional else snake_case(type(self).__name__))
        self.trainable = trainable
        self._inbound_nodes = []
        self._input_shape_arg = None  # as a layer: a model declares no input shape of its own
        self._graph = None
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("Model(inputs, outputs) needs both `inputs` and `outputs`")
            self._graph = Graph(self.name, inputs, outputs)
        elif type(self).call is Model.call:
            raise TypeError("Model() needs `inputs` and `outputs` (the functional API), or subclass Model and "
                            "define call()")

    def __setattr__(self, name, value):
        # Keras tracks the layers a subclassed model's __init__ assigns (alone or in a list or tuple):
        # model.layers lists them.
        if not name.startswith("_"):
            tracked = self.__dict__.setdefault("_tracked", [])
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(item, (Layer, Model)) and not any(item is t for t in tracked):
                    tracked.append(item)
        super().__setattr__(name, value)

    def call(self, inputs, training=None):
        """A subclass's forward computation on symbolic tensors (traced once into the graph)."""
        raise NotImplementedError

    # --- structure ------------------------------------------------------------------------
    @property
    def built(self):
        return self._graph is not None

    def build(self, input_shape=None):
        """A subclassed model: traces `call` on inputs of `input_shape` ((None, 8), or a list of
        shapes for several inputs), so that summary() and the weights exist before any data (Keras 3
        marks the model built without weights). A functional model is built from the start."""
        if self._graph is not None:
            return
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        several = isinstance(input_shape, (list, tuple)) and input_shape and isinstance(input_shape[0], (list, tuple))
        shapes = list(input_shape) if several else [input_shape]
        inputs = [Input(shape=tuple(s)[1:], name=f"{self.name}_input_{i}" if several else f"{self.name}_input")
                  for i, s in enumerate(shapes)]
        structure = type(input_shape)(inputs) if several else inputs[0]
        outputs = self._trace(structure)
        self._graph = Graph(self.name, structure, outputs, subclassed=True)
        self._invalidate()

    def _trace(self, inputs):
        """call() run once on symbolic inputs; an error inside it names the line of call() that failed."""
        try:
            outputs = self.call(inputs)
        except (TypeError, ValueError, NotImplementedError) as error:
            frames = [f for f in traceback.extract_tb(sys.exc_info()[2]) if "/fastdnn/" not in f.filename]
            where = f" (at {frames[-1].filename}, line {frames[-1].lineno}: {frames[-1].line})" if frames else ""
            raise type(error)(f"fastdnn could not trace {type(self).__name__}.call(){where}: {error}") from error
        if not _graph.is_symbolic(outputs):
            raise ValueError(f"{type(self).__name__}.call() returned {type(outputs).__name__}, not the tensors "
                             "its layers computed: fastdnn traces call() once, so it must return layer outputs")
        return outputs

    def _require_graph(self):
        if self._graph is None:
            raise ValueError(f"The model {self.name} has not been built yet: call build(input_shape) or pass data")
        return self._graph

    @property
    def layers(self):
        """Functional: every layer, InputLayers included, in Keras' depth order. Subclassed: the layers
        __init__ assigned, in assignment order (as Keras)."""
        if type(self).call is not Model.call:
            return list(self._tracked)
        return list(self._require_graph().layers)

    @property
    def _layers(self):
        return self._graph.compute_layers if self._graph is not None else list(self._tracked)

    @property
    def inputs(self):
        return list(self._require_graph().inputs)

    @property
    def outputs(self):
        return list(self._require_graph().outputs)

    @property
    def input(self):
        return self._require_graph().input_struct

    @property
    def output(self):
        return self._require_graph().output_struct

    @property
    def output_names(self):
        return list(self._require_graph().output_names)

    @property
    def input_shape(self):
        shapes = [t.shape for t in self._require_graph().inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self._require_graph().outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def compute_output_shape(self, input_shape):
        self.build(input_shape)
        return self.output_shape

    @property
    def _takes_list(self):
        return self._graph is not None and len(self._graph.inputs) > 1

    def _inner_graph(self):
        g = self._require_graph()
        return g.inputs, g.outputs, g.nodes

    def _invalidate(self):
        self._network, self._network_key = None, None
        if self._graph is not None:
            self._graph._plan = None

    # --- what the Trainer needs --------------------------------------------------------------
    _uses_heads = True

    def _prepare_x(self, x):
        if self._graph is None:  # a subclassed model meets its first data: trace call() for its shapes
            arrays = x if isinstance(x, (list, tuple)) and x and not np.isscalar(x[0]) and np.ndim(x[0]) > 1 else None
            if arrays is not None:
                self.build(type(x)((None, *np.shape(a)[1:]) for a in arrays))
            else:
                self.build((None, *np.shape(x)[1:]))
        g = self._graph
        arrays = [g.check_input(i, a) for i, a in enumerate(g.arrays_for_inputs(x, self.name))]
        counts = [len(a) for a in arrays]
        if len(set(counts)) > 1:
            raise ValueError("Data cardinality is ambiguous: the input arrays hold different numbers of samples: "
                             + ", ".join(f"{name}: {c}" for name, c in zip(g.input_names, counts)))
        return arrays[0] if len(arrays) == 1 else arrays

    def _split_y(self, y):
        return self._require_graph().split_targets(y, self.name)

    def _output_names(self):
        return self.output_names

    def _output_shapes(self):
        return [t.shape for t in self._require_graph().outputs]

    def _create_network(self, loss, optimizer):
        losses, weights = loss if loss is not None else (None, None)
        return _network.create_from_plan(self._require_graph().plan(), losses, weights, optimizer)

    def _leaf_layers(self):
        return self._require_graph().plan().layers

    def _engine_ops(self):
        return self._require_graph().plan().ops

    def _fixed_training(self):
        return any(op.get("training") for op in self._require_graph().plan().ops)

    def _shaped_outputs(self, out, n):
        return self._require_graph().shaped_outputs(out, n)

    # --- calling ---------------------------------------------------------------------------
    def __call__(self, inputs, training=False):
        """On symbolic tensors: the model as a layer of another graph. On NumPy data: the outputs as one
        batch, as Keras' model(x); training=True runs every layer in training mode with nothing
        updated (Monte Carlo dropout). Unlike Keras, the result is NumPy arrays, not tensors."""
        if _graph.is_symbolic(inputs):
            return _graph.call_layer(self, inputs)
        x = self._prepare_x(inputs)
        out = _network.forward(self._get_network(), x, training, self._inference_draws())
        return self._shaped_outputs(out, rows_of(x))

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                layer_range=None):
        """Prints the layer table in Keras 2's plain-text layout, with its "Connected to" column for a
        model that is not a plain stack."""
        from fastdnn.utils.summary import format_model_summary

        if not self.built:
            raise ValueError("This model has not yet been built. Build the model first by calling `build()` "
                             "or by calling the model on a batch of data.")
        (print_fn or print)(format_model_summary(self, line_length=line_length, positions=positions))

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

"""The graph of a functional or subclassed model: its input and output tensors (with the
structures they were given in), the calls between them, and how NumPy data maps onto them.

Where Keras 3 is lax, fastdnn refuses: a wrong number of input arrays, extra dict keys, or an
array of the wrong shape is a ValueError naming the input, the expected and the received shape
(Keras 3 warns "The structure of `inputs` doesn't match" and silently drops arrays)."""

import numpy as np

from fastdnn import _graph, _plan
from fastdnn.layers.core import InputLayer
from fastdnn.models.data import as_engine_rows, as_samples, fits_shape


class Graph:
    def __init__(self, model_name, inputs, outputs, subclassed=False):
        self.input_struct, self.output_struct = inputs, outputs
        self.inputs, self.outputs = _graph.flatten(inputs), _graph.flatten(outputs)
        for what, tensors in (("inputs", self.inputs), ("outputs", self.outputs)):
            bad = [t for t in tensors if not isinstance(t, _graph.KerasTensor)]
            if not tensors or bad:
                raise ValueError(f"All `{what}` values must be KerasTensors (from keras.Input and layers called "
                                 f"on them). Received: {what}={bad[0] if bad else tensors!r}")
        for t in self.inputs:
            layer, _, _ = t._keras_history
            if not isinstance(layer, InputLayer):
                raise ValueError(f"Model {model_name!r}: the input {t.name!r} is the output of layer {layer.name!r}; "
                                 "a model's inputs must come from keras.Input(...)")
        if len({id(t) for t in self.inputs}) != len(self.inputs):
            raise ValueError(f"Model {model_name!r}: an Input is listed twice in `inputs`")
        self.nodes, self.layers = _graph.map_graph(self.inputs, self.outputs)
        names = [layer.name for layer in self.layers]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f'The name "{name}" is used {names.count(name)} times in the model. All operation '
                                 "names should be unique.")
        self.input_names = [t._keras_history[0].name for t in self.inputs]
        self.output_names = self._output_names(subclassed)
        self._plan = None

    def _output_names(self, subclassed):
        """Keras 3: the output layers' names, or the dict keys of dict outputs; fastdnn keeps two
        outputs of one layer apart with _1, _2 (Keras lets their logs collide). A subclassed model's
        outputs are output_1, output_2, ... as in tf.keras 2 (Keras 3 names them by their loss, so two
        "mse" outputs share one log key)."""
        if isinstance(self.output_struct, dict):
            return sorted(self.output_struct)
        if subclassed and len(self.outputs) > 1:
            return [f"output_{i + 1}" for i in range(len(self.outputs))]
        names = []
        for t in self.outputs:
            name = t._keras_history[0].name
            candidate, i = name, 1
            while candidate in names:
                candidate, i = f"{name}_{i}", i + 1
            names.append(candidate)
        return names

    @property
    def compute_layers(self):
        """The layers that compute (every layer but the InputLayers)."""
        return [layer for layer in self.layers if not isinstance(layer, InputLayer)]

    def plan(self):
        if self._plan is None:
            self._plan = _plan.build(self.inputs, self.outputs, self.nodes)
        return self._plan

    # --- data --------------------------------------------------------------------------------
    def arrays_for_inputs(self, x, model_name):
        """x (one array, a list/tuple with one per input, or a dict keyed by input name) as a list of
        arrays in input order."""
        if x is None:
            raise ValueError("x is None: pass the input data as NumPy arrays")
        return _per_name(x, self.input_names, model_name, "x", "input", "one array per input, in that order",
                         "", require_all=True)

    def check_input(self, i, a):
        """Input i's array as (samples, features) float32, checked against its shape."""
        t = self.inputs[i]
        label = f'Input {i} ("{self.input_names[i]}")'
        a = as_samples(a, label)
        if not fits_shape(a, t.shape[1:]):
            raise ValueError(f"{label} expects arrays of shape {t.shape}; received shape {(None, *a.shape[1:])}")
        return as_engine_rows(a, label)

    def split_targets(self, y, model_name):
        """y (one array, a list/tuple with one per output, or a dict keyed by output name) as a list
        in output order (None for an output given no target)."""
        return _per_name(y, self.output_names, model_name, "y", "output", "one per output, in that order",
                         " (the same array twice if both outputs learn one target)", require_all=False)

    def shaped_outputs(self, out, n):
        """The engine's outputs (one (n, width) array per output) in the output shapes and structure;
        a one-element list or tuple is unpacked, as Keras does."""
        outs = out if isinstance(out, list) else [out]
        shaped = [o.reshape((n, *t.shape[1:])) for o, t in zip(outs, self.outputs)]
        struct = self.output_struct
        if isinstance(struct, (list, tuple)) and len(struct) == 1 and not isinstance(struct[0], (list, tuple, dict)):
            return shaped[0]
        return _graph.pack_like(struct, shaped)


def _per_name(data, names, model_name, what, kind, one_each, hint, require_all):
    """`data` (one array, a list/tuple with one per name, or a dict keyed by name) as a list in the
    order of `names` (None for a name the dict leaves out, unless require_all); `what` is x or y,
    `kind` input or output."""
    n = len(names)
    if isinstance(data, dict):
        extra = sorted(set(data) - set(names))
        missing = [name for name in names if name not in data] if require_all else []
        if extra or missing:
            verb = "takes the inputs" if kind == "input" else "has the outputs"
            raise ValueError(f"Model {model_name!r} {verb} {names}; {what} has the keys {sorted(data)}"
                             + (f" (unknown: {extra})" if extra else "") + (f" (missing: {missing})" if missing else ""))
        return [data.get(name) for name in names]
    if isinstance(data, (list, tuple)) and (n > 1 or (len(data) == 1 and _is_array_like(data[0]))):
        if len(data) != n:
            raise ValueError(f"Model {model_name!r} has {n} {kind}(s) {names} but {what} holds {len(data)} arrays: "
                             f"pass {one_each}, or a dict keyed by {kind} name")
        return list(data)
    if n > 1:
        raise ValueError(f"Model {model_name!r} has {n} {kind}s {names}: pass {what} as a list of {n} arrays or a "
                         f"dict keyed by {kind} name{hint}; got one {type(data).__name__}")
    return [data]


def _is_array_like(a):
    return isinstance(a, np.ndarray) or (isinstance(a, (list, tuple)) and len(a) > 0
                                         and isinstance(a[0], (list, tuple, np.ndarray)))

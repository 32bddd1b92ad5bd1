"""The graph of a functional or subclassed model: its input and output tensors (with the
structures they were given in), the calls between them, and how NumPy data maps onto them.

Where Keras 3 is lax, fastdnn refuses: a wrong number of input arrays, extra dict keys, or an
array of the wrong shape is a ValueError naming the input, the expected and the received shape
(Keras 3 warns "The structure of `inputs` doesn't match" and silently drops arrays)."""

import numpy as np

from fastdnn import _graph, _plan
from fastdnn.layers.core import InputLayer


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
        k = len(self.inputs)
        if x is None:
            raise ValueError("x is None: pass the input data as NumPy arrays")
        if isinstance(x, dict):
            extra = sorted(set(x) - set(self.input_names))
            missing = [n for n in self.input_names if n not in x]
            if extra or missing:
                raise ValueError(f"Model {model_name!r} takes the inputs {self.input_names}; x has the keys "
                                 f"{sorted(x)}" + (f" (unknown: {extra})" if extra else "")
                                 + (f" (missing: {missing})" if missing else ""))
            return [x[n] for n in self.input_names]
        if isinstance(x, (list, tuple)) and (k > 1 or (len(x) == 1 and _is_array_like(x[0]))):
            if len(x) != k:
                raise ValueError(f"Model {model_name!r} has {k} input(s) {self.input_names} but x holds "
                                 f"{len(x)} arrays: pass one array per input, in that order, or a dict keyed "
                                 "by input name")
            return list(x)
        if k > 1:
            raise ValueError(f"Model {model_name!r} has {k} inputs {self.input_names}: pass x as a list of {k} "
                             f"arrays or a dict keyed by input name; got one {type(x).__name__}")
        return [x]

    def check_input(self, i, a):
        """Input i's array as (samples, features) float32, checked against its shape."""
        t = self.inputs[i]
        label = f'Input {i} ("{self.input_names[i]}")'
        a = np.asarray(a)
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{label} must hold numbers; got an array of dtype {a.dtype}")
        if a.ndim == 0:
            raise ValueError(f"{label} must have a sample axis: an array of shape (samples, ...); got a scalar")
        if a.ndim == 1:
            a = a.reshape(-1, 1)
        expected = t.shape[1:]
        flat = a.ndim == 2 and len(expected) > 1 and a.shape[1] == t.width
        if a.shape[1:] != expected and not flat:
            raise ValueError(f"{label} expects arrays of shape {t.shape}; received shape {(None, *a.shape[1:])}")
        if len(a) == 0:
            raise ValueError(f"{label} is empty: it needs at least one sample")
        return np.ascontiguousarray(a.reshape(len(a), -1), dtype=np.float32)

    def split_targets(self, y, model_name):
        """y (one array, a list/tuple with one per output, or a dict keyed by output name) as a list
        in output order (None for an output given no target)."""
        h = len(self.outputs)
        if isinstance(y, dict):
            extra = sorted(set(y) - set(self.output_names))
            if extra:
                raise ValueError(f"Model {model_name!r} has the outputs {self.output_names}; y has the keys "
                                 f"{sorted(y)} (unknown: {extra})")
            return [y.get(n) for n in self.output_names]
        if isinstance(y, (list, tuple)) and (h > 1 or (len(y) == 1 and _is_array_like(y[0]))):
            if len(y) != h:
                raise ValueError(f"Model {model_name!r} has {h} output(s) {self.output_names} but y holds "
                                 f"{len(y)} arrays: pass one per output, in that order, or a dict keyed by "
                                 "output name")
            return list(y)
        if h > 1:
            raise ValueError(f"Model {model_name!r} has {h} outputs {self.output_names}: pass y as a list of {h} "
                             f"arrays or a dict keyed by output name (the same array twice if both outputs "
                             f"learn one target); got one {type(y).__name__}")
        return [y]

    def shaped_outputs(self, out, n):
        """The engine's outputs (one (n, width) array per output) in the output shapes and structure;
        a one-element list or tuple is unpacked, as Keras does."""
        outs = out if isinstance(out, list) else [out]
        shaped = [o.reshape((n, *t.shape[1:])) for o, t in zip(outs, self.outputs)]
        struct = self.output_struct
        if isinstance(struct, (list, tuple)) and len(struct) == 1 and not isinstance(struct[0], (list, tuple, dict)):
            return shaped[0]
        return _graph.pack_like(struct, shaped)


def _is_array_like(a):
    return isinstance(a, np.ndarray) or (isinstance(a, (list, tuple)) and len(a) > 0
                                         and isinstance(a[0], (list, tuple, np.ndarray)))

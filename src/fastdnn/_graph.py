"""Symbolic tensors and the graph they record, as Keras 3's KerasTensor, Node and
ops/function.py: calling a layer on a KerasTensor builds the layer, records a Node (the call:
the layer, its input tensors, its output) and returns a new KerasTensor. A functional model
is the graph between its input and output tensors; `map_graph` orders it."""

import numpy as np

from fastdnn.layers.base import unique_name


class KerasTensor:
    """A symbolic tensor: a shape with the batch dimension first (None), and the call that made
    it (`_keras_history`: the layer, the index of its call, 0). It holds no values."""

    def __init__(self, shape, name=None, history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = "float32"
        self.name = name or unique_name("keras_tensor")
        self._keras_history = history

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def width(self):
        """Features per sample: what the engine sees of the tensor, (batch, width)."""
        return int(np.prod(self.shape[1:], dtype=np.int64))

    def __repr__(self):
        return (f"<KerasTensor shape={self.shape}, dtype=float32, sparse=False, ragged=False, "
                f"name={self.name}>")

    # Arithmetic on symbolic tensors records layers, as Keras 3's ops do: tensor ⊕ tensor is a merge
    # layer, tensor ⊕ number a Rescaling (x·scale + offset).
    def _merge(self, other, merge, scale, offset, reverse=False):
        from fastdnn import layers

        if isinstance(other, KerasTensor):
            return getattr(layers, merge)()([other, self] if reverse else [self, other])
        if isinstance(other, (int, float, np.number)) and not isinstance(other, bool):
            return layers.Rescaling(scale(float(other)), offset=offset(float(other)))(self)
        return NotImplemented

    def __add__(self, other):
        return self._merge(other, "Add", lambda v: 1.0, lambda v: v)

    __radd__ = __add__

    def __sub__(self, other):
        return self._merge(other, "Subtract", lambda v: 1.0, lambda v: -v)

    def __rsub__(self, other):
        return self._merge(other, "Subtract", lambda v: -1.0, lambda v: v, reverse=True)

    def __mul__(self, other):
        return self._merge(other, "Multiply", lambda v: v, lambda v: 0.0)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, KerasTensor):
            raise TypeError("fastdnn cannot divide a tensor by a tensor (only by a number)")
        return self._merge(other, "Multiply", lambda v: 1.0 / v, lambda v: 0.0)

    def __neg__(self):
        from fastdnn import layers

        return layers.Rescaling(-1.0)(self)

    def __array__(self, dtype=None, copy=None):
        raise TypeError(f"{self.name} is a symbolic tensor (a KerasTensor): it has no values. Build a "
                        "Model(inputs, outputs) from it and call predict, or call layers on NumPy arrays.")

    def __bool__(self):
        raise TypeError(f"A symbolic tensor ({self.name}) cannot be used as a Python bool: Python control "
                        "flow (if/while on a tensor) cannot be traced into a fastdnn graph")

    def __len__(self):
        raise TypeError(f"A symbolic tensor ({self.name}) has no length: its batch size is not known until "
                        "data is given")

    def __iter__(self):
        raise TypeError(f"A symbolic tensor ({self.name}) cannot be iterated: Python loops over a tensor "
                        "cannot be traced into a fastdnn graph")


class Node:
    """One call of a layer on symbolic tensors: `inputs` (flat list), `output` (one tensor)."""

    def __init__(self, layer, inputs, output_shape, arguments=None):
        self.layer = layer
        self.inputs = list(inputs)
        self.arguments = arguments  # the structure the layer was called with ([a, b] or a)
        nodes = layer.__dict__.setdefault("_inbound_nodes", [])
        self.index = len(nodes)
        nodes.append(self)
        name = None
        if type(layer).__name__ == "InputLayer":
            name = layer._tensor_name
        self.output = KerasTensor(output_shape, name=name, history=(layer, self.index, 0))
        self.training = None  # True/False: the layer's mode is fixed (a call(training=...) in a trace)
        self.subgraph = None  # (inputs, outputs, nodes) a model or traced layer runs as

    @property
    def parent_nodes(self):
        return [t._keras_history[0]._inbound_nodes[t._keras_history[1]] for t in self.inputs]


def is_symbolic(value):
    """True for a KerasTensor or a (nested) list/tuple/dict holding one."""
    if isinstance(value, KerasTensor):
        return True
    if isinstance(value, (list, tuple)):
        return any(is_symbolic(v) for v in value)
    if isinstance(value, dict):
        return any(is_symbolic(v) for v in value.values())
    return False


def flatten(structure):
    """The leaves of a tensor, list/tuple or dict (dict values in key order, as Keras' tree.flatten)."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def pack_like(structure, leaves):
    """`leaves` (flat, in flatten's order) put back into the shape of `structure`."""
    leaves = iter(leaves)

    def pack(s):
        if isinstance(s, dict):
            packed = {key: pack(s[key]) for key in sorted(s)}
            return {key: packed[key] for key in s}
        if isinstance(s, (list, tuple)):
            return type(s)(pack(item) for item in s)
        return next(leaves)

    return pack(structure)


def map_graph(inputs, outputs):
    """The nodes between `inputs` and `outputs` (flat lists of KerasTensors) in an order where every
    node comes after the nodes it reads, and the layers in Keras' order: by decreasing depth (the
    longest path to an output), ties by the order a depth-first walk from the outputs finishes them.
    A tensor that cannot be computed from `inputs` is a ValueError naming it (Keras 3 says only
    "Output with path `` is not connected to `inputs`")."""
    input_ids = {id(t) for t in inputs}
    finished, order, on_path = set(), [], set()

    def visit(tensor, reader):
        layer, node_index, _ = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        if id(node) in finished:
            return
        if id(node) in on_path:
            raise ValueError(f"The graph has a cycle through layer {layer.name!r}")
        if not node.inputs and id(tensor) not in input_ids:
            given = ", ".join(t.name for t in inputs)
            raise ValueError(
                f"The graph is disconnected: {reader} needs the tensor {tensor.name!r} of Input layer "
                f"{layer.name!r}, which is not one of the model's inputs ({given}). Pass it in Model(inputs=...).")
        on_path.add(id(node))
        if id(tensor) not in input_ids:
            for t in node.inputs:
                visit(t, f"layer {layer.name!r}")
        on_path.discard(id(node))
        finished.add(id(node))
        order.append(node)

    for t in outputs:
        visit(t, f"the output {t.name!r}")
    depth = {id(n): 0 for n in order}
    for node in reversed(order):  # outputs first: each node pushes depth + 1 to its parents
        if id(node.output) in input_ids:
            continue
        for parent in node.parent_nodes:
            depth[id(parent)] = max(depth[id(parent)], depth[id(node)] + 1)
    position = {id(n): i for i, n in enumerate(order)}
    nodes = sorted(order, key=lambda n: (-depth[id(n)], position[id(n)]))
    layer_depth, layer_first = {}, {}
    for n in order:
        layer_depth[id(n.layer)] = max(layer_depth.get(id(n.layer), 0), depth[id(n)])
        layer_first.setdefault(id(n.layer), position[id(n)])
    layers = []
    for n in sorted(order, key=lambda n: (-layer_depth[id(n.layer)], layer_first[id(n.layer)])):
        if not any(n.layer is seen for seen in layers):
            layers.append(n.layer)
    return nodes, layers


def call_layer(layer, inputs, training=None):
    """`layer` called on symbolic `inputs`: built for their shapes on its first call, checked against
    them on later calls (a shared layer); returns the output tensor of the recorded Node. A model, or
    a layer with its own call(), runs as a subgraph: its call() traced once (see trace_layer)."""
    from fastdnn.layers.base import has_own_call

    if has_own_call(layer) and not hasattr(layer, "_inner_graph"):
        return _call_subgraph(layer, inputs, trace_layer)
    if hasattr(layer, "_inner_graph"):
        return _call_subgraph(layer, inputs, None)
    return call_builtin(layer, inputs, training)


def call_builtin(layer, inputs, training):
    """A Node of `layer`'s own engine ops on `inputs`; training=True/False fixes its mode."""
    tensors = flatten(inputs)
    if not all(isinstance(t, KerasTensor) for t in tensors):
        raise TypeError(f"Layer {layer.name!r} was called on a mix of symbolic tensors and other values "
                        f"({[type(t).__name__ for t in tensors]}): call it on KerasTensors only")
    takes_list = getattr(layer, "_takes_list", False)
    if not takes_list and len(tensors) != 1:
        raise ValueError(f"Layer {layer.name!r} ({type(layer).__name__}) takes one input; it was called on "
                         f"{len(tensors)} tensors. Merge them first, e.g. with layers.concatenate([...]).")
    shapes = [t.shape for t in tensors]
    shape = shapes if takes_list else shapes[0]
    if not layer.built:
        layer.build(shape)
    else:
        require_compatible(layer, shape)
    node = Node(layer, tensors, layer.compute_output_shape(shape), arguments=inputs)
    node.training = training
    return node.output


def _shape_of(layer, tensors):
    shapes = [t.shape for t in tensors]
    return shapes if getattr(layer, "_takes_list", False) or len(shapes) > 1 else shapes[0]


def _call_subgraph(layer, inputs, trace):
    """A Node standing for a whole subgraph: a model's graph, or a custom layer's traced call()."""
    tensors = flatten(inputs)
    if not all(isinstance(t, KerasTensor) for t in tensors):
        raise TypeError(f"Layer {layer.name!r} was called on a mix of symbolic tensors and other values")
    shape = _shape_of(layer, tensors)
    if trace is not None:
        if "_trace" not in layer.__dict__:
            trace(layer, inputs, shape)
        else:
            require_compatible(layer, shape)
        sub_inputs, sub_outputs, sub_nodes = layer._trace
        out_shape = sub_outputs[0].shape
    else:
        if not layer.built:
            layer.build(shape)
        else:
            require_compatible(layer, shape)
        sub_inputs, sub_outputs, sub_nodes = layer._inner_graph()
        out_shape = layer.compute_output_shape(shape)
    node = Node(layer, tensors, out_shape, arguments=inputs)
    node.subgraph = (sub_inputs, sub_outputs, sub_nodes)
    return node.output


def trace_layer(layer, inputs, shape):
    """A custom layer's call() run once on fresh symbolic inputs shaped like `inputs`: the layers it
    calls become its subgraph, and their weights its weights (after its own, as Keras lists them)."""
    from fastdnn.layers.base import Layer

    builtin = next(cls for cls in type(layer).__mro__ if cls.__module__.startswith("fastdnn."))
    if builtin is not Layer and not layer.built:
        builtin.build(layer, shape)  # e.g. an MC Dropout subclass: Dropout's own state
    own = list(layer._weights)
    structure = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    fresh = [_input_like(t, f"{layer.name}_input_{i}" if len(structure) > 1 else f"{layer.name}_input")
             for i, t in enumerate(flatten(structure))]
    arg = pack_like(inputs, fresh) if isinstance(inputs, (list, tuple, dict)) else fresh[0]
    outputs = layer.call(arg)
    flat = flatten(outputs)
    if len(flat) != 1 or not isinstance(flat[0], KerasTensor):
        raise ValueError(f"{type(layer).__name__}.call() must return one tensor computed by layers; got "
                         f"{type(outputs).__name__}")
    nodes, layers = map_graph(fresh, flat)
    inner = [l for l in layers if l is not layer and type(l).__name__ != "InputLayer"]
    layer._builtin_weights = own  # what the layer's own engine ops declare
    layer._weights = own + [w for l in inner for w in l.weights if not any(w is o for o in own)]
    layer.input_shape = shape
    layer.built = True
    layer.__dict__["_trace"] = (fresh, flat, nodes)


def _input_like(tensor, name):
    from fastdnn.layers.core import InputLayer

    return InputLayer(shape=tensor.shape[1:], name=name).output


def call_eagerly(layer, inputs, training):
    """A traced layer applied to NumPy data: a one-layer model run on it."""
    from fastdnn.models import Model

    arrays = flatten(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    fresh = [_input_like(KerasTensor((None, *np.shape(a)[1:])), None) for a in arrays]
    model = Model(fresh if len(fresh) > 1 else fresh[0], layer(fresh if len(fresh) > 1 else fresh[0]))
    return model(arrays if len(arrays) > 1 else arrays[0], training=training)


def require_compatible(layer, shape):
    """A built layer takes only inputs of the shape it was built for (Keras' InputSpec check)."""
    built = layer.input_shape
    if getattr(layer, "_takes_list", False):
        same = len(built) == len(shape) and all(tuple(a[1:]) == tuple(b[1:]) for a, b in zip(built, shape))
    else:
        same = tuple(built[1:]) == tuple(shape[1:])
    if not same:
        raise ValueError(f"Input 0 of layer {layer.name!r} is incompatible with the layer: it was built for "
                         f"inputs of shape {built}, but received an input with shape {shape}")


def traced_output_shape(layer, shape):
    """The output shape of a layer with its own call(), traced for inputs of `shape` if it is not yet."""
    if "_trace" not in layer.__dict__:
        trace_layer(layer, _input_like(KerasTensor(shape), None), tuple(shape))
    return layer._trace[1][0].shape


def output_shape_of(layer, shape):
    """What `layer` makes of inputs of `shape`; for a layer with its own call(), what its trace makes."""
    from fastdnn.layers.base import has_own_call

    if has_own_call(layer) and not hasattr(layer, "_inner_graph"):
        return traced_output_shape(layer, shape)
    return layer.compute_output_shape(shape)

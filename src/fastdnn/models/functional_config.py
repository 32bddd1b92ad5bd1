"""A functional model's configuration, as Keras 3's Functional.get_config and
functional_from_config (keras/src/models/functional.py).

The configuration lists the layers in the model's (depth) order; each entry is the layer's
serialized form (module, class_name, config, registered_name, build_config) with its `name` and
its `inbound_nodes`: one {"args": [...], "kwargs": {}} per call of the layer in this model, the
tensors it was called on written as {"class_name": "__keras_tensor__", "config": {"shape",
"dtype", "keras_history": [layer name, node index, tensor index]}}. A node index counts only the
calls that belong to this model, as Keras counts them. `input_layers` / `output_layers` keep the
structure (one tensor, list or dict) the model was built with.

Rebuilding creates each layer from its entry (fastdnn's layers, fastdnn's models, or a class
the caller passes in custom_objects; never anything the file names by module), then replays the
calls in the order their inputs become available, so a shared layer is created once and called
again. Keras 2's node format, [[["input_1", 0, 0, {}], ...]], is read too. A configuration that
names a missing layer, holds a cycle, or names an unknown class is a ValueError saying so.
"""

# --- writing ---------------------------------------------------------------------------------

def get_config(model):
    from fastdnn import layers as layers_module

    graph = model._require_graph()
    own = {id(node) for node in graph.nodes}
    reindexed = {}  # id(node) -> its index among its layer's calls in this model
    for layer in graph.layers:
        kept = 0
        for node in layer.__dict__.get("_inbound_nodes", []):
            if id(node) in own:
                reindexed[id(node)] = kept
                kept += 1

    def history(tensor):
        layer, node_index, tensor_index = tensor._keras_history
        return [layer.name, reindexed[id(layer._inbound_nodes[node_index])], tensor_index]

    def tensor_config(tensor):
        return {"class_name": "__keras_tensor__",
                "config": {"shape": list(tensor.shape), "dtype": "float32", "keras_history": history(tensor)}}

    entries = []
    for layer in graph.layers:
        entry = layers_module.serialize(layer)
        shape = _built_input_shape(layer)
        if shape is not None:
            entry["build_config"] = {"input_shape": shape}
        entry["name"] = layer.name
        entry["inbound_nodes"] = [{"args": [_map(tensor_config, node.arguments)], "kwargs": _call_kwargs(node)}
                                  for node in layer.__dict__.get("_inbound_nodes", [])
                                  if id(node) in own and node.inputs]
        entries.append(entry)
    return _jsonable({"name": model.name, "trainable": model.trainable, "layers": entries,
                      "input_layers": _map(history, graph.input_struct),
                      "output_layers": _map(history, graph.output_struct)})


def _call_kwargs(node):
    """A call's keyword arguments: training=True/False where the call fixed the layer's mode."""
    training = getattr(node, "training", None)
    return {} if training is None else {"training": bool(training)}


# Keras 3 builds these at construction (they have no build()), so writes no build_config for them.
_BUILT_AT_CONSTRUCTION = {"InputLayer", "Activation", "ActivityRegularization", "AlphaDropout", "Dropout", "ELU",
                          "GaussianDropout", "GaussianNoise", "LeakyReLU", "ReLU", "RReLU", "Reshape", "Softmax"}


def _built_input_shape(layer):
    own_class = type(layer).__module__.startswith("fastdnn.")
    if (own_class and type(layer).__name__ in _BUILT_AT_CONSTRUCTION) or not getattr(layer, "built", False):
        return None
    shape = layer.input_shape
    if shape is None:
        return None
    return _jsonable(shape)


def _jsonable(value):
    """`value` as JSON gives it back: tuples as lists (a layer's config may hold shapes as tuples)."""
    if isinstance(value, dict):
        return {key: _jsonable(v) for key, v in value.items()}
    return [_jsonable(v) for v in value] if isinstance(value, (list, tuple)) else value


def _map(fn, structure):
    """`fn` applied to each tensor of a tensor, list/tuple or dict (tuples become lists, as in JSON)."""
    if isinstance(structure, dict):
        return {key: _map(fn, value) for key, value in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [_map(fn, value) for value in structure]
    return fn(structure)


# --- reading ---------------------------------------------------------------------------------

def rebuild(config, custom_objects=None):
    """(inputs, outputs, name, trainable) of the graph a configuration describes, its layers
    created and called anew."""
    from fastdnn import layers as layers_module

    if not isinstance(config, dict):
        raise ValueError(f"A functional model's configuration is a dict; got {type(config).__name__}")
    missing = [key for key in ("layers", "input_layers", "output_layers") if key not in config]
    if missing or not isinstance(config["layers"], list):
        raise ValueError(f"A functional model's configuration needs a `layers` list, `input_layers` and "
                         f"`output_layers`; this one lacks {missing or ['a list of layers']}")
    created, pending = {}, {}
    for i, entry in enumerate(config["layers"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ValueError(f"Layer entry {i} of the configuration has no name: {str(entry)[:200]}")
        name = entry["name"]
        if name in created:
            raise ValueError(f"The configuration defines the layer {name!r} twice")
        nodes = entry.get("inbound_nodes", [])
        if not isinstance(nodes, list):
            raise ValueError(f"Layer {name!r}: inbound_nodes must be a list; got {str(nodes)[:200]}")
        created[name] = layers_module.deserialize(entry, custom_objects)
        pending[name] = list(nodes)
    # The outputs of each layer's calls made here, by call index: an Input's is made with it. (A
    # layer's own _inbound_nodes may also hold calls its traced call() made of it.)
    calls = {name: [layer.output] if type(layer).__name__ == "InputLayer" else [] for name, layer in created.items()}
    _replay(created, pending, calls)
    inputs = _tensors(config["input_layers"], calls, "input_layers")
    outputs = _tensors(config["output_layers"], calls, "output_layers")
    name = config.get("name")
    if name is not None and not isinstance(name, str):
        raise ValueError(f"A model's name must be a string; got {name!r}")
    return inputs, outputs, name, bool(config.get("trainable", True))


def _replay(created, pending, calls):
    """Calls each layer on its recorded inputs, in the order they become available (a layer
    shared at several depths waits for its inputs, as in Keras' functional_from_config)."""
    while any(pending.values()):
        progressed = False
        for name, queue in pending.items():
            while queue:
                found = _node_arguments(queue[0], calls, name)
                if found is None:
                    break  # an input it needs is not made yet
                arguments, kwargs = found
                calls[name].append(created[name](arguments, **kwargs))
                queue.pop(0)
                progressed = True
        if not progressed:
            waiting = {name: len(queue) for name, queue in pending.items() if queue}
            raise ValueError(f"Invalid functional model configuration: the graph has a cycle, or a call reads a "
                             f"call that is never made; these layers' calls cannot be resolved: {waiting}")


def _node_arguments(node, calls, name):
    """The inputs of one recorded call, as KerasTensors in their structure, and its keyword
    arguments; or None while a call they come from has not been replayed yet."""
    if isinstance(node, list):  # Keras 2: [["input_1", 0, 0, {}], ...]
        tensors, kwargs = [], {}
        for item in node:
            if not isinstance(item, list) or len(item) not in (3, 4):
                raise ValueError(f"Layer {name!r}: a Keras 2 inbound node entry is [layer, node, tensor, kwargs]; "
                                 f"got {str(item)[:200]}")
            kwargs = _checked_kwargs(item[3] if len(item) == 4 else {}, name)
            tensors.append(_tensor(item[:3], calls, f"layer {name!r}", waiting_ok=True))
        if not tensors:
            raise ValueError(f"Layer {name!r} has an inbound node with no inputs")
        if any(t is None for t in tensors):
            return None
        return (tensors[0] if len(tensors) == 1 else tensors), kwargs
    if not isinstance(node, dict) or not isinstance(node.get("args"), list):
        raise ValueError(f"Layer {name!r}: an inbound node is {{'args': [...], 'kwargs': {{}}}}; got {str(node)[:200]}")
    kwargs = _checked_kwargs(node.get("kwargs", {}), name)
    if len(node["args"]) != 1:
        raise ValueError(f"Layer {name!r}: fastdnn layers are called on one argument (a tensor or a list of "
                         f"tensors); this call has {len(node['args'])}")
    waiting = []

    def revive(value):
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            history = value.get("config", {}).get("keras_history") if isinstance(value.get("config"), dict) else None
            tensor = _tensor(history, calls, f"layer {name!r}", waiting_ok=True)
            if tensor is None:
                waiting.append(history)
            return tensor
        if isinstance(value, dict):
            return {key: revive(v) for key, v in value.items()}
        if isinstance(value, list):
            return [revive(v) for v in value]
        raise ValueError(f"Layer {name!r} is called on {str(value)[:100]}, which is not a tensor: fastdnn "
                         "replays calls on tensors only")

    arguments = revive(node["args"][0])
    return None if waiting else (arguments, kwargs)


def _checked_kwargs(kwargs, name):
    """The keyword arguments a call is replayed with: training=True/False only (None-valued ones,
    Keras' mask=None, are dropped)."""
    if not isinstance(kwargs, dict):
        raise ValueError(f"Layer {name!r}: a call's kwargs must be a dict; got {str(kwargs)[:200]}")
    kept = {key: value for key, value in kwargs.items() if value is not None}
    if set(kept) - {"training"} or not isinstance(kept.get("training", False), bool):
        raise ValueError(f"Layer {name!r}: fastdnn replays calls with training=True/False at most; the "
                         f"configuration gives the keyword arguments {str(kwargs)[:200]}")
    return kept


def _tensor(history, calls, reader, waiting_ok=False):
    """The tensor [layer name, node index, tensor index] names; None if that call is not replayed yet."""
    if (not isinstance(history, list) or len(history) != 3 or not isinstance(history[0], str)
            or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in history[1:])):
        raise ValueError(f"{reader} reads a malformed tensor reference {str(history)[:200]}: expected "
                         "[layer name, node index, tensor index]")
    layer_name, node_index, tensor_index = history
    if layer_name not in calls:
        raise ValueError(f"{reader} reads the layer {layer_name!r}, which the configuration does not define")
    if tensor_index != 0:
        raise ValueError(f"{reader} reads output {tensor_index} of layer {layer_name!r}: fastdnn layers have "
                         "one output")
    outputs = calls[layer_name]
    if node_index >= len(outputs):
        if waiting_ok:
            return None
        raise ValueError(f"{reader} reads call {node_index} of layer {layer_name!r}, which the configuration "
                         f"calls {len(outputs)} time(s)")
    return outputs[node_index]


def _tensors(structure, calls, what):
    """input_layers / output_layers: a leaf [name, node, tensor], or a list or dict of them."""
    if isinstance(structure, list) and len(structure) == 3 and isinstance(structure[0], str):
        return _tensor(structure, calls, what)
    if isinstance(structure, dict) and structure:
        return {key: _tensors(value, calls, what) for key, value in structure.items()}
    if isinstance(structure, list) and structure:
        return [_tensors(value, calls, what) for value in structure]
    raise ValueError(f"{what} must be a tensor reference [layer, node, tensor] or a list or dict of them; "
                     f"got {str(structure)[:200]}")


def is_functional_config(config):
    return isinstance(config, dict) and all(key in config for key in ("layers", "input_layers", "output_layers"))


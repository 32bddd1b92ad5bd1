"""A graph of layer calls turned into the engine's plan (csrc/engine: ops over slots).

Slots 0..k-1 are the model's inputs; op i writes slot k + i. Each node of the graph becomes its
layer's ops, the first reading the node's input slots, the others chained. A layer called a second
time (a shared layer) emits ops that share the first call's parameters ("shares"). A model used as
a layer is expanded in place. Layers with no op (Flatten, Reshape) pass their input slot on."""

# Keeps a shared random layer's calls apart: call n of it draws from seed + n * this.
_SEED_STRIDE = 7919


class Plan:
    def __init__(self, inputs):
        self.input_count = len(inputs)
        self.input_widths = [t.width for t in inputs]
        self.slots = {id(t): i for i, t in enumerate(inputs)}
        self.ops = []
        self.first_ops = {}  # id(layer) -> the op indices of its first call
        self.layers = []  # layers in the order their ops first run
        self.weights = []  # their variables, in the order the engine declares the parameters
        self.output_slots = []

    def slot_of(self, tensor):
        return self.slots[id(tensor)]

    def emit(self, node):
        layer = node.layer
        if not node.inputs:  # an InputLayer: its slot is set where the graph is entered
            return
        in_slots = [self.slot_of(t) for t in node.inputs]
        if node.subgraph is not None:  # a model used as a layer, or a custom layer's traced call()
            inputs, outputs, nodes = node.subgraph
            if len(outputs) != 1:
                raise NotImplementedError(f"fastdnn cannot yet use the model {layer.name!r}, which has "
                                          f"{len(outputs)} outputs, as a layer of another model")
            for t, s in zip(inputs, in_slots):
                self.slots[id(t)] = s
            for n in nodes:
                self.emit(n)
            self.slots[id(node.output)] = self.slot_of(outputs[0])
            return
        layer_ops = layer._ops()
        if not layer_ops:
            self.slots[id(node.output)] = in_slots[0]
            return
        first = self.first_ops.get(id(layer))
        indices = []
        for j, op in enumerate(layer_ops):
            op = dict(op)
            op["inputs"] = in_slots if j == 0 else [self.input_count + len(self.ops) - 1]
            if node.training is not None:
                op["training"] = bool(node.training)  # fixed by call(training=...), e.g. MC Dropout
            if first is not None:
                op["shares"] = first[j]
                if "seed" in op:
                    op["seed"] = (int(op["seed"]) + _SEED_STRIDE * node.index) % (1 << 62)
            indices.append(len(self.ops))
            self.ops.append(op)
        if first is None:
            self.first_ops[id(layer)] = indices
            self.layers.append(layer)
            # A traced layer's own ops bind its own weights; the layers its call() used bind theirs.
            self.weights += layer._builtin_weights if "_trace" in layer.__dict__ else layer.weights
        self.slots[id(node.output)] = self.input_count + len(self.ops) - 1

    def finish(self, outputs):
        """Slots of the outputs; an output that is a model input gets an identity op (a loss needs a
        slot the engine computes)."""
        for t in outputs:
            s = self.slot_of(t)
            if s < self.input_count:
                self.ops.append({"kind": "identity", "inputs": [s]})
                s = self.input_count + len(self.ops) - 1
            self.output_slots.append(s)
        return self


def build(inputs, outputs, nodes):
    """The plan of the graph from `inputs` to `outputs` (flat lists), `nodes` in topological order."""
    plan = Plan(inputs)
    for node in nodes:
        plan.emit(node)
    return plan.finish(outputs)

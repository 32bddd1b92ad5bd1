"""model.export(filepath, format="onnx"): the model's inference computation as an ONNX file.

The file is built from the engine plan (fastdnn._plan), the op dicts every layer already lowers
to, so whatever fastdnn can run it can export. The engine sees every tensor as (batch, features);
so does the ONNX graph between its inputs and outputs: each input of shape (batch, d1, d2, ...) is
flattened to (batch, d1·d2·...) on entry, and each output is reshaped to the model's output shape
on exit. Flatten and Reshape layers therefore cost nothing, as in the engine. The batch dimension
is the symbolic "batch"; the inputs are named as the model's (a Sequential without an Input layer:
"<model name>_input") and the outputs as model.output_names (one equal to an input's name, an input
passed straight through, gets _1: an ONNX value has one name).

Opset 17 (ONNX 1.12, 2022): it has LayerNormalization, and it is read by every current runtime
(onnxruntime >= 1.12, OpenVINO, TensorRT >= 8.5). GELU has no op before opset 20, so it is written
with Erf (or Tanh for the approximation). A later opset may be asked for with opset_version=.

Inference only: dropout and noise layers become Identity, BatchNormalization uses its moving
statistics, RReLU its mean slope (lower + upper)/2. A layer fixed in training mode by
call(training=True) (Monte Carlo dropout) computes something random: it is refused."""

import os

import numpy as np

DEFAULT_OPSET = 17

# Kinds whose output depends on the mode: fixed in training mode, they cannot be exported.
_MODE_DEPENDENT = {"dropout", "alpha_dropout", "gaussian_noise", "gaussian_dropout", "rrelu", "batch_normalization"}
_IDENTITY_KINDS = {"identity", "dropout", "alpha_dropout", "gaussian_noise", "gaussian_dropout",
                   "activity_regularization"}
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805  # Keras' constants


def _import_onnx():
    try:
        import onnx
    except ImportError as error:
        raise ImportError('Exporting to ONNX needs the onnx package: pip install "fastdnn[onnx]"') from error
    return onnx


def export(model, filepath, format="tf_saved_model", verbose=None, input_signature=None, **kwargs):
    """Model.export: writes `filepath` atomically (a temporary name, then a rename)."""
    if format != "onnx":
        raise ValueError(f"Unrecognized format={format!r}: fastdnn exports format='onnx' only (Keras' "
                         "'tf_saved_model', 'openvino', 'litert' and 'torch' need their frameworks)")
    if input_signature is not None:
        raise ValueError("fastdnn's ONNX export takes its input shapes from the model: input_signature must be "
                         f"None; got {input_signature!r}")
    opset = kwargs.pop("opset_version", None)
    if kwargs:
        raise TypeError(f"export() got unexpected keyword arguments: {sorted(kwargs)}")
    onnx = _import_onnx()
    opset = DEFAULT_OPSET if opset is None else opset
    if not isinstance(opset, int) or isinstance(opset, bool) or not 17 <= opset <= onnx.defs.onnx_opset_version():
        raise ValueError(f"opset_version must be an int from 17 to {onnx.defs.onnx_opset_version()} (what the "
                         f"installed onnx package knows); got {opset!r}")
    proto = build_model(model, opset)
    from fastdnn._atomic import atomic_write

    with atomic_write(filepath) as f:
        f.write(proto.SerializeToString())
    if verbose:
        print(f"Saved artifact at '{os.fspath(filepath)}'.")


def build_model(model, opset=DEFAULT_OPSET):
    """The onnx.ModelProto of `model` (built) at `opset`."""
    onnx = _import_onnx()
    from onnx import TensorProto, helper

    source = _Source(model)
    g = _GraphBuilder(opset)
    g._names.update(source.input_names)
    # Output names are reserved before any inner value is named; one that repeats an input's name
    # (an input passed through as an output) gets _1, as fastdnn tells apart two outputs of one layer.
    output_names = [g.name(name) for name in source.output_names]
    inputs = []
    for name, shape in zip(source.input_names, source.input_shapes):
        inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", *shape[1:]]))
        g.slots.append(g.flatten(name, shape))
        g.widths.append(int(np.prod(shape[1:], dtype=np.int64)))
    for index, (op, params) in enumerate(zip(source.ops, source.op_params)):
        g.slots.append(g.emit(op, params, index))
        g.widths.append(g.width_after(op))
    outputs = []
    for name, slot, shape in zip(output_names, source.output_slots, source.output_shapes):
        g.unflatten(g.slots[slot], name, shape)
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", *shape[1:]]))
    graph = helper.make_graph(g.nodes, model.name, inputs, outputs, g.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="fastdnn")
    proto.ir_version = min(proto.ir_version, 8) if opset <= 17 else proto.ir_version  # readable by older runtimes
    onnx.checker.check_model(proto)
    return proto


class _Source:
    """What the export reads off a model: its plan's ops, each op's parameter arrays, the slots of
    its outputs, and the names and shapes of its inputs and outputs."""

    def __init__(self, model):
        if not model.built:
            raise ValueError(f"The model {model.name!r} has not been built: build it (model.build(input_shape), or "
                             "call it on data) before exporting it")
        graph = getattr(model, "_graph", None)
        if graph is not None:  # functional or subclassed
            plan = graph.plan()
            self.input_names, self.input_shapes = graph.input_names, [t.shape for t in graph.inputs]
        elif model._uses_heads:  # a Sequential holding a model or a traced layer
            plan = model._stack_plan()
            self.input_names = [_sequential_input_name(model)]
            self.input_shapes = [model.input_shape]
        else:
            plan = None
            self.input_names = [_sequential_input_name(model)]
            self.input_shapes = [model.input_shape]
        self.output_names = list(model._output_names())
        self.output_shapes = [tuple(s) for s in model._output_shapes()]
        if plan is None:  # a plain stack: op i reads slot i (slot 0 is the input) and writes slot i + 1
            self.ops = [dict(op, inputs=[i]) for i, op in enumerate(model._engine_ops())]
            self.output_slots = [len(self.ops)]
        else:
            self.ops, self.output_slots = list(plan.ops), list(plan.output_slots)
        # Each op's parameters as the engine declares them (a shared call's are its owner's).
        params = {}
        for p in model._get_network().parameters():
            params.setdefault(p["op"], []).append(np.asarray(p["value"], dtype=np.float32))
        self.op_params = [params.get(op.get("shares", i), []) for i, op in enumerate(self.ops)]
        for index, op in enumerate(self.ops):
            if op.get("training") and op["kind"] in _MODE_DEPENDENT:
                raise ValueError(f"ONNX export is inference only, but op {index} ({op['kind']}) is fixed in training "
                                 "mode by call(training=True) (e.g. Monte Carlo dropout): its output is random. Build "
                                 "the model for export without training=True")


def _sequential_input_name(model):
    layer = model._input_layer
    return layer.name if layer is not None else f"{model.name}_input"


class _GraphBuilder:
    """ONNX nodes and initializers over (batch, features) values, one per engine slot."""

    def __init__(self, opset):
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.opset = opset
        self.nodes, self.initializers, self.slots, self.widths = [], [], [], []  # slot values and their widths
        self._names = set()

    def name(self, hint):
        candidate, i = hint, 1
        while candidate in self._names:
            candidate, i = f"{hint}_{i}", i + 1
        self._names.add(candidate)
        return candidate

    def const(self, value, hint, dtype=np.float32):
        name = self.name(hint)
        self.initializers.append(self.numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def node(self, op_type, inputs, hint, **attrs):
        out = self.name(hint)
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [out], name=self.name(f"{hint}/{op_type}"),
                                                **attrs))
        return out

    def flatten(self, name, shape):
        if len(shape) == 2:
            return name
        width = int(np.prod(shape[1:], dtype=np.int64))
        return self.node("Reshape", [name, self.const([0, width], f"{name}_flat_shape", np.int64)], f"{name}_flat")

    def unflatten(self, value, name, shape):
        if len(shape) == 2:
            self.nodes.append(self.helper.make_node("Identity", [value], [name], name=self.name(f"{name}/Identity")))
        else:
            target = self.const([0, *shape[1:]], f"{name}_shape", np.int64)
            self.nodes.append(self.helper.make_node("Reshape", [value, target], [name], name=self.name(f"{name}/Reshape")))

    def reduce_mean(self, x, hint):
        if self.opset >= 18:  # axes became an input in opset 18
            return self.node("ReduceMean", [x, self.const([-1], f"{hint}_axes", np.int64)], hint, keepdims=1)
        return self.node("ReduceMean", [x], hint, axes=[-1], keepdims=1)

    def width_after(self, op):
        if op["kind"] == "dense":
            return int(op["units"])
        if op["kind"] == "concatenate":
            return sum(self.widths[s] for s in op["inputs"])
        return self.widths[op["inputs"][0]]

    # --- ops ----------------------------------------------------------------------------------
    def emit(self, op, params, index):
        kind = op["kind"]
        xs = [self.slots[s] for s in op["inputs"]]
        hint = f"op{index}_{kind}"
        if kind in _IDENTITY_KINDS:
            return self.node("Identity", xs[:1], hint)
        method = getattr(self, f"_{kind}", None)
        if method is None:
            raise NotImplementedError(f"fastdnn cannot export the engine op {kind!r} to ONNX yet")
        return method(op, params, xs, hint)

    def _dense(self, op, params, xs, hint):
        kernel = self.const(params[0], f"{hint}_kernel")
        if len(params) == 1:
            return self.node("MatMul", [xs[0], kernel], hint)
        return self.node("Gemm", [xs[0], kernel, self.const(params[1], f"{hint}_bias")], hint)

    def _activation(self, op, params, xs, hint):
        return self.activation(op["activation"], op, xs[0], hint)

    def activation(self, name, op, x, hint):
        if name == "linear":
            return self.node("Identity", [x], hint)
        if name == "relu":
            return self._relu(x, float(op.get("negative_slope", 0.0)), float(op.get("threshold", 0.0)),
                              op.get("max_value"), hint)
        if name == "relu6":
            return self._relu(x, 0.0, 0.0, 6.0, hint)
        if name == "leaky_relu":
            return self.node("LeakyRelu", [x], hint, alpha=float(op.get("negative_slope", 0.2)))
        if name == "elu":
            return self.node("Elu", [x], hint, alpha=float(op.get("alpha", 1.0)))
        if name == "selu":
            return self.node("Selu", [x], hint, alpha=_SELU_ALPHA, gamma=_SELU_SCALE)
        if name == "softmax":
            return self.node("Softmax", [x], hint, axis=-1)
        if name == "silu":
            return self.node("Mul", [x, self.node("Sigmoid", [x], f"{hint}_sigmoid")], hint)
        if name == "gelu":
            return self._gelu(x, bool(op.get("approximate", False)), hint)
        if name == "hard_sigmoid":  # Keras 3: relu6(x + 3)/6 = max(0, min(1, x/6 + 1/2))
            return self.node("HardSigmoid", [x], hint, alpha=1.0 / 6.0, beta=0.5)
        if name == "hard_silu":  # ONNX HardSwish is x·max(0, min(1, x/6 + 1/2)): Keras' hard_silu
            return self.node("HardSwish", [x], hint)
        simple = {"sigmoid": "Sigmoid", "tanh": "Tanh", "softplus": "Softplus", "softsign": "Softsign",
                  "exponential": "Exp"}
        if name in simple:
            return self.node(simple[name], [x], hint)
        raise NotImplementedError(f"fastdnn cannot export the activation {name!r} to ONNX yet")

    def _relu(self, x, slope, threshold, max_value, hint):
        """Keras' relu: x > threshold ? min(max(x, 0), max_value) : slope·(x − threshold)."""
        clip_inputs = [x, self.const(0.0, f"{hint}_zero")]
        if max_value is not None:
            clip_inputs.append(self.const(float(max_value), f"{hint}_max"))
        if slope == 0.0 and threshold == 0.0:
            if max_value is None:
                return self.node("Relu", [x], hint)
            return self.node("Clip", clip_inputs, hint)
        above = self.node("Clip", clip_inputs, f"{hint}_clipped")
        t = self.const(threshold, f"{hint}_threshold")
        below = self.node("Mul", [self.node("Sub", [x, t], f"{hint}_shifted"), self.const(slope, f"{hint}_slope")],
                          f"{hint}_below")
        return self.node("Where", [self.node("Greater", [x, t], f"{hint}_above"), above, below], hint)

    def _gelu(self, x, approximate, hint):
        half_x = self.node("Mul", [x, self.const(0.5, f"{hint}_half")], f"{hint}_half_x")
        if approximate:  # 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
            cube = self.node("Mul", [x, self.node("Mul", [x, x], f"{hint}_square")], f"{hint}_cube")
            inner = self.node("Add", [x, self.node("Mul", [cube, self.const(0.044715, f"{hint}_c")], f"{hint}_cx3")],
                              f"{hint}_poly")
            t = self.node("Tanh", [self.node("Mul", [inner, self.const(np.sqrt(2 / np.pi), f"{hint}_k")],
                                             f"{hint}_scaled")], f"{hint}_tanh")
        else:  # 0.5·x·(1 + erf(x/√2))
            t = self.node("Erf", [self.node("Mul", [x, self.const(np.sqrt(0.5), f"{hint}_k")], f"{hint}_scaled")],
                          f"{hint}_erf")
        return self.node("Mul", [half_x, self.node("Add", [t, self.const(1.0, f"{hint}_one")], f"{hint}_1p")], hint)

    def _prelu(self, op, params, xs, hint):
        return self.node("PRelu", [xs[0], self.const(params[0], f"{hint}_alpha")], hint)

    def _rrelu(self, op, params, xs, hint):  # inference: the mean slope, as the engine
        return self.node("LeakyRelu", xs, hint, alpha=float(np.float32(0.5) * np.float32(op["lower"] + op["upper"])))

    def _batch_normalization(self, op, params, xs, hint):
        params = list(params)
        features = params[-1].shape
        gamma = params.pop(0) if op.get("scale", True) else np.ones(features, np.float32)
        beta = params.pop(0) if op.get("center", True) else np.zeros(features, np.float32)
        mean, variance = params
        names = [self.const(v, f"{hint}_{n}") for v, n in
                 [(gamma, "gamma"), (beta, "beta"), (mean, "moving_mean"), (variance, "moving_variance")]]
        return self.node("BatchNormalization", [xs[0], *names], hint, epsilon=float(op.get("epsilon", 1e-3)))

    def _layer_normalization(self, op, params, xs, hint):
        epsilon = float(op.get("epsilon", 1e-3))
        if op.get("rms_scaling", False):
            # Keras 3's rms_scaling (deprecated there): x/√(var(x) + ε)·γ, the variance, not the mean square.
            mean = self.reduce_mean(xs[0], f"{hint}_mean")
            centered = self.node("Sub", [xs[0], mean], f"{hint}_centered")
            variance = self.reduce_mean(self.node("Mul", [centered, centered], f"{hint}_square"), f"{hint}_variance")
            std = self.node("Sqrt", [self.node("Add", [variance, self.const(epsilon, f"{hint}_epsilon")],
                                               f"{hint}_plus_eps")], f"{hint}_std")
            return self.node("Mul", [self.node("Div", [xs[0], std], f"{hint}_scaled"),
                                     self.const(params[0], f"{hint}_gamma")], hint)
        params, width = list(params), self.widths[op["inputs"][0]]
        gamma = params.pop(0) if op.get("scale", True) else np.ones(width, np.float32)
        beta = params.pop(0) if op.get("center", True) else np.zeros(width, np.float32)
        return self.node("LayerNormalization", [xs[0], self.const(gamma, f"{hint}_gamma"),
                                                self.const(beta, f"{hint}_beta")], hint, axis=-1, epsilon=epsilon)

    def _normalization(self, op, params, xs, hint):
        if "mean" in op:
            mean, variance = np.asarray(op["mean"], np.float32), np.asarray(op["variance"], np.float32)
        else:
            mean, variance = params[0], params[1]
        epsilon = np.float32(op.get("epsilon", 1e-7))
        denominator = np.maximum(np.sqrt(variance.astype(np.float32)), epsilon)  # as the engine: max(√var, ε)
        m, d = self.const(mean.reshape(-1), f"{hint}_mean"), self.const(denominator.reshape(-1), f"{hint}_denominator")
        if op.get("invert", False):
            return self.node("Add", [self.node("Mul", [xs[0], d], f"{hint}_scaled"), m], hint)
        return self.node("Div", [self.node("Sub", [xs[0], m], f"{hint}_centered"), d], hint)

    def _rescaling(self, op, params, xs, hint):
        scaled = self.node("Mul", [xs[0], self.const(op["scale"], f"{hint}_scale")], f"{hint}_scaled")
        return self.node("Add", [scaled, self.const(op["offset"], f"{hint}_offset")], hint)

    def _concatenate(self, op, params, xs, hint):
        blocks = int(op.get("blocks", 1))
        if blocks == 1:
            return self.node("Concat", xs, hint, axis=1)
        # Joining along an inner axis: each input as (batch, blocks, rest), joined on the last axis.
        shape = self.const([0, blocks, -1], f"{hint}_blocks_shape", np.int64)
        parts = [self.node("Reshape", [x, shape], f"{hint}_part") for x in xs]
        joined = self.node("Concat", parts, f"{hint}_joined", axis=2)
        return self.node("Reshape", [joined, self.const([0, -1], f"{hint}_flat_shape", np.int64)], hint)

    def _add(self, op, params, xs, hint):
        return self.node("Sum", xs, hint)

    def _subtract(self, op, params, xs, hint):
        return self.node("Sub", xs, hint)

    def _multiply(self, op, params, xs, hint):
        product = xs[0]
        for x in xs[1:]:
            product = self.node("Mul", [product, x], hint)
        return product if len(xs) > 1 else self.node("Identity", xs, hint)

    def _average(self, op, params, xs, hint):
        return self.node("Mean", xs, hint)

    def _maximum(self, op, params, xs, hint):
        return self.node("Max", xs, hint)

    def _minimum(self, op, params, xs, hint):
        return self.node("Min", xs, hint)

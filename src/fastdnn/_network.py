"""The bridge from layers to the C++ engine: op lists, networks, weight binding."""

import numpy as np

from fastdnn import _core
from fastdnn.layers.base import require_engine_layer

# What a network is built with before compile() says otherwise (inference needs neither).
PLACEHOLDER_LOSS = {"kind": "mean_squared_error"}
PLACEHOLDER_OPTIMIZER = {"kind": "sgd"}


def input_width(input_shape):
    """Features per sample of a (None, ...) shape: the engine sees (batch, features)."""
    return int(np.prod(input_shape[1:], dtype=np.int64))


def create(layers, input_shape, loss=None, optimizer=None, bind=True):
    """A _core.Network running `layers`, with their current weights copied in.

    With bind=True the layers' variables become views of the network's memory
    (training then updates them in place); otherwise they keep their own arrays.
    """
    for layer in layers:
        require_engine_layer(layer)
    ops = [op for layer in layers for op in layer._ops()]
    if not ops:
        ops = [{"kind": "activation", "activation": "linear"}]
    net = _core.Network(input_width(input_shape), ops, loss or PLACEHOLDER_LOSS, optimizer or PLACEHOLDER_OPTIMIZER)
    _attach([w for layer in layers for w in layer.weights], net, bind)
    return net


def create_from_plan(plan, losses=None, loss_weights=None, optimizer=None, bind=True):
    """A _core.Network running a graph's plan (fastdnn._plan), one head per output: losses[h] (an
    engine loss spec, or None for an output without loss) weighted by loss_weights[h]. Without
    losses (inference, or before compile) no output has a loss."""
    heads = [{"slot": slot, "loss": None if losses is None else losses[h],
              "weight": 1.0 if loss_weights is None else float(loss_weights[h])}
             for h, slot in enumerate(plan.output_slots)]
    ops = plan.ops or [{"kind": "identity", "inputs": [0]}]
    net = _core.Network(plan.input_widths, ops, heads, optimizer or PLACEHOLDER_OPTIMIZER)
    _attach(plan.weights, net, bind)
    return net


def _attach(variables, net, bind):
    """The layers' variables and the network's parameters, in declaration order: with bind=True the
    variables become views of the network's memory, otherwise their values are copied in."""
    params = net.parameters()
    if len(params) != len(variables):  # a layer's _ops and _weight_specs disagree: a fastdnn bug
        raise AssertionError(f"engine has {len(params)} parameters, layers declare {len(variables)}")
    for variable, param in zip(variables, params):
        if variable.shape == () and param["value"].shape == (1,):  # a scalar weight (Normalization's count)
            param = {**param, "value": param["value"].reshape(())}
        if param["value"].shape != variable.shape:
            raise AssertionError(f"{variable.path}: engine shape {param['value'].shape} vs {variable.shape}")
        if bind:
            variable._bind(param["value"])
        else:
            param["value"][...] = variable.value


def forward(net, x, training=False, draws=None):
    """net's outputs for the (rows, features) float32 batch x (or list of them), in one batch: in
    inference mode (`draws`: predict's random_stream argument, for layers fixed in training mode), or
    in training mode with nothing updated and fresh random draws from the global generator."""
    rows = len(x[0]) if isinstance(x, list) else len(x)
    if not training:
        return net.predict(x, rows, **(draws or {}))
    from fastdnn import _random

    return net.predict(x, rows, training=True, random_stream=_random.draw_seed())


def run_layers(layers, x, training=False):
    """`layers` applied to a NumPy batch (see forward), without binding their weights."""
    net = create(layers, (None, *x.shape[1:]), bind=False)
    flat = np.ascontiguousarray(x.reshape(len(x), -1), dtype=np.float32)
    out = forward(net, flat, training)
    shape = (None, *x.shape[1:])
    for layer in layers:
        shape = layer.compute_output_shape(shape)
    return out.reshape((len(x), *shape[1:]))


def copy_optimizer_state(old, new):
    """Carry the optimizer's state over to a rebuilt network with the same parameters."""
    old_slots, new_slots = old.optimizer_slots(), new.optimizer_slots()
    if list(old_slots) != list(new_slots):
        return False
    for name in old_slots:
        if [a.shape for a in old_slots[name]] != [b.shape for b in new_slots[name]]:
            return False
    for name in old_slots:
        for a, b in zip(old_slots[name], new_slots[name]):
            b[...] = a
    new.iterations = old.iterations
    new.u_product = old.u_product
    return True


def restore_optimizer_state(net, slots, iterations, u_product):
    """Optimizer state read from a file into a network built for it."""
    mine = net.optimizer_slots()
    if list(mine) != list(slots) or any(
            [a.shape for a in mine[name]] != [b.shape for b in slots[name]] for name in mine):
        raise ValueError("the saved optimizer state does not fit this model's optimizer")
    for name in mine:
        for a, b in zip(mine[name], slots[name]):
            a[...] = b
    net.iterations = iterations
    net.u_product = u_product

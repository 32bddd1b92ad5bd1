"""The PyTorch half: the same network as an nn.Sequential, trained by the loop a PyTorch user
writes (a fresh permutation per epoch, batches gathered by index_select, fused SGD/Adam, the
softmax folded into CrossEntropyLoss, BatchNorm's momentum converted from Keras' convention).
Nothing here is slowed on purpose; imported only once the benchmark wants PyTorch."""

import torch

from fastdnn_side import count_subnormals
from workloads import CLASSES, FEATURES

ACTIVATIONS = {"relu": torch.nn.ReLU, "elu": torch.nn.ELU, "selu": torch.nn.SELU}


def build(layers, optimizer):
    nn = torch.nn
    modules, width = [], FEATURES
    for index, layer in enumerate(layers):
        kind = layer[0]
        if kind == "dense":
            linear = nn.Linear(width, layer[1])
            _init_like_keras(linear, layer[3])
            modules.append(linear)
            width = layer[1]
            if layer[2] == "softmax":
                assert index == len(layers) - 1, "softmax only on the output layer (folded into the loss)"
            elif layer[2] is not None:
                modules.append(ACTIVATIONS[layer[2]]())
        elif kind == "bn":  # Keras: moving = m*moving + (1-m)*batch; torch's momentum is the (1-m)
            modules.append(nn.BatchNorm1d(width, eps=1e-3, momentum=1.0 - layer[1]))
        elif kind == "act":
            modules.append(ACTIVATIONS[layer[1]]())
        elif kind == "dropout":
            modules.append(nn.Dropout(layer[1]))
        elif kind == "alpha_dropout":
            modules.append(nn.AlphaDropout(layer[1]))
    model = nn.Sequential(*modules)
    name, rate = optimizer
    if name == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=rate, fused=True)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=rate, eps=1e-7, fused=True)  # Keras' epsilon
    return model, opt


def _init_like_keras(linear, initializer):
    init = torch.nn.init
    if initializer == "glorot_uniform":
        init.xavier_uniform_(linear.weight)
    elif initializer == "he_normal":
        init.kaiming_normal_(linear.weight, nonlinearity="relu")
    elif initializer == "lecun_normal":
        init.kaiming_normal_(linear.weight, nonlinearity="linear")
    init.zeros_(linear.bias)


def tensors(x, y):
    """The benchmark's NumPy arrays as a PyTorch user holds them: x shared (no copy), the labels
    as int64 once, before any timing (CrossEntropyLoss takes int64 class indices)."""
    return inputs(x), torch.from_numpy(y).long()


def inputs(x):
    return torch.from_numpy(x)


def training(model, opt, x, y, batch):
    """run(start, n): one epoch over rows [start, start + n), minibatches of a fresh permutation."""
    loss_fn = torch.nn.CrossEntropyLoss()

    def run(start, n):
        model.train()
        xs, ys = x[start:start + n], y[start:start + n]
        order = torch.randperm(n)
        for first in range(0, n, batch):
            idx = order[first:first + batch]
            xb, yb = xs.index_select(0, idx), ys.index_select(0, idx)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
    return run


def inference(model, x, batch):
    def run(start, n):
        model.eval()
        with torch.inference_mode():
            out = torch.empty(n, CLASSES)
            for first in range(0, n, batch):
                out[first:first + batch] = model(x[start + first:start + min(first + batch, n)])
        return out
    return run


def set_threads(n):
    torch.set_num_threads(n)
    if torch.get_num_threads() != n:
        raise RuntimeError(f"torch.set_num_threads({n}) left torch.get_num_threads() = {torch.get_num_threads()}")


def subnormals(model, opt):
    """(subnormal values, all values) in the weights and the optimizer state."""
    state = [p.detach().numpy() for p in model.parameters()]
    state += [v.numpy() for per_param in opt.state.values() for v in per_param.values()
              if torch.is_tensor(v) and v.dtype == torch.float32 and v.dim() > 0]
    return count_subnormals(state)


def seed(value):
    torch.manual_seed(value)

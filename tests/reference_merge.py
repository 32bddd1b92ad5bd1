"""Plain NumPy float64 references of Keras' merging layers (keras.layers.Add, Subtract,
Multiply, Average, Maximum, Minimum, Concatenate) and their gradients.

Written from the layers' definitions (keras/src/layers/merging/*.py: Add sums the inputs,
Average divides that sum by their count, Concatenate joins along the last axis), never from
csrc/. The gradients of maximum/minimum follow TF: the whole gradient goes to the first
input holding the extreme value.
"""

import numpy as np


def f64(a):
    return np.asarray(a, dtype=np.float64)


def merge_forward(kind, xs, blocks=1):
    xs = [f64(x) for x in xs]
    if kind == "concatenate":
        rows = xs[0].shape[0]
        parts = [x.reshape(rows, blocks, x.shape[1] // blocks) for x in xs]
        return np.concatenate(parts, axis=-1).reshape(rows, -1)
    if kind == "add":
        return np.sum(xs, axis=0)
    if kind == "average":
        return np.sum(xs, axis=0) / len(xs)
    if kind == "subtract":
        return xs[0] - xs[1]
    if kind == "multiply":
        return np.prod(xs, axis=0)
    if kind == "maximum":
        return np.max(xs, axis=0)
    if kind == "minimum":
        return np.min(xs, axis=0)
    raise ValueError(kind)


def merge_backward(kind, dy, xs, blocks=1):
    """[∂L/∂x_k] given dy = ∂L/∂y."""
    dy = f64(dy)
    xs = [f64(x) for x in xs]
    n = len(xs)
    if kind == "concatenate":
        rows = dy.shape[0]
        parts = [x.shape[1] // blocks for x in xs]
        grid = dy.reshape(rows, blocks, sum(parts))
        bounds = np.cumsum([0] + parts)
        return [grid[:, :, bounds[k]:bounds[k + 1]].reshape(rows, -1) for k in range(n)]
    if kind == "add":
        return [dy.copy() for _ in xs]
    if kind == "average":
        return [dy / n for _ in xs]
    if kind == "subtract":
        return [dy.copy(), -dy]
    if kind == "multiply":
        return [dy * np.prod([xs[j] for j in range(n) if j != k], axis=0) for k in range(n)]
    if kind in ("maximum", "minimum"):
        stacked = np.stack(xs)
        winner = np.argmax(stacked, axis=0) if kind == "maximum" else np.argmin(stacked, axis=0)
        return [np.where(winner == k, dy, 0.0) for k in range(n)]
    raise ValueError(kind)

"""Plain NumPy float64 references for Keras' weight constraints, written from the formulas of
keras/src/constraints/constraints.py (ν: the L2 norm over `axis`, kept as a broadcastable
dimension; ε = 1e-7, Keras' backend.epsilon())."""

import numpy as np

EPSILON = 1e-7


def norms(w, axis):
    w = np.asarray(w, dtype=np.float64)
    return np.sqrt(np.sum(w * w, axis=axis, keepdims=True))


def max_norm(w, max_value=2.0, axis=0):
    """w · clip(ν, 0, max_value) / (ε + ν)"""
    v = norms(w, axis)
    return np.asarray(w, dtype=np.float64) * (np.clip(v, 0.0, max_value) / (EPSILON + v))


def non_neg(w):
    """max(w, 0)"""
    return np.maximum(np.asarray(w, dtype=np.float64), 0.0)


def unit_norm(w, axis=0):
    """w / (ε + ν)"""
    return np.asarray(w, dtype=np.float64) / (EPSILON + norms(w, axis))


def min_max_norm(w, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
    """w · (rate·clip(ν, min, max) + (1 − rate)·ν) / (ε + ν)"""
    v = norms(w, axis)
    desired = rate * np.clip(v, min_value, max_value) + (1.0 - rate) * v
    return np.asarray(w, dtype=np.float64) * (desired / (EPSILON + v))

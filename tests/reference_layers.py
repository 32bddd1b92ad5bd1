"""Plain NumPy float64 references for Normalization, Rescaling, GaussianNoise, GaussianDropout,
ActivityRegularization and LayerNormalization.

Written from Keras 3's definitions (keras/src/layers/preprocessing/normalization.py and
rescaling.py, regularization/gaussian_*.py and activity_regularization.py, ops/nn.py's
layer_normalization; layer.py divides an activity penalty by the batch size), never from csrc/.
Backward passes are derived by hand from those formulas; the tests also check them by finite
differences of the forward functions here.
"""

import numpy as np

EPSILON = 1e-7  # keras.backend.epsilon()


def f64(a):
    return np.asarray(a, dtype=np.float64)


# --- Normalization -------------------------------------------------------------------------

def normalization_forward(x, mean, variance, epsilon=EPSILON, invert=False):
    """y = (x − mean)/max(√variance, ε); invert: y = mean + x·max(√variance, ε)."""
    x, mean = f64(x), f64(mean)
    d = np.maximum(np.sqrt(f64(variance)), epsilon)
    return mean + x * d if invert else (x - mean) / d


def normalization_backward(dy, variance, epsilon=EPSILON, invert=False):
    """dx = dy/d (invert: dy·d), d = max(√variance, ε)."""
    d = np.maximum(np.sqrt(f64(variance)), epsilon)
    return f64(dy) * d if invert else f64(dy) / d


def adapt_statistics(data):
    """Keras' adapt on a NumPy array: mean and population variance over the samples."""
    data = f64(data)
    mean = data.sum(axis=0) / len(data)
    return mean, ((data - mean) ** 2).sum(axis=0) / len(data)


# --- Rescaling -----------------------------------------------------------------------------

def rescaling_forward(x, scale, offset):
    return f64(x) * f64(scale) + f64(offset)


def rescaling_backward(dy, scale):
    return f64(dy) * f64(scale)


# --- GaussianNoise / GaussianDropout ------------------------------------------------------

def gaussian_dropout_stddev(rate):
    """The multiplicative noise's standard deviation: √(rate/(1 − rate)) (its mean is 1)."""
    return np.sqrt(rate / (1.0 - rate))


# --- ActivityRegularization ----------------------------------------------------------------

def activity_penalty(x, l1=0.0, l2=0.0):
    """l1·Σ|x| + l2·Σx² (Keras' L1L2 regularizer on the layer's output, which is its input)."""
    x = f64(x)
    return l1 * np.abs(x).sum() + l2 * (x * x).sum()


def activity_regularization_backward(dy, x, l1=0.0, l2=0.0, scale=1.0):
    """dx = dy + scale·(l1·sign(x) + 2·l2·x)."""
    x = f64(x)
    return f64(dy) + scale * (l1 * np.sign(x) + 2.0 * l2 * x)


# --- LayerNormalization --------------------------------------------------------------------

def layernorm_forward(x, gamma=None, beta=None, epsilon=1e-3, rms_scaling=False):
    """Per row: μ, σ² (biased), s = 1/√(σ² + ε); x̂ = (x − μ)·s (rms_scaling: x·s);
    y = γ·x̂ + β. Returns (y, x̂, μ, s)."""
    x = f64(x)
    mean = x.mean(axis=1)
    var = ((x - mean[:, None]) ** 2).mean(axis=1)
    s = 1.0 / np.sqrt(var + epsilon)
    xhat = (x if rms_scaling else x - mean[:, None]) * s[:, None]
    y = xhat * (1.0 if gamma is None else f64(gamma)) + (0.0 if beta is None else f64(beta))
    return y, xhat, mean, s


def layernorm_backward(dy, x, gamma=None, epsilon=1e-3, rms_scaling=False):
    """(dx, dγ, dβ) of layernorm_forward, from its own formulas:
    with g = γ·dy and c = (x − μ)·s, ds/dx_j = −s³(x_j − μ)/C, so
      standard: dx = s·(g − mean(g) − c·mean(g·c))
      rms:      dx = s·(g − c·mean(g·x̂))      (x̂ = x·s: no mean is subtracted)
    dγ = Σ_rows dy·x̂, dβ = Σ_rows dy."""
    dy = f64(dy)
    _, xhat, mean, s = layernorm_forward(x, gamma, None, epsilon, rms_scaling)
    g = dy * (1.0 if gamma is None else f64(gamma))
    c = (f64(x) - mean[:, None]) * s[:, None]
    if rms_scaling:
        dx = s[:, None] * (g - c * (g * xhat).mean(axis=1, keepdims=True))
    else:
        dx = s[:, None] * (g - g.mean(axis=1, keepdims=True) - c * (g * c).mean(axis=1, keepdims=True))
    return dx, (dy * xhat).sum(axis=0), dy.sum(axis=0)

"""Float64 references for Keras 3's other losses (keras/src/losses/losses.py) and for
sample_weight's reduction, written from the formulas (not from the C++).

Each per-row function returns (L (B,), dL_r/dp (B, C)): the loss of each row and its gradient
with respect to that row's predictions. `loss` reduces as Keras' "sum_over_batch_size" with
sample weights (keras/src/losses/loss.py reduce_weighted_values): Σ_r w_r·L_r / B, the number of
rows, not Σw. At kinks and clips the gradient is the one torch's autograd takes: clip passes the
gradient on the closed interval, |x| has gradient 0 at 0.
"""

import numpy as np

import reference as ref

EPSILON = 1e-7  # keras.backend.epsilon()


def f64(a):
    return np.asarray(a, dtype=np.float64)


def huber(y, p, delta=1.0):
    """e = p − y; mean_last(|e| ≤ δ ? e²/2 : δ|e| − δ²/2)."""
    e = p - y
    small = np.abs(e) <= delta
    per = np.where(small, 0.5 * e**2, delta * np.abs(e) - 0.5 * delta**2)
    grad = np.where(small, e, delta * np.sign(e))
    return per.mean(axis=-1), grad / p.shape[-1]


def log_cosh(y, p):
    """mean_last log(cosh(p − y)), evaluated as Keras does: e + softplus(−2e) − log 2."""
    e = p - y
    per = e + np.logaddexp(0.0, -2.0 * e) - np.log(2.0)
    return per.mean(axis=-1), np.tanh(e) / p.shape[-1]


def kl_divergence(y, p):
    """Σ_last ŷ·log(ŷ/p̂) with ŷ, p̂ clipped to [ε, 1] (a sum over the last axis, not a mean)."""
    yc, pc = np.clip(y, EPSILON, 1.0), np.clip(p, EPSILON, 1.0)
    inside = (p >= EPSILON) & (p <= 1.0)
    return (yc * np.log(yc / pc)).sum(axis=-1), np.where(inside, -yc / pc, 0.0)


def poisson(y, p):
    """mean_last (p − y·log(p + ε))."""
    return (p - y * np.log(p + EPSILON)).mean(axis=-1), (1.0 - y / (p + EPSILON)) / p.shape[-1]


def _hinge_labels(y):
    """Keras' convert_binary_labels_to_hinge: all of y in {0, 1} (the whole batch) -> 2y − 1."""
    return 2.0 * y - 1.0 if np.all((y == 0) | (y == 1)) else y


def hinge(y, p):
    """mean_last max(1 − t·p, 0)."""
    t = _hinge_labels(y)
    margin = 1.0 - t * p
    return np.maximum(margin, 0.0).mean(axis=-1), np.where(margin > 0, -t, 0.0) / p.shape[-1]


def squared_hinge(y, p):
    """mean_last max(1 − t·p, 0)²."""
    t = _hinge_labels(y)
    m = np.maximum(1.0 - t * p, 0.0)
    return (m**2).mean(axis=-1), -2.0 * t * m / p.shape[-1]


def mean_absolute_percentage_error(y, p):
    """100·mean_last |y − p| / max(|y|, ε)."""
    d = np.maximum(np.abs(y), EPSILON)
    return 100.0 * (np.abs(y - p) / d).mean(axis=-1), 100.0 * np.sign(p - y) / d / p.shape[-1]


def mean_squared_logarithmic_error(y, p):
    """mean_last (log(max(p, ε) + 1) − log(max(y, ε) + 1))²."""
    d = np.log(np.maximum(p, EPSILON) + 1.0) - np.log(np.maximum(y, EPSILON) + 1.0)
    return (d**2).mean(axis=-1), np.where(p > EPSILON, 2.0 * d / (p + 1.0), 0.0) / p.shape[-1]


def _l2_normalize(x):
    """Keras' ops.normalize: x·min(1/‖x‖, 1/ε); and whether the minimum picked 1/ε."""
    with np.errstate(divide="ignore"):
        inv = 1.0 / np.sqrt((x**2).sum(axis=-1, keepdims=True))
    clipped = inv > 1.0 / EPSILON
    inv = np.where(clipped, 1.0 / EPSILON, inv)
    return x * inv, inv, clipped


def cosine_similarity(y, p):
    """−Σ_last n(y)·n(p), n the normalization above."""
    ny, _, _ = _l2_normalize(y)
    np_, inv_p, clipped = _l2_normalize(p)
    dot = (ny * np_).sum(axis=-1, keepdims=True)
    # d n(p)/dp = (I − n nᵀ)/‖p‖ where 1/‖p‖ is used, else I/ε
    grad = np.where(clipped, -ny * inv_p, -(ny - np_ * dot) * inv_p)
    return -dot[:, 0], grad


PER_ROW = {
    "huber": huber,
    "log_cosh": log_cosh,
    "kl_divergence": kl_divergence,
    "poisson": poisson,
    "hinge": hinge,
    "squared_hinge": squared_hinge,
    "mean_absolute_percentage_error": mean_absolute_percentage_error,
    "mean_squared_logarithmic_error": mean_squared_logarithmic_error,
    "cosine_similarity": cosine_similarity,
}


def _per_row_existing(name, y_true, y_pred, from_logits):
    """Row losses and gradients of reference.py's losses, from their means over one row."""
    losses, grads = [], []
    for r in range(len(y_pred)):
        value, grad = ref.loss(name, y_true[r:r + 1], y_pred[r:r + 1], from_logits)
        losses.append(value)
        grads.append(grad[0])
    return np.array(losses), np.array(grads)


def loss(name, y_true, y_pred, sample_weight=None, from_logits=False, delta=1.0):
    """(Σ_r w_r·L_r / B, its gradient w.r.t. y_pred) for a named Keras loss; w = 1 without weights.
    Hinge's label conversion looks at the whole batch, as Keras' does per batch."""
    p = f64(y_pred)
    if name in PER_ROW:
        y = f64(y_true)
        per, grad = PER_ROW[name](y, p, delta) if name == "huber" else PER_ROW[name](y, p)
    else:
        y = np.asarray(y_true) if name == "sparse_categorical_crossentropy" else f64(y_true)
        per, grad = _per_row_existing(name, y, p, from_logits)
    b = len(p)
    w = np.ones(b) if sample_weight is None else f64(sample_weight).reshape(b)
    return float((w * per).sum() / b), w[:, None] * grad / b

"""Plain NumPy float64 reference implementations of fastdnn's kernels.

Written from the formulas in /work/shared/reference/keras-semantics.md (Keras 3 semantics) and the
kernel specification, never from csrc/. Every function works in float64 on whatever it is given;
the tests pass it the float32-rounded inputs the kernel saw, so the only difference left between
kernel and reference is the kernel's float32 arithmetic.
"""

import math

import numpy as np

F64 = np.float64

# Keras' SELU constants (keras-semantics.md 2.2 / 2.3).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
EPSILON = 1e-7  # keras.backend.epsilon()


def f64(a):
    """The argument as a float64 array (no copy if already float64)."""
    return np.asarray(a, dtype=F64)


# --------------------------------------------------------------------------------------------
# matmul / dense
# --------------------------------------------------------------------------------------------


def matmul(a, b, transpose_a=False, transpose_b=False):
    """C = op(a)·op(b), op(m) = mᵀ if the flag is set else m."""
    a, b = f64(a), f64(b)
    return (a.T if transpose_a else a) @ (b.T if transpose_b else b)


def dense_forward(x, kernel, bias=None):
    """y = x·W + b (W has shape (in, out), as in Keras)."""
    y = f64(x) @ f64(kernel)
    return y if bias is None else y + f64(bias)


def dense_backward(x, kernel, dy, use_bias=True):
    """dx = dy·Wᵀ, dW = xᵀ·dy, db = Σ_rows dy (None without bias)."""
    x, kernel, dy = f64(x), f64(kernel), f64(dy)
    return dy @ kernel.T, x.T @ dy, (dy.sum(axis=0) if use_bias else None)


# --------------------------------------------------------------------------------------------
# batch normalisation
# --------------------------------------------------------------------------------------------


def batchnorm_forward_train(x, gamma=None, beta=None, epsilon=1e-3):
    """μ = mean(x), σ² = mean((x−μ)²) (biased), x̂ = (x−μ)/√(σ²+ε), y = γ·x̂ + β."""
    x = f64(x)
    mean = x.mean(axis=0)
    var = ((x - mean) ** 2).mean(axis=0)
    inv_std = 1.0 / np.sqrt(var + epsilon)
    xhat = (x - mean) * inv_std
    y = xhat * (1.0 if gamma is None else f64(gamma)) + (0.0 if beta is None else f64(beta))
    return y, xhat, mean, var, inv_std


def batchnorm_update_moving(moving_mean, moving_variance, mean, var, momentum=0.99):
    """moving ← moving·momentum + batch·(1 − momentum) (Keras convention) for mean and variance."""
    mm, mv, mean, var = f64(moving_mean), f64(moving_variance), f64(mean), f64(var)
    return mm * momentum + mean * (1 - momentum), mv * momentum + var * (1 - momentum)


def batchnorm_forward_infer(x, gamma, beta, moving_mean, moving_variance, epsilon=1e-3):
    """y = (x − m)·γ/√(v + ε) + β with the moving statistics (γ=1, β=0 when None)."""
    g = 1.0 if gamma is None else f64(gamma)
    b = 0.0 if beta is None else f64(beta)
    return (f64(x) - f64(moving_mean)) * g / np.sqrt(f64(moving_variance) + epsilon) + b


def batchnorm_backward(dy, xhat, inv_std, gamma=None):
    """dx = γ·s/N·(N·dy − Σdy − x̂·Σ(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy (s = 1/√(σ²+ε), sums over rows)."""
    dy, xhat, inv_std = f64(dy), f64(xhat), f64(inv_std)
    g = 1.0 if gamma is None else f64(gamma)
    n = dy.shape[0]
    dbeta = dy.sum(axis=0)
    dgamma = (dy * xhat).sum(axis=0)
    dx = g * inv_std / n * (n * dy - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


# --------------------------------------------------------------------------------------------
# activations: forward f(x, **params) and derivative f'(x, **params); backward = dy·f'(x)
# --------------------------------------------------------------------------------------------

_erf = np.frompyfunc(math.erf, 1, 1)


def erf(x):
    """Elementwise math.erf (NumPy has none)."""
    return _erf(f64(x)).astype(F64)


def sigmoid(x):
    """σ(x) = 1/(1+e^{−x}), evaluated in the overflow-free split form."""
    x = f64(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """y = x if x > θ (clipped to [0, max_value] if given) else slope·(x − θ) (Keras ReLU)."""
    x = f64(x)
    pos = x if max_value is None else np.clip(x, 0.0, max_value)
    return np.where(x > threshold, pos, negative_slope * (x - threshold))


def relu_grad(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """f'(x) = 1 on the linear part above θ (0 where clipped), slope below θ."""
    x = f64(x)
    pos = np.ones_like(x) if max_value is None else ((x > 0) & (x < max_value)).astype(F64)
    return np.where(x > threshold, pos, negative_slope)


def softmax(x):
    """Row-wise e^{x−max}/Σ e^{x−max}."""
    x = f64(x)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(x):
    """Row-wise x − max − log Σ e^{x−max}."""
    x = f64(x)
    z = x - x.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def softmax_backward(y, dy):
    """Jacobian-vector product of softmax: dx = y·(dy − Σ_row dy·y)."""
    y, dy = f64(y), f64(dy)
    return y * (dy - (dy * y).sum(axis=-1, keepdims=True))


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def linear(x):
    """f(x) = x."""
    return f64(x).copy()


def linear_grad(x):
    """f′(x) = 1."""
    return np.ones_like(f64(x))


def leaky_relu(x, negative_slope=0.2):
    """f(x) = x if x > 0 else slope·x (activations.leaky_relu default slope 0.2)."""
    x = f64(x)
    return np.where(x > 0, x, negative_slope * x)


def leaky_relu_grad(x, negative_slope=0.2):
    """f′(x) = 1 if x > 0 else slope."""
    return np.where(f64(x) > 0, 1.0, negative_slope)


def relu6(x):
    """f(x) = min(max(x, 0), 6)."""
    return np.clip(f64(x), 0.0, 6.0)


def relu6_grad(x):
    """f′(x) = 1 on (0, 6), else 0."""
    x = f64(x)
    return ((x > 0) & (x < 6)).astype(F64)


def elu(x, alpha=1.0):
    """f(x) = x if x > 0 else α·(eˣ − 1) (expm1)."""
    x = f64(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def elu_grad(x, alpha=1.0):
    """f′(x) = 1 if x > 0 else α·eˣ (= y + α)."""
    x = f64(x)
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


def selu(x):
    """f(x) = λ·elu(x, α) with Keras' λ ≈ 1.0507, α ≈ 1.6733."""
    return SELU_SCALE * elu(x, SELU_ALPHA)


def selu_grad(x):
    """f′(x) = λ·elu′(x, α)."""
    return SELU_SCALE * elu_grad(x, SELU_ALPHA)


def sigmoid_grad(x):
    """σ′(x) = σ(x)(1 − σ(x))."""
    s = sigmoid(x)
    return s * (1 - s)


def tanh(x):
    """f(x) = tanh x."""
    return np.tanh(f64(x))


def tanh_grad(x):
    """f′(x) = 1 − tanh² x."""
    return 1 - np.tanh(f64(x)) ** 2


def softplus(x):
    """f(x) = log(1 + eˣ) (logaddexp(0, x))."""
    return np.logaddexp(0.0, f64(x))


def softplus_grad(x):
    """f′(x) = σ(x)."""
    return sigmoid(x)


def softsign(x):
    """f(x) = x/(1 + |x|)."""
    x = f64(x)
    return x / (1 + np.abs(x))


def softsign_grad(x):
    """f′(x) = 1/(1 + |x|)²."""
    return 1 / (1 + np.abs(f64(x))) ** 2


def swish(x):
    """f(x) = x·σ(x) (= silu)."""
    return f64(x) * sigmoid(x)


def swish_grad(x):
    """f′(x) = σ(x)·(1 + x·(1 − σ(x)))."""
    s = sigmoid(x)
    return s * (1 + f64(x) * (1 - s))


def gelu(x, approximate=False):
    """Exact 0.5x(1+erf(x/√2)); approximate: 0.5x(1+tanh(√(2/π)(x+0.044715x³)))."""
    x = f64(x)
    if approximate:
        return 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + erf(x / math.sqrt(2.0)))


def gelu_grad(x, approximate=False):
    """Exact: Φ(x) + x·φ(x); tanh form: ½(1+t) + ½x(1−t²)·√(2/π)(1+3·0.044715x²)."""
    x = f64(x)
    if approximate:
        t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t**2) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x**2)
    return 0.5 * (1 + erf(x / math.sqrt(2.0))) + x * np.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)


def hard_sigmoid(x):
    """f(x) = relu6(x + 3)/6 (Keras 3; Keras 2 used 0.2x + 0.5)."""
    return np.clip(f64(x) + 3, 0.0, 6.0) / 6


def hard_sigmoid_grad(x):
    """f′(x) = 1/6 on (−3, 3), else 0."""
    x = f64(x)
    return ((x > -3) & (x < 3)) / 6.0


def hard_swish(x):
    """f(x) = x·hard_sigmoid(x) (= hard_silu)."""
    return f64(x) * hard_sigmoid(x)


def hard_swish_grad(x):
    """f′(x) = 0 for x ≤ −3, (2x + 3)/6 on (−3, 3), 1 for x ≥ 3."""
    x = f64(x)
    return np.where(x >= 3, 1.0, np.where(x <= -3, 0.0, (2 * x + 3) / 6))


def exponential(x):
    """f(x) = eˣ."""
    return np.exp(f64(x))


def exponential_grad(x):
    """f′(x) = eˣ."""
    return np.exp(f64(x))


# name -> (forward f(x, **p), derivative f′(x, **p)); softmax is handled separately (row-wise).
ACTIVATIONS = {
    "linear": (linear, linear_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "relu6": (relu6, relu6_grad),
    "elu": (elu, elu_grad),
    "selu": (selu, selu_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "softplus": (softplus, softplus_grad),
    "softsign": (softsign, softsign_grad),
    "swish": (swish, swish_grad),
    "silu": (swish, swish_grad),
    "gelu": (gelu, gelu_grad),
    "hard_sigmoid": (hard_sigmoid, hard_sigmoid_grad),
    "hard_swish": (hard_swish, hard_swish_grad),
    "hard_silu": (hard_swish, hard_swish_grad),
    "exponential": (exponential, exponential_grad),
}
ACTIVATION_NAMES = sorted(list(ACTIVATIONS) + ["softmax"])


def activation_forward(name, x, **params):
    """y = f(x) for the named activation (softmax row-wise)."""
    if name == "softmax":
        return softmax(x)
    return ACTIVATIONS[name][0](x, **params)


def activation_backward(name, x, y, dy, **params):
    """dx = dy·f′(x) (softmax: the Jacobian-vector product y·(dy − Σ dy·y))."""
    if name == "softmax":
        return softmax_backward(y, dy)
    return f64(dy) * ACTIVATIONS[name][1](x, **params)


def prelu_forward(x, alpha):
    """y = x if x > 0 else α·x (α per feature, or one shared entry)."""
    x = f64(x)
    return np.where(x > 0, x, f64(alpha) * x)


def prelu_backward(x, alpha, dy):
    """dx = dy if x > 0 else α·dy; dα = Σ_rows dy·min(x, 0) (also over columns when α is shared)."""
    x, alpha, dy = f64(x), f64(alpha), f64(dy)
    dx = np.where(x > 0, dy, alpha * dy)
    contrib = dy * np.minimum(x, 0.0)
    dalpha = contrib.sum(axis=0) if alpha.size == x.shape[1] else np.array([contrib.sum()])
    return dx, dalpha.reshape(alpha.shape)


def rrelu_forward(x, multiplier):
    """y = x·a where a = 1 for x ≥ 0 and the sampled (or mean) slope for x < 0."""
    return f64(x) * f64(multiplier)


def rrelu_inference_multiplier(x, lower=1 / 8, upper=1 / 3):
    """Inference slope: 1 for x ≥ 0, (lower+upper)/2 for x < 0."""
    return np.where(f64(x) >= 0, 1.0, (lower + upper) / 2)


# --------------------------------------------------------------------------------------------
# dropout family
# --------------------------------------------------------------------------------------------


def dropout_forward(x, keep, rate):
    """mask = keep/(1−rate), y = x·mask (inverted dropout, given the keep pattern)."""
    mask = f64(keep) / (1.0 - rate)
    return f64(x) * mask, mask


def alpha_dropout_constants(rate):
    """α′ = −λα, a = ((1−p)(1+p·α′²))^(−1/2), b = −a·α′·p."""
    alpha_p = -SELU_SCALE * SELU_ALPHA
    a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
    return alpha_p, a, -a * alpha_p * rate


def alpha_dropout_forward(x, keep, rate):
    """y = a·(x·keep + α′(1−keep)) + b, mask = a·keep (given the keep pattern)."""
    alpha_p, a, b = alpha_dropout_constants(rate)
    keep = f64(keep)
    return a * (f64(x) * keep + alpha_p * (1 - keep)) + b, a * keep


def mask_backward(dy, mask):
    """dx = dy·mask."""
    return f64(dy) * f64(mask)


# --------------------------------------------------------------------------------------------
# losses: (mean over the batch, gradient of that mean w.r.t. y_pred)
# --------------------------------------------------------------------------------------------


def one_hot(labels, num_classes):
    """Float64 one-hot rows for integer labels of shape (B,) or (B, 1)."""
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    out = np.zeros((labels.size, num_classes))
    out[np.arange(labels.size), labels] = 1.0
    return out


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    """Probabilities: L = −Σ y·log clip(p/Σp, ε, 1−ε); logits: L = −Σ y·log_softmax(z); mean over batch."""
    y, p = f64(y_true), f64(y_pred)
    n = p.shape[0]
    if from_logits:
        per_row = -(y * log_softmax(p)).sum(axis=-1)
        grad = softmax(p) * y.sum(axis=-1, keepdims=True) - y
        return per_row.mean(), grad / n
    s = p.sum(axis=-1, keepdims=True)
    q = p / s
    qc = np.clip(q, EPSILON, 1 - EPSILON)
    per_row = -(y * np.log(qc)).sum(axis=-1)
    inside = (q >= EPSILON) & (q <= 1 - EPSILON)
    dq = np.where(inside, -y / qc, 0.0)  # clip passes no gradient outside [ε, 1−ε]
    # chain rule through q = p/Σp: ∂L/∂p_k = (∂L/∂q_k − Σ_j ∂L/∂q_j·q_j)/Σp
    grad = (dq - (dq * q).sum(axis=-1, keepdims=True)) / s
    return per_row.mean(), grad / n


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """Categorical cross-entropy with integer labels turned into one-hot rows."""
    return categorical_crossentropy(one_hot(y_true, f64(y_pred).shape[-1]), y_pred, from_logits)


def binary_crossentropy(y_true, y_pred, from_logits=False):
    """L = mean_batch mean_last −(y·log p + (1−y)·log(1−p)), p clipped to [ε, 1−ε] (logits: stable form)."""
    y, p = f64(y_true), f64(y_pred)
    n, c = p.shape
    if from_logits:
        # −(y log σ(z) + (1−y) log(1−σ(z))) = max(z, 0) − z·y + log(1 + e^{−|z|})
        per = np.maximum(p, 0) - p * y + np.log1p(np.exp(-np.abs(p)))
        return per.mean(axis=-1).mean(), (sigmoid(p) - y) / (n * c)
    pc = np.clip(p, EPSILON, 1 - EPSILON)
    per = -(y * np.log(pc) + (1 - y) * np.log(1 - pc))
    inside = (p >= EPSILON) & (p <= 1 - EPSILON)
    grad = np.where(inside, -(y / pc - (1 - y) / (1 - pc)), 0.0)
    return per.mean(axis=-1).mean(), grad / (n * c)


def mean_squared_error(y_true, y_pred, from_logits=False):
    """L = mean_batch mean_last (p − y)²; ∂L/∂p = 2(p − y)/(B·C)."""
    y, p = f64(y_true), f64(y_pred)
    return ((p - y) ** 2).mean(axis=-1).mean(), 2 * (p - y) / p.size


def mean_absolute_error(y_true, y_pred, from_logits=False):
    """L = mean_batch mean_last |p − y|; ∂L/∂p = sign(p − y)/(B·C)."""
    y, p = f64(y_true), f64(y_pred)
    return np.abs(p - y).mean(axis=-1).mean(), np.sign(p - y) / p.size


LOSSES = {
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
    "mean_squared_error": mean_squared_error,
    "mean_absolute_error": mean_absolute_error,
}


def loss(name, y_true, y_pred, from_logits=False):
    """(mean loss over the batch, d loss / d y_pred) for a named Keras loss."""
    return LOSSES[name](y_true, y_pred, from_logits)


def accuracy_hits(metric, y_true, y_pred, threshold=0.5):
    """sparse: #(argmax p == label); categorical: #(argmax p == argmax y); binary: Σ_rows mean_cols [(p>θ) == y]."""
    p = f64(y_pred)
    if metric == "sparse_categorical_accuracy":
        return float((p.argmax(axis=-1) == np.asarray(y_true).reshape(-1)).sum())
    if metric == "categorical_accuracy":
        return float((p.argmax(axis=-1) == f64(y_true).argmax(axis=-1)).sum())
    if metric == "binary_accuracy":
        return float(((p > threshold).astype(F64) == f64(y_true)).mean(axis=-1).sum())
    raise KeyError(metric)


# --------------------------------------------------------------------------------------------
# regularisation
# --------------------------------------------------------------------------------------------


def regularize(w, l1=0.0, l2=0.0):
    """penalty = l1·Σ|w| + l2·Σw²; gradient = l1·sign(w) + 2·l2·w."""
    w = f64(w)
    return l1 * np.abs(w).sum() + l2 * (w**2).sum(), l1 * np.sign(w) + 2 * l2 * w


# --------------------------------------------------------------------------------------------
# optimizers (Keras 3 update_step, keras-semantics.md 2.6)
# --------------------------------------------------------------------------------------------

OPTIMIZER_DEFAULTS = {
    "sgd": dict(momentum=0.0, nesterov=False),
    "adam": dict(beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False),
    "adamw": dict(beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, weight_decay=0.004),
    "rmsprop": dict(rho=0.9, momentum=0.0, epsilon=1e-7, centered=False),
    "adagrad": dict(initial_accumulator_value=0.1, epsilon=1e-7),
    "adadelta": dict(rho=0.95, epsilon=1e-7),
    "adamax": dict(beta_1=0.9, beta_2=0.999, epsilon=1e-7),
    "nadam": dict(beta_1=0.9, beta_2=0.999, epsilon=1e-7),
}


def clip_gradient(g, clipnorm=None, clipvalue=None, global_clipnorm=None):
    """g·c/max(‖g‖, c) for clipnorm, elif global_clipnorm (same, one variable), elif clip to ±clipvalue.

    Keras 3 `BaseOptimizer._clip_gradients` is an if/elif chain: clipnorm wins over clipvalue.
    """
    g = f64(g)
    if clipnorm:
        return g * clipnorm / max(np.sqrt((g**2).sum()), clipnorm)
    if global_clipnorm:
        return g * global_clipnorm / max(np.sqrt((g**2).sum()), global_clipnorm)
    if clipvalue:
        return np.clip(g, -clipvalue, clipvalue)
    return g


def optimizer_steps(optimizer, weights, gradients, learning_rates, history=None):
    """T steps of clip → decoupled decay w ← w − w·wd·lr → Keras 3 update; returns (w, {slot: state}).

    If `history` is a list, (w, slots) after every step is appended to it (for error budgets).
    """
    opt = dict(optimizer)
    kind = opt.pop("kind")
    hp = dict(OPTIMIZER_DEFAULTS[kind])
    clip = {k: opt.pop(k) for k in ("clipnorm", "clipvalue", "global_clipnorm") if k in opt}
    hp.setdefault("weight_decay", None)
    hp.update(opt)
    w = f64(weights).copy()
    n = w.size
    z = lambda: np.zeros(n)  # noqa: E731
    slots = {}
    if kind == "sgd" and hp["momentum"] != 0:
        slots["momentum"] = z()
    elif kind in ("adam", "adamw", "nadam"):
        slots.update(momentum=z(), velocity=z())
        if hp.get("amsgrad"):
            slots["velocity_hat"] = z()
    elif kind == "rmsprop":
        slots["velocity"] = z()
        if hp["momentum"] > 0:
            slots["momentum"] = z()
        if hp["centered"]:
            slots["average_gradient"] = z()
    elif kind == "adagrad":
        slots["accumulator"] = np.full(n, float(hp["initial_accumulator_value"]))
    elif kind == "adadelta":
        slots.update(accumulated_grad=z(), accumulated_delta_var=z())
    elif kind == "adamax":
        slots.update(m=z(), norm=z())
    u_product = 1.0  # Nadam's running product of μ_t
    eps = hp.get("epsilon")
    for step, (g, lr) in enumerate(zip(f64(gradients), f64(learning_rates))):
        t = step + 1
        g = clip_gradient(g, **clip)
        if hp["weight_decay"]:
            w = w - w * hp["weight_decay"] * lr
        if kind == "sgd":
            mu = hp["momentum"]
            if mu != 0:
                m = slots["momentum"] = mu * slots["momentum"] - lr * g
                w = w + (mu * m - lr * g if hp["nesterov"] else m)
            else:
                w = w - lr * g
        elif kind in ("adam", "adamw"):
            b1, b2 = hp["beta_1"], hp["beta_2"]
            m = slots["momentum"] = slots["momentum"] + (g - slots["momentum"]) * (1 - b1)
            v = slots["velocity"] = slots["velocity"] + (g**2 - slots["velocity"]) * (1 - b2)
            if hp["amsgrad"]:
                v = slots["velocity_hat"] = np.maximum(slots["velocity_hat"], v)
            alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
            w = w - alpha * m / (np.sqrt(v) + eps)
        elif kind == "rmsprop":
            rho = hp["rho"]
            v = slots["velocity"] = rho * slots["velocity"] + (1 - rho) * g**2
            if hp["centered"]:
                ag = slots["average_gradient"] = rho * slots["average_gradient"] + (1 - rho) * g
                den = v - ag**2 + eps
            else:
                den = v + eps
            inc = lr * g / np.sqrt(den)
            if hp["momentum"] > 0:
                s = slots["momentum"] = hp["momentum"] * slots["momentum"] + inc
                w = w - s
            else:
                w = w - inc
        elif kind == "adagrad":
            a = slots["accumulator"] = slots["accumulator"] + g**2
            w = w - lr * g / np.sqrt(a + eps)
        elif kind == "adadelta":
            rho = hp["rho"]
            eg = slots["accumulated_grad"] = rho * slots["accumulated_grad"] + (1 - rho) * g**2
            ed = slots["accumulated_delta_var"]
            delta = -np.sqrt(ed + eps) / np.sqrt(eg + eps) * g
            slots["accumulated_delta_var"] = rho * ed + (1 - rho) * delta**2
            w = w + lr * delta
        elif kind == "adamax":
            b1, b2 = hp["beta_1"], hp["beta_2"]
            m = slots["m"] = slots["m"] + (g - slots["m"]) * (1 - b1)
            u = slots["norm"] = np.maximum(b2 * slots["norm"], np.abs(g))
            w = w - lr * m / ((1 - b1**t) * (u + eps))
        elif kind == "nadam":
            b1, b2 = hp["beta_1"], hp["beta_2"]
            u_t = b1 * (1 - 0.5 * 0.96**t)
            u_t1 = b1 * (1 - 0.5 * 0.96 ** (t + 1))
            u_product *= u_t
            m = slots["momentum"] = slots["momentum"] + (g - slots["momentum"]) * (1 - b1)
            v = slots["velocity"] = slots["velocity"] + (g**2 - slots["velocity"]) * (1 - b2)
            m_hat = u_t1 * m / (1 - u_product * u_t1) + (1 - u_t) * g / (1 - u_product)
            v_hat = v / (1 - b2**t)
            w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        else:
            raise KeyError(kind)
        if history is not None:
            history.append((w.copy(), {k: v.copy() for k, v in slots.items()}))
    return w, slots

"""K.optimizer_steps against the float64 reference (Keras 3 update_step, keras-semantics.md 2.6).

Error budget over T steps, u = 2^-24 (helpers.assert_within, per element):
  weights  4T·u·|w_T| + r·Σ_t|Δw_t|
  slots    4T·u·|s_T| + r·Σ_t|Δs_t|
  r = 64u + 2u·Σ_h h/(1−h)  over the hyper-parameters h used as (1 − h) (β₁, β₂, ρ)
Each step rounds the stored weight / state once or twice (the 4T·u·|·| term), and each update Δ is
a chain of ≲ 10 float32 operations (moments, square roots, divisions, bias corrections) whose
relative error is ≲ 16u but can be amplified a few times by the errors already accumulated in the
states: 64u per unit of path length. Separately, a kernel that holds h in float32 (h(1+δ), |δ| ≤ u)
and forms 1 − h in float32 makes 1 − h relatively wrong by u·h/(1−h) — e.g. 999u for β₂ = 0.999
(Keras itself forms 1 − β₂ in double, then casts) — hence the second term of r (factor 2 margin).
The path lengths Σ|Δ| come from the reference's own step-by-step history.
A wrong hyper-parameter default, a missing bias correction, ε in the wrong place or a PyTorch-style
update changes the result by ≳ 1e-3 relative, well above these budgets (see the targeted tests).
"""

import numpy as np
import pytest

import reference as ref
from fastdnn._core import kernels as K
from helpers import U32, assert_within, f32

T, N = 10, 257


def _problem(seed, grad_scale=1.0, lr=0.01, t=T, n=N):
    rng = np.random.default_rng(seed)
    w = f32(rng.standard_normal(n))
    # per-step scales vary 30× so that AMSGrad's running max and Adamax's norm do real work
    scales = rng.uniform(0.1, 3.0, size=(t, 1)) * grad_scale
    g = f32(rng.standard_normal((t, n)) * scales)
    lrs = f32(lr * (1 - 0.04 * np.arange(t)))  # a decaying per-step schedule
    return w, g, lrs


# hyper-parameters that enter as (1 − h), per kind
_ONE_MINUS = {
    "adam": ["beta_1", "beta_2"],
    "adamw": ["beta_1", "beta_2"],
    "nadam": ["beta_1", "beta_2"],
    "adamax": ["beta_1"],
    "rmsprop": ["rho"],
    "adadelta": ["rho"],
    "sgd": [],
    "adagrad": [],
}


def _rate(opt):
    """r: relative error per unit of update path (see the module docstring)."""
    hp = {**ref.OPTIMIZER_DEFAULTS[opt["kind"]], **opt}
    kappa = sum(hp[h] / (1 - hp[h]) for h in _ONE_MINUS[opt["kind"]])
    return 64 * U32 + 2 * U32 * kappa


def _budgets(opt, w, g, lrs):
    history = []
    want_w, want_slots = ref.optimizer_steps(opt, w, g, lrs, history=history)
    steps, r = len(history), _rate(opt)
    w_path = np.abs(np.diff(np.stack([w.astype(np.float64)] + [h[0] for h in history]), axis=0)).sum(axis=0)
    bound_w = 4 * steps * U32 * np.abs(want_w) + r * w_path + 1e-30
    bound_s = {}
    for name, final in want_slots.items():
        seq = [h[1][name] for h in history]
        start = np.full_like(final, float(opt.get("initial_accumulator_value", 0.1))) if name == "accumulator" else np.zeros_like(final)
        path = np.abs(np.diff(np.stack([start] + seq), axis=0)).sum(axis=0)
        bound_s[name] = 4 * steps * U32 * np.abs(final) + r * path + 1e-30
    return want_w, want_slots, bound_w, bound_s


def _check(opt, w, g, lrs):
    got_w, got_slots = K.optimizer_steps(opt, w, g, lrs)
    want_w, want_slots, bound_w, bound_s = _budgets(opt, w, g, lrs)
    assert got_w.dtype == np.float32 and got_w.shape == w.shape
    assert sorted(got_slots) == sorted(want_slots), "slot names"
    assert_within(got_w, want_w, bound_w, err_msg="weights")
    for name in want_slots:
        assert_within(got_slots[name], want_slots[name], bound_s[name], err_msg=name)


# (id, optimizer dict, base learning rate)
VARIANTS = [
    ("sgd", {"kind": "sgd"}, 0.1),
    ("sgd-momentum", {"kind": "sgd", "momentum": 0.9}, 0.05),
    ("sgd-nesterov", {"kind": "sgd", "momentum": 0.9, "nesterov": True}, 0.05),
    ("adam", {"kind": "adam"}, 0.01),
    ("adam-betas-eps", {"kind": "adam", "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-4}, 0.01),
    ("adam-amsgrad", {"kind": "adam", "amsgrad": True}, 0.01),
    ("adamw", {"kind": "adamw"}, 0.05),
    ("adamw-wd0.1-amsgrad", {"kind": "adamw", "weight_decay": 0.1, "amsgrad": True}, 0.05),
    ("rmsprop", {"kind": "rmsprop"}, 0.01),
    ("rmsprop-rho0.5", {"kind": "rmsprop", "rho": 0.5}, 0.01),
    ("rmsprop-momentum", {"kind": "rmsprop", "momentum": 0.5}, 0.01),
    ("rmsprop-centered", {"kind": "rmsprop", "centered": True}, 0.01),
    ("rmsprop-centered-momentum", {"kind": "rmsprop", "centered": True, "momentum": 0.7}, 0.01),
    ("adagrad", {"kind": "adagrad"}, 0.1),
    ("adagrad-init0.5", {"kind": "adagrad", "initial_accumulator_value": 0.5}, 0.1),
    ("adadelta", {"kind": "adadelta"}, 1.0),
    ("adadelta-rho0.9-lr1e-3", {"kind": "adadelta", "rho": 0.9}, 1e-3),
    ("adamax", {"kind": "adamax"}, 0.02),
    ("adamax-betas", {"kind": "adamax", "beta_1": 0.8, "beta_2": 0.9}, 0.02),
    ("nadam", {"kind": "nadam"}, 0.01),
    ("nadam-betas", {"kind": "nadam", "beta_1": 0.8, "beta_2": 0.99}, 0.01),
]


@pytest.mark.parametrize("opt, lr", [v[1:] for v in VARIANTS], ids=[v[0] for v in VARIANTS])
def test_optimizer_steps_match_reference(opt, lr):
    _check(opt, *_problem(801, lr=lr))


KINDS = ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam"]


@pytest.mark.parametrize("kind", KINDS)
def test_optimizer_steps_match_reference_for_tiny_gradients_where_epsilon_dominates(kind):
    # |g| ~ 1e-6: √v ≲ ε = 1e-7 for the Adam family, so the default ε (1e-7, not PyTorch's 1e-8)
    # and where it is added (outside √v̂ for Adam, inside the root for RMSprop/Adagrad/Adadelta)
    # decide the step.
    _check({"kind": kind}, *_problem(802, grad_scale=1e-6, lr=0.01))


@pytest.mark.parametrize("kind", KINDS)
def test_optimizer_single_step_matches_reference(kind):
    _check({"kind": kind}, *_problem(803, lr=0.01, t=1))


@pytest.mark.parametrize("n", [1, 7, 4099])
def test_optimizer_steps_match_reference_for_any_length(n):
    _check({"kind": "adam", "amsgrad": True}, *_problem(804, lr=0.01, n=n))


# ----------------------------------------------------------------------------------------------
# gradient clipping and weight decay (Keras order: clip, then w ← w − w·wd·lr, then the update)
# ----------------------------------------------------------------------------------------------

CLIP_VARIANTS = [
    ("clipnorm", {"clipnorm": 5.0}),
    ("global_clipnorm", {"global_clipnorm": 5.0}),
    ("clipvalue", {"clipvalue": 0.5}),
    ("weight_decay", {"weight_decay": 0.05}),
    ("clipnorm-weight_decay", {"clipnorm": 5.0, "weight_decay": 0.05}),
]


@pytest.mark.parametrize("kind", ["sgd", "adam", "rmsprop"])
@pytest.mark.parametrize("extra", [v[1] for v in CLIP_VARIANTS], ids=[v[0] for v in CLIP_VARIANTS])
def test_optimizer_with_clipping_and_weight_decay_matches_reference(kind, extra):
    # Gradient norms range over ≈ 1.6–48 (√257 times the per-step scale), so clipnorm 5 clips
    # some steps and not others.
    _check({"kind": kind, **extra}, *_problem(805, lr=0.05))


def test_clipnorm_limits_the_first_sgd_step_to_lr_times_clipnorm():
    w, g, lrs = _problem(806, grad_scale=10.0, lr=0.1, t=1)
    got, _ = K.optimizer_steps({"kind": "sgd", "clipnorm": 2.0}, w, g, lrs)
    step = np.linalg.norm(got.astype(np.float64) - w)
    # ‖Δw‖ = lr·clipnorm. Rounding each new weight moves Δw_i by ≤ u·|w_i| (norm ≤ u·‖w‖), and
    # computing the clipped step (an N-term norm) costs ≤ (N + 8)·u relative.
    np.testing.assert_allclose(step, float(lrs[0]) * 2.0, rtol=(N + 8) * U32, atol=2 * U32 * np.linalg.norm(w))


@pytest.mark.parametrize("norm_key", ["clipnorm", "global_clipnorm"])
def test_norm_clipping_takes_precedence_over_clipvalue_as_in_keras(norm_key):
    # Keras 3 BaseOptimizer._clip_gradients is an if/elif chain (clipnorm, elif global_clipnorm,
    # elif clipvalue): with a norm clip set, clipvalue is ignored. g = (3, 4, 0), ‖g‖ = 5:
    # norm clip to 1 → (0.6, 0.8, 0); also clipping values to ±0.5 would give (0.5, 0.5, 0).
    opt = {"kind": "sgd", norm_key: 1.0, "clipvalue": 0.5}
    got, _ = K.optimizer_steps(opt, np.zeros(3), np.array([[3.0, 4.0, 0.0]]), np.ones(1))
    want, _ = ref.optimizer_steps(opt, np.zeros(3), np.array([[3.0, 4.0, 0.0]]), np.ones(1))
    np.testing.assert_allclose(want, [-0.6, -0.8, 0.0])
    np.testing.assert_allclose(got, want, rtol=8 * U32, atol=0)


def test_clipvalue_limits_every_sgd_component_to_lr_times_clipvalue():
    w, g, lrs = _problem(807, grad_scale=10.0, lr=0.1, t=1)
    got, _ = K.optimizer_steps({"kind": "sgd", "clipvalue": 0.5}, w, g, lrs)
    step = np.abs(got.astype(np.float64) - w)
    # w − lr·clip(g) rounds once: |error| ≤ u·|w| + u·lr·0.5
    assert np.all(step <= float(lrs[0]) * 0.5 + U32 * (np.abs(w) + 0.05) * 2)


def test_adamw_default_weight_decay_is_0_004():
    w, g, lrs = _problem(808, lr=0.05)
    w = f32(w * 20)  # large weights make the 0.004·lr·w decay visible (≈ 4e-3 per step)
    a, _ = K.optimizer_steps({"kind": "adamw"}, w, g, lrs)
    b, _ = K.optimizer_steps({"kind": "adam", "weight_decay": 0.004}, w, g, lrs)
    np.testing.assert_array_equal(a, b)
    _check({"kind": "adamw"}, w, g, lrs)


def test_weight_decay_is_decoupled_not_added_to_the_gradient():
    # Decoupled (Keras/AdamW): w ← w − w·wd·lr before Adam's update. Adding wd·w to the gradient
    # (L2-style) would be rescaled by Adam's 1/√v and give a visibly different result.
    w, g, lrs = _problem(809, lr=0.05)
    w = f32(w * 20)
    got, _ = K.optimizer_steps({"kind": "adam", "weight_decay": 0.1}, w, g, lrs)
    coupled, _ = ref.optimizer_steps({"kind": "adam"}, w, g + 0.1 * w, lrs)  # first-step-only proxy
    decoupled, _, bound, _ = _budgets({"kind": "adam", "weight_decay": 0.1}, w, g, lrs)
    assert np.max(np.abs(coupled - decoupled) / bound) > 100  # the two really differ here
    assert_within(got, decoupled, bound)


def test_adam_epsilon_is_added_to_sqrt_v_not_to_bias_corrected_sqrt_v_hat():
    # Keras: w −= lr·√(1−β₂ᵗ)/(1−β₁ᵗ)·m/(√v + ε); PyTorch: lr/(1−β₁ᵗ)·m/(√v/√(1−β₂ᵗ) + ε).
    # With ε = 0.1 and |g| ~ 0.3 the two differ at the 10 % level.
    w, g, lrs = _problem(810, grad_scale=0.3, lr=0.01)
    opt = {"kind": "adam", "epsilon": 0.1}
    got, _ = K.optimizer_steps(opt, w, g, lrs)
    want, _, bound, _ = _budgets(opt, w, g, lrs)
    assert_within(got, want, bound)


def test_nadam_uses_keras_momentum_schedule_not_pytorch_momentum_decay():
    # Keras' μ_t = β₁(1 − ½·0.96ᵗ); PyTorch's μ_t = β₁(1 − ½·0.96^(0.004·t)).
    _check({"kind": "nadam"}, *_problem(811, lr=0.05, t=20))


@pytest.mark.parametrize("opt", [{"kind": "adam"}, {"kind": "rmsprop", "centered": True, "momentum": 0.5}], ids=["adam", "rmsprop"])
def test_optimizer_steps_accept_float64_and_int_inputs(opt):
    w, g, lrs = _problem(812, lr=0.01)
    a = K.optimizer_steps(opt, w.astype(np.float64), g.astype(np.float64), lrs.astype(np.float64))
    b = K.optimizer_steps(opt, w, g, lrs)
    np.testing.assert_array_equal(a[0], b[0])
    c = K.optimizer_steps(opt, np.arange(-3, 4), np.ones((T, 7), dtype=np.int64), lrs)
    assert c[0].dtype == np.float32
    _check(opt, f32(np.arange(-3, 4)), f32(np.ones((T, 7))), lrs)


def test_optimizer_steps_of_non_contiguous_inputs_equal_contiguous_copies():
    rng = np.random.default_rng(813)
    w = f32(rng.standard_normal(2 * N))[::2]
    g = f32(rng.standard_normal((N, T))).T
    lrs = f32(np.full(2 * T, 0.01))[::2]
    a = K.optimizer_steps({"kind": "adam"}, w, g, lrs)
    b = K.optimizer_steps({"kind": "adam"}, *(np.ascontiguousarray(v) for v in (w, g, lrs)))
    np.testing.assert_array_equal(a[0], b[0])
    for name in b[1]:
        np.testing.assert_array_equal(a[1][name], b[1][name])


def test_optimizer_steps_do_not_modify_their_inputs():
    w, g, lrs = _problem(814)
    copies = [v.copy() for v in (w, g, lrs)]
    K.optimizer_steps({"kind": "adam"}, w, g, lrs)
    for v, c in zip((w, g, lrs), copies):
        np.testing.assert_array_equal(v, c)


# ----------------------------------------------------------------------------------------------
# bad settings
# ----------------------------------------------------------------------------------------------


def test_unknown_optimizer_kind_raises_value_error_listing_known_kinds():
    with pytest.raises(ValueError) as info:
        K.optimizer_steps({"kind": "lbfgs"}, np.ones(3), np.ones((1, 3)), np.ones(1))
    missing = [k for k in KINDS if k not in str(info.value)]
    assert not missing, (missing, str(info.value))


@pytest.mark.parametrize(
    "opt",
    [
        {"kind": "adam", "beta_1": 1.0},
        {"kind": "adam", "beta_2": 1.0},
        {"kind": "adam", "beta_1": -0.1},
        {"kind": "sgd", "momentum": -1},
        {"kind": "rmsprop", "momentum": -1},
        {"kind": "rmsprop", "rho": 1.5},
        {"kind": "adam", "epsilon": -1e-7},
        {"kind": "adam", "clipnorm": -1.0},
        {"kind": "adam", "weight_decay": -0.1},
        {"kind": "adagrad", "initial_accumulator_value": -1.0},
    ],
    ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items() if k != "kind"),
)
def test_out_of_range_hyper_parameter_raises_value_error_naming_it(opt):
    name = [k for k in opt if k != "kind"][0]
    with pytest.raises(ValueError, match=name):
        K.optimizer_steps(opt, np.ones(3), np.ones((1, 3)), np.ones(1))


@pytest.mark.parametrize(
    "opt, key",
    [({"kind": "adam", "lr": 0.1}, "lr"), ({"kind": "sgd", "beta_1": 0.9}, "beta_1"), ({"kind": "adamax", "amsgrad": True}, "amsgrad")],
    ids=["adam-lr", "sgd-beta_1", "adamax-amsgrad"],
)
def test_unknown_optimizer_setting_raises_value_error_naming_it(opt, key):
    with pytest.raises(ValueError, match=key):
        K.optimizer_steps(opt, np.ones(3), np.ones((1, 3)), np.ones(1))


def test_clipnorm_together_with_global_clipnorm_raises_value_error():
    with pytest.raises(ValueError, match="clipnorm"):
        K.optimizer_steps({"kind": "adam", "clipnorm": 1.0, "global_clipnorm": 1.0}, np.ones(3), np.ones((1, 3)), np.ones(1))


def test_gradients_width_not_matching_weights_raises_value_error_naming_gradients():
    with pytest.raises(ValueError, match="gradients"):
        K.optimizer_steps({"kind": "adam"}, np.ones(5), np.ones((3, 4)), np.ones(3))


def test_learning_rates_length_not_matching_steps_raises_value_error_naming_learning_rates():
    with pytest.raises(ValueError, match="learning_rates"):
        K.optimizer_steps({"kind": "adam"}, np.ones(5), np.ones((3, 5)), np.ones(2))


def test_zero_steps_raises_value_error():
    with pytest.raises(ValueError):
        K.optimizer_steps({"kind": "adam"}, np.ones(5), np.ones((0, 5)), np.ones(0))


def test_non_numeric_gradients_raise_type_error():
    with pytest.raises(TypeError):
        K.optimizer_steps({"kind": "adam"}, np.ones(3), np.full((1, 3), "g"), np.ones(1))

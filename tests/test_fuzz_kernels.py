"""Property-based fuzzing of fastdnn._core.kernels: every kernel, with valid arguments in any numeric
dtype and layout (compared with the NumPy reference) and with one argument replaced by something
invalid (an allowed exception naming an argument, never a crash or another exception type)."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import reference as ref
from fastdnn import _core
from fuzz_helpers import COUNTS, FUZZ, benign, bad_values, expect_error_or_result, float_arrays, report, run_isolated

K = _core.kernels
dims = st.integers(1, 6)


def close(got, want, rtol=1e-4, atol=1e-5):
    if want is None:
        assert got is None
        return
    got = np.asarray(got)
    assert np.shape(got) == np.shape(want), f"shape {np.shape(got)} != {np.shape(want)}"
    assert np.all(np.isfinite(got)) or not np.all(np.isfinite(want)), "NaN/Inf for finite input"
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def all_close(got, want, **tol):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            close(g, w, **tol)
    else:
        close(got, want, **tol)


# Each case: (array arguments as float32, a call on (possibly other) arrays, the reference on float32 values).
@st.composite
def cases(draw, kernel):
    B, C, N = draw(dims), draw(dims), draw(dims)
    arr = lambda *shape, lo=-3.0, hi=3.0: draw(float_arrays(shape, lo, hi))  # noqa: E731
    if kernel == "matmul":
        ta, tb, naive = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
        a = arr(*((C, B) if ta else (B, C)))
        b = arr(*((N, C) if tb else (C, N)))
        return ({"a": a, "b": b}, lambda v: K.matmul(v["a"], v["b"], ta, tb, naive),
                lambda v: ref.matmul(v["a"], v["b"], ta, tb))
    if kernel == "dense_forward":
        return ({"x": arr(B, C), "kernel": arr(C, N), "bias": arr(N)},
                lambda v: K.dense_forward(v["x"], v["kernel"], v["bias"]),
                lambda v: ref.dense_forward(v["x"], v["kernel"], v["bias"]))
    if kernel == "dense_backward":
        use_bias = draw(st.booleans())
        return ({"x": arr(B, C), "kernel": arr(C, N), "dy": arr(B, N)},
                lambda v: K.dense_backward(v["x"], v["kernel"], v["dy"], use_bias),
                lambda v: ref.dense_backward(v["x"], v["kernel"], v["dy"], use_bias))
    if kernel == "batchnorm_forward_train":
        eps = draw(st.sampled_from([1e-3, 1e-1, 1.0]))
        return ({"x": arr(B, C), "gamma": arr(C), "beta": arr(C)},
                lambda v: K.batchnorm_forward_train(v["x"], v["gamma"], v["beta"], eps),
                lambda v: ref.batchnorm_forward_train(v["x"], v["gamma"], v["beta"], eps))
    if kernel == "batchnorm_update_moving":
        mom = draw(st.sampled_from([0.0, 0.5, 0.99, 1.0]))
        return ({"moving_mean": arr(C), "moving_variance": arr(C, lo=0), "mean": arr(C), "var": arr(C, lo=0)},
                lambda v: K.batchnorm_update_moving(v["moving_mean"], v["moving_variance"], v["mean"], v["var"], mom),
                lambda v: ref.batchnorm_update_moving(v["moving_mean"], v["moving_variance"], v["mean"], v["var"], mom))
    if kernel == "batchnorm_forward_infer":
        return ({"x": arr(B, C), "gamma": arr(C), "beta": arr(C), "moving_mean": arr(C), "moving_variance": arr(C, lo=0)},
                lambda v: K.batchnorm_forward_infer(v["x"], v["gamma"], v["beta"], v["moving_mean"], v["moving_variance"]),
                lambda v: ref.batchnorm_forward_infer(v["x"], v["gamma"], v["beta"], v["moving_mean"],
                                                      np.maximum(v["moving_variance"], 0)))
    if kernel == "batchnorm_backward":
        return ({"dy": arr(B, C), "xhat": arr(B, C), "inv_std": arr(C, lo=0.1), "gamma": arr(C)},
                lambda v: K.batchnorm_backward(v["dy"], v["xhat"], v["inv_std"], v["gamma"]),
                lambda v: ref.batchnorm_backward(v["dy"], v["xhat"], v["inv_std"], v["gamma"]))
    if kernel == "activation_forward":
        name = draw(st.sampled_from(ref.ACTIVATION_NAMES))
        return ({"x": arr(B, C)}, lambda v: K.activation_forward(name, v["x"]),
                lambda v: ref.activation_forward(name, v["x"]))
    if kernel == "activation_backward":
        name = draw(st.sampled_from(ref.ACTIVATION_NAMES))
        f = lambda x: K.activation_forward(name, x)  # noqa: E731  (y = f(x) is part of the contract)
        return ({"x": arr(B, C), "dy": arr(B, C)}, lambda v: K.activation_backward(name, v["x"], f(v["x"]), v["dy"]),
                lambda v: ref.activation_backward(name, v["x"], f(v["x"]), v["dy"]))
    if kernel in ("prelu_forward", "prelu_backward"):
        alpha = arr(draw(st.sampled_from([1, C])), lo=0, hi=0.5)
        if kernel == "prelu_forward":
            return ({"x": arr(B, C), "alpha": alpha}, lambda v: K.prelu_forward(v["x"], v["alpha"]),
                    lambda v: ref.prelu_forward(v["x"], v["alpha"]))
        return ({"x": arr(B, C), "alpha": alpha, "dy": arr(B, C)},
                lambda v: K.prelu_backward(v["x"], v["alpha"], v["dy"]),
                lambda v: ref.prelu_backward(v["x"], v["alpha"], v["dy"]))
    if kernel == "mask_backward":
        return ({"dy": arr(B, C), "mask": arr(B, C)}, lambda v: K.mask_backward(v["dy"], v["mask"]),
                lambda v: ref.mask_backward(v["dy"], v["mask"]))
    if kernel == "loss":
        name = draw(st.sampled_from(sorted(ref.LOSSES)))
        from_logits = draw(st.booleans()) and "crossentropy" in name
        if name == "sparse_categorical_crossentropy":
            y_true = draw(float_arrays((B,), 0, C)).astype(np.int64).astype(np.float32)
        elif name == "categorical_crossentropy":
            y_true = np.eye(C, dtype=np.float32)[draw(float_arrays((B,), 0, C)).astype(np.int64)]
        else:
            y_true = arr(B, C, lo=0, hi=1)
        y_pred = arr(B, C) if from_logits or name.startswith("mean") else arr(B, C, lo=0.05, hi=0.95)
        return ({"y_true": y_true, "y_pred": y_pred}, lambda v: K.loss(name, v["y_true"], v["y_pred"], from_logits),
                lambda v: ref.loss(name, v["y_true"], v["y_pred"], from_logits))
    if kernel == "accuracy_hits":
        metric = draw(st.sampled_from(["sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy"]))
        labels = draw(float_arrays((B,), 0, C)).astype(np.int64)
        y_true = {"sparse_categorical_accuracy": labels.astype(np.float32),
                  "categorical_accuracy": np.eye(C, dtype=np.float32)[labels]}.get(
                      metric, (draw(float_arrays((B, C), 0, 1)) > 0.5).astype(np.float32))
        return ({"y_true": y_true, "y_pred": arr(B, C)}, lambda v: K.accuracy_hits(metric, v["y_true"], v["y_pred"]),
                lambda v: ref.accuracy_hits(metric, v["y_true"], v["y_pred"]))
    if kernel == "regularize":
        l1, l2 = draw(st.sampled_from([0.0, 0.01, 1.0])), draw(st.sampled_from([0.0, 0.01, 1.0]))
        return ({"w": arr(B, C)}, lambda v: K.regularize(v["w"], l1, l2), lambda v: ref.regularize(v["w"], l1, l2))
    if kernel == "optimizer_steps":
        kind = draw(st.sampled_from(sorted(ref.OPTIMIZER_DEFAULTS)))
        T = draw(st.integers(1, 3))
        lrs = np.full(T, 0.01, np.float32)
        return ({"weights": arr(C), "gradients": arr(T, C, lo=-1, hi=1)},
                lambda v: K.optimizer_steps({"kind": kind}, v["weights"], v["gradients"], lrs),
                lambda v: ref.optimizer_steps({"kind": kind}, v["weights"], v["gradients"], lrs))
    raise KeyError(kernel)


# Kernels with a NumPy reference, compared directly; the random ones (dropout, rrelu) are checked below.
COMPARED = ["matmul", "dense_forward", "dense_backward", "batchnorm_forward_train", "batchnorm_update_moving",
            "batchnorm_forward_infer", "batchnorm_backward", "activation_forward", "activation_backward",
            "prelu_forward", "prelu_backward", "mask_backward", "loss", "accuracy_hits", "regularize",
            "optimizer_steps"]


def compare(kernel, got, want):
    if kernel == "optimizer_steps":
        (w, slots), (w_ref, slots_ref) = got, want
        close(w, w_ref, rtol=1e-4, atol=1e-4)
        assert sorted(slots) == sorted(slots_ref)
        for k in slots:
            close(slots[k], slots_ref[k], rtol=1e-4, atol=1e-4)
    elif kernel in ("loss", "regularize"):
        assert np.isfinite(got[0])
        assert got[0] == pytest.approx(want[0], rel=1e-4, abs=1e-5)
        close(got[1], want[1])
    elif kernel == "accuracy_hits":
        assert got == pytest.approx(want, abs=1e-4)
    else:
        all_close(got, want)


@pytest.mark.parametrize("kernel", COMPARED)
@FUZZ
@given(data=st.data())
def test_valid_arguments_in_any_numeric_dtype_and_layout_match_the_reference(kernel, data):
    arrays, call, reference = data.draw(cases(kernel))
    passed, seen = {}, {}
    for name, a in arrays.items():
        passed[name], seen[name] = data.draw(benign(a), label=name)
    if kernel in ("loss", "accuracy_hits") and not np.array_equal(seen["y_true"], arrays["y_true"]):
        passed["y_true"], seen["y_true"] = arrays["y_true"], arrays["y_true"]  # targets keep their meaning
    if kernel == "loss" and not np.array_equal(seen["y_pred"], arrays["y_pred"]):
        passed["y_pred"], seen["y_pred"] = arrays["y_pred"], arrays["y_pred"]  # probabilities stay in (0, 1)
    ok, got = expect_error_or_result(f"kernels.{kernel}", list(arrays), lambda: call(passed))
    assert ok, f"valid arguments refused: {got!r}"
    compare(kernel, got, reference(seen))


@pytest.mark.parametrize("kernel", COMPARED)
@FUZZ
@given(data=st.data())
def test_one_invalid_argument_is_an_allowed_exception_naming_it(kernel, data):
    arrays, call, _ = data.draw(cases(kernel))
    name = data.draw(st.sampled_from(sorted(arrays)), label="argument")
    arrays = dict(arrays)
    arrays[name] = data.draw(bad_values(arrays[name].shape), label="bad value")
    # A mismatch may be reported against the argument it no longer fits: any argument name will do.
    ok, got = expect_error_or_result(f"kernels.{kernel}", sorted(arrays) + ["incompatible function arguments"],
                                     lambda: call(arrays))
    if ok:  # only a numeric array of another (self-consistent) shape, or None for an optional argument
        bad = arrays[name]
        assert bad is None or isinstance(bad, (int, float, np.generic)) or (isinstance(bad, np.ndarray) and bad.dtype.kind in "biuf"), \
            f"{kernel} accepted {name}={bad!r}"


@pytest.mark.parametrize("kernel", ["dropout_forward", "alpha_dropout_forward"])
@FUZZ
@given(data=st.data())
def test_dropout_masks_and_outputs_follow_the_reference(kernel, data):
    shape = data.draw(st.lists(st.integers(1, 5), min_size=1, max_size=3), label="shape")
    x = data.draw(float_arrays(tuple(shape)))
    rate = data.draw(st.sampled_from([0.0, 0.1, 0.5, 0.9, 0.999]), label="rate")
    seed, stream = data.draw(st.integers(0, 2**63 - 1)), data.draw(st.integers(0, 2**63 - 1))
    passed, seen = data.draw(benign(x), label="x")
    ok, got = expect_error_or_result(f"kernels.{kernel}", ["x"],
                                     lambda: getattr(K, kernel)(passed, rate, seed, stream))
    assert ok, got
    y, mask = got
    keep = (mask != 0).astype(np.float64)
    y_ref, mask_ref = (ref.dropout_forward if kernel == "dropout_forward" else ref.alpha_dropout_forward)(seen, keep, rate)
    close(mask, mask_ref)
    close(y, y_ref)


@FUZZ
@given(data=st.data())
def test_rrelu_multipliers_stay_in_their_range(data):
    shape = data.draw(st.lists(st.integers(1, 5), min_size=1, max_size=3), label="shape")
    x = data.draw(float_arrays(tuple(shape)))
    lower = data.draw(st.sampled_from([0.0, 0.125, 0.3]))
    upper = lower + data.draw(st.sampled_from([0.0, 0.2, 1.0]))
    training = data.draw(st.booleans())
    passed, seen = data.draw(benign(x), label="x")
    ok, got = expect_error_or_result("kernels.rrelu_forward", ["x"],
                                     lambda: K.rrelu_forward(passed, lower, upper, training, 7, 3))
    assert ok, got
    y, mult = got
    neg = seen < 0
    assert np.all(mult[~neg] == 1)
    if training:
        assert np.all((mult[neg] >= np.float32(lower)) & (mult[neg] <= np.float32(upper)))
    else:
        close(mult, ref.rrelu_inference_multiplier(seen, lower, upper))
    close(y, ref.rrelu_forward(seen, mult))


# Settings at and past their limits, and of the wrong type.
BAD_NUMBERS = [np.nan, np.inf, -np.inf, -0.1, 1.0, 1.5, -1e300, 10**400, -(10**400), None, "0.5", [0.5], 1j,
               np.ones(2), True, 2**64]
SEEDS = [-1, 2**63, 2**64, 10**30, -(2**70), 1.5, None, "1", np.float64(3.0), True]


@FUZZ
@given(bad=st.sampled_from(BAD_NUMBERS), which=st.sampled_from(
    ["dropout.rate", "alpha_dropout.rate", "rrelu.lower", "rrelu.upper", "bn_moving.momentum", "regularize.l1",
     "regularize.l2", "bn_train.epsilon", "bn_infer.epsilon", "accuracy.threshold"]))
def test_settings_past_their_limits_are_refused_by_name(bad, which):
    x, v = np.ones((2, 3), np.float32), np.ones(3, np.float32)
    calls = {
        "dropout.rate": ("rate", lambda: K.dropout_forward(x, bad)),
        "alpha_dropout.rate": ("rate", lambda: K.alpha_dropout_forward(x, bad)),
        "rrelu.lower": ("lower", lambda: K.rrelu_forward(x, lower=bad, upper=1e301)),
        "rrelu.upper": ("upper", lambda: K.rrelu_forward(x, lower=-1e301, upper=bad)),
        "bn_moving.momentum": ("momentum", lambda: K.batchnorm_update_moving(v, v, v, v, bad)),
        "regularize.l1": ("l1", lambda: K.regularize(x, l1=bad)),
        "regularize.l2": ("l2", lambda: K.regularize(x, l2=bad)),
        "bn_train.epsilon": ("epsilon", lambda: K.batchnorm_forward_train(x, epsilon=bad)),
        "bn_infer.epsilon": ("epsilon", lambda: K.batchnorm_forward_infer(x, v, v, v, v, epsilon=bad)),
        "accuracy.threshold": ("threshold", lambda: K.accuracy_hits("binary_accuracy", x, x, bad)),
    }
    name, call = calls[which]
    ok, got = expect_error_or_result(f"kernels.{which.split('.')[0]}(setting)", [name, "incompatible function arguments"], call)
    if ok:  # accepted only when the value is a number inside the documented range
        y = got[0] if isinstance(got, tuple) else got
        assert np.all(np.isfinite(y)) or which == "accuracy.threshold" or which.startswith("rrelu"), (which, bad, got)


@FUZZ
@given(seed=st.sampled_from(SEEDS), which=st.sampled_from(["seed", "stream"]),
       kernel=st.sampled_from(["dropout_forward", "alpha_dropout_forward", "rrelu_forward"]))
def test_seeds_out_of_range_or_of_the_wrong_type_are_refused(seed, which, kernel):
    x = np.ones((2, 3), np.float32)
    kwargs = {which: seed}
    call = (lambda: K.rrelu_forward(x, **kwargs)) if kernel == "rrelu_forward" else (lambda: getattr(K, kernel)(x, 0.5, **kwargs))
    ok, got = expect_error_or_result(f"kernels.{kernel}(seed)", [which], call)
    assert not ok or isinstance(seed, (bool, np.floating)) is False, (seed, got)


@FUZZ
@given(data=st.data())
def test_bad_optimizer_hyper_parameters_are_refused_by_name(data):
    kind = data.draw(st.sampled_from(sorted(ref.OPTIMIZER_DEFAULTS)))
    key = data.draw(st.sampled_from(["momentum", "beta_1", "beta_2", "epsilon", "rho", "weight_decay", "clipnorm",
                                     "clipvalue", "global_clipnorm", "initial_accumulator_value", "learning_rate"]))
    bad = data.draw(st.sampled_from([-1.0, np.nan, np.inf, -np.inf, 1.0, 1.5, None, "x", 10**400]))
    lrs = np.array([bad]) if key == "learning_rate" and isinstance(bad, float) else np.ones(1)
    spec = {"kind": kind} if key == "learning_rate" else {"kind": kind, key: bad}
    ok, got = expect_error_or_result("kernels.optimizer_steps(settings)", [key, "learning_rates"],
                                     lambda: K.optimizer_steps(spec, np.ones(3), np.ones((1, 3)), lrs))
    if ok:
        assert np.all(np.isfinite(got[0])), (spec, got)


def test_huge_and_strange_arrays_never_crash_the_interpreter():
    """Stride tricks that declare terabytes, 0-d and 0-width arrays, negative strides: in a subprocess."""
    run_isolated("""
        import numpy as np
        from fuzz_helpers import print_outcomes
        from numpy.lib.stride_tricks import as_strided
        from fastdnn._core import kernels as K
        huge = as_strided(np.zeros(1, np.float32), shape=(2**20, 2**20), strides=(0, 0))
        huge64 = as_strided(np.zeros(1), shape=(2**40,), strides=(0,))
        calls = [
            lambda: K.matmul(huge, np.ones((2**20, 1), np.float32)),
            lambda: K.dense_forward(huge, np.ones((2**20, 1), np.float32)),
            lambda: K.activation_forward("relu", huge),
            lambda: K.dropout_forward(huge64, 0.5),
            lambda: K.regularize(huge64, 0.1),
            lambda: K.loss("sparse_categorical_crossentropy", huge64[:2**21], np.ones((2**21, 2), np.float32)),
            lambda: K.matmul(np.ones((2**16, 1), np.float32), np.ones((1, 2**24), np.float32)),  # 2**40 outputs
            lambda: K.optimizer_steps({"kind": "adam"}, huge64, np.ones((1, 2**40)), np.ones(1)),
        ]
        print_outcomes(calls)
        # shapes with zeros and negative strides that are valid give plain answers
        a = np.arange(12, dtype=np.float32).reshape(3, 4)
        print(np.array_equal(K.matmul(a[::-1, ::-2], np.eye(2, dtype=np.float32)), a[::-1, ::-2]))
        print(K.matmul(np.ones((3, 0), np.float32), np.ones((2, 0), np.float32), transpose_b=True).tolist())
        print(K.activation_forward("softmax", np.ones((2, 0), np.float32)).shape)
        for bad in (np.float32(1), np.zeros(()), np.zeros((0, 3), np.float32)):
            try:
                K.dropout_forward(bad, 0.5)
                print("returned")
            except ValueError as e:
                print("ValueError", "x" in str(e))
    """, ["MemoryError"] * 5 + ["returned", "MemoryError", "MemoryError", "True", "[[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]", "(2, 0)",
          "returned", "returned", "ValueError True"])


def test_zz_report_kernel_case_counts():
    rows = report("kernels.")
    assert rows

"""Property-based fuzzing of fastdnn._core.Network (construction from dicts and every method) and of
the Keras layer that forwards user data to it (Sequential.fit/evaluate/predict/...on_batch)."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import fastdnn as keras
from engine_helpers import make_network, snapshot
from fastdnn import _core
from fuzz_helpers import FUZZ, ALLOWED, benign, bad_values, expect_error_or_result, float_arrays, report, run_isolated

CE = {"kind": "sparse_categorical_crossentropy", "metric": "sparse_categorical_accuracy"}
NET_ARGS = ["x", "y", "order", "batch_size", "learning_rate", "incompatible function arguments"]

OPS = st.sampled_from([
    {"kind": "dense", "units": 4}, {"kind": "batch_normalization"}, {"kind": "activation", "activation": "relu"},
    {"kind": "dropout", "rate": 0.5}, {"kind": "alpha_dropout", "rate": 0.2}, {"kind": "prelu"}, {"kind": "rrelu"},
])
BAD_SETTINGS = [0, 1, -0.1, 1.5, np.nan, np.inf, -np.inf, -1, None, "0.5", [1], 10**12, 2**62, 2**64, -(2**64), 10**400, 1j]
KEYS = {"dense": ["units", "kernel_l1", "kernel_l2", "bias_l2", "use_bias"],
        "batch_normalization": ["momentum", "epsilon", "center"],
        "dropout": ["rate", "seed"], "alpha_dropout": ["rate", "seed"], "rrelu": ["lower", "upper", "seed"],
        "activation": ["activation", "negative_slope", "max_value"], "prelu": ["shared_alpha", "alpha_l1"]}
OPTIMIZERS = ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam"]
OPT_KEYS = ["momentum", "beta_1", "beta_2", "epsilon", "rho", "weight_decay", "clipnorm", "clipvalue",
            "global_clipnorm", "initial_accumulator_value", "nesterov", "lr"]


@FUZZ
@given(kind=st.sampled_from(sorted(KEYS)), data=st.data(), bad=st.sampled_from(BAD_SETTINGS))
def test_op_settings_at_and_past_their_limits(kind, data, bad):
    key = data.draw(st.sampled_from(KEYS[kind]))
    op = {"kind": kind, key: bad}
    if kind == "dense" and key != "units":
        op["units"] = 3
    ok, got = expect_error_or_result("Network(ops)", ["ops[0]", "incompatible"],
                                     lambda: _core.Network(3, [op], {"kind": "mean_squared_error"}, {"kind": "sgd"}))
    if ok:  # a value inside the documented range: the network runs and gives finite outputs
        assert np.all(np.isfinite(got.predict(np.ones((2, 3), np.float32)))), op


@FUZZ
@given(kind=st.sampled_from(OPTIMIZERS), key=st.sampled_from(OPT_KEYS), bad=st.sampled_from(BAD_SETTINGS),
       width=st.sampled_from([0, 1, -1, 2**31, 10**12, 2**64, None, "3", 3.0]))
def test_optimizer_settings_and_input_width(kind, key, bad, width):
    ok, got = expect_error_or_result("Network(optimizer)", ["optimizer", "input_width", "incompatible"],
                                     lambda: _core.Network(3, [{"kind": "dense", "units": 2}],
                                                           {"kind": "mean_squared_error"}, {"kind": kind, key: bad}))
    if ok:
        loss, _ = got.train_step(np.ones((2, 3), np.float32), np.ones((2, 2), np.float32), 0.01)
        assert np.isfinite(loss)
    expect_error_or_result("Network(input_width)", ["input_width", "incompatible"],
                           lambda: _core.Network(width, [{"kind": "dense", "units": 2}], {"kind": "mean_squared_error"},
                                                 {"kind": "sgd"}))


def make(ops, width=3, loss=CE, optimizer=None):
    return make_network(width, [*ops, {"kind": "dense", "units": 3}], loss, optimizer or {"kind": "adam"})


@FUZZ
@given(ops=st.lists(OPS, max_size=3), rows=st.integers(1, 6), data=st.data())
def test_methods_with_valid_batches_in_any_dtype_and_layout(ops, rows, data):
    net = make(ops)
    x32 = data.draw(float_arrays((rows, 3)))
    x, seen = data.draw(benign(x32), label="x")
    labels = data.draw(float_arrays((rows,), 0, 3)).astype(np.int64)
    y = labels.astype(data.draw(st.sampled_from([np.int64, np.int8, np.uint8, np.float32, np.float64])))
    ok, out = expect_error_or_result("Network.predict", NET_ARGS, lambda: net.predict(x, data.draw(st.sampled_from([None, 1, 2, 2**62]))))
    assert ok, out
    assert out.shape == (rows, 3) and out.dtype == np.float32 and np.all(np.isfinite(out))
    np.testing.assert_allclose(out, net.predict(np.ascontiguousarray(seen)), rtol=1e-6, atol=1e-7)
    ok, got = expect_error_or_result("Network.evaluate", NET_ARGS, lambda: net.evaluate(x, y, 2**62))
    assert ok and np.isfinite(got[0]) and 0 <= got[1] <= rows, got
    ok, got = expect_error_or_result("Network.compute_gradients", NET_ARGS, lambda: net.compute_gradients(x, y))
    assert ok, got
    ok, got = expect_error_or_result("Network.train_step", NET_ARGS, lambda: net.train_step(x, y, 1e-3))
    assert ok and np.isfinite(got[0]), got
    order = np.arange(rows)[::-1]
    bs = data.draw(st.sampled_from([1, 2, rows, 2**62]))
    batches = -(-rows // min(bs, rows))
    ok, got = expect_error_or_result("Network.train_batches", NET_ARGS,
                                     lambda: net.train_batches(x, y, order, bs, np.full(batches, 1e-3)))
    assert ok and got[0].shape == (batches,) and np.all(np.isfinite(got[0])), got
    assert net.training_output().shape[1] == 3
    assert all(np.all(np.isfinite(p["value"])) for p in net.parameters())


@FUZZ
@given(data=st.data(), which=st.sampled_from(["x", "y", "learning_rate", "order", "batch_size"]))
def test_methods_refuse_bad_arguments_before_changing_anything(data, which):
    net = make([{"kind": "batch_normalization"}, {"kind": "dropout", "rate": 0.5}])
    x, y = np.ones((4, 3), np.float32), np.array([0, 1, 2, 1])
    args = {"x": x, "y": y, "learning_rate": 0.1, "order": np.arange(4), "batch_size": 2}
    if which in ("x", "y", "order"):
        bad = data.draw(bad_values(args[which].shape))
        if which == "x":
            bad = data.draw(st.sampled_from([bad, np.full((4, 3), np.nan, np.float32), np.full((4, 3), np.inf)]))
        if which == "y":
            bad = data.draw(st.sampled_from([bad, np.array([0, 1, 2, 3]), np.array([-1, 0, 0, 0]),
                                             np.array([0.5, 0, 0, 0]), np.array([np.nan, 0, 0, 0]),
                                             np.array([1e20, 0, 0, 0])]))
        if which == "order":
            bad = data.draw(st.sampled_from([bad, np.array([0, 4]), np.array([-1]), np.array([0.5, 1.0]),
                                             np.array([2**63 - 1]), np.array([2**64 - 1], np.uint64)]))
    else:
        bad = data.draw(st.sampled_from([np.nan, np.inf, -1, 0, None, "1", 10**400, 1j, [1], np.ones(2)]))
    args[which] = bad
    # Keras takes any finite learning rate, 0 and negative ones included (gradient ascent).
    valid = which == "learning_rate" and isinstance(bad, int) and bad in (-1, 0)
    calls = {
        "Network.train_step": lambda: net.train_step(args["x"], args["y"], args["learning_rate"]),
        "Network.train_batches": lambda: net.train_batches(args["x"], args["y"], args["order"], args["batch_size"],
                                                           np.full(2, args["learning_rate"] if which == "learning_rate" and isinstance(bad, float) else 0.1)),
        "Network.evaluate": lambda: net.evaluate(args["x"], args["y"], args["batch_size"]),
        "Network.predict": lambda: net.predict(args["x"], args["batch_size"]),
        "Network.compute_gradients": lambda: net.compute_gradients(args["x"], args["y"]),
    }
    for entry, call in calls.items():
        before, iterations = snapshot(net), net.iterations  # an earlier entry may have trained
        ok, got = expect_error_or_result(entry, NET_ARGS + ["learning_rates"], call)
        # (train_batches gets the bad learning rate only when it can fill an array of rates)
        uses = {"Network.train_step": ("x", "y", "learning_rate"),
                "Network.train_batches": ("x", "y", "order") + (("learning_rate",) if isinstance(bad, float) else ()),
                }.get(entry, ())
        if ok and which in uses and not valid:
            pytest.fail(f"{entry} accepted {which}={bad!r}")
        if not ok and entry in ("Network.train_step", "Network.train_batches"):
            assert net.iterations == iterations
            for a, b in zip(before, snapshot(net)):
                np.testing.assert_array_equal(a, b)
        if ok and entry == "Network.predict" and which == "x" and isinstance(bad, np.ndarray):
            assert got.shape == (len(bad), 3)


@FUZZ
@given(value=st.sampled_from([0, 5, -1, 2**62, 2**62 + 1, 2**64, 10**400, 1.5, None, "1", np.nan, np.inf, 1j, True]),
       which=st.sampled_from(["iterations", "u_product", "set_profiling"]))
def test_setters_and_views(value, which):
    net = make([{"kind": "batch_normalization"}], optimizer={"kind": "nadam"})
    if which == "set_profiling":
        ok, _ = expect_error_or_result("Network.set_profiling", ["on", "incompatible"], lambda: net.set_profiling(value))
        net.train_step(np.ones((2, 3), np.float32), np.array([0, 1]), 0.1)
        profile = net.profile()
        assert all(np.isfinite(v) and v >= 0 for v in profile.values())
        return
    ok, _ = expect_error_or_result(f"Network.{which}", [which], lambda: setattr(net, which, value))
    if ok:
        assert getattr(net, which) == pytest.approx(value)
    for p in net.parameters():
        assert p["value"].dtype == np.float32 and p["value"].flags.c_contiguous
    slots = net.optimizer_slots()
    assert sorted(slots) == ["momentum", "velocity"]
    assert all(len(v) == sum(p["trainable"] for p in net.parameters()) for v in slots.values())


# --- the Keras layer: Sequential forwards whatever the user passes -------------------------------------

X_KINDS = ["ok", "f64", "int", "bool", "strided", "reversed", "nan", "1d", "3d", "0d", "wide", "empty", "none",
           "str", "complex", "object", "list", "ragged"]


def user_x(kind, rows):
    base = np.random.default_rng(rows).uniform(-1, 1, (rows, 3)).astype(np.float32)
    return {"ok": base, "f64": base.astype(np.float64), "int": (base > 0).astype(np.int32), "bool": base > 0,
            "strided": np.repeat(base, 2, axis=1)[:, ::2], "reversed": base[::-1], "nan": np.where(base > 0, np.nan, base),
            "1d": base[:, 0], "3d": base[:, :, None], "0d": np.float32(1.0), "wide": np.ones((rows, 4)),
            "empty": np.ones((0, 3)), "none": None, "str": np.full((rows, 3), "a"), "complex": base.astype(np.complex64),
            "object": base.astype(object), "list": base.tolist(), "ragged": [[1.0, 2.0], [3.0]]}[kind]


def user_y(kind, rows):
    return {"ok": np.arange(rows) % 3, "float": (np.arange(rows) % 3).astype(np.float32), "neg": -np.ones(rows),
            "big": np.full(rows, 3), "frac": np.full(rows, 0.5), "nan": np.full(rows, np.nan), "short": np.zeros(rows + 1),
            "none": None, "str": np.full(rows, "a"), "0d": np.int64(1), "column": (np.arange(rows) % 3)[:, None],
            "list": [0] * rows}[kind]


@FUZZ
@given(xk=st.sampled_from(X_KINDS), yk=st.sampled_from(["ok", "float", "neg", "big", "frac", "nan", "short", "none",
                                                          "str", "0d", "column", "list"]),
       rows=st.integers(1, 5), method=st.sampled_from(["fit", "evaluate", "predict", "train_on_batch", "predict_on_batch"]),
       batch_size=st.sampled_from([None, 1, 2**62]))
def test_sequential_forwards_user_data_safely(xk, yk, rows, method, batch_size):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dropout(0.5), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = user_x(xk, rows), user_y(yk, rows)
    calls = {
        "fit": lambda: model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0),
        "evaluate": lambda: model.evaluate(x, y, batch_size=batch_size, verbose=0),
        "predict": lambda: model.predict(x, batch_size=batch_size, verbose=0),
        "train_on_batch": lambda: model.train_on_batch(x, y),
        "predict_on_batch": lambda: model.predict_on_batch(x),
    }
    ok, got = expect_error_or_result(f"Sequential.{method}", ["x", "y", "Input", "batch_size", "sample", "label",
                                                               "incompatible", "shape", "dtype"], calls[method])
    if ok and method.startswith("predict"):
        assert got.shape == (rows if np.ndim(x) else 1, 3) and got.dtype == np.float32
        if xk in ("ok", "f64", "int", "bool", "strided", "reversed"):
            assert np.all(np.isfinite(got))
            np.testing.assert_allclose(got, model.predict(np.asarray(x, np.float32), verbose=0), rtol=1e-6, atol=1e-7)
    if ok and method == "evaluate" and xk == "nan":  # evaluation computes on (README): the loss says so
        assert np.isnan(np.ravel(got)[0])
    elif ok and method in ("fit", "train_on_batch", "evaluate"):
        assert xk in ("ok", "f64", "int", "bool", "strided", "reversed", "list") and yk in ("ok", "float", "column", "list"), (xk, yk)


def test_enormous_declared_sizes_are_errors_not_crashes():
    run_isolated("""
        import numpy as np
        from fuzz_helpers import print_outcomes
        from fastdnn import _core
        import fastdnn as keras
        MSE, SGD = {"kind": "mean_squared_error"}, {"kind": "sgd"}
        calls = [
            lambda: _core.Network(3, [{"kind": "dense", "units": 10**12}], MSE, SGD),
            lambda: _core.Network(2**31 - 1, [{"kind": "dense", "units": 2**31 - 1}] * 3, MSE, SGD),
            lambda: _core.Network(2**30, [{"kind": "dense", "units": 2**30}], MSE, SGD),
            lambda: _core.Network(3, [{"kind": "dense", "units": 2, "input": 10**400}], MSE, SGD),
            lambda: _core.Network(3, [{"kind": "dropout", "rate": 0.5, "seed": 2**64}], MSE, SGD),
            lambda: keras.layers.Dense(10**12).build((None, 3)),
        ]
        print_outcomes(calls)
        net = _core.Network(3, [{"kind": "dense", "units": 2}], MSE, SGD)
        x, y = np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32)
        print(net.predict(x, 2**62).shape, net.evaluate(x, y, 2**62)[0])
        print(net.train_batches(x, y, np.arange(4), 2**62, np.ones(1))[0].shape)
        huge = np.lib.stride_tricks.as_strided(np.zeros(1, np.float32), shape=(2**40, 3), strides=(0, 0))
        for call in (lambda: net.predict(huge), lambda: net.train_batches(x, y, np.zeros(2**40, np.uint8)[::1], 1, np.ones(1))):
            try:
                call()
            except (ValueError, MemoryError, IndexError) as e:
                print(type(e).__name__)
    """, None, timeout=300)


def test_zz_report_network_case_counts():
    assert report("Network") or True
    assert report("Sequential")

"""sample_weight and class_weight: carried into the engine's loss, gradient and accuracy, with
Keras 3's normalisation (Σ w·loss / rows), and refused when malformed."""

import numpy as np
import pytest

import fastdnn
import reference_losses as rl
from engine_helpers import make_network, trainable
from helpers import U32

# A linear network: its outputs, loss and gradients can be written down in NumPy.
LINEAR = [{"kind": "dense", "units": 3}]


def _data(rng, n=12, width=5, units=3):
    return rng.normal(size=(n, width)).astype(np.float32), rng.normal(size=(n, units)).astype(np.float32)


def _dense_params(net):
    kernel, bias = (p["value"].astype(np.float64) for p in trainable(net))
    return kernel, bias


@pytest.mark.parametrize("loss", ["mean_squared_error", "huber", "log_cosh", "cosine_similarity"])
def test_engine_weighted_loss_and_gradient_match_reference(loss):
    # dL/dW = xᵀ·dL/dp and dL/db = Σ_rows dL/dp, with dL/dp the weighted reference gradient.
    # Budget: a dot product of 12 float32 terms (12u of the absolute sum) plus the loss' float32
    # gradient (2u): 32u of Σ|x|·|dL/dp|.
    rng = np.random.default_rng(1)
    x, y = _data(rng)
    net = make_network(5, LINEAR, {"kind": loss})
    w = rng.uniform(0, 3, 12).astype(np.float32)
    w[3] = 0.0
    kernel, bias = _dense_params(net)
    p = np.float32(x.astype(np.float64) @ kernel + bias)
    want, dp = rl.loss(loss, y, p, sample_weight=w)
    got = net.compute_gradients(x, y, w)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    dkernel, dbias = (q["grad"] for q in trainable(net))
    budget = 32 * U32 * (np.abs(x.T) @ np.abs(dp)) + 1e-12
    assert np.all(np.abs(dkernel - x.T.astype(np.float64) @ dp) <= budget)
    assert np.all(np.abs(dbias - dp.sum(axis=0)) <= 32 * U32 * np.abs(dp).sum(axis=0) + 1e-12)


def test_zero_weight_row_is_removed_from_the_gradient():
    rng = np.random.default_rng(2)
    x, y = _data(rng)
    net = make_network(5, LINEAR + [{"kind": "activation", "activation": "tanh"}])
    w = np.ones(12, np.float32)
    w[[2, 7]] = 0.0
    with_zeros = net.compute_gradients(x, y, w)
    grads = [q["grad"].copy() for q in trainable(net)]
    keep = w > 0
    without = net.compute_gradients(x[keep], y[keep])
    # Σ w·L / 12 rows = (10/12)·(the mean over the 10 kept rows)
    np.testing.assert_allclose(with_zeros, without * 10 / 12, rtol=1e-6)
    for g, q in zip(grads, trainable(net)):
        np.testing.assert_allclose(g, q["grad"] * 10 / 12, rtol=1e-5, atol=1e-9)


def test_weighted_accuracy_hits_count_each_row_by_its_weight():
    net = make_network(2, [{"kind": "dense", "units": 2}],
                       {"kind": "sparse_categorical_crossentropy", "metric": "sparse_categorical_accuracy"})
    k, b = trainable(net)
    k["value"][...] = np.eye(2)
    b["value"][...] = 0
    x = np.array([[1, 0], [0, 1], [1, 0], [0, 1]], np.float32)  # predicts 0, 1, 0, 1
    y = np.array([0, 1, 1, 1])
    loss, hits, weighted = net.evaluate(x, y, 2, np.array([1.0, 2.0, 4.0, 0.5]))
    assert hits == 3 and weighted == 1.0 + 2.0 + 0.5


def test_without_weights_the_engine_returns_loss_and_hits_only():
    rng = np.random.default_rng(3)
    x, y = _data(rng)
    net = make_network(5, LINEAR)
    assert len(net.evaluate(x, y)) == 2 and len(net.train_step(x, y, 0.01)) == 2
    assert len(net.train_batches(x, y, np.arange(12), 4, np.full(3, 0.01))) == 2


def _model(seed=0, units=3, activation="softmax"):
    fastdnn.utils.set_random_seed(seed)
    return fastdnn.Sequential([fastdnn.Input(shape=(5,)), fastdnn.layers.Dense(8, activation="tanh"),
                               fastdnn.layers.Dense(units, activation=activation)])


def _fit(sample_weight=None, class_weight=None, lr=0.1, loss="sparse_categorical_crossentropy", y=None):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(40, 5)).astype(np.float32)
    y = rng.integers(0, 3, 40) if y is None else y
    model = _model()
    model.compile(optimizer=fastdnn.optimizers.SGD(learning_rate=lr), loss=loss, metrics=["accuracy"])
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False, sample_weight=sample_weight,
                        class_weight=class_weight)
    return model, history


def test_sample_weight_of_two_trains_like_a_doubled_learning_rate():
    doubled_weight, _ = _fit(sample_weight=np.full(40, 2.0), lr=0.1)
    doubled_rate, _ = _fit(lr=0.2)
    for a, b in zip(doubled_weight.get_weights(), doubled_rate.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_unit_sample_weights_train_bitwise_like_none():
    weighted, h1 = _fit(sample_weight=np.ones(40))
    plain, h2 = _fit()
    for a, b in zip(weighted.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert h1.history == h2.history


def test_class_weight_equals_the_equivalent_sample_weight_bitwise():
    y = np.random.default_rng(4).integers(0, 3, 40)
    class_weight = {0: 0.5, 1: 2.0, 2: 1.25}
    by_class, h1 = _fit(class_weight=class_weight, y=y)
    by_sample, h2 = _fit(sample_weight=np.array([class_weight[c] for c in y]), y=y)
    for a, b in zip(by_class.get_weights(), by_sample.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert h1.history == h2.history


@pytest.mark.parametrize("kind", ["one_hot", "sigmoid_column"])
def test_class_of_a_row_follows_keras_for_one_hot_and_single_column_labels(kind):
    from fastdnn import _sample_weights

    if kind == "one_hot":
        y = np.eye(3)[[2, 0, 1, 2]]
        want = [3.0, 1.0, 2.0, 3.0]
    else:
        y = np.array([[0.0], [1.0], [0.9], [0.2]])  # rounded: 0, 1, 1, 0
        want = [1.0, 2.0, 2.0, 1.0]
    got = _sample_weights.from_class_weight({0: 1.0, 1: 2.0, 2: 3.0}, y)
    np.testing.assert_array_equal(got, want)


def test_loss_is_divided_by_rows_not_by_the_sum_of_weights():
    model = _model(units=1, activation=None)
    model.compile(optimizer="sgd", loss="mae")
    x = np.zeros((4, 5), np.float32)
    y = model.predict(x, verbose=0)[:, 0] + np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    got = model.evaluate(x, y, sample_weight=np.array([1.0, 0.0, 0.0, 1.0]), verbose=0)
    assert got == pytest.approx((1.0 + 4.0) / 4, rel=1e-6)


BAD_WEIGHTS = [
    (dict(sample_weight=np.ones(39)), ValueError, r"sample_weight must hold one weight per sample, shape \(40,\)"),
    (dict(sample_weight=np.ones((40, 2))), ValueError, r"shape \(40,\) or \(40, 1\)"),
    (dict(sample_weight=np.where(np.arange(40) == 5, -1.0, 1.0)), ValueError, r"sample_weight\[5\] = -1.0.*>= 0"),
    (dict(sample_weight=np.where(np.arange(40) == 9, np.nan, 1.0)), ValueError, r"sample_weight\[9\].*finite"),
    (dict(sample_weight=np.array(["a"] * 40)), TypeError, "sample_weight must hold numbers"),
    (dict(class_weight={0: 1.0, 1: 2.0}), ValueError, r"no weight for class\(es\) \[2\]"),
    (dict(class_weight={0: 1.0, 1: -2.0, 2: 1.0}), ValueError, r"class_weight\[1\] = -2.0"),
    (dict(class_weight={"0": 1.0}), TypeError, "class_weight keys must be class indices"),
    (dict(class_weight=[1.0, 2.0, 3.0]), TypeError, "class_weight must be a dict"),
    (dict(class_weight={0: 1.0, 1: 1.0, 2: 1.0}, sample_weight=np.ones(40)), ValueError,
     "cannot `class_weight` and `sample_weight`"),
]


@pytest.mark.parametrize("kwargs, error, match", BAD_WEIGHTS)
def test_fit_refuses_bad_weights_before_any_step(kwargs, error, match):
    model = _model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    before = model.get_weights()
    x = np.zeros((40, 5), np.float32)
    with pytest.raises(error, match=match):
        model.fit(x, np.arange(40) % 3, verbose=0, **kwargs)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_validation_data_takes_sample_weights():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(20, 5)).astype(np.float32), rng.integers(0, 3, 20)
    model = _model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    w = rng.uniform(0, 2, 20)
    history = model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y, w))
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x, y, sample_weight=w, verbose=0), rel=1e-12)
    with pytest.raises(ValueError, match=r"validation_data's sample_weight must hold one weight per sample"):
        model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y, w[:5]))


def test_weighted_metrics_are_named_as_keras_names_them():
    model = _model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy", "sparse_top_k_categorical_accuracy"])
    x, y = np.zeros((6, 5), np.float32), np.arange(6) % 3
    logs = model.evaluate(x, y, sample_weight=np.ones(6), verbose=0, return_dict=True)
    assert sorted(logs) == ["accuracy", "loss", "sparse_top_k_categorical_accuracy", "weighted_accuracy"]


def test_weighted_metrics_survive_save_and_load(tmp_path):
    model = _model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy"])
    x, y, w = np.random.default_rng(6).normal(size=(9, 5)).astype(np.float32), np.arange(9) % 3, np.arange(9.0)
    model.fit(x, y, sample_weight=w, epochs=1, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = fastdnn.models.load_model(path)
    want = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    assert loaded.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True) == want
    assert "weighted_accuracy" in want


@pytest.mark.parametrize("call", ["train_step", "train_batches", "evaluate", "compute_gradients"])
@pytest.mark.parametrize("bad, error, match", [
    (np.ones(11), ValueError, r"sample_weight must hold one weight per sample, shape \(12,\) or \(12, 1\)"),
    (np.ones((12, 2)), ValueError, r"shape \(12,\) or \(12, 1\); got shape \(12, 2\)"),
    (np.where(np.arange(12) == 4, -0.5, 1.0), ValueError, r"sample_weight\[4\].*finite and >= 0"),
    (np.where(np.arange(12) == 0, np.inf, 1.0), ValueError, r"sample_weight\[0\].*finite"),
    (np.array(["x"] * 12), TypeError, "sample_weight"),
])
def test_engine_refuses_bad_sample_weight_at_the_binding(call, bad, error, match):
    rng = np.random.default_rng(7)
    x, y = _data(rng)
    net = make_network(5, LINEAR)
    before = [p["value"].copy() for p in net.parameters()]
    calls = {
        "train_step": lambda: net.train_step(x, y, 0.1, bad),
        "train_batches": lambda: net.train_batches(x, y, np.arange(12), 4, np.full(3, 0.1), bad),
        "evaluate": lambda: net.evaluate(x, y, 4, bad),
        "compute_gradients": lambda: net.compute_gradients(x, y, bad),
    }
    with pytest.raises(error, match=match):
        calls[call]()
    for a, p in zip(before, net.parameters()):
        np.testing.assert_array_equal(a, p["value"])


def test_validation_split_splits_the_sample_weights_too():
    # As Keras: the last 25% of x, y and sample_weight validate, with their weights.
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(20, 5)).astype(np.float32), rng.integers(0, 3, 20)
    w = rng.uniform(0, 2, 20)
    model = _model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=1, verbose=0, sample_weight=w, validation_split=0.25)
    want = model.evaluate(x[15:], y[15:], sample_weight=w[15:], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(want, rel=1e-12)
    assert want != pytest.approx(model.evaluate(x[15:], y[15:], verbose=0), rel=1e-3)

"""Threads: results that do not depend on them, and steps that let Python run."""

import sys
import threading
import time

import numpy as np
import pytest

import fastdnn
from fastdnn import _core
from fastdnn._core import kernels as K
from engine_helpers import dense_relu_bn_net, make_network, snapshot


def train_wide_net(threads):
    """Products, batch reductions and dropout masks all big enough to be split
    (2048 x 300 elements is above kMinParallelElements)."""
    fastdnn.set_num_threads(threads)
    rng = np.random.default_rng(0)
    x = rng.random((2048, 784), dtype=np.float32)
    y = rng.integers(0, 10, size=2048)
    ops = [
        {"kind": "dense", "units": 300},
        {"kind": "activation", "activation": "elu"},
        {"kind": "batch_normalization", "momentum": 0.9},
        {"kind": "dropout", "rate": 0.25, "seed": 11},
        {"kind": "dense", "units": 300},
        {"kind": "rrelu", "seed": 12},
        {"kind": "dense", "units": 10},
        {"kind": "activation", "activation": "softmax"},
    ]
    net = make_network(784, ops, {"kind": "sparse_categorical_crossentropy"}, {"kind": "adam"}, seed=3)
    losses = [net.train_step(x, y, 1e-3)[0] for _ in range(5)]
    return losses, snapshot(net), net.predict(x)


def test_training_is_bitwise_identical_on_one_and_two_threads(restore_threads):
    losses_1, weights_1, predictions_1 = train_wide_net(1)
    losses_2, weights_2, predictions_2 = train_wide_net(2)
    assert losses_1 == losses_2
    for a, b in zip(weights_1, weights_2):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(predictions_1, predictions_2)


def test_set_num_threads_rejects_nonsense(restore_threads):
    with pytest.raises(ValueError, match="n must be in"):
        fastdnn.set_num_threads(0)
    with pytest.raises(TypeError):
        fastdnn.set_num_threads("two")
    fastdnn.set_num_threads(1)
    assert fastdnn.get_num_threads() == 1


def test_a_training_step_releases_the_gil():
    """Another Python thread makes progress while the 20-layer net trains.

    The switch interval is made huge, so neither thread is ever made to hand
    the GIL over: the spinning thread gives it up only in time.sleep(0), and
    the main thread only where C++ releases it. The counter can move between
    the two reads only if a step released the GIL.
    """
    net = dense_relu_bn_net(layers=20, units=100)
    rng = np.random.default_rng(0)
    x = rng.random((1024, 784), dtype=np.float32)
    y = rng.integers(0, 10, size=1024)
    counter = [0]
    started, stop = threading.Event(), threading.Event()

    def spin():
        started.set()
        while not stop.is_set():
            counter[0] += 1
            time.sleep(0)

    old_interval = sys.getswitchinterval()
    thread = threading.Thread(target=spin)
    thread.start()
    started.wait()
    sys.setswitchinterval(1000.0)
    try:
        before = counter[0]
        for _ in range(3):
            net.train_step(x, y, 0.01)
        during = counter[0] - before
    finally:
        stop.set()
        sys.setswitchinterval(old_interval)
        thread.join()
    assert during > 0


def test_predict_from_several_threads_at_once_gives_the_single_threaded_answer():
    net = dense_relu_bn_net(layers=4, units=64)
    rng = np.random.default_rng(1)
    xs = [rng.random((200, 784), dtype=np.float32) for _ in range(4)]
    expected = [net.predict(x) for x in xs]
    results = [None] * 4

    def work(i):
        for _ in range(5):
            results[i] = net.predict(xs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r, e in zip(results, expected):
        np.testing.assert_array_equal(r, e)


def test_same_seed_same_masks_different_seed_different_masks():
    def gradient(seed):
        ops = [{"kind": "dropout", "rate": 0.5, "seed": seed}, {"kind": "dense", "units": 32, "use_bias": False}]
        net = make_network(32, ops)
        net.compute_gradients(np.ones((16, 32), np.float32), np.zeros((16, 32), np.float32))
        return net.parameters()[0]["grad"].copy()

    np.testing.assert_array_equal(gradient(1), gradient(1))
    assert not np.array_equal(gradient(1), gradient(2))


def test_two_networks_training_at_once_give_the_weights_of_one_after_the_other(restore_threads):
    """Two Python threads each train a network with the GIL released: the
    thread pool serves one and the other runs on its own thread, and neither
    result may change."""
    _, alone, _ = train_wide_net(2)
    results = [None, None]

    def train(i):
        results[i] = train_wide_net(2)[1]

    threads = [threading.Thread(target=train, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for result in results:
        for a, b in zip(alone, result):
            np.testing.assert_array_equal(a, b)


def test_the_profile_charges_each_part_of_the_step(restore_threads):
    net = dense_relu_bn_net(layers=3)
    rng = np.random.default_rng(0)
    x, y = rng.random((32, 784), dtype=np.float32), rng.integers(0, 10, size=32)
    net.train_step(x, y, 0.01)
    net.set_profiling(True)
    assert net.profile()["steps"] == 0 and net.profile()["dense"] == 0.0
    for _ in range(3):
        net.train_step(x, y, 0.01)
    net.predict(x)  # inference is not part of the training profile
    profile = net.profile()
    assert profile["steps"] == 3
    for part in ("dense", "batch_normalization", "activation", "loss", "optimizer"):
        assert profile[part] > 0.0, part
    assert profile["dropout"] == 0.0 and profile["prelu"] == 0.0
    parts = sum(v for k, v in profile.items() if k not in ("steps", "step_seconds"))
    assert parts <= profile["step_seconds"]


def fit_one_epoch(threads):
    fastdnn.set_num_threads(threads)
    fastdnn.utils.set_random_seed(7)
    rng = np.random.default_rng(0)
    x, y = rng.random((4096, 784), dtype=np.float32), rng.integers(0, 10, size=4096)
    model = fastdnn.Sequential([
        fastdnn.layers.Dense(300, kernel_initializer="he_normal", input_shape=[784]),
        fastdnn.layers.BatchNormalization(momentum=0.9),
        fastdnn.layers.Activation("elu"),
        fastdnn.layers.Dropout(0.25),
        fastdnn.layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=2048, epochs=1, verbose=0)
    return history.history, model.get_weights()


def assert_same_fit_on_one_thread_and(threads, fit):
    history_1, weights_1 = fit(1)
    history_n, weights_n = fit(threads)
    assert history_1 == history_n
    for a, b in zip(weights_1, weights_n):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("threads", [2, 3])
def test_one_epoch_with_the_same_seed_gives_bitwise_the_same_weights_on_one_thread_and_more(threads, restore_threads):
    assert_same_fit_on_one_thread_and(threads, fit_one_epoch)


def fit_small_batch_epoch(threads):
    """W4's network at batch 100, whose 100 x 200 x 100 products are cut in two tiles."""
    fastdnn.set_num_threads(threads)
    fastdnn.utils.set_random_seed(5)
    rng = np.random.default_rng(1)
    x, y = rng.random((1000, 784), dtype=np.float32), rng.integers(0, 10, size=1000)
    model = fastdnn.Sequential([
        fastdnn.Input(shape=(784,)),
        fastdnn.layers.Dense(200, activation="relu"),
        fastdnn.layers.Dense(100, activation="relu"),
        fastdnn.layers.Dropout(0.25),
        fastdnn.layers.Dense(60, activation="relu"),
        fastdnn.layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    history = model.fit(x, y, batch_size=100, epochs=1, verbose=0)
    return history.history, model.get_weights()


@pytest.mark.parametrize("threads", [2, 3])
def test_small_batch_fit_gives_bitwise_the_same_weights_on_one_thread_and_more(threads, restore_threads):
    assert_same_fit_on_one_thread_and(threads, fit_small_batch_epoch)


@pytest.fixture
def held_workers():
    """Workers that wake but never claim a chunk, as when the OS never schedules them."""
    _core._hold_workers(True)
    yield
    _core._hold_workers(False)


def test_jobs_finish_on_the_calling_thread_when_the_workers_never_run(restore_threads, held_workers):
    fastdnn.set_num_threads(2)
    rng = np.random.default_rng(2)
    a, b = rng.random((256, 784), dtype=np.float32), rng.random((784, 300), dtype=np.float32)
    expected = K.matmul(a, b, naive=True)
    before = _core._pool_counters()
    products = [K.matmul(a, b) for _ in range(4)]
    after = _core._pool_counters()
    assert after["chunks_by_workers"] == before["chunks_by_workers"]
    for product in products:
        np.testing.assert_allclose(product, expected, rtol=1e-5)


def test_training_with_workers_that_never_run_gives_the_one_thread_weights(restore_threads, held_workers):
    _, alone, _ = train_wide_net(1)
    _, held, _ = train_wide_net(2)
    for a, b in zip(alone, held):
        np.testing.assert_array_equal(a, b)


def test_workers_missing_job_after_job_send_the_caller_to_run_alone(restore_threads, held_workers):
    """The pool cannot tell held workers from a core taken by another process:
    after enough jobs that ran wholly on the caller it stops sharing them out."""
    fastdnn.set_num_threads(2)
    before = _core._pool_counters()
    # While an earlier back-off lasts (at most a second) jobs are not shared out at all.
    give_up = time.monotonic() + 10.0
    while _core._pool_counters()["jobs"] - before["jobs"] < 16 and time.monotonic() < give_up:
        _core._time_pool_jobs(2, 10_000, 64)
        time.sleep(0.01)
    after = _core._pool_counters()
    assert after["jobs"] - before["jobs"] >= 16
    assert after["back_offs"] > before["back_offs"]

"""model.export(path, format="onnx"): each file passes onnx.checker (full_check) and runs in
onnxruntime with the outputs fastdnn's predict gives.

Tolerance: both sides compute in float32, but in different orders (onnxruntime's GEMM blocks its
sums differently from fastdnn's, and its exp/erf/tanh are other approximations, a few ulp apart).
A dot product of K terms then differs by about √K·2⁻²⁴ of the terms' magnitude (K ≤ 784 here:
~2e-6), so the outputs agree within 1e-5 of the output scale (max(1, max |output|)), with margin,
while a wrong formula (a slope, an epsilon, a missing bias) is off by far more."""

import os
import sys

import numpy as np
import pytest

import fastdnn as keras
from fastdnn import layers

onnx = pytest.importorskip("onnx", reason='ONNX export needs the onnx extra: pip install "fastdnn[onnx]"')
ort = pytest.importorskip("onnxruntime", reason="the ONNX tests run the files in onnxruntime (the test extra)")

TOLERANCE = 1e-5
ACTIVATIONS = ["linear", "relu", "relu6", "leaky_relu", "elu", "selu", "sigmoid", "tanh", "softmax", "softplus",
               "softsign", "swish", "silu", "gelu", "hard_sigmoid", "hard_silu", "hard_swish", "exponential"]


def export_and_load(model, tmp_path, name="model.onnx"):
    path = tmp_path / name
    model.export(path, format="onnx")
    onnx.checker.check_model(onnx.load(path), full_check=True)
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def run(session, arrays):
    return session.run(None, {i.name: a.astype(np.float32) for i, a in zip(session.get_inputs(), arrays)})


def assert_close(actual, expected):
    expected = np.asarray(expected)
    assert actual.shape == expected.shape
    scale = max(1.0, float(np.max(np.abs(expected))))
    assert np.max(np.abs(actual - expected)) <= TOLERANCE * scale


def assert_matches_predict(model, arrays, tmp_path):
    session = export_and_load(model, tmp_path)
    expected = model.predict(arrays if len(arrays) > 1 else arrays[0], verbose=0)
    expected = expected if isinstance(expected, list) else [expected]
    outputs = run(session, arrays)
    assert len(outputs) == len(expected)
    for actual, wanted in zip(outputs, expected):
        assert_close(actual, wanted)


def data(*shape, seed=0, scale=2.0):
    return (np.random.default_rng(seed).normal(size=shape) * scale).astype(np.float32)


def randomize_weights(model, seed=1):
    """Non-trivial values everywhere (BN's moving statistics, PReLU's alpha), variances positive."""
    rng = np.random.default_rng(seed)
    model.set_weights([np.abs(rng.normal(size=w.shape)) + 0.5 if "variance" in v.name
                       else rng.normal(size=w.shape) * 0.5 for v, w in zip(model.weights, model.get_weights())])


def one_layer(layer, width=6):
    keras.utils.set_random_seed(4)
    return keras.Sequential([layers.Input(shape=(width,)), layers.Dense(width), layer])


# --- activations --------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_exports_as_predict_computes_it(activation, tmp_path):
    keras.utils.set_random_seed(2)
    model = keras.Sequential([layers.Input(shape=(5,)), layers.Dense(7, activation=activation)])
    assert_matches_predict(model, [data(37, 5)], tmp_path)


def test_approximate_gelu_exports_its_tanh_form(tmp_path):
    layer = layers.Activation("gelu")
    layer._ops = lambda: [{"kind": "activation", "activation": "gelu", "approximate": True}]
    model = one_layer(layer)
    exact = keras.Sequential([layers.Input(shape=(6,)), layers.Activation("gelu")]).predict(data(37, 6), verbose=0)
    assert not np.allclose(keras.Sequential([layers.Input(shape=(6,)), layer]).predict(data(37, 6), verbose=0),
                           exact, atol=1e-5)  # the op really is the approximation
    assert_matches_predict(model, [data(37, 6)], tmp_path)


@pytest.mark.parametrize("layer", [
    lambda: layers.ReLU(), lambda: layers.ReLU(max_value=1.5), lambda: layers.ReLU(negative_slope=0.1, threshold=0.3),
    lambda: layers.ReLU(max_value=2.0, negative_slope=0.2, threshold=-0.5), lambda: layers.LeakyReLU(0.15),
    lambda: layers.ELU(0.7), lambda: layers.Softmax(), lambda: layers.PReLU(), lambda: layers.PReLU(shared_axes=[1]),
    lambda: layers.RReLU(0.1, 0.4, seed=3), lambda: layers.Dense(4, activation=layers.LeakyReLU(0.05)),
], ids=["relu", "relu_max", "relu_slope_threshold", "relu_all", "leaky", "elu", "softmax", "prelu", "prelu_shared",
        "rrelu", "dense_with_layer_activation"])
def test_every_activation_layer_exports_as_predict_computes_it(layer, tmp_path):
    model = one_layer(layer())
    randomize_weights(model)
    assert_matches_predict(model, [data(37, 6)], tmp_path)


# --- layers -------------------------------------------------------------------------------------
def rms_layer_normalization():
    with pytest.warns(UserWarning, match="rms_scaling"):  # deprecated in Keras 3, which warns too
        return layers.LayerNormalization(rms_scaling=True)


def adapted_normalization(axis=-1, invert=False):
    layer = layers.Normalization(axis=axis, invert=invert)
    layer.adapt(data(50, 6, seed=5, scale=3.0) + 1.0)
    return layer


@pytest.mark.parametrize("layer", [
    lambda: layers.Dense(3, use_bias=False), lambda: layers.BatchNormalization(),
    lambda: layers.BatchNormalization(center=False, scale=False, epsilon=0.1), lambda: layers.LayerNormalization(),
    lambda: layers.LayerNormalization(center=False, scale=False), rms_layer_normalization,
    lambda: layers.Normalization(mean=[1.0, 2, 3, 4, 5, 6], variance=[1.0, 4, 0.25, 9, 2, 3]),
    lambda: layers.Normalization(mean=2.0, variance=3.0, invert=True), adapted_normalization,
    lambda: adapted_normalization(axis=None), lambda: adapted_normalization(invert=True),
    lambda: layers.Rescaling(1 / 255.0, offset=-0.5), lambda: layers.Rescaling(np.arange(1, 7) / 4.0, offset=np.arange(6)),
    lambda: layers.Dropout(0.5, seed=1), lambda: layers.AlphaDropout(0.3, seed=1), lambda: layers.GaussianNoise(1.0, seed=1),
    lambda: layers.GaussianDropout(0.4, seed=1), lambda: layers.ActivityRegularization(l1=0.1, l2=0.1),
    lambda: layers.Flatten(), lambda: layers.Reshape((2, 3)), lambda: layers.Reshape((3, 2, 1)),
], ids=["dense_no_bias", "batchnorm", "batchnorm_plain", "layernorm", "layernorm_plain", "layernorm_rms",
        "normalization", "normalization_scalar_invert", "normalization_adapted", "normalization_adapted_all",
        "normalization_adapted_invert", "rescaling", "rescaling_arrays", "dropout", "alpha_dropout",
        "gaussian_noise", "gaussian_dropout", "activity_regularization", "flatten", "reshape_2d", "reshape_3d"])
def test_every_layer_kind_exports_as_predict_computes_it(layer, tmp_path):
    model = one_layer(layer())
    randomize_weights(model)
    assert_matches_predict(model, [data(37, 6)], tmp_path)


@pytest.mark.parametrize("merge", [layers.Add, layers.Subtract, layers.Multiply, layers.Average, layers.Maximum,
                                   layers.Minimum, layers.Concatenate])
def test_every_merge_exports_as_predict_computes_it(merge, tmp_path):
    keras.utils.set_random_seed(5)
    a, b = layers.Input(shape=(4,), name="a"), layers.Input(shape=(4,), name="b")
    merged = merge()([layers.Dense(3)(a), layers.Dense(3)(b)])
    assert_matches_predict(keras.Model([a, b], merged), [data(37, 4), data(37, 4, seed=1)], tmp_path)


def test_a_concatenation_along_an_inner_axis_keeps_the_row_major_order(tmp_path):
    a, b = layers.Input(shape=(2, 3), name="a"), layers.Input(shape=(2, 5), name="b")
    model = keras.Model([a, b], layers.Dense(2)(layers.Flatten()(layers.Concatenate(axis=-1)([a, b]))))
    assert_matches_predict(model, [data(37, 2, 3), data(37, 2, 5, seed=1)], tmp_path)


# --- models -------------------------------------------------------------------------------------
def mnist_net():
    keras.utils.set_random_seed(6)
    model = keras.Sequential([layers.Input(shape=(28, 28), name="pixels"), layers.Rescaling(1 / 255.0),
                              layers.Flatten(), layers.Dense(64, activation="relu"), layers.BatchNormalization(),
                              layers.Dropout(0.2), layers.Dense(10, activation="softmax", name="digits")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).integers(0, 256, size=(200, 28, 28)).astype(np.float32)
    model.fit(x, np.arange(200) % 10, epochs=1, batch_size=50, verbose=0)
    return model, x


def test_an_mnist_shaped_sequential_net_exports_as_predict_computes_it(tmp_path):
    model, x = mnist_net()
    assert_matches_predict(model, [x[:37]], tmp_path)


@pytest.mark.parametrize("batch", [1, 37])
def test_one_file_runs_at_any_batch_size(batch, tmp_path):
    model, x = mnist_net()
    session = export_and_load(model, tmp_path)
    assert_close(run(session, [x[:batch]])[0], model.predict(x[:batch], verbose=0))


def test_the_file_names_the_inputs_and_outputs_and_leaves_the_batch_dynamic(tmp_path):
    model, _ = mnist_net()
    session = export_and_load(model, tmp_path)
    (given,), (made,) = session.get_inputs(), session.get_outputs()
    assert (given.name, given.shape) == ("pixels", ["batch", 28, 28])
    assert (made.name, made.shape) == ("digits", ["batch", 10])
    assert onnx.load(tmp_path / "model.onnx").opset_import[0].version == 17


def two_in_two_out():
    keras.utils.set_random_seed(7)
    wide, deep = layers.Input(shape=(5,), name="wide"), layers.Input(shape=(3, 2), name="deep")
    hidden = layers.Dense(8, activation="gelu")(layers.Flatten()(deep))
    hidden = layers.LayerNormalization()(hidden)
    main = layers.Dense(1, name="main")(layers.concatenate([wide, hidden]))
    aux = layers.Reshape((2, 2), name="aux")(layers.Dense(4, activation="tanh")(hidden))
    return keras.Model([wide, deep], [main, aux])


def test_a_two_input_two_output_functional_model_exports_as_predict_computes_it(tmp_path):
    assert_matches_predict(two_in_two_out(), [data(37, 5), data(37, 3, 2, seed=1)], tmp_path)


def test_a_functional_model_keeps_its_input_and_output_names(tmp_path):
    session = export_and_load(two_in_two_out(), tmp_path)
    assert [i.name for i in session.get_inputs()] == ["wide", "deep"]
    assert [(o.name, o.shape) for o in session.get_outputs()] == [("main", ["batch", 1]), ("aux", ["batch", 2, 2])]


def test_a_shared_layer_and_a_nested_model_export_with_their_weights(tmp_path):
    keras.utils.set_random_seed(8)
    left, right = layers.Input(shape=(5,), name="left"), layers.Input(shape=(5,), name="right")
    shared = layers.Dense(4, activation="elu")
    inner_in = layers.Input(shape=(4,))
    inner = keras.Model(inner_in, layers.Dense(3)(inner_in), name="inner")
    model = keras.Model([left, right], inner(layers.Add()([shared(left), shared(right)])))
    assert_matches_predict(model, [data(37, 5), data(37, 5, seed=1)], tmp_path)


class Residual(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = layers.Dense(6, activation="selu")
        self.norm = layers.BatchNormalization()
        self.head = layers.Dense(2)

    def call(self, inputs):
        return self.head(layers.add([inputs, self.norm(self.hidden(inputs))]))


def test_a_subclassed_model_exports_as_predict_computes_it(tmp_path):
    keras.utils.set_random_seed(9)
    model = Residual()
    model.build((None, 6))
    randomize_weights(model)
    assert_matches_predict(model, [data(37, 6)], tmp_path)


def test_an_output_that_is_an_input_is_passed_through(tmp_path):
    x = layers.Input(shape=(3,), name="x")
    model = keras.Model(x, [layers.Dense(2, name="d")(x), x])
    assert_matches_predict(model, [data(37, 3)], tmp_path)
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["d", "x_1"]  # an ONNX value has one name


# --- bad use ------------------------------------------------------------------------------------
def test_an_unknown_format_is_a_value_error(tmp_path):
    model, _ = mnist_net()
    with pytest.raises(ValueError, match="format='onnx' only"):
        model.export(tmp_path / "m", format="tflite")


def test_keras_default_format_is_refused_with_the_supported_one(tmp_path):
    model, _ = mnist_net()
    with pytest.raises(ValueError, match="tf_saved_model"):
        model.export(tmp_path / "m")


def test_an_unbuilt_model_is_refused(tmp_path):
    with pytest.raises(ValueError, match="has not been built"):
        keras.Sequential([layers.Dense(2)]).export(tmp_path / "m.onnx", format="onnx")
    with pytest.raises(ValueError, match="has not been built"):
        Residual().export(tmp_path / "m.onnx", format="onnx")
    assert not os.listdir(tmp_path)


def test_monte_carlo_dropout_is_refused_and_no_file_is_written(tmp_path):
    x = layers.Input(shape=(4,))
    model = keras.Model(x, layers.Dense(1)(layers.Dropout(0.5)(layers.Dense(3)(x), training=True)))
    with pytest.raises(ValueError, match="inference only.*training=True"):
        model.export(tmp_path / "m.onnx", format="onnx")
    assert not os.listdir(tmp_path)


def test_a_layer_fixed_in_inference_mode_exports(tmp_path):
    x = layers.Input(shape=(4,))
    model = keras.Model(x, layers.Dense(1)(layers.Dropout(0.5)(layers.Dense(3)(x), training=False)))
    assert_matches_predict(model, [data(37, 4)], tmp_path)


def test_a_failed_export_leaves_the_previous_file_whole(tmp_path):
    model, _ = mnist_net()
    session_file = tmp_path / "model.onnx"
    model.export(session_file, format="onnx")
    before = session_file.read_bytes()
    x = layers.Input(shape=(4,))
    mc = keras.Model(x, layers.Dropout(0.5)(x, training=True))
    with pytest.raises(ValueError):
        mc.export(session_file, format="onnx")
    assert session_file.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.onnx"]  # no temporary file left behind


@pytest.mark.parametrize("kwargs, match", [({"opset_version": 11}, "opset_version"),
                                           ({"input_signature": [(None, 3)]}, "input_signature"),
                                           ({"dynamic_axes": {}}, "dynamic_axes")])
def test_options_fastdnn_cannot_honour_are_refused(kwargs, match, tmp_path):
    model, _ = mnist_net()
    with pytest.raises((ValueError, TypeError), match=match):
        model.export(tmp_path / "m.onnx", format="onnx", **kwargs)


def test_a_later_opset_writes_a_valid_file(tmp_path):
    x = layers.Input(shape=(6,), name="x")
    model = keras.Model(x, rms_layer_normalization()(layers.Dense(6)(x)))
    model.export(tmp_path / "m.onnx", format="onnx", opset_version=18)
    onnx.checker.check_model(onnx.load(tmp_path / "m.onnx"), full_check=True)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    assert_close(run(session, [data(37, 6)])[0], model.predict(data(37, 6), verbose=0))


def test_without_the_onnx_package_the_error_names_the_extra(tmp_path, monkeypatch):
    model, _ = mnist_net()
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(ImportError, match=r'pip install "fastdnn\[onnx\]"'):
        model.export(tmp_path / "m.onnx", format="onnx")


def test_a_sequential_holding_a_model_exports_as_predict_computes_it(tmp_path):
    keras.utils.set_random_seed(10)
    inner = keras.Sequential([layers.Input(shape=(4,)), layers.Dense(5, activation="softsign")], name="inner")
    model = keras.Sequential([layers.Input(shape=(2, 2)), layers.Flatten(), inner, layers.Dense(3)])
    assert_matches_predict(model, [data(37, 2, 2)], tmp_path)


def test_a_layer_whose_call_fixes_training_mode_is_refused(tmp_path):
    from functional_models import mc_dropout_model

    with pytest.raises(ValueError, match="inference only"):
        mc_dropout_model().export(tmp_path / "m.onnx", format="onnx")

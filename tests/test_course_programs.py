"""The course's chapter-2 programs and Géron's chapter-10 Wide & Deep programs, as their authors
wrote them (../shared/design/functional-api.md, sections 1.2-1.8), run with only `import fastdnn
as keras` and for one epoch on small data of California housing's shape."""

import textwrap

import numpy as np
import pytest

import fastdnn as keras


@pytest.fixture
def namespace():
    """The course's variables after its data preparation (functional-api.md 1.1), on small data."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(0)

    def part(n):
        x = rng.standard_normal((n, 8))
        return x, x[:, 0] - 0.3 * x[:, 5] + 2.0

    (x_train_scaled, y_train), (x_valid_scaled, y_valid), (x_test_scaled, y_test) = part(120), part(40), part(40)
    return {"keras": keras, "np": np, "x_train": x_train_scaled, "x_train_scaled": x_train_scaled,
            "y_train": y_train, "x_valid_scaled": x_valid_scaled, "y_valid": y_valid,
            "x_test_scaled": x_test_scaled, "y_test": y_test}


def run(source, namespace):
    exec(compile(textwrap.dedent(source), "<course program>", "exec"), namespace)
    return namespace


def test_regression_baseline(namespace):
    ns = run("""
        model = keras.models.Sequential([
            keras.layers.Dense(30, activation='relu',
                              input_shape=x_train.shape[1:]),
            keras.layers.Dense(1),
        ])
        model.summary()
        model.compile(loss="mean_squared_error", optimizer="sgd")
        callbacks = [keras.callbacks.EarlyStopping(
            patience=5, min_delta=1e-5)]
        history = model.fit(x_train_scaled, y_train, validation_data = (x_valid_scaled,y_valid), epochs = 1,
        callbacks = callbacks)
        result = model.evaluate(x_test_scaled,y_test)
    """, namespace)
    assert np.isfinite(ns["result"])


def test_wide_and_deep_functional(namespace):
    ns = run("""
        input = keras.layers.Input(shape=x_train.shape[1:])
        hidden1 = keras.layers.Dense(30, activation='relu')(input)
        hidden2 = keras.layers.Dense(30, activation='relu')(hidden1)
        concat = keras.layers.concatenate([input, hidden2])
        output = keras.layers.Dense(1)(concat)

        model = keras.models.Model(inputs = [input],
                                   outputs = [output])

        model.summary()
        model.compile(loss="mean_squared_error", optimizer="sgd")

        callbacks = [keras.callbacks.EarlyStopping(
            patience=5, min_delta=1e-2)]
        history = model.fit(x_train_scaled, y_train,
                            validation_data = (x_valid_scaled, y_valid),
                            epochs = 1,
                            callbacks = callbacks)
        result = model.evaluate(x_test_scaled, y_test)
    """, namespace)
    assert isinstance(ns["result"], float)
    assert list(ns["history"].history) == ["loss", "val_loss"]


def test_wide_and_deep_subclassed_in_sequential(namespace):
    ns = run('''
        class WideDeepModel(keras.models.Model):
            def __init__(self):
                super(WideDeepModel, self).__init__()
                """定义模型的层次"""
                self.hidden1_layer = keras.layers.Dense(30, activation='relu')
                self.hidden2_layer = keras.layers.Dense(30, activation='relu')
                self.output_layer = keras.layers.Dense(1)

            def call(self, input):
                """完成模型的正向计算"""
                hidden1 = self.hidden1_layer(input)
                hidden2 = self.hidden2_layer(hidden1)
                concat = keras.layers.concatenate([input, hidden2])
                output = self.output_layer(concat)
                return output
        # model = WideDeepModel()
        model = keras.models.Sequential([
            WideDeepModel(),
        ])

        model.build(input_shape=(None, 8))

        model.summary()
        model.compile(loss="mean_squared_error", optimizer="sgd")
        callbacks = [keras.callbacks.EarlyStopping(
            patience=5, min_delta=1e-2)]
        history = model.fit(x_train_scaled, y_train,
                            validation_data = (x_valid_scaled, y_valid),
                            epochs = 1,
                            callbacks = callbacks)
    ''', namespace)
    assert len(ns["history"].history["loss"]) == 1


def test_wide_and_deep_subclassed_bare(namespace):
    ns = run('''
        class WideDeepModel(keras.models.Model):
            def __init__(self):
                super(WideDeepModel, self).__init__()
                self.hidden1_layer = keras.layers.Dense(30, activation='relu')
                self.hidden2_layer = keras.layers.Dense(30, activation='relu')
                self.output_layer = keras.layers.Dense(1)

            def call(self, input):
                print("input:", input.shape)
                hidden1 = self.hidden1_layer(input)
                hidden2 = self.hidden2_layer(hidden1)
                concat = keras.layers.concatenate([input, hidden2])
                output = self.output_layer(concat)
                return output
        model = WideDeepModel()
        model.build(input_shape=(None, 8))
        model.summary()
        model.compile(loss="mean_squared_error", optimizer="adam")
        history = model.fit(x_train_scaled, y_train, validation_data = (x_valid_scaled, y_valid), epochs = 1)
        result = model.evaluate(x_test_scaled, y_test)
    ''', namespace)
    assert np.isfinite(ns["result"])


MULTI_INPUT_MODEL = """
    input_wide = keras.layers.Input(shape=[5])
    input_deep = keras.layers.Input(shape=[6])
    hidden1 = keras.layers.Dense(30, activation='relu')(input_deep)
    hidden2 = keras.layers.Dense(30, activation='relu')(hidden1)
    concat = keras.layers.concatenate([input_wide, hidden2])
    output = keras.layers.Dense(1)(concat)
"""

SLICES = """
    x_train_scaled_wide = x_train_scaled[:, :5]
    x_train_scaled_deep = x_train_scaled[:, 2:]
    x_valid_scaled_wide = x_valid_scaled[:, :5]
    x_valid_scaled_deep = x_valid_scaled[:, 2:]
    x_test_scaled_wide = x_test_scaled[:, :5]
    x_test_scaled_deep = x_test_scaled[:, 2:]
"""


def test_multi_input(namespace):
    ns = run(MULTI_INPUT_MODEL + """
    model = keras.models.Model(inputs = [input_wide,input_deep],
                              outputs = [output])
    model.summary()
    model.compile(loss="mean_squared_error", optimizer="sgd")
    callbacks = [keras.callbacks.EarlyStopping(
        patience=5, min_delta=1e-2)]
    """ + SLICES + """
    history = model.fit([x_train_scaled_wide,x_train_scaled_deep],
                        y_train,
                       validation_data = (
                           [x_valid_scaled_wide,x_valid_scaled_deep],
                            y_valid),
                        epochs = 1,
                        callbacks = callbacks
                       )
    result = model.evaluate([x_test_scaled_wide, x_test_scaled_deep],y_test)
    """, namespace)
    assert isinstance(ns["result"], float)


def test_multi_output(namespace):
    ns = run(MULTI_INPUT_MODEL + """
    output2 = keras.layers.Dense(1)(hidden2)
    model = keras.models.Model(inputs = [input_wide,input_deep],
                              outputs = [output,output2])
    model.compile(loss="mean_squared_error", optimizer="sgd")
    callbacks = [keras.callbacks.EarlyStopping(
        patience=5, min_delta=1e-2)]
    """ + SLICES + """
    history = model.fit([x_train_scaled_wide,x_train_scaled_deep],
                        [y_train, y_train],
                       validation_data = (
                           [x_valid_scaled_wide,x_valid_scaled_deep],
                            [y_valid,y_valid]),
                        epochs = 1,
                        callbacks = callbacks
                       )
    result = model.evaluate([x_test_scaled_wide, x_test_scaled_deep],
                   [y_test,y_test])
    #第一个值是后两个值的和
    """, namespace)
    total, first, second = ns["result"]
    assert total == pytest.approx(first + second, rel=1e-6)
    assert sorted(ns["history"].history) == ["dense_2_loss", "dense_3_loss", "loss", "val_dense_2_loss",
                                             "val_dense_3_loss", "val_loss"]


def test_geron_multi_output_named_with_loss_weights(namespace):
    ns = run("""
        X_train_A, X_train_B = x_train_scaled[:, :5], x_train_scaled[:, 2:]
        X_valid_A, X_valid_B = x_valid_scaled[:, :5], x_valid_scaled[:, 2:]
        input_A = keras.layers.Input(shape=[5], name="wide_input")
        input_B = keras.layers.Input(shape=[6], name="deep_input")
        hidden1 = keras.layers.Dense(30, activation="relu")(input_B)
        hidden2 = keras.layers.Dense(30, activation="relu")(hidden1)
        concat = keras.layers.concatenate([input_A, hidden2])
        output = keras.layers.Dense(1, name="main_output")(concat)
        aux_output = keras.layers.Dense(1, name="aux_output")(hidden2)
        model = keras.models.Model(inputs=[input_A, input_B],
                                   outputs=[output, aux_output])
        model.compile(loss=["mse", "mse"], loss_weights=[0.9, 0.1], optimizer=keras.optimizers.SGD(learning_rate=1e-3))
        history = model.fit([X_train_A, X_train_B], [y_train, y_train], epochs=1,
                            validation_data=([X_valid_A, X_valid_B], [y_valid, y_valid]))
        total_loss, main_loss, aux_loss = model.evaluate([X_valid_A, X_valid_B], [y_valid, y_valid])
        y_pred_main, y_pred_aux = model.predict([X_valid_A[:3], X_valid_B[:3]])
    """, namespace)
    assert ns["total_loss"] == pytest.approx(0.9 * ns["main_loss"] + 0.1 * ns["aux_loss"], rel=1e-6)
    assert ns["y_pred_main"].shape == (3, 1)
    assert {"main_output_loss", "aux_output_loss", "val_main_output_loss"} <= set(ns["history"].history)


def test_geron_multi_input_with_tuples(namespace):
    ns = run("""
        input_A = keras.layers.Input(shape=[5], name="wide_input")
        input_B = keras.layers.Input(shape=[6], name="deep_input")
        hidden1 = keras.layers.Dense(30, activation="relu")(input_B)
        hidden2 = keras.layers.Dense(30, activation="relu")(hidden1)
        concat = keras.layers.concatenate([input_A, hidden2])
        output = keras.layers.Dense(1, name="output")(concat)
        model = keras.Model(inputs=[input_A, input_B], outputs=[output])
        model.compile(loss="mse", optimizer=keras.optimizers.SGD(learning_rate=1e-3))
        X_train_A, X_train_B = x_train_scaled[:, :5], x_train_scaled[:, 2:]
        history = model.fit((X_train_A, X_train_B), y_train, epochs=1)
        y_pred = model.predict((X_train_A[:3], X_train_B[:3]))
    """, namespace)
    assert ns["y_pred"].shape == (3, 1)


def test_geron_subclassed_two_outputs(namespace):
    ns = run("""
        class WideAndDeepModel(keras.models.Model):
            def __init__(self, units=30, activation="relu", **kwargs):
                super().__init__(**kwargs)
                self.hidden1 = keras.layers.Dense(units, activation=activation)
                self.hidden2 = keras.layers.Dense(units, activation=activation)
                self.main_output = keras.layers.Dense(1)
                self.aux_output = keras.layers.Dense(1)

            def call(self, inputs):
                input_A, input_B = inputs
                hidden1 = self.hidden1(input_B)
                hidden2 = self.hidden2(hidden1)
                concat = keras.layers.concatenate([input_A, hidden2])
                main_output = self.main_output(concat)
                aux_output = self.aux_output(hidden2)
                return main_output, aux_output

        model = WideAndDeepModel(30, activation="relu")
        model.compile(loss="mse", loss_weights=[0.9, 0.1], optimizer=keras.optimizers.SGD(learning_rate=1e-3))
        X_train_A, X_train_B = x_train_scaled[:, :5], x_train_scaled[:, 2:]
        X_test_A, X_test_B = x_test_scaled[:, :5], x_test_scaled[:, 2:]
        history = model.fit((X_train_A, X_train_B), (y_train, y_train), epochs=1)
        total_loss, main_loss, aux_loss = model.evaluate((X_test_A, X_test_B), (y_test, y_test))
        y_pred_main, y_pred_aux = model.predict((X_test_A[:3], X_test_B[:3]))
    """, namespace)
    assert ns["total_loss"] == pytest.approx(0.9 * ns["main_loss"] + 0.1 * ns["aux_loss"], rel=1e-6)
    assert ns["y_pred_aux"].shape == (3, 1)


def test_geron_mc_dropout(namespace):
    ns = run("""
        class MCDropout(keras.layers.Dropout):
            def call(self, inputs):
                return super().call(inputs, training=True)

        model = keras.models.Sequential([
            keras.layers.Dense(30, activation="relu", input_shape=[8]),
            MCDropout(rate=0.2),
            keras.layers.Dense(1),
        ])
        model.compile(loss="mse", optimizer="sgd")
        model.fit(x_train_scaled, y_train, epochs=1, verbose=0)
        y_probas = np.stack([model.predict(x_test_scaled[:5]) for sample in range(20)])
        y_mean = y_probas.mean(axis=0)
    """, namespace)
    assert ns["y_probas"].std(axis=0).max() > 0  # each prediction draws its own dropout mask

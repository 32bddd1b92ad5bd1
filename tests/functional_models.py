"""The functional and subclassed models the configuration, saving and plotting tests share:
the course's and Géron's Wide & Deep programs (../shared/design/functional-api.md §1.3-1.8),
a shared layer, nested models and a layer with its own call()."""

import fastdnn as keras
from fastdnn import layers


def wide_and_deep(aux=True):
    """Géron's multi-input Wide & Deep, with its auxiliary output."""
    input_a = layers.Input(shape=[5], name="wide_input")
    input_b = layers.Input(shape=[6], name="deep_input")
    hidden1 = layers.Dense(30, activation="relu")(input_b)
    hidden2 = layers.Dense(30, activation="relu")(hidden1)
    concat = layers.concatenate([input_a, hidden2])
    output = layers.Dense(1, name="main_output")(concat)
    if not aux:
        return keras.Model(inputs=[input_a, input_b], outputs=[output])
    aux_output = layers.Dense(1, name="aux_output")(hidden2)
    return keras.Model(inputs=[input_a, input_b], outputs=[output, aux_output])


def course_wide_and_deep():
    """The course's single-input Wide & Deep (§1.3)."""
    inputs = layers.Input(shape=(8,))
    hidden1 = layers.Dense(30, activation="relu")(inputs)
    hidden2 = layers.Dense(30, activation="relu")(hidden1)
    concat = layers.concatenate([inputs, hidden2])
    output = layers.Dense(1)(concat)
    return keras.models.Model(inputs=[inputs], outputs=[output])


def shared_layer_model():
    """One Dense applied to two inputs, the results added."""
    left, right = layers.Input(shape=(5,), name="left"), layers.Input(shape=(5,), name="right")
    shared = layers.Dense(4, name="shared")
    added = layers.Add(name="add")([shared(left), shared(right)])
    return keras.Model([left, right], layers.Dense(1, name="out")(added))


def nested_model():
    """A functional model and a Sequential used as layers of another functional model."""
    inner_input = layers.Input(shape=(4,), name="inner_x")
    inner = keras.Model(inner_input, layers.Dense(3, name="inner_dense")(inner_input), name="inner")
    stack = keras.Sequential([layers.Dense(2, activation="tanh", name="stack_dense")], name="stack")
    outer_input = layers.Input(shape=(4,), name="outer_x")
    return keras.Model(outer_input, stack(inner(outer_input)), name="outer")


class WideAndDeepModel(keras.models.Model):
    """Géron's subclass (§1.8): __init__ arguments, no get_config."""

    def __init__(self, units=30, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.hidden1 = layers.Dense(units, activation=activation)
        self.hidden2 = layers.Dense(units, activation=activation)
        self.main_output = layers.Dense(1)
        self.aux_output = layers.Dense(1)

    def call(self, inputs):
        input_a, input_b = inputs
        hidden1 = self.hidden1(input_b)
        hidden2 = self.hidden2(hidden1)
        concat = layers.concatenate([input_a, hidden2])
        return self.main_output(concat), self.aux_output(hidden2)


class WideDeepModel(keras.models.Model):
    """The course's subclass (§1.4): no __init__ arguments, `input` as call's parameter."""

    def __init__(self):
        super(WideDeepModel, self).__init__()
        self.hidden1_layer = layers.Dense(30, activation="relu")
        self.hidden2_layer = layers.Dense(30, activation="relu")
        self.output_layer = layers.Dense(1)

    def call(self, input):
        hidden1 = self.hidden1_layer(input)
        hidden2 = self.hidden2_layer(hidden1)
        concat = layers.concatenate([input, hidden2])
        return self.output_layer(concat)


class ConfiguredModel(keras.Model):
    """A subclass whose get_config returns its __init__ arguments, the Keras way."""

    def __init__(self, width, depth=1, **kwargs):
        super().__init__(**kwargs)
        self.width, self.depth = width, depth
        self.blocks = [layers.Dense(width, activation="relu") for _ in range(depth)]
        for i, block in enumerate(self.blocks):
            setattr(self, f"block_{i}", block)
        self.head = layers.Dense(1)

    def call(self, inputs):
        x = inputs
        for block in self.blocks:
            x = block(x)
        return self.head(x)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "depth": self.depth}


class MCDropout(layers.Dropout):
    """Géron's Monte Carlo dropout: a layer with its own call(), traced."""

    def call(self, inputs):
        return super().call(inputs, training=True)


def mc_dropout_model():
    inputs = layers.Input(shape=(4,), name="x")
    hidden = MCDropout(0.3, name="mc")(layers.Dense(3, name="d1")(inputs))
    return keras.Model(inputs, layers.Dense(1, name="d2")(hidden))

"""Regression on California housing, as the course's chapter 2 and Géron's chapter 10 do it:
a plain Sequential regressor, then Wide & Deep written with the functional API, as a subclassed
model, with two inputs, and with two outputs. Each prints its test MSE.

The data: fastdnn.datasets.california_housing (Keras 3's loader; the raw block-group totals),
turned into the eight features scikit-learn's fetch_california_housing gives (MedInc, HouseAge,
AveRooms, AveBedrms, Population, AveOccup, Latitude, Longitude; the target in units of
$100,000) in scikit-learn's row order, split into the course's 11,610 training, 3,870 validation
and 5,160 test rows exactly as its train_test_split(random_state=7), then (random_state=11), do,
and standardized with the training rows' mean and deviation (StandardScaler).

    python examples/california_housing.py                # every program, up to 100 epochs
    python examples/california_housing.py --epochs 5 --programs functional multi_output

Writes <program>.png (the learning curves) into the output folder (default plots/california).
"""

import argparse
import os
import time

import numpy as np

import fastdnn as keras
from fastdnn.datasets import california_housing

import optional_extras


def housing_features():
    """scikit-learn's eight features and target, in its row order, from Keras' raw columns."""
    (shuffled_x, shuffled_y), _ = california_housing.load_data(test_split=0.0)
    order = np.arange(len(shuffled_x))
    np.random.RandomState(113).shuffle(order)  # undoes load_data's shuffle (its seed=113)
    raw, value = np.empty_like(shuffled_x), np.empty_like(shuffled_y)
    raw[order], value[order] = shuffled_x, shuffled_y
    raw, value = raw.astype(np.float64), value.astype(np.float64)
    longitude, latitude, age, rooms, bedrooms, population, households, income = raw.T
    features = np.stack([income, age, rooms / households, bedrooms / households, population,
                         population / households, latitude, longitude], axis=1)
    return features, value / 1e5


def train_test_split(rows, random_state):
    """scikit-learn's train_test_split(..., random_state) on `rows` (its ShuffleSplit, test_size 0.25):
    the test rows are the first quarter (rounded up) of a RandomState permutation."""
    permutation = np.random.RandomState(random_state).permutation(len(rows))
    n_test = -(-len(rows) // 4)
    return rows[permutation[n_test:]], rows[permutation[:n_test]]


def course_split(x, y):
    """x_train_all, x_test = train_test_split(..., random_state=7); x_train, x_valid = (..., random_state=11)."""
    train_all, test = train_test_split(np.arange(len(x)), 7)
    train, valid = train_test_split(train_all, 11)
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    scale = lambda rows: (x[rows] - mean) / std  # noqa: E731 (StandardScaler fitted on the training rows)
    return (scale(train), y[train]), (scale(valid), y[valid]), (scale(test), y[test])


# ChandlerZhao's copy of the course (functional-api.md 1.0) compiles with "adam"; with the course's
# "sgd" (learning rate 0.01) the functional and subclassed Wide & Deep models diverge to NaN on this
# split within two epochs: the raw wide input carries AveOccup values 100+ deviations out. Keras 3
# does the same (measured with the same data and program, seeds 0-2).
OPTIMIZER = "adam"


def callbacks():
    return [keras.callbacks.EarlyStopping(patience=5, min_delta=1e-2)]


def regression(data, epochs):
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = data
    model = keras.models.Sequential([
        keras.layers.Dense(30, activation="relu", input_shape=x_train.shape[1:]),
        keras.layers.Dense(1),
    ])
    model.compile(loss="mean_squared_error", optimizer=OPTIMIZER)
    history = model.fit(x_train, y_train, validation_data=(x_valid, y_valid), epochs=epochs,
                        callbacks=callbacks(), verbose=0)
    return history, model.evaluate(x_test, y_test, verbose=0)


def functional(data, epochs):
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = data
    input = keras.layers.Input(shape=x_train.shape[1:])
    hidden1 = keras.layers.Dense(30, activation="relu")(input)
    hidden2 = keras.layers.Dense(30, activation="relu")(hidden1)
    concat = keras.layers.concatenate([input, hidden2])
    output = keras.layers.Dense(1)(concat)
    model = keras.models.Model(inputs=[input], outputs=[output])
    model.summary()
    model.compile(loss="mean_squared_error", optimizer=OPTIMIZER)
    history = model.fit(x_train, y_train, validation_data=(x_valid, y_valid), epochs=epochs,
                        callbacks=callbacks(), verbose=0)
    return history, model.evaluate(x_test, y_test, verbose=0)


class WideDeepModel(keras.models.Model):
    def __init__(self):
        super(WideDeepModel, self).__init__()
        self.hidden1_layer = keras.layers.Dense(30, activation="relu")
        self.hidden2_layer = keras.layers.Dense(30, activation="relu")
        self.output_layer = keras.layers.Dense(1)

    def call(self, input):
        hidden1 = self.hidden1_layer(input)
        hidden2 = self.hidden2_layer(hidden1)
        concat = keras.layers.concatenate([input, hidden2])
        output = self.output_layer(concat)
        return output


def subclassed(data, epochs):
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = data
    model = keras.models.Sequential([WideDeepModel()])
    model.build(input_shape=(None, 8))
    model.summary()
    model.compile(loss="mean_squared_error", optimizer=OPTIMIZER)
    history = model.fit(x_train, y_train, validation_data=(x_valid, y_valid), epochs=epochs,
                        callbacks=callbacks(), verbose=0)
    return history, model.evaluate(x_test, y_test, verbose=0)


def wide_and_deep_inputs():
    input_wide = keras.layers.Input(shape=[5])
    input_deep = keras.layers.Input(shape=[6])
    hidden1 = keras.layers.Dense(30, activation="relu")(input_deep)
    hidden2 = keras.layers.Dense(30, activation="relu")(hidden1)
    concat = keras.layers.concatenate([input_wide, hidden2])
    output = keras.layers.Dense(1)(concat)
    return input_wide, input_deep, hidden2, output


def multi_input(data, epochs):
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = data
    input_wide, input_deep, _, output = wide_and_deep_inputs()
    model = keras.models.Model(inputs=[input_wide, input_deep], outputs=[output])
    model.summary()
    model.compile(loss="mean_squared_error", optimizer=OPTIMIZER)
    # The wide part sees the first five features, the deep part the last six (non-contiguous views).
    history = model.fit([x_train[:, :5], x_train[:, 2:]], y_train,
                        validation_data=([x_valid[:, :5], x_valid[:, 2:]], y_valid),
                        epochs=epochs, callbacks=callbacks(), verbose=0)
    return history, model.evaluate([x_test[:, :5], x_test[:, 2:]], y_test, verbose=0)


def multi_output(data, epochs):
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = data
    input_wide, input_deep, hidden2, output = wide_and_deep_inputs()
    output2 = keras.layers.Dense(1)(hidden2)
    model = keras.models.Model(inputs=[input_wide, input_deep], outputs=[output, output2])
    model.summary()
    model.compile(loss="mean_squared_error", optimizer=OPTIMIZER)
    history = model.fit([x_train[:, :5], x_train[:, 2:]], [y_train, y_train],
                        validation_data=([x_valid[:, :5], x_valid[:, 2:]], [y_valid, y_valid]),
                        epochs=epochs, callbacks=callbacks(), verbose=0)
    # The first value is the sum of the other two (one loss per output, weights 1).
    total, main, aux = model.evaluate([x_test[:, :5], x_test[:, 2:]], [y_test, y_test], verbose=0)
    return history, main


PROGRAMS = {"regression": regression, "functional": functional, "subclassed": subclassed,
            "multi_input": multi_input, "multi_output": multi_output}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--programs", nargs="+", default=list(PROGRAMS), choices=list(PROGRAMS))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=os.path.join("plots", "california"), help="folder for the PNG plots")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    data = course_split(*housing_features())
    start = time.perf_counter()
    for name in args.programs:
        keras.backend.clear_session()
        keras.utils.set_random_seed(args.seed)
        history, test_mse = PROGRAMS[name](data, args.epochs)
        optional_extras.draw(f"{name}.png", keras.utils.plot_history, history,
                             path=os.path.join(args.out, f"{name}.png"))
        print(f"{name}: test MSE {test_mse:.4f} after {len(history.epoch)} epochs")
    print(f"total training time: {time.perf_counter() - start:.1f} s")
    optional_extras.report(args.out)


if __name__ == "__main__":
    main()

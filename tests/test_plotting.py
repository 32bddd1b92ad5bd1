"""fastdnn.utils' plotting: figures built without pyplot, saved atomically, clear errors."""

import os
import runpy
import subprocess
import sys

import pytest

pytest.importorskip("matplotlib")

import matplotlib.figure  # noqa: E402
import matplotlib.image  # noqa: E402
import numpy as np  # noqa: E402

import fastdnn as keras  # noqa: E402
from fastdnn import activations  # noqa: E402
from fastdnn.callbacks import History  # noqa: E402
from fastdnn.utils import plot_activations, plot_history, plot_model, plot_weight_histograms, show_images  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def small_model(use_bias=True):
    return keras.Sequential([
        keras.layers.Flatten(input_shape=[2, 2], name="pixels"),
        keras.layers.Dense(3, activation="relu", use_bias=use_bias, name="hidden"),
        keras.layers.BatchNormalization(name="norm"),
        keras.layers.Dense(2, activation="softmax", name="out"),
    ])


def deep_bn_model():
    model = keras.Sequential([keras.layers.Flatten(input_shape=[28, 28])])
    for _ in range(20):
        model.add(keras.layers.Dense(100, activation="relu"))
        model.add(keras.layers.BatchNormalization())
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model


def texts(figure):
    return [t.get_text() for ax in figure.axes for t in ax.texts]


def legend_labels(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def assert_png(path):
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    assert matplotlib.image.imread(path).ndim == 3


def run_python(code):
    # From the tests folder: `python -c` puts the working directory first on sys.path,
    # and from the project root the source tree would shadow the installed package.
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=os.path.dirname(__file__)).stdout.strip()


# --- optional dependency -----------------------------------------------------------------


def test_import_fastdnn_does_not_import_matplotlib():
    assert run_python("import sys, fastdnn, fastdnn.utils; print('matplotlib' in sys.modules)") == "False"


ALL_PLOTS = pytest.mark.parametrize("plot", [
    lambda: plot_history({"loss": [1.0]}),
    lambda: plot_activations(["relu"]),
    lambda: plot_weight_histograms(small_model()),
    lambda: show_images(np.zeros((1, 4, 4))),
    lambda: plot_model(small_model()),
], ids=["plot_history", "plot_activations", "plot_weight_histograms", "show_images", "plot_model"])


@ALL_PLOTS
def test_plots_never_use_pyplot(monkeypatch, plot):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # any `import matplotlib.pyplot` fails
    assert isinstance(plot(), matplotlib.figure.Figure)


@ALL_PLOTS
def test_missing_matplotlib_raises_import_error_naming_the_extra(monkeypatch, plot):
    for name in [name for name in sys.modules if name == "matplotlib" or name.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)  # makes `import matplotlib...` fail
    with pytest.raises(ImportError, match=r'pip install "fastdnn\[plot\]"'):
        plot()


# --- saving ------------------------------------------------------------------------------


def test_path_writes_png_creating_parent_folders_and_leaving_no_temp_file(tmp_path):
    path = tmp_path / "new" / "folder" / "history.png"
    plot_history({"loss": [1.0, 0.5]}, path=path)
    assert_png(path)
    assert os.listdir(path.parent) == ["history.png"]


def test_interrupted_save_keeps_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "history.png"
    path.write_bytes(b"old")

    def fail_halfway(self, f, **kwargs):
        f.write(PNG_SIGNATURE)
        raise KeyboardInterrupt

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", fail_halfway)
    with pytest.raises(KeyboardInterrupt):
        plot_history({"loss": [1.0]}, path=path)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["history.png"]


def test_extension_of_another_matplotlib_format_picks_that_format(tmp_path):
    plot_history({"loss": [1.0]}, path=tmp_path / "history.svg")
    assert b"<svg" in (tmp_path / "history.svg").read_bytes()[:1000]


# --- plot_history ------------------------------------------------------------------------


def test_plot_history_puts_each_metric_with_its_validation_counterpart():
    figure = plot_history({"accuracy": [0.5, 0.7, 0.8], "loss": [1.0, 0.6, 0.4],
                           "val_loss": [1.1, 0.7, 0.6], "val_accuracy": [0.4, 0.6, 0.7]})
    assert [ax.get_title() for ax in figure.axes] == ["loss", "accuracy"]  # loss first
    assert [legend_labels(ax) for ax in figure.axes] == [["loss", "val_loss"], ["accuracy", "val_accuracy"]]
    np.testing.assert_array_equal(figure.axes[1].lines[1].get_ydata(), [0.4, 0.6, 0.7])


def test_plot_history_counts_epochs_from_one():
    figure = plot_history({"loss": [3.0, 2.0, 1.0]})
    np.testing.assert_array_equal(figure.axes[0].lines[0].get_xdata(), [1, 2, 3])
    assert figure.axes[0].get_xlabel() == "epoch"


def test_plot_history_takes_the_history_returned_by_fit():
    model = small_model()
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    x = np.random.default_rng(0).normal(size=(40, 2, 2))
    history = model.fit(x, np.arange(40) % 2, epochs=2, validation_split=0.25, verbose=0)
    figure = plot_history(history)
    assert [ax.get_title() for ax in figure.axes] == ["loss", "accuracy"]
    assert legend_labels(figure.axes[0]) == ["loss", "val_loss"]


def test_plot_history_plots_keys_without_a_validation_counterpart():
    figure = plot_history({"loss": [1.0, 0.5], "learning_rate": [0.1, 0.05], "val_top_k": [0.3, 0.4]})
    assert [ax.get_title() for ax in figure.axes] == ["loss", "learning_rate", "top_k"]
    assert [legend_labels(ax) for ax in figure.axes] == [["loss"], ["learning_rate"], ["val_top_k"]]


@pytest.mark.parametrize("empty", [{}, {"loss": []}, History()])
def test_plot_history_rejects_an_empty_history(empty):
    with pytest.raises(ValueError, match="history is empty"):
        plot_history(empty)


def test_plot_history_rejects_what_is_not_a_history():
    with pytest.raises(TypeError, match="History or a dict"):
        plot_history([1.0, 0.5])


# --- plot_activations --------------------------------------------------------------------


def test_plot_activations_draws_functions_and_derivatives_from_the_engine():
    figure = plot_activations(["relu", "tanh", "swish"], x_range=(-3, 2))
    function_axes, derivative_axes = figure.axes
    assert function_axes.get_legend_handles_labels()[1] == ["relu", "tanh", "swish"]
    assert derivative_axes.get_legend_handles_labels()[1] == ["relu", "tanh", "swish"]
    tanh_line = function_axes.get_legend_handles_labels()[0][1]
    tanh_slope = derivative_axes.get_legend_handles_labels()[0][1]
    x = tanh_line.get_xdata()
    assert (x.min(), x.max()) == (-3, 2)
    np.testing.assert_array_equal(tanh_line.get_ydata(), activations.tanh(x))
    np.testing.assert_array_equal(tanh_slope.get_ydata(), activations.derivative("tanh", x))


def test_plot_activations_unknown_name_lists_the_known_names():
    with pytest.raises(ValueError, match=r"Unknown activation 'nope'.*relu.*tanh"):
        plot_activations(["relu", "nope"])


def test_plot_activations_refuses_softmax_which_has_no_elementwise_derivative():
    with pytest.raises(ValueError, match="softmax"):
        plot_activations(["softmax"])


@pytest.mark.parametrize("x_range", [(1, 1), (2, -2), (0, float("inf")), (1, 2, 3)])
def test_plot_activations_rejects_a_bad_x_range(x_range):
    with pytest.raises(ValueError, match="x_range"):
        plot_activations(["relu"], x_range=x_range)


def test_plot_activations_takes_one_name_as_a_string():
    figure = plot_activations("gelu")
    assert figure.axes[0].get_legend_handles_labels()[1] == ["gelu"]


# --- plot_weight_histograms --------------------------------------------------------------


def test_weight_histograms_one_panel_per_dense_layer_titled_with_its_name():
    figure = plot_weight_histograms(small_model())
    assert [ax.get_title() for ax in figure.axes] == ["hidden  4×3", "out  3×2"]
    assert [p.get_label() for p in figure.axes[0].patches] == ["kernel", "bias"]


def test_weight_histograms_without_bias_draw_the_kernel_only():
    figure = plot_weight_histograms(small_model(use_bias=False))
    assert [p.get_label() for p in figure.axes[0].patches] == ["kernel"]


def test_weight_histograms_say_how_many_weights_are_not_finite():
    model = small_model()
    kernel = model.get_layer("hidden").kernel
    kernel.assign(np.where(np.eye(4, 3) > 0, np.nan, kernel.numpy()))
    assert plot_weight_histograms(model).axes[0].get_title() == "hidden  4×3  (3 non-finite)"


def test_weight_histograms_of_an_unbuilt_model_raise():
    with pytest.raises(ValueError, match="not been built"):
        plot_weight_histograms(keras.Sequential([keras.layers.Dense(3)]))


def test_weight_histograms_of_a_model_without_dense_layers_raise():
    model = keras.Sequential([keras.layers.BatchNormalization(input_shape=(4,), name="bn")])
    with pytest.raises(ValueError, match=r"no Dense layer.*\['bn'\]"):
        plot_weight_histograms(model)


# --- show_images -------------------------------------------------------------------------


def test_show_images_reshapes_flat_784_pixel_rows_to_28x28():
    figure = show_images(np.zeros((30, 784), np.float32), n=4)
    assert len(figure.axes) == 4
    assert figure.axes[0].images[0].get_array().shape == (28, 28)


def test_show_images_shows_at_most_the_images_there_are():
    assert len(show_images(np.zeros((3, 5, 5)), n=25).axes) == 3


def test_show_images_titles_are_class_names_of_integer_or_one_hot_labels():
    names = ["cat", "dog", "bird"]
    titles = [ax.get_title() for ax in show_images(np.zeros((3, 4, 4)), [2, 0, 1], names).axes]
    one_hot_titles = [ax.get_title() for ax in show_images(np.zeros((3, 4, 4)), np.eye(3)[[2, 0, 1]], names).axes]
    assert titles == one_hot_titles == ["bird", "cat", "dog"]


def test_show_images_titles_are_the_labels_without_class_names():
    assert [ax.get_title() for ax in show_images(np.zeros((2, 4, 4)), np.array([[7], [1234567]])).axes] == ["7", "1234567"]


def test_show_images_puts_any_dtype_on_one_zero_to_one_scale():
    images = np.array([np.full((4, 4), -100), np.full((4, 4), 100)], dtype=np.int16)
    arrays = [ax.images[0].get_array() for ax in show_images(images).axes]
    assert (arrays[0].max(), arrays[1].min()) == (0.0, 1.0)
    uint8 = [ax.images[0].get_array() for ax in show_images(np.full((1, 4, 4), 51, np.uint8)).axes]
    np.testing.assert_allclose(uint8[0], 0.2)


@pytest.mark.parametrize("shape, message", [
    ((3, 10), "not square"),
    ((3, 4, 4, 2), "got shape"),
    ((3,), "got shape"),
    ((0, 4, 4), "no images"),
])
def test_show_images_rejects_shapes_that_are_not_images(shape, message):
    with pytest.raises(ValueError, match=message):
        show_images(np.zeros(shape))


@pytest.mark.parametrize("y, class_names, message", [
    ([0, 1], None, "2 labels for 3 images"),
    ([0, 1, 5], ["a", "b"], "label 5 is out of range for 2 class_names"),
    (None, ["a", "b"], "class_names needs the labels y"),
    (np.zeros((3, 1, 1)), None, r"got shape \(3, 1, 1\)"),
])
def test_show_images_rejects_labels_that_do_not_fit(y, class_names, message):
    with pytest.raises(ValueError, match=message):
        show_images(np.zeros((3, 4, 4)), y, class_names)


def test_show_images_rejects_a_non_positive_n():
    with pytest.raises(ValueError, match="n must be a positive integer"):
        show_images(np.zeros((3, 4, 4)), n=0)


# --- plot_model --------------------------------------------------------------------------


def test_plot_model_boxes_give_name_class_output_shape_and_params():
    assert texts(plot_model(small_model())) == [
        "input_layer (InputLayer)", "Output shape: (None, 2, 2)",
        "pixels (Flatten)", "Output shape: (None, 4)   Params: 0",
        "hidden (Dense)", "Output shape: (None, 3)   Params: 15",
        "norm (BatchNormalization)", "Output shape: (None, 3)   Params: 12",
        "out (Dense)", "Output shape: (None, 2)   Params: 8",
    ]


def test_plot_model_options_as_keras_names_them():
    lines = texts(plot_model(small_model(), show_shapes=False, show_layer_names=False, show_layer_activations=True))
    assert lines[4:6] == ["Dense", "Params: 15   Activation: relu"]


def test_plot_model_of_the_deep_bn_net_keeps_every_box_readable():
    figure = plot_model(deep_bn_model())
    assert len(figure.axes[0].patches) == 43 + 42  # 43 boxes (input + 42 layers), 42 arrows
    assert "Params: 78,500" in texts(figure)[5]
    assert figure.get_figheight() > 43 * 0.5  # the figure grows with the layers
    renderer = figure.canvas.get_renderer()
    extents = [t.get_window_extent(renderer) for t in figure.axes[0].texts]
    assert all(figure.bbox.contains(e.x0, e.y0) and figure.bbox.contains(e.x1, e.y1) for e in extents)
    assert not any(a.overlaps(b) for a, b in zip(extents, extents[1:]))


def test_plot_model_takes_keras_to_file(tmp_path):
    plot_model(small_model(), to_file=tmp_path / "model.png", show_shapes=True)
    assert_png(tmp_path / "model.png")
    assert os.listdir(tmp_path) == ["model.png"]


def test_plot_model_refuses_two_different_paths(tmp_path):
    with pytest.raises(ValueError, match="either path or to_file"):
        plot_model(small_model(), tmp_path / "a.png", to_file=tmp_path / "b.png")


def test_plot_model_of_an_unbuilt_model_raises():
    with pytest.raises(ValueError, match="not yet been built"):
        plot_model(keras.Sequential([keras.layers.Dense(3)]))


def test_plot_model_draws_top_to_bottom_only():
    with pytest.raises(NotImplementedError, match="rankdir"):
        plot_model(small_model(), rankdir="LR")


# --- the example -------------------------------------------------------------------------


def test_activations_example_writes_its_png(tmp_path, monkeypatch, capsys):
    examples = os.path.join(os.path.dirname(__file__), "..", "examples")
    script = os.path.join(examples, "activations.py")
    monkeypatch.setattr(sys, "argv", [script, "--out", str(tmp_path), "--epochs", "1"])
    monkeypatch.syspath_prepend(examples)  # as `python examples/activations.py` would
    runpy.run_path(script, run_name="__main__")
    assert_png(tmp_path / "activations.png")
    assert f"plots written to {tmp_path}" in capsys.readouterr().out

"""plot_model of functional and subclassed models: a box per layer (a shared layer once), an
arrow per distinct (producer, reader) pair, every arrow pointing down."""

import pytest

pytest.importorskip("matplotlib")

from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

import fastdnn as keras  # noqa: E402
from fastdnn.utils import plot_model  # noqa: E402
from fastdnn.utils.plot_graph import graph_rows  # noqa: E402
from functional_models import WideAndDeepModel, shared_layer_model, wide_and_deep  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_names():
    keras.backend.clear_session()


def headers(figure):
    return [t.get_text() for t in figure.axes[0].texts][::2]


def patches(figure, kind):
    return [p for p in figure.axes[0].patches if isinstance(p, kind)]


def test_each_layer_of_a_functional_model_gets_one_box():
    figure = plot_model(wide_and_deep())
    assert sorted(headers(figure)) == sorted(
        ["wide_input (InputLayer)", "deep_input (InputLayer)", "dense (Dense)", "dense_1 (Dense)",
         "concatenate (Concatenate)", "main_output (Dense)", "aux_output (Dense)"])
    assert len(patches(figure, FancyBboxPatch)) == 7


def test_boxes_give_output_shape_and_params():
    details = [t.get_text() for t in plot_model(wide_and_deep()).axes[0].texts][1::2]
    assert "Output shape: (None, 35)   Params: 0" in details and "Output shape: (None, 5)" in details


def test_one_arrow_per_tensor_read():
    # deep->dense, dense->dense_1, wide->concat, dense_1->concat, dense_1->aux, concat->main
    assert len(patches(plot_model(wide_and_deep()), FancyArrowPatch)) == 6


def test_every_arrow_points_down():
    for arrow in patches(plot_model(wide_and_deep()), FancyArrowPatch):
        (_, y0), (_, y1) = arrow._posA_posB
        assert y1 < y0


def test_an_input_sits_just_above_its_first_reader():
    rows = graph_rows(wide_and_deep()._graph)
    row_of = {layer.name: i for i, row in enumerate(rows) for layer in row}
    assert row_of["wide_input"] == row_of["concatenate"] - 1 and row_of["deep_input"] == 0


def test_a_shared_layer_is_one_box_with_output_shape_of_its_calls():
    figure = plot_model(shared_layer_model())
    assert headers(figure).count("shared (Dense)") == 1
    assert len(patches(figure, FancyArrowPatch)) == 4  # left->shared, right->shared, shared->add, add->out


def test_a_subclassed_model_is_drawn_as_its_traced_graph(tmp_path):
    model = WideAndDeepModel(4)
    model.build([(None, 5), (None, 6)])
    path = tmp_path / "model.png"
    figure = plot_model(model, to_file=path, show_shapes=True)
    assert "concatenate (Concatenate)" in headers(figure) and path.stat().st_size > 0


def test_show_shapes_false_leaves_shapes_out():
    details = [t.get_text() for t in plot_model(wide_and_deep(), show_shapes=False).axes[0].texts][1::2]
    assert not any("Output shape" in d for d in details)

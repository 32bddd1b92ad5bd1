"""Plots of training curves, activations, weights, images and the model's layers.

matplotlib is optional (`pip install "fastdnn[plot]"`) and imported only when a
plot is asked for, so `import fastdnn` never loads it. Every function builds a
`matplotlib.figure.Figure` on an Agg canvas, without pyplot: nothing is shown,
no figure is left open in pyplot's registry, and the user's backend choice is
never touched (so they work on a server without a display). Each returns the
Figure (a notebook displays it) and, given `path`, also writes it there,
atomically: to a temporary file in the same folder, then renamed, so an
interrupted save never leaves a corrupt image.
"""

import math
import os
from collections.abc import Mapping

import numpy as np

from fastdnn import activations as activations_module
from fastdnn._atomic import atomic_write

_INSTALL_HINT = 'fastdnn\'s plotting utilities need matplotlib: pip install "fastdnn[plot]"'


def _new_figure(**kwargs):
    """A Figure drawn by Agg, outside pyplot."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(_INSTALL_HINT) from error
    figure = Figure(**kwargs)
    FigureCanvasAgg(figure)  # attaches itself to the figure
    return figure


def _save(figure, path):
    """Writes the figure to `path` (PNG, or the format its extension names, e.g. .svg, .pdf)."""
    if path is None:
        return
    extension = os.path.splitext(os.fspath(path))[1][1:].lower()
    image_format = extension if extension in figure.canvas.get_supported_filetypes() else "png"
    with atomic_write(path) as f:
        # No bbox_inches="tight": every figure here is laid out to fit already, and it would draw twice.
        figure.savefig(f, format=image_format)


def _grid(figure, panels, columns):
    """`panels` axes on a grid at most `columns` wide (no empty axes left over)."""
    columns = min(columns, panels)
    rows = math.ceil(panels / columns)
    return [figure.add_subplot(rows, columns, i + 1) for i in range(panels)]


# --- training curves ---------------------------------------------------------------------


def plot_history(history, path=None):
    """Plots the loss and each metric per epoch, training next to validation.

    Arguments:
        history: the History returned by `model.fit` (or `model.history`), or a
            dict of per-epoch lists such as `history.history`.
        path: where to write the figure (PNG), optional.

    One panel per quantity: `loss` first, then each metric, with its `val_`
    counterpart in the same panel when there is one. Epochs count from 1.

    Returns:
        The matplotlib Figure.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise TypeError(f"plot_history takes a History or a dict of per-epoch lists; got {type(history).__name__}")
    logs = {key: np.asarray(values, dtype=float).ravel() for key, values in logs.items()}
    logs = {key: values for key, values in logs.items() if values.size}
    if not logs:
        raise ValueError("The history is empty: it has no recorded epoch (was fit run with epochs >= 1?)")

    # One panel per base name; a val_ key whose training key is missing gets its own panel.
    bases = [key for key in logs if not key.startswith("val_")]
    bases += [key[len("val_"):] for key in logs if key.startswith("val_") and key[len("val_"):] not in logs]
    bases.sort(key=lambda base: base != "loss")  # stable: loss first, then fit's order

    figure = _new_figure(figsize=(4.5 * min(3, len(bases)), 3.4 * math.ceil(len(bases) / 3)), layout="constrained")
    from matplotlib.ticker import MaxNLocator  # after _new_figure, which gives the install hint if needed

    axes = _grid(figure, len(bases), 3)
    for ax, base in zip(axes, bases):
        for key in (base, "val_" + base):
            if key in logs:
                values = logs[key]
                epochs = np.arange(1, len(values) + 1)
                # Markers on short runs: a one-epoch history would otherwise draw nothing visible.
                ax.plot(epochs, values, marker="o" if len(values) <= 30 else None, markersize=3, label=key)
        ax.set_title(base)
        ax.set_xlabel("epoch")
        # Whole epochs only; the half-epoch margins keep a one-epoch history from getting ticks at 0.96, 0.98...
        ax.set_xlim(0.5, max(len(logs[key]) for key in (base, "val_" + base) if key in logs) + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.grid(alpha=0.3)
        ax.legend()
    _save(figure, path)
    return figure


# --- activations ---------------------------------------------------------------------------


def plot_activations(names, path=None, x_range=(-5, 5)):
    """Plots activation functions (left) and their derivatives (right), as the engine computes them.

    Arguments:
        names: activation names as in `fastdnn.activations` ("relu", "elu", "selu", "gelu", ...)
            or functions of that module; one name may be given as a string.
        path: where to write the figure (PNG), optional.
        x_range: the interval (low, high) of x.

    Returns:
        The matplotlib Figure.
    """
    if isinstance(names, str) or callable(names):
        names = [names]
    names = list(names)
    if not names:
        raise ValueError("plot_activations needs at least one activation name")
    try:
        low, high = (float(v) for v in x_range)
    except (TypeError, ValueError):
        low = high = math.nan
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"x_range must be two finite numbers (low, high) with low < high; got {x_range!r}")

    x = np.linspace(low, high, 501, dtype=np.float32)
    curves = []
    for name in names:
        function = activations_module.get(name)  # unknown names: ValueError listing the known ones
        if not hasattr(function, "_engine"):
            raise ValueError(f"plot_activations takes activation names or functions of fastdnn.activations; got {name!r}")
        label = name if isinstance(name, str) else function.__name__
        curves.append((label, function(x), activations_module.derivative(function, x)))

    figure = _new_figure(figsize=(12, 4.6), layout="constrained")
    function_axes, derivative_axes = figure.subplots(1, 2)
    for i, (label, y, dy) in enumerate(curves):
        # Ten colors, then the same colors dashed: every curve stays distinguishable.
        style = {"color": f"C{i % 10}", "linestyle": ["-", "--", ":", "-."][(i // 10) % 4], "linewidth": 1.6}
        function_axes.plot(x, y, label=label, **style)
        derivative_axes.plot(x, dy, label=label, **style)
    for ax, title, ylabel in [(function_axes, "activation functions", "f(x)"), (derivative_axes, "derivatives", "f′(x)")]:
        ax.set_title(title)
        ax.set_xlabel("x")
        ax.set_ylabel(ylabel)
        ax.axhline(0, color="0.6", linewidth=0.8)
        ax.axvline(0, color="0.6", linewidth=0.8)
        ax.grid(alpha=0.3)
    # One legend for both panels, outside them so it hides no curve.
    derivative_axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    _save(figure, path)
    return figure


# --- weights -------------------------------------------------------------------------------


def plot_weight_histograms(model, path=None, bins=50):
    """Plots a histogram of each Dense layer's kernel, with its bias, of a built model.

    Arguments:
        model: a built fastdnn Sequential model.
        path: where to write the figure (PNG), optional.
        bins: histogram bins (as numpy.histogram takes them).

    Returns:
        The matplotlib Figure.
    """
    from fastdnn.layers import Dense  # not at the top: fastdnn.layers imports utils indirectly

    if not getattr(model, "built", False):
        raise ValueError("The model has not been built, so it has no weights yet: call model.build(input_shape) "
                         "or fit it first")
    dense_layers = [layer for layer in model.layers if isinstance(layer, Dense) and layer.built]
    if not dense_layers:
        raise ValueError(f"The model has no Dense layer, so no kernel to plot; its layers: {[l.name for l in model.layers]}")

    figure = _new_figure(figsize=(3.6 * min(4, len(dense_layers)), 2.8 * math.ceil(len(dense_layers) / 4)),
                         layout="constrained")
    axes = _grid(figure, len(dense_layers), 4)
    colors = {"kernel": "tab:blue", "bias": "tab:orange"}
    for ax, layer in zip(axes, dense_layers):
        parts = {"kernel": np.asarray(layer.kernel.value).ravel()}
        if layer.bias is not None:
            parts["bias"] = np.asarray(layer.bias.value).ravel()
        # A diverged model may hold NaN/Inf: plot the finite values and say how many were not.
        finite = {name: values[np.isfinite(values)] for name, values in parts.items()}
        non_finite = sum(v.size for v in parts.values()) - sum(v.size for v in finite.values())
        all_values = np.concatenate(list(finite.values()))
        # Shared bin edges, so the bias bars are comparable with the kernel's.
        edges = np.histogram_bin_edges(all_values, bins=bins) if all_values.size else bins
        for name, values in finite.items():
            # stepfilled: one polygon per histogram instead of one patch per bar, much faster to draw.
            ax.hist(values, bins=edges, histtype="stepfilled", color=colors[name], alpha=0.85, label=name)
        rows, units = layer.kernel.shape
        title = f"{layer.name}  {rows}×{units}" + (f"  ({non_finite:,} non-finite)" if non_finite else "")
        ax.set_title(title, fontsize=10, parse_math=False)
        ax.locator_params(axis="x", nbins=5)  # narrow panels: more ticks would run into each other
        ax.tick_params(labelsize=8)
    # One key for all panels (per-panel legends covered the bars).
    figure.suptitle("Dense layer weights: kernel (blue), bias (orange)")
    _save(figure, path)
    return figure


# --- images --------------------------------------------------------------------------------


def _as_images(x):
    """x as (N, height, width) or (N, height, width, 3|4), flat square images reshaped."""
    images = np.asarray(x)
    if images.dtype.kind not in "biuf":
        raise TypeError(f"x must hold numbers; got an array of dtype {images.dtype}")
    if images.ndim == 2:
        side = math.isqrt(images.shape[1])
        if side * side != images.shape[1]:
            raise ValueError(f"x has shape {images.shape}: flat images of {images.shape[1]} pixels are not square; "
                             "pass x as (N, height, width)")
        images = images.reshape(len(images), side, side)
    elif images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    elif not (images.ndim == 3 or (images.ndim == 4 and images.shape[-1] in (3, 4))):
        raise ValueError(f"x must be images shaped (N, height, width), (N, height, width, 1|3|4) or flat square "
                         f"images (N, pixels); got shape {images.shape}")
    if len(images) == 0:
        raise ValueError("x holds no images")
    return images


def _labels(y, count, class_names):
    """The title of each of the first `count` images: class_names[label] or the label itself."""
    labels = np.asarray(y)
    if labels.dtype.kind not in "biuf":
        raise TypeError(f"y must hold numbers; got an array of dtype {labels.dtype}")
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = labels.argmax(axis=1)  # one-hot
    elif labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    elif labels.ndim != 1:
        raise ValueError(f"y must be integer labels (N,) or one-hot (N, classes); got shape {labels.shape}")
    if len(labels) < count:
        raise ValueError(f"y has {len(labels)} labels for {count} images")
    labels = labels[:count]
    if class_names is None:
        return [str(label) if labels.dtype.kind in "biu" else f"{label:g}" for label in labels]
    if not np.all(labels == np.round(labels)):
        raise ValueError("class_names needs integer labels in y")
    labels = labels.astype(int)
    wrong = labels[(labels < 0) | (labels >= len(class_names))]
    if wrong.size:
        raise ValueError(f"label {wrong[0]} is out of range for {len(class_names)} class_names")
    return [str(class_names[label]) for label in labels]


def show_images(x, y=None, class_names=None, n=25, path=None):
    """Shows the first `n` images of x on a grid, titled with their labels.

    Arguments:
        x: images (N, height, width), (N, height, width, channels), or flat square
            images (N, pixels) such as MNIST's (N, 784); any numeric dtype.
        y: optional labels, integers (N,) or one-hot (N, classes).
        class_names: optional names indexed by label; titles are class_names[y].
        n: how many images to show at most.
        path: where to write the figure (PNG), optional.

    Returns:
        The matplotlib Figure.
    """
    images = _as_images(x)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    if class_names is not None and y is None:
        raise ValueError("class_names needs the labels y")
    count = min(int(n), len(images))
    titles = _labels(y, count, class_names) if y is not None else None

    # One brightness scale for the whole grid, so images compare; [0, 1] as imshow needs for color.
    pixels = images[:count].astype(np.float64)
    if images.dtype == np.uint8:
        pixels /= 255.0
    elif images.dtype != bool:
        finite = pixels[np.isfinite(pixels)]
        low, high = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        pixels = (pixels - low) / (high - low) if high > low else np.zeros_like(pixels)

    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    # Cells 1.5 inches wide, as tall as the images' shape asks, plus room for a title.
    cell_height = 1.5 * min(max(images.shape[1] / images.shape[2], 0.25), 4.0) + (0.3 if titles else 0.1)
    figure = _new_figure(figsize=(max(1.5 * columns, 2.5), cell_height * rows + 0.2), layout="constrained")
    axes = _grid(figure, count, columns)
    for i, ax in enumerate(axes):
        ax.imshow(pixels[i], cmap="binary", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_axis_off()
        if titles is not None:
            ax.set_title(titles[i], fontsize=9, parse_math=False)  # "$" in a class name is text
    _save(figure, path)
    return figure


# --- model diagram -------------------------------------------------------------------------

_FONT_SIZE = 10  # points
_LINE = 1.45 * _FONT_SIZE / 72  # inches per text line
_BOX_HEIGHT = 2 * _LINE + 0.2  # two lines and a margin
_GAP = 0.3  # inches between boxes, room for an arrow
_PAD = 0.25  # inches between text and box edge


def _box_text(name, class_name, shape, params, activation, trainable, show_shapes, show_dtype, show_layer_names,
              show_layer_activations, show_trainable):
    """The (header, details) lines of one box; params, activation and trainable are None when not applicable."""
    header = f"{name} ({class_name})" if show_layer_names else class_name
    details = []
    if show_shapes:
        details.append(f"Output shape: {shape}")
    if show_dtype:
        details.append("dtype: float32")
    if params is not None:
        details.append(f"Params: {params:,}")
    if show_layer_activations and activation is not None:
        details.append(f"Activation: {activation}")
    if show_trainable and trainable is not None:
        details.append(f"Trainable: {'yes' if trainable else 'no'}")
    return header, "   ".join(details)


def _box_fonts():
    """A box's fonts: its bold header, its plain details."""
    from matplotlib.font_manager import FontProperties

    return FontProperties(size=_FONT_SIZE, weight="bold"), FontProperties(size=_FONT_SIZE)


def _text_width(figure, fonts):
    """width(header, details) in inches of a box's two texts in `fonts`, measured on the figure's
    renderer: boxes are sized on the text itself."""
    renderer = figure.canvas.get_renderer()

    def width(header, details):
        return max(renderer.get_text_width_height_descent(text, font, ismath=False)[0] / renderer.dpi
                   for text, font in zip((header, details), fonts))

    return width


def _inch_axes(figure, width, height):
    """The figure sized width x height inches, with one axes whose units are inches."""
    figure.set_size_inches(width, height)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    return ax


def plot_model(model, path=None, show_shapes=True, show_dtype=False, show_layer_names=True, rankdir="TB",
               expand_nested=False, dpi=100, show_layer_activations=False, show_trainable=False, *, to_file=None):
    """Draws the model's layers top to bottom, one box per layer, as Keras' plot_model; a
    functional or subclassed model as its graph (utils/plot_graph.py): a box per layer, an
    arrow per tensor a layer reads, rows by distance from the inputs.

    Each box gives the layer's name and class, its output shape (None for the
    batch) and its parameter count. Drawn with matplotlib alone: no graphviz,
    no pydot. The figure grows with the number of layers, so deep models stay
    readable.

    Arguments:
        model: a built fastdnn model (Sequential, functional or subclassed).
        path: where to write the figure, optional (PNG, or .svg/.pdf by extension).
        show_shapes: whether to show output shapes.
        show_dtype: whether to show the dtype (always float32 in fastdnn).
        show_layer_names: whether to show layer names.
        rankdir: "TB" (top to bottom) only.
        expand_nested: accepted for Keras compatibility; a nested model is drawn as one box.
        dpi: the figure's resolution, in dots per inch.
        show_layer_activations: whether to show the activation of layers that have one.
        show_trainable: whether to show if each layer is trainable.
        to_file: Keras' name for `path`.

    Differences from Keras' `plot_model(model, to_file="model.png", show_shapes=False,
    show_layer_names=False, dpi=200, ...)`: nothing is written unless `path` (or
    `to_file`) is given; shapes and layer names are shown by default; the
    parameter count is always shown; the result is a matplotlib Figure (which a
    notebook displays), not an IPython Image.

    Returns:
        The matplotlib Figure.
    """
    if to_file is not None:
        if path is not None and os.fspath(path) != os.fspath(to_file):
            raise ValueError(f"pass either path or to_file (Keras' name), not both; got {path!r} and {to_file!r}")
        path = to_file
    if rankdir != "TB":
        raise NotImplementedError(f"fastdnn draws models top to bottom only (rankdir='TB'); got rankdir={rankdir!r}")
    layers = list(getattr(model, "layers", []))
    if not layers:
        raise ValueError("The model has no layers to plot")
    if not getattr(model, "built", False):
        raise ValueError("This model has not yet been built. Build the model first by calling `build()` "
                         "or by fitting it on a batch of data.")

    figure = _new_figure(dpi=dpi)  # before the other matplotlib imports: it gives the install hint
    from matplotlib.colors import to_rgba
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    options = (show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable)
    if getattr(model, "_graph", None) is not None:  # a functional or subclassed model: its graph
        from fastdnn.utils.plot_graph import draw_graph

        _save(draw_graph(figure, model, options), path)
        return figure
    # Boxes: the input first (as Keras draws it), then each layer with the shape it outputs.
    input_layer = getattr(model, "_input_layer", None)
    shape = model.input_shape
    boxes = [_box_text(input_layer.name if input_layer else "input_layer", "InputLayer", shape, None, None, None,
                       *options)]
    classes = ["InputLayer"]
    for layer in layers:
        shape = layer.compute_output_shape(shape)
        activation = getattr(layer, "activation", None)
        boxes.append(_box_text(layer.name, type(layer).__name__, shape, layer.count_params(),
                               getattr(activation, "__name__", None), layer.trainable, *options))
        classes.append(type(layer).__name__)

    header_font, detail_font = _box_fonts()
    text_width = _text_width(figure, (header_font, detail_font))
    box_width = max(text_width(h, d) for h, d in boxes) + 2 * _PAD
    width = box_width + 0.2
    height = len(boxes) * (_BOX_HEIGHT + _GAP) - _GAP + 0.2
    ax = _inch_axes(figure, width, height)

    palette = {}  # one fill color per layer class
    center = width / 2
    for i, (header, details) in enumerate(boxes):
        top = height - 0.1 - i * (_BOX_HEIGHT + _GAP)
        color = palette.setdefault(classes[i], f"C{len(palette) % 10}")
        ax.add_patch(FancyBboxPatch((center - box_width / 2, top - _BOX_HEIGHT), box_width, _BOX_HEIGHT,
                                    boxstyle="round,pad=0,rounding_size=0.08", facecolor=to_rgba(color, 0.18),
                                    edgecolor=color, linewidth=1.2))
        # parse_math=False: a "$" in a layer name is text, not mathtext.
        ax.text(center, top - _BOX_HEIGHT / 2 + _LINE / 2, header, fontproperties=header_font, ha="center",
                va="center", parse_math=False)
        ax.text(center, top - _BOX_HEIGHT / 2 - _LINE / 2, details, fontproperties=detail_font, ha="center",
                va="center", parse_math=False)
        if i > 0:
            ax.add_patch(FancyArrowPatch((center, top + _GAP), (center, top), arrowstyle="-|>", mutation_scale=12,
                                         shrinkA=1, shrinkB=1, color="0.3"))
    _save(figure, path)
    return figure

"""plot_model for functional and subclassed models: one box per layer (a shared layer once),
one arrow per tensor a layer reads, boxes in rows by their distance from the inputs. The boxes
and arrows are drawn as plotting.plot_model draws a Sequential stack, with matplotlib alone."""

from fastdnn.utils.plotting import _BOX_HEIGHT, _LINE, _PAD, _box_fonts, _box_text, _inch_axes, _text_width

_ROW_GAP = 0.45  # inches between rows: room for slanted arrows
_COLUMN_GAP = 0.3  # inches between boxes of one row


def graph_rows(graph):
    """The graph's layers in rows: a layer sits one row below the lowest of the layers it reads,
    so every arrow points down (but in a graph that calls a shared layer at several depths); an
    input sits just above its first reader, so its arrows cross no box."""
    row, readers = {}, {}
    for node in graph.nodes:  # parents before children
        parents = [t._keras_history[0] for t in node.inputs]
        below = max((row.get(id(p), 0) + 1 for p in parents), default=0)
        row[id(node.layer)] = max(row.get(id(node.layer), 0), below)
        for p in parents:
            readers.setdefault(id(p), []).append(node.layer)
    for layer in graph.layers:
        if not any(node.inputs for node in graph.nodes if node.layer is layer) and readers.get(id(layer)):
            row[id(layer)] = max(0, min(row[id(r)] for r in readers[id(layer)]) - 1)
    rows = [[] for _ in range(max(row.values()) + 1)]
    for layer in graph.layers:
        rows[row[id(layer)]].append(layer)
    return [r for r in rows if r]


def _parents(graph, layer):
    return [t._keras_history[0] for node in graph.nodes if node.layer is layer for t in node.inputs]


def _output_shape(graph, layer):
    shapes = {node.output.shape for node in graph.nodes if node.layer is layer}
    return shapes.pop() if len(shapes) == 1 else "multiple"


def draw_graph(figure, model, options):
    """Draws `model`'s graph on `figure` (sized here); `options` as plot_model's box options."""
    from matplotlib.colors import to_rgba
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    graph = model._require_graph()
    rows = graph_rows(graph)
    texts = {}
    for layer in graph.layers:
        is_input = not layer.weights and type(layer).__name__ == "InputLayer"
        activation = getattr(layer, "activation", None)
        texts[id(layer)] = _box_text(layer.name, type(layer).__name__, _output_shape(graph, layer),
                                     None if is_input else layer.count_params(), getattr(activation, "__name__", None),
                                     None if is_input else layer.trainable, *options)

    header_font, detail_font = _box_fonts()
    text_width = _text_width(figure, (header_font, detail_font))
    box_width = {key: text_width(h, d) + 2 * _PAD for key, (h, d) in texts.items()}
    row_widths = [sum(box_width[id(l)] for l in r) + _COLUMN_GAP * (len(r) - 1) for r in rows]
    width = max(row_widths) + 0.2
    height = len(rows) * (_BOX_HEIGHT + _ROW_GAP) - _ROW_GAP + 0.2
    ax = _inch_axes(figure, width, height)

    place = {}  # id(layer) -> (center x, top y)
    palette = {}  # one fill color per layer class
    for i, (row, row_width) in enumerate(zip(rows, row_widths)):
        top = height - 0.1 - i * (_BOX_HEIGHT + _ROW_GAP)
        left = (width - row_width) / 2
        # Each layer under the mean of the layers it reads (inputs first): fewer crossing arrows.
        row = sorted(row, key=lambda l: sum(place[id(p)][0] for p in _parents(graph, l) if id(p) in place)
                     / max(1, sum(id(p) in place for p in _parents(graph, l))))
        for layer in row:
            w = box_width[id(layer)]
            center = left + w / 2
            place[id(layer)] = (center, top)
            color = palette.setdefault(type(layer).__name__, f"C{len(palette) % 10}")
            ax.add_patch(FancyBboxPatch((left, top - _BOX_HEIGHT), w, _BOX_HEIGHT,
                                        boxstyle="round,pad=0,rounding_size=0.08", facecolor=to_rgba(color, 0.18),
                                        edgecolor=color, linewidth=1.2))
            header, details = texts[id(layer)]
            # parse_math=False: a "$" in a layer name is text, not mathtext.
            ax.text(center, top - _BOX_HEIGHT / 2 + _LINE / 2, header, fontproperties=header_font, ha="center",
                    va="center", parse_math=False)
            ax.text(center, top - _BOX_HEIGHT / 2 - _LINE / 2, details, fontproperties=detail_font, ha="center",
                    va="center", parse_math=False)
            left += w + _COLUMN_GAP
    drawn = set()
    for node in graph.nodes:
        for tensor in node.inputs:
            source = tensor._keras_history[0]
            if (id(source), id(node.layer)) in drawn:
                continue
            drawn.add((id(source), id(node.layer)))
            (x0, top0), (x1, top1) = place[id(source)], place[id(node.layer)]
            ax.add_patch(FancyArrowPatch((x0, top0 - _BOX_HEIGHT), (x1, top1), arrowstyle="-|>", mutation_scale=12,
                                         shrinkA=1, shrinkB=1, color="0.3"))
    return figure

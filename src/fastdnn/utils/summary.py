"""model.summary() in Keras 2's plain-text layout (tf.keras 2.x print_summary).

fastdnn prints this layout rather than Keras 3's box-drawn table: it is what the
tutorials show, and it prints the same on every console.
"""


from fastdnn._graph import output_shape_of


def _row(fields, positions):
    """One table row, wrapped over several lines when a field is too long for its column."""
    left = [str(f) for f in fields]
    lines = []
    while any(left):
        line = ""
        for col, text in enumerate(left):
            start = positions[col - 1] if col > 0 else 0
            space = 2 if col != len(positions) - 1 else 0
            cutoff = positions[col] - start - space
            part = text[:cutoff]
            # Break long shapes after the end of a tuple, as Keras does.
            breaks = [part.find(b) + len(b) for b in ("),", "},", "],", "',") if part.find(b) >= 0]
            if breaks:
                cutoff = min(breaks)
                part = part[:cutoff]
            if col == 0:
                line += " "
            line += part + " " * space
            left[col] = text[cutoff:]
            line += " " * (positions[col] - len(line))
        lines.append(line)
    return lines


def _totals(model, line_length):
    """The closing lines: parameters counted as Keras counts them."""
    trainable = sum(int(w.value.size) for w in model.trainable_weights)
    non_trainable = sum(int(w.value.size) for w in model.non_trainable_weights)
    return [f"Total params: {trainable + non_trainable:,}", f"Trainable params: {trainable:,}",
            f"Non-trainable params: {non_trainable:,}", "_" * line_length]


def format_summary(model, line_length=65, positions=None):
    positions = positions or [0.45, 0.85, 1.0]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    lines = [f'Model: "{model.name}"', "_" * line_length]
    lines += _row(["Layer (type)", "Output Shape", "Param #"], positions)
    lines.append("=" * line_length)
    shape = model.input_shape
    for layer in model.layers:
        shape = output_shape_of(layer, shape)
        lines += _row([f"{layer.name} ({type(layer).__name__})", shape, layer.count_params()], positions)
        lines.append(" " * line_length)
    lines.append("=" * line_length)
    return "\n".join(lines + _totals(model, line_length))


def format_model_summary(model, line_length=None, positions=None):
    """A functional or subclassed model's summary. A subclassed model, or a functional model that is
    a plain stack (one input, one output, every call on one tensor, no shared layer), gets the
    three-column table; any other graph, Keras 2's four columns with "Connected to" (one inbound
    tensor per line, `layer[node][tensor]`)."""
    graph = model._graph
    nodes = [n for n in graph.nodes]
    subclassed = model.layers != graph.layers
    stack = subclassed or (len(graph.inputs) == 1 and len(graph.outputs) == 1 and all(len(n.inputs) <= 1 for n in nodes)
                           and len({id(n.layer) for n in nodes}) == len(nodes))
    if stack:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
    else:
        line_length = line_length or 98
        positions = positions or [0.33, 0.55, 0.67, 1.0]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    header = ["Layer (type)", "Output Shape", "Param #"] + ([] if stack else ["Connected to"])
    lines = [f'Model: "{model.name}"', "_" * line_length] + _row(header, positions) + ["=" * line_length]
    for layer in model.layers:
        calls = [n for n in nodes if n.layer is layer]
        kind = type(layer).__name__
        if not calls:
            shape = "multiple"
        elif kind == "InputLayer":
            shape = f"[{calls[0].output.shape}]"
        else:
            shape = calls[0].output.shape if len(calls) == 1 else "multiple"
        if stack:
            lines += _row([f"{layer.name} ({kind})", shape, layer.count_params()], positions)
        else:
            for i, node in enumerate(calls or [None]):
                sources = [f"{t._keras_history[0].name}[{t._keras_history[1]}][0]" for t in node.inputs] if node else []
                first = [f"{layer.name} ({kind})", shape, layer.count_params()] if i == 0 else ["", "", ""]
                lines += _row(first + [sources[0] if sources else ""], positions)
                for source in sources[1:]:
                    lines += _row(["", "", "", source], positions)
        lines.append("_" * line_length if not stack else " " * line_length)
    lines[-1] = "=" * line_length
    return "\n".join(lines + _totals(model, line_length))

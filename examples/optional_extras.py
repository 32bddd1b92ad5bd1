"""The examples' optional extras, matplotlib (fastdnn's `plot` extra) and tensorboardX
(`tensorboard`): without matplotlib the scripts train, evaluate and print as usual, skip
each plot, and end with one line saying which plots were skipped and how to get them."""

import importlib

_skipped = []


def have(module):
    """Whether the optional `module` (matplotlib, tensorboardX) can be imported."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def draw(name, plot, *args, **kwargs):
    """plot(*args, **kwargs) when matplotlib can be imported; otherwise `name` is noted as skipped."""
    if have("matplotlib"):
        return plot(*args, **kwargs)
    _skipped.append(name)
    return None


def report(out):
    """The closing line: where the plots went, or which were skipped and how to get them."""
    if _skipped:
        print(f"plots skipped, matplotlib is not installed: {', '.join(_skipped)}; "
              f'to draw them: pip install "fastdnn[plot]"')
    else:
        print(f"plots written to {out}")

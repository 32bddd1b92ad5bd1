"""fastdnn: Keras' API for dense neural networks, trained on the CPU by a fused C++ engine.

    import fastdnn as keras
    model = keras.Sequential([keras.layers.Dense(100, activation="relu"), keras.layers.Dense(10, activation="softmax")])
"""

try:
    from fastdnn._core import get_num_threads, set_num_threads
except ModuleNotFoundError as error:
    if error.name != "fastdnn._core":
        raise
    import os as _os

    raise ImportError(
        f"fastdnn's compiled extension (fastdnn._core) is not in {_os.path.dirname(_os.path.abspath(__file__))}: "
        "that is fastdnn's source folder, not an installed fastdnn. Install it with `pip install .` from the "
        "project root and import it from outside src/ (for the tests: `pip install \".[test,keras]\"`, then "
        "`pytest` or `python -m pytest` from the project root; see README.md)."
    ) from None
from fastdnn import (
    activations,
    backend,
    _missing,
    callbacks,
    constraints,
    distribute,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    regularizers,
    utils,
    wrappers,
)
from fastdnn._graph import KerasTensor
from fastdnn.layers import Input
from fastdnn.models import Model, Sequential

__version__ = "0.1.0"


def __getattr__(name):
    # The data set loaders pull in urllib, tarfile and friends; import them on
    # first use (keras.datasets.mnist) so `import fastdnn` stays quick.
    if name == "datasets":
        import importlib
        return importlib.import_module("fastdnn.datasets")
    raise _missing.error(__name__, name, _missing.public_names(globals(), lazy=["datasets"]))


_, __dir__ = _missing.hooks(globals(), lazy=["datasets"])

__all__ = [
    "Input", "KerasTensor", "Model", "Sequential", "activations", "backend", "callbacks", "constraints", "datasets", "distribute", "get_num_threads",
    "initializers", "layers", "losses", "metrics", "models", "ops", "optimizers", "regularizers",
    "set_num_threads", "utils", "wrappers", "__version__",
]

"""A Keras name fastdnn lacks says so (as an attribute and in `from ... import`), with the nearest
supported names and the README's list; dir() of every public module lists public names only."""

import importlib
import types

import pytest

import fastdnn
from fastdnn import _missing

PUBLIC_MODULES = ["fastdnn", "fastdnn.activations", "fastdnn.backend", "fastdnn.callbacks", "fastdnn.constraints",
                  "fastdnn.datasets", "fastdnn.initializers", "fastdnn.layers", "fastdnn.losses", "fastdnn.metrics",
                  "fastdnn.models", "fastdnn.ops", "fastdnn.optimizers", "fastdnn.optimizers.schedules",
                  "fastdnn.regularizers", "fastdnn.saving", "fastdnn.utils", "fastdnn.wrappers"]

# Real Keras 3 names fastdnn does not have (chosen far from what a dense network needs, so that
# fastdnn adding features does not make them stale).
KERAS_NAMES = {
    "fastdnn": "Variable", "fastdnn.activations": "sparsemax", "fastdnn.backend": "result_type",
    "fastdnn.callbacks": "SwapEMAWeights", "fastdnn.datasets": "cifar10", "fastdnn.initializers": "STFT",
    "fastdnn.layers": "Conv2D", "fastdnn.losses": "CTC", "fastdnn.metrics": "MeanIoU", "fastdnn.models": "save_model",
    "fastdnn.ops": "sum", "fastdnn.optimizers": "Muon", "fastdnn.regularizers": "OrthogonalRegularizer",
    "fastdnn.utils": "image_dataset_from_directory", "fastdnn.wrappers": "SKLearnClassifier",
}

# Misspellings and the supported name they must suggest.
TYPOS = {
    "fastdnn": ("Sequentail", "Sequential"), "fastdnn.activations": ("reluu", "relu"),
    "fastdnn.callbacks": ("EarlyStoping", "EarlyStopping"), "fastdnn.constraints": ("MaxNom", "MaxNorm"),
    "fastdnn.datasets": ("mnsit", "mnist"), "fastdnn.initializers": ("GlorotUnifrom", "GlorotUniform"),
    "fastdnn.layers": ("Densee", "Dense"), "fastdnn.losses": ("MeanSquaredErorr", "MeanSquaredError"),
    "fastdnn.metrics": ("BinaryAcuracy", "BinaryAccuracy"), "fastdnn.models": ("Sequentail", "Sequential"),
    "fastdnn.optimizers": ("Adamm", "Adam"), "fastdnn.optimizers.schedules": ("ExponentialDecy", "ExponentialDecay"),
    "fastdnn.regularizers": ("L1L3", "L1L2"), "fastdnn.utils": ("to_categorial", "to_categorical"),
    "fastdnn.backend": ("clear_sesion", "clear_session"),
}


def keras_path(module, name):
    return "keras" + module[len("fastdnn"):] + "." + name


@pytest.mark.parametrize("module", sorted(KERAS_NAMES))
def test_a_missing_keras_name_says_fastdnn_does_not_have_it(module):
    name = KERAS_NAMES[module]
    with pytest.raises(AttributeError) as caught:
        getattr(importlib.import_module(module), name)
    text = str(caught.value)
    assert f"fastdnn does not have {keras_path(module, name)} (yet)" in text
    assert '"What is supported"' in text and "README.md" in text


@pytest.mark.parametrize("module", sorted(TYPOS))
def test_a_misspelt_name_suggests_the_nearest_supported_one(module):
    typo, meant = TYPOS[module]
    with pytest.raises(AttributeError, match=f"nearest supported names: .*{keras_path(module, meant)}"):
        getattr(importlib.import_module(module), typo)


@pytest.mark.parametrize("module", sorted(KERAS_NAMES))
def test_from_import_of_a_missing_name_gives_the_same_message(module):
    name = KERAS_NAMES[module]
    with pytest.raises(ImportError, match=f"fastdnn does not have {keras_path(module, name)} \\(yet\\)"):
        exec(f"from {module} import {name}", {})


def test_from_import_of_a_misspelt_name_suggests_the_nearest():
    with pytest.raises(ImportError, match="nearest supported names: keras.layers.Dense"):
        from fastdnn.layers import Densee  # noqa: F401


def test_from_import_error_is_not_an_attribute_error():
    # An AttributeError would be swallowed by the import statement into a generic "cannot import name".
    with pytest.raises(ImportError) as caught:
        from fastdnn.losses import CTC  # noqa: F401
    assert not isinstance(caught.value, AttributeError)


@pytest.mark.parametrize("module", sorted(KERAS_NAMES))
def test_hasattr_is_false_for_a_missing_name(module):
    assert not hasattr(importlib.import_module(module), KERAS_NAMES[module])


def test_getattr_with_a_default_returns_the_default():
    assert getattr(fastdnn.layers, "Conv2D", None) is None


def test_a_private_name_gets_pythons_usual_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute '__wrapped__'") as caught:
        fastdnn.layers.__wrapped__
    assert not isinstance(caught.value, _missing.MissingAttributeError)


@pytest.mark.parametrize("name", ["sum", "matmul", "convert_to_tensor"])
def test_every_keras_ops_name_is_not_available(name):
    with pytest.raises(AttributeError, match=f"fastdnn does not have keras.ops.{name} \\(yet\\): .*no tensor operations"):
        getattr(fastdnn.ops, name)


@pytest.mark.parametrize("name", ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"])
def test_every_keras_wrappers_name_is_not_available(name):
    with pytest.raises(AttributeError, match=f"fastdnn does not have keras.wrappers.{name} \\(yet\\): .*scikit-learn"):
        getattr(fastdnn.wrappers, name)


def test_lazily_loaded_names_still_load():
    assert callable(fastdnn.utils.plot_history)
    assert isinstance(fastdnn.datasets, types.ModuleType)


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_dir_lists_no_private_helpers(module):
    names = dir(importlib.import_module(module))
    private = [n for n in names if n.startswith("_") and not (n.startswith("__") and n.endswith("__"))]
    assert private == []


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_dir_lists_no_module_but_the_public_submodules(module):
    mod = importlib.import_module(module)
    modules = [n for n in dir(mod) if isinstance(getattr(mod, n), types.ModuleType)]
    assert all(getattr(mod, n).__name__ == f"{module}.{n}" and f"{module}.{n}" in _missing.PUBLIC_MODULES
               for n in modules), modules


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_dir_lists_nothing_from_other_packages(module):
    mod = importlib.import_module(module)
    foreign = [n for n in dir(mod) if not n.startswith("__") and callable(getattr(mod, n))
               and not str(getattr(getattr(mod, n), "__module__", "fastdnn")).startswith("fastdnn")]
    assert foreign == []


@pytest.mark.parametrize("module, helper", [("fastdnn.initializers", "np"), ("fastdnn.activations", "np"),
                                            ("fastdnn.initializers", "math"), ("fastdnn.initializers", "re"),
                                            ("fastdnn.regularizers", "inspect"), ("fastdnn.metrics", "resolve"),
                                            ("fastdnn.losses", "engine_spec"), ("fastdnn.layers", "core")])
def test_dir_hides_a_known_helper(module, helper):
    assert helper not in dir(importlib.import_module(module))


def test_dir_of_fastdnn_lists_every_public_module():
    assert {"layers", "losses", "metrics", "optimizers", "callbacks", "constraints", "wrappers", "ops", "utils",
            "initializers", "activations", "regularizers", "models", "datasets", "backend"} <= set(dir(fastdnn))


def test_dir_still_lists_the_supported_names():
    assert {"Dense", "BatchNormalization", "Input", "serialize"} <= set(dir(fastdnn.layers))
    assert {"plot_history", "to_categorical"} <= set(dir(fastdnn.utils))

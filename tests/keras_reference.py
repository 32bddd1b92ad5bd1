"""Real Keras 3 as the parity tests' reference (tests/test_keras_parity*.py): Keras on its torch
backend, imported once here; a test module that imports this one is skipped, with the reason,
where Keras 3, PyTorch or the torch backend is missing.

    from keras_reference import keras, keras_float64, TORCH_PYTREE_WARNING  # noqa: F401 (the fixture)
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import pytest  # noqa: E402

torch = pytest.importorskip("torch", reason="the Keras parity tests need PyTorch (Keras' torch backend)")
keras = pytest.importorskip("keras", reason="the Keras parity tests need Keras 3")

if not hasattr(keras, "config") or keras.config.backend() != "torch":
    pytest.skip(f"the Keras parity tests need Keras 3 with the torch backend (KERAS_BACKEND=torch); "
                f"got {getattr(keras, '__version__', '?')} with KERAS_BACKEND={os.environ.get('KERAS_BACKEND')}",
                allow_module_level=True)

# Keras' predict on the torch backend trips a NumPy 2 DeprecationWarning inside torch's pytree
# (Keras' and torch's business, not fastdnn's); the project turns warnings into errors.
TORCH_PYTREE_WARNING = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


@pytest.fixture(autouse=True)
def keras_float64():
    """Keras computes in float64 during each test (the reference), then floatx is restored."""
    saved = keras.config.floatx()
    keras.config.set_floatx("float64")
    yield
    keras.config.set_floatx(saved)

"""The merging kernels against Keras 3's merging layers (torch backend, float64): the
same inputs through keras.layers.Add / Subtract / Multiply / Average / Maximum / Minimum /
Concatenate, with Keras' gradients from torch autograd.

Tolerance: the kernels' float32 arithmetic over at most 3 inputs (see
tests/test_merge_kernels.py): at most 4 roundings of ~6e-8 relative each, so rtol 1e-6
with a 1e-6 floor. Inputs are continuous random values, so maximum/minimum meet no ties
(where torch splits the gradient and fastdnn, as TF, gives it to the first input).
"""

import numpy as np
import pytest

from keras_reference import keras, keras_float64, torch  # noqa: F401 (the fixture)
from fastdnn._core import kernels as K

LAYERS = {
    "add": "Add", "subtract": "Subtract", "multiply": "Multiply", "average": "Average",
    "maximum": "Maximum", "minimum": "Minimum",
}


def keras_merge(layer, xs, dy):
    """Keras' output and input gradients for upstream gradient dy."""
    tensors = [torch.tensor(x.astype(np.float64), requires_grad=True) for x in xs]
    y = layer(tensors)
    (y * torch.tensor(dy.astype(np.float64))).sum().backward()
    return y.detach().numpy(), [t.grad.numpy() for t in tensors]


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_elementwise_merge_matches_keras(kind):
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(5, 6)).astype(np.float32) for _ in range(2 if kind == "subtract" else 3)]
    dy = rng.normal(size=(5, 6)).astype(np.float32)
    want_y, want_dx = keras_merge(getattr(keras.layers, LAYERS[kind])(), xs, dy)
    np.testing.assert_allclose(K.merge_forward(kind, xs), want_y, rtol=1e-6, atol=1e-6)
    for got, want in zip(K.merge_backward(kind, dy, xs), want_dx):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("blocks", [1, 3])
def test_concatenate_matches_keras_on_the_last_axis(blocks):
    rng = np.random.default_rng(1)
    widths = (3 * blocks, 6, 9)
    xs = [rng.normal(size=(4, w)).astype(np.float32) for w in widths]
    dy = rng.normal(size=(4, sum(widths))).astype(np.float32)
    shaped = [x.reshape(4, blocks, -1) for x in xs]
    want_y, want_dx = keras_merge(keras.layers.Concatenate(axis=-1), shaped, dy.reshape(4, blocks, -1))
    np.testing.assert_array_equal(K.merge_forward("concatenate", xs, blocks), want_y.reshape(4, -1).astype(np.float32))
    for got, want in zip(K.merge_backward("concatenate", dy, xs, blocks), want_dx):
        np.testing.assert_array_equal(got, want.reshape(4, -1).astype(np.float32))

"""Reshape, as keras.layers.Reshape. It has no engine op: the engine sees every tensor as
(batch, features), and a reshape changes only the shape Python reports."""

import numpy as np

from fastdnn.layers.base import Layer


class Reshape(Layer):
    """Reshape(target_shape): each sample reshaped to `target_shape` (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if not np.iterable(target_shape):
            raise ValueError(f"target_shape must be a tuple of ints; got {target_shape!r}")
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1 or any(d == 0 or d < -1 for d in self.target_shape):
            raise ValueError(f"target_shape may hold positive sizes and at most one -1; got {self.target_shape}")

    def compute_output_shape(self, input_shape):
        size = int(np.prod(input_shape[1:], dtype=np.int64))
        known = int(np.prod([d for d in self.target_shape if d != -1], dtype=np.int64))
        shape = self.target_shape
        if -1 in shape:
            if size % known:
                raise ValueError(f"Cannot reshape a tensor of shape {tuple(input_shape)} to {self.target_shape}")
            shape = tuple(size // known if d == -1 else d for d in shape)
        if int(np.prod(shape, dtype=np.int64)) != size:
            raise ValueError(f"total size of new array must be unchanged: cannot reshape input of shape "
                             f"{tuple(input_shape)} ({size} values per sample) to {self.target_shape}")
        return (input_shape[0], *shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}

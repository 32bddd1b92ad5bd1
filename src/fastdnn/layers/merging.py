"""Merging layers, as keras.layers.merging: Concatenate, Add, Subtract, Multiply, Average,
Maximum, Minimum, and their functions (concatenate, add, ...). Each is one engine op that reads
several slots; forward and backward run in C++ (csrc/kernels/merge.cpp).

Differences from Keras: the element-wise merges take inputs of one shape (Keras 3 also
broadcasts, e.g. (None, 5) + (None, 1)); where several inputs hold the same maximum (minimum),
the gradient goes to the first of them, as TensorFlow (Keras' torch backend splits it)."""

import numpy as np

from fastdnn.layers.base import Layer


class Merge(Layer):
    """A layer called on a list of tensors; it has no weights."""

    _takes_list = True
    _engine_kind = None
    _at_least = 1

    def _check_shapes(self, shapes):
        if not isinstance(shapes, (list, tuple)) or not shapes or not isinstance(shapes[0], (list, tuple)):
            raise ValueError(f"A `{type(self).__name__}` layer should be called on a list of at least "
                             f"{self._at_least} input. Received: input_shape={shapes}")
        if len(shapes) < self._at_least:
            raise ValueError(f"A `{type(self).__name__}` layer should be called on a list of at least "
                             f"{self._at_least} inputs. Received: input_shape={list(shapes)}")
        return [tuple(s) for s in shapes]

    def build(self, input_shape):
        shapes = self._check_shapes(input_shape)
        self.compute_output_shape(shapes)
        self.input_shape = shapes
        self._weights = []
        self.built = True

    def compute_output_shape(self, input_shape):
        shapes = self._check_shapes(input_shape)
        for s in shapes[1:]:
            if s[1:] != shapes[0][1:]:
                raise ValueError(f"Inputs have incompatible shapes. Received shapes {shapes[0][1:]} and {s[1:]} "
                                 f"(fastdnn's {type(self).__name__} takes inputs of one shape; it does not broadcast)")
        return shapes[0]

    def _ops(self):
        return [{"kind": self._engine_kind}]

    def _merge(self, arrays):
        raise NotImplementedError

    def __call__(self, inputs, training=False):
        from fastdnn import _graph

        if _graph.is_symbolic(inputs):
            return _graph.call_layer(self, inputs)
        arrays = [np.asarray(a, dtype=np.float32) for a in _graph.flatten(inputs)]
        shapes = [(None, *a.shape[1:]) for a in arrays]
        if len({len(a) for a in arrays}) > 1:
            raise ValueError(f"Cannot merge tensors with different batch sizes: {[a.shape for a in arrays]}")
        self.compute_output_shape(shapes)
        if not self.built:
            self.build(shapes)
        return self._merge(arrays)  # eager use on NumPy arrays: NumPy computes it, nothing trains


class Concatenate(Merge):
    """Concatenate(axis=-1): joins the inputs along `axis`; the other dimensions must match."""

    _engine_kind = "concatenate"

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _axis(self, rank):
        axis = self.axis + rank if self.axis < 0 else self.axis
        if not 1 <= axis < rank:
            raise ValueError(f"Concatenate(axis={self.axis}) cannot join inputs of rank {rank} along the "
                             "batch axis or outside them")
        return axis

    def compute_output_shape(self, input_shape):
        shapes = self._check_shapes(input_shape)
        axis = self._axis(len(shapes[0]))
        for s in shapes:
            if len(s) != len(shapes[0]) or s[1:axis] != shapes[0][1:axis] or s[axis + 1:] != shapes[0][axis + 1:]:
                raise ValueError("A `Concatenate` layer requires inputs with matching shapes except for the "
                                 f"concatenation axis. Received: input_shape={list(shapes)}")
        return (*shapes[0][:axis], sum(s[axis] for s in shapes), *shapes[0][axis + 1:])

    def _ops(self):
        # Row-major, joining along `axis` is joining `blocks` runs of each input's trailing values.
        axis = self._axis(len(self.input_shape[0]))
        return [{"kind": "concatenate", "blocks": int(np.prod(self.input_shape[0][1:axis], dtype=np.int64))}]

    def _merge(self, arrays):
        return np.concatenate(arrays, axis=self._axis(arrays[0].ndim))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Add(Merge):
    """The element-wise sum of the inputs."""

    _engine_kind = "add"

    def _merge(self, arrays):
        return np.sum(arrays, axis=0, dtype=np.float32)


class Subtract(Merge):
    """inputs[0] - inputs[1]: exactly two inputs."""

    _engine_kind = "subtract"
    _at_least = 2

    def _check_shapes(self, shapes):
        shapes = super()._check_shapes(shapes)
        if len(shapes) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received: input_shape={shapes}")
        return shapes

    def _merge(self, arrays):
        return arrays[0] - arrays[1]


class Multiply(Merge):
    """The element-wise product of the inputs."""

    _engine_kind = "multiply"

    def _merge(self, arrays):
        return np.prod(arrays, axis=0, dtype=np.float32)


class Average(Merge):
    """The element-wise mean of the inputs."""

    _engine_kind = "average"

    def _merge(self, arrays):
        return (np.sum(arrays, axis=0, dtype=np.float32) / np.float32(len(arrays))).astype(np.float32)


class Maximum(Merge):
    """The element-wise maximum of the inputs."""

    _engine_kind = "maximum"

    def _merge(self, arrays):
        return np.max(arrays, axis=0)


class Minimum(Merge):
    """The element-wise minimum of the inputs."""

    _engine_kind = "minimum"

    def _merge(self, arrays):
        return np.min(arrays, axis=0)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)


MERGE_CLASSES = [Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum]

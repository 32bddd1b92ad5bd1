"""Normalization and Rescaling: Keras' preprocessing layers for numeric features."""

import numbers

import numpy as np

from fastdnn import backend
from fastdnn.layers.base import Layer, Variable, weight_spec


def _keras_axis(layer, axis):
    """Keras' axis argument as a tuple: () for axis=None (one mean and variance for all values, as
    Keras stores it), else the feature axis of (batch, features) data, the only other one fastdnn keeps."""
    if axis is None:
        return ()
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    if axes == ():  # Keras' own form of axis=None (in its configs)
        return ()
    if not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axes):
        raise TypeError(f"{type(layer).__name__}: axis must be an int or a tuple of ints; got axis={axis!r}")
    if axes not in ((-1,), (1,)):
        raise NotImplementedError(f"{type(layer).__name__}: fastdnn normalizes the feature axis of (batch, features) "
                                  f"data (axis=-1 or 1) or all values (axis=None) only; got axis={axis!r}")
    return tuple(int(a) for a in axes)


class _AdaptedState(Variable):
    """A weight of Normalization: assigning it (set_weights, load_weights, load_model) counts as
    adapting. Keeps a scalar's shape () (Keras' count), which Variable would make (1,)."""

    def __init__(self, value, name, layer):
        super().__init__(value, name, layer, trainable_kind=False)
        self._array = np.array(value, dtype=np.float32)

    def assign(self, value):
        super().assign(value)
        self._layer._adapted = True


class Normalization(Layer):
    """Shifts and scales each feature: y = (x − mean)/max(√variance, ε), ε = backend.epsilon();
    with invert=True, y = mean + x·max(√variance, ε).

    The mean and variance are given (`mean=`, `variance=`: a number or one per feature) or
    computed by `adapt(data)` as Keras computes them: NumPy's mean and population variance
    over the samples, stored in the non-trainable weights mean, variance and count (Keras'
    three; count stays 0 as Keras leaves it; it is a float32 here, an int32 in Keras).

    Where fastdnn differs: using the layer (fit/evaluate/predict) when it was neither given
    mean and variance nor adapted (nor had its weights set or loaded) raises a ValueError;
    Keras 3 silently runs it as (x − 0)/1. adapt() refuses NaN or Inf in the data. Only the
    feature axis of 2-D (batch, features) inputs (axis=-1 or 1) or all values together (axis=None,
    inputs of any shape; the weights mean and variance are then scalars, as in Keras) are supported.
    With axis=None, adapt() takes data of any shape, 1-D data included, and leaves the layer unbuilt
    (its weights made) when it was: its statistics do not depend on the input shape, and a 1-D
    array of samples feeds a model whose input is (None, 1), as in fit. Keras builds it for the
    data's shape.
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = _keras_axis(self, axis)
        if (mean is not None) != (variance is not None):
            raise ValueError("When setting values directly, both `mean` and `variance` must be set. "
                             f"Received: mean={mean} and variance={variance}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError("When setting values directly, `mean` and `variance` must have the same shape. "
                                 f"Received: mean shape {np.shape(mean)} and variance shape {np.shape(variance)}")
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError(f"The rank of `mean` must be less than or equal to the number of axes "
                                 f"({len(self.axis)}). Received: mean shape {np.shape(mean)} for axis {self.axis}")
            for name, value in [("mean", mean), ("variance", variance)]:
                array = np.asarray(value, dtype=np.float64)
                if not np.all(np.isfinite(array)):
                    raise ValueError(f"Normalization: {name} must be finite; got {name}={value!r}")
            if np.any(np.asarray(variance, dtype=np.float64) < 0):
                raise ValueError(f"Normalization: variance must be >= 0; got variance={variance!r}")
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self._adapted = False

    @property
    def _shared_statistics(self):
        return self.axis == ()

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if self._shared_statistics:
            if len(input_shape) < 2:
                raise ValueError(f"Normalization takes batches of shape (batch, ...); got input shape {input_shape}")
        elif len(input_shape) != 2:
            raise NotImplementedError(f"Normalization in fastdnn takes (batch, features) inputs with axis=-1; got "
                                      f"input shape {input_shape} (add Flatten first, or use axis=None)")
        features = input_shape[-1]
        if self.input_mean is not None and np.size(self.input_mean) not in (1, features):
            raise ValueError(f"Normalization: mean and variance of shape {np.shape(self.input_mean)} do not "
                             f"broadcast to the {features} features of inputs of shape {input_shape}")
        if not (self._shared_statistics and self._weights):  # keeps statistics adapted before the build
            self._make_weights(input_shape)
        self.input_shape = input_shape
        self.built = True

    def _make_weights(self, input_shape):
        self._weights = [_AdaptedState(initializer(shape), name, self)
                         for name, shape, initializer, _, _ in self._weight_specs(input_shape)]

    def _weight_specs(self, input_shape):
        if self.input_mean is not None:
            return []
        features = () if self._shared_statistics else (input_shape[-1],)
        return [weight_spec("mean", features, "zeros", trainable=False),
                weight_spec("variance", features, "ones", trainable=False),
                weight_spec("count", (), "zeros", trainable=False)]

    def adapt(self, data):
        """Computes the mean and (population) variance of each feature of `data`: a NumPy
        array (samples, features), or an iterable of such batches, merged as Keras merges them.
        With axis=None, one mean and variance over all the values of data of any shape."""
        if self.input_mean is not None:
            raise ValueError("Normalization: adapt() needs a layer created without mean= and variance=")
        if isinstance(data, np.ndarray) or hasattr(data, "__array__"):  # arrays, DataFrames, tensors: one batch
            mean, variance = self._statistics(self._checked(data))
        elif hasattr(data, "__iter__") and not isinstance(data, (str, bytes, dict)):
            mean, variance = self._merged_statistics(data)
        else:
            raise TypeError(f"Unsupported data type: {type(data)}. fastdnn's adapt supports np.ndarray and "
                            "iterables of arrays (batches).")
        self._weights[0].assign(mean)
        self._weights[1].assign(variance)
        self._adapted = True

    def _checked(self, batch):
        batch = np.asarray(batch)
        if self._shared_statistics:
            if batch.ndim == 0 or batch.size == 0:
                raise ValueError(f"Normalization.adapt() with axis=None takes an array of at least one value; got "
                                 f"shape {batch.shape}")
        elif batch.ndim != 2 or batch.shape[0] == 0:
            raise ValueError(f"Normalization.adapt() takes data of shape (samples, features) with at least one "
                             f"sample (1-D data needs axis=None); got shape {batch.shape}")
        if not np.issubdtype(batch.dtype, np.number) or np.issubdtype(batch.dtype, np.complexfloating):
            raise TypeError(f"Normalization.adapt() takes real numbers; got dtype {batch.dtype}")
        if not np.all(np.isfinite(batch)):
            raise ValueError("Normalization.adapt(): the data contains NaN or Inf, which would make every output NaN")
        if self._shared_statistics:
            if not self._weights:
                self._make_weights(None)
        elif not self.built:
            self.build((None, batch.shape[1]))
        elif batch.shape[1] != self.input_shape[-1]:
            raise ValueError(f"The layer was built with input_shape={self.input_shape}, but adapt() is being called "
                             f"with data with an incompatible shape, data.shape={batch.shape}")
        return batch

    def _statistics(self, batch):
        axis = None if self._shared_statistics else 0
        return np.mean(batch, axis=axis), np.var(batch, axis=axis)

    def _merged_statistics(self, batches):
        """Keras' running merge of per-batch means and variances (Chan et al.)."""
        total_mean = total_var = None
        total_count = 0
        for batch in batches:
            if isinstance(batch, tuple):  # (x, y) or (x, y, sample_weight), as Keras
                batch = batch[0]
            batch = self._checked(batch).astype(np.float32)  # Keras converts each batch to the compute dtype
            batch_mean, batch_var = self._statistics(batch)
            if total_mean is None:
                total_mean = np.zeros_like(batch_mean)
                total_var = np.zeros_like(batch_var)
            batch_count = batch.size if self._shared_statistics else len(batch)  # Keras: the values reduced
            total_count += batch_count
            batch_weight = float(batch_count) / total_count
            existing_weight = 1.0 - batch_weight
            new_mean = total_mean * existing_weight + batch_mean * batch_weight
            total_var = ((total_var + (total_mean - new_mean) ** 2) * existing_weight
                         + (batch_var + (batch_mean - new_mean) ** 2) * batch_weight)
            total_mean = new_mean
        if total_mean is None:
            raise ValueError("adapt() received an empty iterable (no batches). Expected at least one batch.")
        return total_mean, total_var

    def _ops(self):
        op = {"kind": "normalization", "invert": self.invert, "epsilon": float(backend.epsilon())}
        if self.input_mean is not None:  # one value per feature, scalars broadcast
            features = (int(np.prod(self.input_shape[1:])),) if self._shared_statistics else (self.input_shape[-1],)
            op["mean"] = np.broadcast_to(np.asarray(self.input_mean, np.float32), features).copy()
            op["variance"] = np.broadcast_to(np.asarray(self.input_variance, np.float32), features).copy()
        elif not self._adapted:
            raise ValueError(f"The Normalization layer '{self.name}' has no mean and variance: call "
                             f"layer.adapt(data) before fit(), evaluate() or predict(), or create it with mean= and "
                             f"variance= (Keras 3 would silently compute (x - 0) / 1)")
        else:
            op["shared_statistics"] = self._shared_statistics
        return [op]

    mean = property(lambda self: self._weights[0] if self._weights and self.input_mean is None else None)
    variance = property(lambda self: self._weights[1] if self._weights and self.input_mean is None else None)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": np.array(self.input_mean).tolist(), "variance": np.array(self.input_variance).tolist()}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("axis"), list):
            config["axis"] = tuple(config["axis"])
        return cls(**config)


def _number_or_array(value, name):
    array = np.asarray(value, dtype=np.float64) if not isinstance(value, (str, bytes)) else None
    if array is None or array.dtype.kind not in "fiu" or not np.all(np.isfinite(array)):
        raise ValueError(f"Rescaling: {name} must be a finite number or an array of them; got {name}={value!r}")
    return value


class Rescaling(Layer):
    """y = x·scale + offset, with scale and offset numbers or arrays broadcast over a sample's
    shape (as Keras broadcasts them). No weights. E.g. Rescaling(1/255) for pixels in [0, 1]."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = _number_or_array(scale, "scale")
        self.offset = _number_or_array(offset, "offset")

    def build(self, input_shape):
        for name, value in [("scale", self.scale), ("offset", self.offset)]:
            try:
                np.broadcast_to(np.asarray(value), tuple(input_shape)[1:])
            except ValueError:
                raise ValueError(f"Rescaling: {name} of shape {np.shape(value)} does not broadcast to inputs of "
                                 f"shape {tuple(input_shape)}") from None
        super().build(input_shape)

    def _ops(self):
        sample = tuple(self.input_shape)[1:]
        flat = lambda v: np.broadcast_to(np.asarray(v, np.float32), sample).reshape(-1).copy()  # noqa: E731
        return [{"kind": "rescaling", "scale": flat(self.scale), "offset": flat(self.offset)}]

    def get_config(self):
        plain = lambda v: np.asarray(v).tolist() if isinstance(v, np.ndarray) else v  # noqa: E731
        return {**super().get_config(), "scale": plain(self.scale), "offset": plain(self.offset)}

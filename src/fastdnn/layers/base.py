"""Layer and Variable: what every fastdnn layer shares.

A fastdnn layer describes a piece of the network; the C++ engine runs it. Each
layer turns its configuration into engine op descriptions (`_ops`) and declares
its weights (`_weight_specs`) in Keras' order. Until a model binds the layer to
an engine, its variables hold their own NumPy arrays; once bound, they are
views of the engine's memory, so training updates them in place.
"""

import re

import numpy as np

from fastdnn import _budget
from fastdnn import initializers as initializers_module
from fastdnn import regularizers as regularizers_module

_name_counts = {}


def unique_name(prefix):
    """`dense`, `dense_1`, `dense_2`, ... as Keras names layers (reset by backend.clear_session)."""
    count = _name_counts.get(prefix, 0)
    _name_counts[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def reset_names():
    _name_counts.clear()


def snake_case(class_name):
    """Keras' rule: LeakyReLU -> leaky_re_lu, BatchNormalization -> batch_normalization."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


class Variable:
    """A layer weight: a float32 array with a name, like a Keras variable.

    It is trainable when its kind is (kernel, bias, gamma, beta, alpha; not
    the moving statistics) and its layer is.
    """

    def __init__(self, value, name, layer, trainable_kind=True):
        self._array = np.ascontiguousarray(value, dtype=np.float32)
        self.name = name
        self._layer = layer
        self._trainable_kind = trainable_kind

    @property
    def path(self):
        return f"{self._layer.name}/{self.name}"

    @property
    def trainable(self):
        return self._trainable_kind and self._layer.trainable

    @property
    def shape(self):
        return self._array.shape

    @property
    def dtype(self):
        return "float32"

    @property
    def value(self):
        return self._array

    def numpy(self):
        """A copy of the current value."""
        return self._array.copy()

    def assign(self, value):
        value = np.asarray(value, dtype=np.float32)
        if value.shape != self._array.shape:
            raise ValueError(
                f"Variable {self.path} has shape {self._array.shape}; cannot assign a value of shape {value.shape}"
            )
        self._array[...] = value

    def _bind(self, view):
        """Move the value into engine memory and keep the view."""
        view[...] = self._array
        self._array = view

    def __array__(self, dtype=None, copy=None):
        return self._array if dtype is None else self._array.astype(dtype)

    def __repr__(self):
        return f"<Variable path={self.path}, shape={self.shape}, dtype=float32>"


class Layer:
    """Base class of fastdnn layers (Keras' Layer, for layers the engine runs).

    Keyword arguments as Keras: name, trainable, dtype (float32 only), and on
    the first layer input_shape / input_dim / batch_input_shape. Unlike Keras 3,
    fastdnn takes input_shape on any layer without a warning (Keras 2 style).
    """

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None, input_dim=None,
                 batch_input_shape=None, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unrecognized keyword argument(s): {sorted(kwargs)}")
        if dtype not in (None, "float32", np.float32):
            raise ValueError(f"fastdnn computes in float32 only; got dtype={dtype!r}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self._input_shape_arg = None
        if batch_input_shape is not None:
            self._input_shape_arg = tuple(batch_input_shape)[1:]
        elif input_shape is not None:
            self._input_shape_arg = tuple(input_shape) if np.iterable(input_shape) else (input_shape,)
        elif input_dim is not None:
            self._input_shape_arg = (int(input_dim),)
        self.built = False
        self.input_shape = None  # (None, ...) once built
        self._weights = []

    # --- what subclasses provide -------------------------------------------------------
    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def _weight_specs(self, input_shape):
        """[(name, shape, initializer, trainable, regularizer)] in Keras' weight order."""
        return []

    def _ops(self):
        """Engine op descriptions, in order (the weights of a layer belong to its ops, in order)."""
        return []

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": "float32"}
        if self._input_shape_arg is not None:
            config["batch_input_shape"] = (None, *self._input_shape_arg)
        return config

    # --- shared behaviour ------------------------------------------------------------
    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        specs = self._weight_specs(input_shape)
        _budget.spend(self, [shape for _, shape, _, _, _ in specs])  # loading a file: no more than it holds
        self._weights = [Variable(initializer(shape), name, self, trainable)
                         for name, shape, initializer, trainable, _ in specs]
        self.input_shape = input_shape
        self.built = True

    @property
    def output_shape(self):
        if not self.built:
            raise AttributeError(f"The layer {self.name} has never been called and thus has no defined output shape.")
        return self.compute_output_shape(self.input_shape)

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        # As in Keras, a model must be compiled again for this to affect fit.
        self._trainable = bool(value)

    @property
    def weights(self):
        return list(self._weights)

    @property
    def variables(self):
        """Every variable of the layer, trainable or not (Keras 3: the same list as `weights`)."""
        return self.weights

    @property
    def trainable_weights(self):
        return [w for w in self._weights if w.trainable]

    @property
    def non_trainable_weights(self):
        return [w for w in self._weights if not w.trainable]

    def get_weights(self):
        return [w.numpy() for w in self._weights]

    def set_weights(self, weights):
        weights = list(weights)
        if len(weights) != len(self._weights):
            raise ValueError(
                f"Layer {self.name} expects {len(self._weights)} weight arrays "
                f"({[w.name for w in self._weights]}); got {len(weights)}"
            )
        for w, value in zip(self._weights, weights):
            w.assign(value)

    def count_params(self):
        return int(sum(np.prod(w.shape) for w in self._weights))

    def call(self, inputs, training=None):
        """The layer's own computation on symbolic tensors, for a subclass whose call() composes it
        (e.g. `return super().call(inputs, training=True)`: the layer always in training mode, as
        Géron's MC Dropout). training=True/False fixes the mode; None follows the model's."""
        from fastdnn import _graph

        if not _graph.is_symbolic(inputs):
            raise TypeError(f"{type(self).__name__}.call() runs on symbolic tensors while fastdnn traces a "
                            "layer; to compute on NumPy arrays, call the layer itself: layer(x)")
        return _graph.call_builtin(self, inputs, training)

    def __call__(self, inputs, training=None):
        """On symbolic tensors (Input(...) and what layers return for them): records the call in
        the graph and returns the output tensor, as Keras; training=True/False there fixes the
        layer's mode in the model (None: the model's). On a NumPy batch: the layer applied to
        it, in inference mode, or with training=True in training mode with nothing updated (as
        Keras: dropout active, BatchNormalization on the batch's statistics); unlike Keras, it then
        takes and returns NumPy arrays, not backend tensors."""
        from fastdnn import _graph, _network

        if _graph.is_symbolic(inputs):
            return _graph.call_layer(self, inputs, training)
        require_engine_layer(self)
        if has_own_call(self):
            return _graph.call_eagerly(self, inputs, bool(training))
        x = np.asarray(inputs, dtype=np.float32)
        if x.ndim < 2 or len(x) == 0:
            raise ValueError(f"{self.name}: inputs must be a batch of shape (samples, ...) with at least one "
                             f"sample; got shape {x.shape}")
        if not self.built:
            self.build((None, *x.shape[1:]))
        return _network.run_layers([self], x, training=bool(training))

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def has_own_call(layer):
    """True when a class outside fastdnn defines the layer's call(): fastdnn then traces call() on
    symbolic tensors into the graph it runs (Keras 3 runs call() itself)."""
    for cls in type(layer).__mro__:
        if cls.__module__.startswith("fastdnn."):
            return False
        if "call" in vars(cls):
            return True
    return False


def require_engine_layer(layer):
    """Refuses a direct subclass of Layer that defines no call(): it would act as the identity. A
    model, or a layer with its own call(), runs as the graph its call() traces."""
    if hasattr(layer, "_inner_graph") or has_own_call(layer):
        return
    parent = next(cls for cls in type(layer).__mro__ if cls.__module__.startswith("fastdnn."))
    if parent is Layer:
        raise NotImplementedError(
            f"fastdnn cannot run the layer {layer.name!r}: {type(layer).__qualname__} subclasses Layer directly "
            "without a call(), so it would compute nothing (README.md, 'What is supported').")


def weight_spec(name, shape, initializer, trainable=True, regularizer=None):
    """A weight declaration, with Keras identifiers resolved."""
    init = initializers_module.get(initializer)
    return (name, tuple(int(s) for s in shape), init, trainable, regularizers_module.get(regularizer))

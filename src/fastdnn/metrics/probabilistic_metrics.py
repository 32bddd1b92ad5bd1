"""Cross-entropies as metrics, as keras.metrics: BinaryCrossentropy, CategoricalCrossentropy,
SparseCategoricalCrossentropy (running means of the losses' per-sample functions, computed
from the network's outputs: probabilities after a sigmoid/softmax last layer, with Keras'
clipping to [1e-7, 1 − 1e-7], or logits with from_logits=True)."""

from fastdnn import losses as losses_module
from fastdnn.metrics.metric import MeanMetricWrapper

binary_crossentropy = losses_module.binary_crossentropy
categorical_crossentropy = losses_module.categorical_crossentropy
sparse_categorical_crossentropy = losses_module.sparse_categorical_crossentropy


class BinaryCrossentropy(MeanMetricWrapper):
    """Running mean of binary_crossentropy."""

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        super().__init__(binary_crossentropy, name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)
        self.from_logits, self.label_smoothing = from_logits, label_smoothing


class CategoricalCrossentropy(MeanMetricWrapper):
    """Running mean of categorical_crossentropy."""

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False, label_smoothing=0, axis=-1):
        super().__init__(categorical_crossentropy, name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Running mean of sparse_categorical_crossentropy (integer labels)."""

    sparse_labels = True

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False, ignore_class=None,
                 axis=-1):
        super().__init__(sparse_categorical_crossentropy, name, dtype=dtype, from_logits=from_logits,
                         ignore_class=ignore_class, axis=axis)
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis

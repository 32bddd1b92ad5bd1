"""Dropout and AlphaDropout."""

import numbers

from fastdnn import _random
from fastdnn.layers.base import Layer


def _check_rate(rate):
    if not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
        raise ValueError(
            "Invalid value received for argument `rate`. Expected a float value in [0, 1) "
            f"(fastdnn refuses 1, which would drop everything). Received: rate={rate!r}"
        )
    return float(rate)


class _RandomLayer(Layer):
    """A layer that draws masks: from `seed`, or from a seed drawn from the global generator
    when the layer is created (so fastdnn.utils.set_random_seed makes them reproducible)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if noise_shape is not None:
            raise NotImplementedError(f"{type(self).__name__}: noise_shape is not supported by fastdnn")
        self.rate = _check_rate(rate)
        self.seed = seed
        self._engine_seed = int(seed) if seed is not None else _random.draw_seed()

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": None}


class Dropout(_RandomLayer):
    """In training, zeroes each input with probability `rate` and scales the rest by
    1/(1 − rate) (inverted dropout, as Keras); the identity at inference."""

    def _ops(self):
        return [{"kind": "dropout", "rate": self.rate, "seed": self._engine_seed}]


class AlphaDropout(_RandomLayer):
    """Dropout that keeps SELU's zero mean and unit variance (Klambauer et al. 2017):
    dropped units are set to −λα and the result is affinely corrected, as Keras does;
    the identity at inference. Pair with selu and lecun_normal."""

    def _ops(self):
        return [{"kind": "alpha_dropout", "rate": self.rate, "seed": self._engine_seed}]

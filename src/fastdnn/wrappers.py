"""keras.wrappers: not in fastdnn. The scikit-learn wrappers (SKLearnClassifier,
SKLearnRegressor, SKLearnTransformer) are not available; every name here raises an error saying so."""

from fastdnn import _missing

__getattr__, __dir__ = _missing.hooks(
    globals(), note="fastdnn has no scikit-learn wrappers (keras.wrappers) yet")

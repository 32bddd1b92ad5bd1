"""keras.ops: not in fastdnn. Its engine runs whole networks in C++ and offers no tensor
operations; every name here raises an error saying so."""

from fastdnn import _missing

__getattr__, __dir__ = _missing.hooks(
    globals(), note="fastdnn runs whole networks in its C++ engine and has no tensor operations (keras.ops)")

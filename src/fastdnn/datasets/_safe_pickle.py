"""Read a pickle of NumPy arrays without letting it run anything else.

The classic mnist.pkl.gz is a pickle, and a pickle can call any importable
function. This unpickler resolves only the names NumPy needs to rebuild an
array; any other name, however harmless it looks, is refused.
"""

import pickle

import numpy as np

try:  # NumPy 2 moved the module; pickles written by NumPy 1 name the old path
    from numpy._core.multiarray import _reconstruct
except ImportError:  # pragma: no cover - NumPy 1
    from numpy.core.multiarray import _reconstruct



class UnsafePickleError(pickle.UnpicklingError):
    """The pickle asked for something other than NumPy array reconstruction."""


def _latin1_encode(text, encoding="latin1"):
    """Python 3's protocol-2 pickles spell bytes as _codecs.encode(text, "latin1");
    no other codec is let through."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise UnsafePickleError(f"refusing _codecs.encode with {encoding!r}: only latin-1 text is allowed")
    return text.encode("latin1")


_ALLOWED = {
    ("_codecs", "encode"): _latin1_encode,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refusing to load {module}.{name} from a pickle: only NumPy arrays are allowed") from None


def load_arrays(stream):
    """Unpickle `stream` allowing nothing but NumPy arrays in tuples/lists.

    Python 2 pickles (like mnist.pkl.gz) are read with latin-1 strings, as
    NumPy's own loader does. Object arrays are refused too: their elements
    could be anything.
    """
    result = _ArrayUnpickler(stream, encoding="latin1").load()
    _refuse_object_arrays(result)
    return result


def _refuse_object_arrays(value):
    if isinstance(value, (tuple, list)):
        for item in value:
            _refuse_object_arrays(item)
    elif isinstance(value, np.ndarray) and value.dtype.hasobject:
        raise UnsafePickleError("refusing a pickled array of Python objects: only numeric arrays are allowed")

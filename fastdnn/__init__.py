"""fastdnn: Keras' API for dense neural networks, trained on the CPU by a fused C++ engine."""

from fastdnn._core import get_num_threads, set_num_threads

__version__ = "0.1.0"

__all__ = ["get_num_threads", "set_num_threads", "__version__"]

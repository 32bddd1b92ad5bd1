"""Callbacks, as tf.keras.callbacks."""

from fastdnn.callbacks.callback import Callback, CallbackList
from fastdnn.callbacks.csv_logger import CSVLogger
from fastdnn.callbacks.early_stopping import EarlyStopping
from fastdnn.callbacks.history import History
from fastdnn.callbacks.lambda_callback import LambdaCallback
from fastdnn.callbacks.learning_rate_scheduler import LearningRateScheduler
from fastdnn.callbacks.model_checkpoint import ModelCheckpoint
from fastdnn.callbacks.progbar_logger import ProgbarLogger
from fastdnn.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from fastdnn.callbacks.tensorboard import TensorBoard
from fastdnn.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = [
    "Callback", "CallbackList", "CSVLogger", "EarlyStopping", "History", "LambdaCallback",
    "LearningRateScheduler", "ModelCheckpoint", "ProgbarLogger", "ReduceLROnPlateau", "TensorBoard",
    "TerminateOnNaN",
]

from fastdnn import _missing  # noqa: E402
__getattr__, __dir__ = _missing.hooks(globals())

"""LambdaCallback: a callback made of functions, as keras.callbacks.LambdaCallback."""

from fastdnn.callbacks.callback import Callback

_TRAIN_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")
_TEST_BATCH_HOOKS = ("on_test_batch_begin", "on_test_batch_end")
_PREDICT_BATCH_HOOKS = ("on_predict_batch_begin", "on_predict_batch_end")


def _is_hook(name, value):
    return callable(value) and name.startswith("on_") and callable(getattr(Callback, name, None))


def _as_keras_calls(name, function):
    """Calls `function` as Keras' CallbackList calls hook `name`: logs always given, None when fit has none.

    Keras passes `(epoch, logs)` and `(logs)` positionally and batch hooks'
    logs by keyword; fastdnn's CallbackList forwards what fit gives, which may
    leave logs out, so functions written for Keras (`lambda logs: ...`) work.
    """
    indexed = "batch" in name or "epoch" in name

    def hook(*args, **kwargs):
        head = args[:1] if indexed else ()
        rest = args[len(head):]
        logs = kwargs.pop("logs", rest[0] if rest else None)
        if "batch" in name:
            return function(*head, logs=logs)
        return function(*head, logs)

    return hook


class LambdaCallback(Callback):
    """Builds a callback from plain functions, called with the hooks' arguments.

    `on_epoch_begin` / `on_epoch_end` get `(epoch, logs)`; `on_train_begin` /
    `on_train_end` get `(logs)`; `on_train_batch_begin` / `on_train_batch_end`
    get `(batch, logs)`. Any other hook of `Callback` can be given by name as a
    keyword (`on_test_end=fn`, `on_batch_end=fn`, ...). Hooks not given do nothing.

    Batch hooks count as implemented only when a batch function was given, so
    a LambdaCallback with epoch functions alone lets fit run batches in groups.
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ):
        super().__init__()
        # As Keras: keywords become attributes, so any hook name can be given.
        self.__dict__.update({k: _as_keras_calls(k, v) if _is_hook(k, v) else v for k, v in kwargs.items()})
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
        }
        for name, function in hooks.items():
            if function is not None:
                setattr(self, name, _as_keras_calls(name, function))

    # Callback._implements compares class attributes; the functions here live
    # on the instance, so look there.
    def _given(self, names):
        return any(name in self.__dict__ for name in names)

    def _implements_train_batch_hooks(self):
        return self._given(_TRAIN_BATCH_HOOKS)

    def _implements_test_batch_hooks(self):
        return self._given(_TEST_BATCH_HOOKS)

    def _implements_predict_batch_hooks(self):
        return self._given(_PREDICT_BATCH_HOOKS)

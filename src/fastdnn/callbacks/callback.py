"""Callback: Keras' hooks into fit, evaluate and predict, and the list that calls them."""


class Callback:
    """Base class of callbacks, with Keras' hook names.

    Subclasses override any of the hooks; `self.model` and `self.params`
    ({'verbose', 'epochs', 'steps'}) are set before training starts. Batch-level
    hooks make fit call the engine once per batch; without them an epoch runs
    in as few engine calls as possible.
    """

    def __init__(self):
        self.model = None
        self.params = {}
        self.validation_data = None

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    # Training.
    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    # Keras 2 names of the training batch hooks.
    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    # Evaluation and prediction.
    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def _implements(self, *hooks):
        """Whether this callback overrides any of the named hooks."""
        return any(getattr(type(self), h) is not getattr(Callback, h) for h in hooks)

    def _implements_train_batch_hooks(self):
        return self._implements("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")

    def _implements_test_batch_hooks(self):
        return self._implements("on_test_batch_begin", "on_test_batch_end")

    def _implements_predict_batch_hooks(self):
        return self._implements("on_predict_batch_begin", "on_predict_batch_end")


class CallbackList(Callback):
    """Calls every hook of every callback, in order."""

    def __init__(self, callbacks=None, model=None, **params):
        super().__init__()
        self.callbacks = list(callbacks or [])
        for c in self.callbacks:
            if not isinstance(c, Callback):
                raise TypeError(f"callbacks must be fastdnn.callbacks.Callback instances; got {c!r}")
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback):
        self.callbacks.append(callback)

    def set_model(self, model):
        super().set_model(model)
        for c in self.callbacks:
            c.set_model(model)

    def set_params(self, params):
        super().set_params(params)
        for c in self.callbacks:
            c.set_params(params)

    def _implements_train_batch_hooks(self):
        return any(c._implements_train_batch_hooks() for c in self.callbacks)

    def _implements_test_batch_hooks(self):
        return any(c._implements_test_batch_hooks() for c in self.callbacks)

    def _implements_predict_batch_hooks(self):
        return any(c._implements_predict_batch_hooks() for c in self.callbacks)


def _dispatch(name, indexed):
    # As Keras 3: every hook gets `logs`, positionally (user hooks may be written
    # `def on_epoch_end(self, epoch, logs)` without a default), always a dict (a new
    # one per call, shared by the callbacks of the list; {} where there is nothing to log).
    if indexed:
        def hook(self, index, logs=None):
            logs = {} if logs is None else dict(logs)
            for c in self.callbacks:
                getattr(c, name)(index, logs)
    else:
        def hook(self, logs=None):
            logs = {} if logs is None else dict(logs)
            for c in self.callbacks:
                getattr(c, name)(logs)

    hook.__name__ = name
    return hook


for _name in [
    "on_train_begin", "on_train_end", "on_test_begin", "on_test_end", "on_predict_begin", "on_predict_end",
]:
    setattr(CallbackList, _name, _dispatch(_name, indexed=False))
for _name in [
    "on_epoch_begin", "on_epoch_end", "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin",
    "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end",
]:
    setattr(CallbackList, _name, _dispatch(_name, indexed=True))

"""What every model made of layers says about them, as Keras' Model: its weights (the layers'
variables, in layer order), get/set_weights, count_params and get_layer. A model class provides
`layers`, `_layers` (the layers that hold weights, in order), `built`, `trainable` and `name`."""


class ModelWeights:
    def get_layer(self, name=None, index=None):
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[l.name for l in self.layers]}.")

    @property
    def weights(self):
        return [w for layer in self._layers for w in layer.weights]

    @property
    def variables(self):
        """Every variable of every layer (Keras 3: the same list as `weights`)."""
        return self.weights

    @property
    def trainable_weights(self):
        return [w for w in self.weights if w.trainable] if self.trainable else []

    @property
    def non_trainable_weights(self):
        return [w for w in self.weights if not w.trainable or not self.trainable]

    def get_weights(self):
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        weights, mine = list(weights), self.weights
        if len(weights) != len(mine):
            raise ValueError(f"You called `set_weights(weights)` on model {self.name} with a weight list of "
                             f"length {len(weights)}, but the model expects {len(mine)} weights.")
        for w, value in zip(mine, weights):
            w.assign(value)

    def count_params(self):
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on model {self.name}, but the model has not been built.")
        return sum(layer.count_params() for layer in self._layers)

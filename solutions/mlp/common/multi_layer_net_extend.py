"""MultiLayerNet with batch normalization and dropout:
(Affine - [BatchNorm] - activation - [Dropout]) x len(hidden_size_list) - Affine - softmax."""
from collections import OrderedDict

import numpy as np

from .gradient import numerical_gradient
from .layers import Affine, BatchNormalization, Dropout, SoftmaxWithLoss
from .multi_layer_net import ACTIVATIONS, weight_scale


class MultiLayerNetExtend:
    """A fully-connected net with weight decay, optional batch normalization and optional dropout.

    The constructor takes MultiLayerNet's arguments (``input_size``, ``hidden_size_list``, ``output_size``,
    ``activation``, ``weight_init_std``, ``weight_decay_lambda``) and:
    - use_dropout: a Dropout layer after every hidden activation, dropping the ratio ``dropout_ration``
    - use_batchnorm: a BatchNormalization layer between every hidden Affine and its activation, with the
      parameters 'gamma{i}' (ones) and 'beta{i}' (zeros) of shape (H_i,)

    layers: an OrderedDict 'Affine1', ['BatchNorm1'], 'Activation_function1', ['Dropout1'], ..., 'Affine{L}'.
    ``predict``, ``loss`` and ``accuracy`` take ``train_flg`` (False: test behaviour of batch norm and
    dropout); ``gradient`` runs the forward pass with ``train_flg=True``.
    """

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu", weight_init_std="relu",
                 weight_decay_lambda=0, use_dropout=False, dropout_ration=0.5, use_batchnorm=False):
        self.input_size = input_size
        self.output_size = output_size
        self.hidden_size_list = list(hidden_size_list)
        self.hidden_layer_num = len(self.hidden_size_list)
        self.use_dropout = use_dropout
        self.weight_decay_lambda = weight_decay_lambda
        self.use_batchnorm = use_batchnorm
        self.params = {}
        self.layers = OrderedDict()
        self.last_layer = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        sizes = [input_size] + self.hidden_size_list + [output_size]
        for idx in range(1, len(sizes)):
            scale = weight_scale(weight_init_std, sizes[idx - 1])
            self.params[f"W{idx}"] = scale * np.random.randn(sizes[idx - 1], sizes[idx])
            self.params[f"b{idx}"] = np.zeros(sizes[idx])
        for idx in range(1, self.hidden_layer_num + 1):
            self.layers[f"Affine{idx}"] = Affine(self.params[f"W{idx}"], self.params[f"b{idx}"])
            if self.use_batchnorm:
                self.params[f"gamma{idx}"] = np.ones(sizes[idx])
                self.params[f"beta{idx}"] = np.zeros(sizes[idx])
                self.layers[f"BatchNorm{idx}"] = BatchNormalization(self.params[f"gamma{idx}"],
                                                                    self.params[f"beta{idx}"])
            self.layers[f"Activation_function{idx}"] = ACTIVATIONS[activation]()
            if self.use_dropout:
                self.layers[f"Dropout{idx}"] = Dropout(dropout_ration)
        idx = self.hidden_layer_num + 1
        self.layers[f"Affine{idx}"] = Affine(self.params[f"W{idx}"], self.params[f"b{idx}"])
        self.last_layer = SoftmaxWithLoss()
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    def predict(self, x, train_flg=False):
        """x: (N, D) -> scores (N, C); ``train_flg`` goes to the Dropout and BatchNormalization layers."""
        out = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        for key, layer in self.layers.items():
            if "Dropout" in key or "BatchNorm" in key:
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        out = x
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return out

    def loss(self, x, t, train_flg=False):
        """The softmax loss of x against t plus 0.5 * lambda * sum(W**2) over the weight matrices (not gamma,
        beta) -> a float."""
        loss = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        y = self.predict(x, train_flg)
        weight_decay = 0.0
        for idx in range(1, self.hidden_layer_num + 2):
            W = self.params[f"W{idx}"]
            weight_decay += 0.5 * self.weight_decay_lambda * np.sum(W ** 2)
        loss = self.last_layer.forward(y, t) + weight_decay
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return loss

    def accuracy(self, X, T):
        """The fraction of X (N, D) classified as T ((N,) or one-hot), in test mode -> a float."""
        Y = np.argmax(self.predict(X, train_flg=False), axis=1)
        if T.ndim != 1:
            T = np.argmax(T, axis=1)
        return float(np.sum(Y == T)) / float(X.shape[0])

    def numerical_gradient(self, X, T):
        """The gradient of ``loss(X, T, train_flg=True)`` by centred differences -> a dict like params.
        (With dropout, every evaluation draws a new mask: seed it, or check without dropout.)"""
        loss_W = lambda W: self.loss(X, T, train_flg=True)   # noqa: E731
        return {key: numerical_gradient(loss_W, self.params[key]) for key in self.params}

    def gradient(self, x, t):
        """The gradient of ``loss(x, t, train_flg=True)`` by backpropagation -> a dict like params."""
        grads = {}
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        self.loss(x, t, train_flg=True)
        dout = self.last_layer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        for idx in range(1, self.hidden_layer_num + 2):
            layer = self.layers[f"Affine{idx}"]
            grads[f"W{idx}"] = layer.dW + self.weight_decay_lambda * layer.W
            grads[f"b{idx}"] = layer.db
            if self.use_batchnorm and idx != self.hidden_layer_num + 1:
                grads[f"gamma{idx}"] = self.layers[f"BatchNorm{idx}"].dgamma
                grads[f"beta{idx}"] = self.layers[f"BatchNorm{idx}"].dbeta
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return grads

"""A fully-connected net of any depth: (Affine - activation) x len(hidden_size_list) - Affine - softmax."""
from collections import OrderedDict

import numpy as np

from .gradient import numerical_gradient
from .layers import Affine, LeakyRelu, Relu, Sigmoid, SoftmaxWithLoss

ACTIVATIONS = {"relu": Relu, "leaky_relu": LeakyRelu, "sigmoid": Sigmoid}


def weight_scale(weight_init_std, fan_in):
    """The standard deviation of the initial weights of a layer with ``fan_in`` inputs.

    - a float: that value;
    - 'relu' or 'he': sqrt(2 / fan_in) (He et al., for ReLU nets);
    - 'sigmoid' or 'xavier': sqrt(1 / fan_in) (Glorot and Bengio, for sigmoid and tanh nets).
    """
    scale = None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    pass
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return scale


class MultiLayerNet:
    """A fully-connected net with weight decay.

    Inputs of the constructor:
    - input_size: D, the size of one input (784 for MNIST)
    - hidden_size_list: the sizes of the hidden layers, e.g. [100, 100, 100] ([] gives a linear classifier)
    - output_size: C, the number of classes
    - activation: 'relu', 'leaky_relu' or 'sigmoid'
    - weight_init_std: a float, 'relu'/'he' or 'sigmoid'/'xavier' (see ``weight_scale``)
    - weight_decay_lambda: lambda of the L2 penalty 0.5 * lambda * sum(W**2) over every weight matrix

    params: 'W1' (D, H1), 'b1' (H1,), ..., 'W{L}' (H_{L-1}, C), 'b{L}' (C,) with L = len(hidden_size_list) + 1;
    biases start at zero. layers: an OrderedDict 'Affine1', 'Activation_function1', ..., 'Affine{L}';
    last_layer: SoftmaxWithLoss.
    """

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu", weight_init_std="relu",
                 weight_decay_lambda=0):
        self.input_size = input_size
        self.output_size = output_size
        self.hidden_size_list = list(hidden_size_list)
        self.hidden_layer_num = len(self.hidden_size_list)
        self.weight_decay_lambda = weight_decay_lambda
        self.params = {}
        self.layers = OrderedDict()
        self.last_layer = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    def predict(self, x):
        """x: (N, D) -> scores (N, C) (before the softmax)."""
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        """The softmax loss of x (N, D) against t ((N,) or one-hot (N, C)) plus the weight decay
        0.5 * lambda * sum over the weight matrices of sum(W**2) -> a float."""
        loss = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return loss

    def accuracy(self, x, t):
        """The fraction of x (N, D) classified as t ((N,) or one-hot (N, C)) -> a float."""
        y = np.argmax(self.predict(x), axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return float(np.sum(y == t)) / float(x.shape[0])

    def numerical_gradient(self, x, t):
        """The gradient of ``loss(x, t)`` with respect to every parameter, by centred differences (slow: for
        gradient checks on small nets) -> a dict with the keys and shapes of params."""
        loss_W = lambda W: self.loss(x, t)   # noqa: E731 (the parameter array is changed in place)
        return {key: numerical_gradient(loss_W, self.params[key]) for key in self.params}

    def gradient(self, x, t):
        """The gradient of ``loss(x, t)`` by backpropagation: one forward pass, then ``backward`` through the
        layers in reverse -> a dict with the keys and shapes of params (the weights' include the decay
        term lambda * W)."""
        grads = {}
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return grads

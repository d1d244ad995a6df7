"""The MLP of the homework: Affine - LeakyRelu - Affine - LeakyRelu - Affine - SoftmaxWithLoss."""
from collections import OrderedDict

import numpy as np

from .gradient import numerical_gradient
from .layers import Affine, LeakyRelu, SoftmaxWithLoss
from .multi_layer_net import weight_scale


class ThreeLayerNet:
    """A three-layer perceptron (784-300-300-10 by default) with leaky ReLUs.

    Inputs of the constructor:
    - input_size D, hidden_size1 H1, hidden_size2 H2, output_size C
    - weight_init_std: a float, 'relu'/'he' or 'sigmoid'/'xavier' (see ``multi_layer_net.weight_scale``)
    - alpha: the slope of the leaky ReLUs for negative inputs
    - dtype: of the parameters (np.float32 halves the memory and most of the time; inputs of that dtype too)

    params: 'W1' (D, H1), 'b1' (H1,), 'W2' (H1, H2), 'b2' (H2,), 'W3' (H2, C), 'b3' (C,); biases start at zero.
    layers: an OrderedDict 'Affine1', 'LeakyRelu1', 'Affine2', 'LeakyRelu2', 'Affine3'; last_layer:
    SoftmaxWithLoss. Labels are integers (N,) or one-hot (N, C).
    """

    def __init__(self, input_size=784, hidden_size1=300, hidden_size2=300, output_size=10, weight_init_std="he",
                 alpha=0.01, dtype=np.float64):
        self.params = {}
        self.layers = OrderedDict()
        self.last_layer = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    def predict(self, x):
        """x: (N, D) -> scores (N, C) (before the softmax)."""
        out = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return out

    def loss(self, x, t):
        """The softmax loss of x (N, D) against t -> a float."""
        loss = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return loss

    def accuracy(self, x, t):
        """The fraction of x (N, D) classified as t ((N,) or one-hot) -> a float."""
        y = np.argmax(self.predict(x), axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return float(np.sum(y == t)) / float(x.shape[0])

    def numerical_gradient(self, x, t):
        """The gradient of ``loss(x, t)`` by centred differences (slow) -> a dict like params."""
        loss_W = lambda W: self.loss(x, t)   # noqa: E731
        return {key: numerical_gradient(loss_W, self.params[key]) for key in self.params}

    def gradient(self, x, t):
        """The gradient of ``loss(x, t)`` by backpropagation through the layers in reverse -> a dict like
        params."""
        grads = {}
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return grads

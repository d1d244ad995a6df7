"""Layers as classes: ``forward`` computes the output and keeps what ``backward`` needs; ``backward(dout)``
takes the upstream gradient and returns the gradient with respect to the input, storing the gradients of
the layer's parameters as attributes (``dW``, ``db``, ``dgamma``, ``dbeta``).

Shapes: N is the batch size, D the input dimension, M the output dimension.
"""
import numpy as np

from .functions import cross_entropy_error, softmax


class Relu:
    """out = max(0, x), elementwise."""

    def __init__(self):
        self.mask = None   # boolean array of the shape of x: True where x <= 0

    def forward(self, x):
        """x: any shape -> out of the same shape."""
        out = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return out

    def backward(self, dout):
        """dout: the shape of x -> dx of the same shape."""
        dx = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return dx


class LeakyRelu:
    """out = x where x > 0, alpha * x elsewhere (alpha: the slope of the negative part, 0.01 by default)."""

    def __init__(self, alpha=0.01):
        self.alpha = alpha
        self.mask = None   # boolean array of the shape of x: True where x <= 0

    def forward(self, x):
        """x: any shape -> out of the same shape."""
        out = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return out

    def backward(self, dout):
        """dout: the shape of x -> dx of the same shape."""
        dx = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return dx


class Sigmoid:
    """out = 1 / (1 + exp(-x)), elementwise; d out / d x = out * (1 - out)."""

    def __init__(self):
        self.out = None

    def forward(self, x):
        """x: any shape -> out of the same shape."""
        out = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return out

    def backward(self, dout):
        """dout: the shape of x -> dx of the same shape."""
        dx = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return dx


class Affine:
    """out = x W + b, for x of shape (N, D) or (N, d_1, ..., d_k) with D = d_1 * ... * d_k (flattened).

    - W: weights, shape (D, M); b: biases, shape (M,). The layer keeps references to these arrays, so an
      optimizer updating ``params['W1']`` in place updates the layer.
    - after ``backward``: dW (D, M) and db (M,).
    """

    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None                 # the input as (N, D)
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        """x: (N, D) or (N, d_1, ..., d_k) -> out (N, M)."""
        out = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return out

    def backward(self, dout):
        """dout: (N, M) -> dx of the shape of the input; sets self.dW (D, M) and self.db (M,)."""
        dx = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return dx


class SoftmaxWithLoss:
    """Softmax of the scores followed by the mean cross-entropy against the labels.

    Labels t are either integers of shape (N,) or one-hot of shape (N, C).
    """

    def __init__(self):
        self.loss = None
        self.y = None   # the softmax probabilities, (N, C)
        self.t = None   # the labels as given

    def forward(self, x, t):
        """x: scores (N, C); t: labels (N,) or (N, C) -> the loss (a float)."""
        loss = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return loss

    def backward(self, dout=1):
        """dout: the upstream gradient of the loss (a scalar, 1 by default) -> dx (N, C) = dout * (y - t) / N."""
        dx = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return dx


class Dropout:
    """Dropout with the ratio of units DROPPED (``dropout_ratio``, 0.5 by default).

    Training (``train_flg=True``): each unit is kept when ``np.random.rand() > dropout_ratio`` and zeroed
    otherwise (no rescaling). Test: every unit is kept and scaled by ``1 - dropout_ratio``, the expected
    value of the training output.
    """

    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.mask = None   # boolean array of the shape of x: True for the units kept

    def forward(self, x, train_flg=True):
        """x: any shape -> out of the same shape."""
        out = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return out

    def backward(self, dout):
        """dout: the shape of x -> dx (the gradient flows through the kept units only)."""
        dx = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return dx


class BatchNormalization:
    """Batch normalization over the batch axis: out = gamma * (x - mu) / sqrt(var + 10e-7) + beta.

    - gamma, beta: scale and shift, shape (D,); the layer keeps references to them.
    - momentum: of the running statistics, running = momentum * running + (1 - momentum) * batch statistic.
    - running_mean, running_var: (D,), zeros on the first forward pass when not given.
    Training (``train_flg=True``) normalizes with the batch's mean and (biased) variance and updates the
    running statistics; test normalizes with the running statistics. An input (N, C, H, W) is treated as
    (N, C*H*W). After ``backward``: dgamma and dbeta (D,).
    """

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.input_shape = None
        self.running_mean = running_mean
        self.running_var = running_var
        # kept by the forward pass for backward
        self.batch_size = None
        self.xc = None
        self.xn = None
        self.std = None
        self.dgamma = None
        self.dbeta = None

    def forward(self, x, train_flg=True):
        """x: (N, D) or (N, C, H, W) -> out of the same shape."""
        self.input_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        out = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return out.reshape(*self.input_shape) if out is not None else out

    def backward(self, dout):
        """dout: the shape of the input -> dx of the same shape; sets self.dgamma, self.dbeta (D,)."""
        dout = dout.reshape(dout.shape[0], -1)
        dx = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pass
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return dx.reshape(*self.input_shape) if dx is not None else dx

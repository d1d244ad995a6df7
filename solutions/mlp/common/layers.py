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
        self.mask = (x <= 0)
        out = np.where(self.mask, 0, x)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return out

    def backward(self, dout):
        """dout: the shape of x -> dx of the same shape."""
        dx = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        dx = np.where(self.mask, 0, dout)
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
        self.mask = (x <= 0)
        out = np.where(self.mask, self.alpha * x, x)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return out

    def backward(self, dout):
        """dout: the shape of x -> dx of the same shape."""
        dx = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        dx = np.where(self.mask, self.alpha * dout, dout)
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
        out = 1.0 / (1.0 + np.exp(-x))
        self.out = out
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return out

    def backward(self, dout):
        """dout: the shape of x -> dx of the same shape."""
        dx = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        dx = dout * self.out * (1.0 - self.out)
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
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        out = np.dot(self.x, self.W) + self.b
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return out

    def backward(self, dout):
        """dout: (N, M) -> dx of the shape of the input; sets self.dW (D, M) and self.db (M,)."""
        dx = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        dx = np.dot(dout, self.W.T).reshape(self.original_x_shape)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
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
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)
        loss = self.loss
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return loss

    def backward(self, dout=1):
        """dout: the upstream gradient of the loss (a scalar, 1 by default) -> dx (N, C) = dout * (y - t) / N."""
        dx = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        batch_size = self.y.shape[0]
        if self.t.size == self.y.size:   # one-hot labels
            dx = (self.y - self.t) / batch_size
        else:
            dx = self.y.copy()
            dx[np.arange(batch_size), self.t] -= 1
            dx = dx / batch_size
        dx = dx * dout
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
        if train_flg:
            self.mask = np.random.rand(*x.shape) > self.dropout_ratio
            out = x * self.mask
        else:
            out = x * (1.0 - self.dropout_ratio)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return out

    def backward(self, dout):
        """dout: the shape of x -> dx (the gradient flows through the kept units only)."""
        dx = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        dx = dout * self.mask
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
        if self.running_mean is None:
            D = x.shape[1]
            self.running_mean = np.zeros(D)
            self.running_var = np.zeros(D)
        if train_flg:
            mu = x.mean(axis=0)
            xc = x - mu
            var = np.mean(xc ** 2, axis=0)
            std = np.sqrt(var + 10e-7)
            xn = xc / std
            self.batch_size = x.shape[0]
            self.xc, self.xn, self.std = xc, xn, std
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        else:
            xc = x - self.running_mean
            xn = xc / np.sqrt(self.running_var + 10e-7)
        out = self.gamma * xn + self.beta
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return out.reshape(*self.input_shape) if out is not None else out

    def backward(self, dout):
        """dout: the shape of the input -> dx of the same shape; sets self.dgamma, self.dbeta (D,)."""
        dout = dout.reshape(dout.shape[0], -1)
        dx = None
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        self.dbeta = dout.sum(axis=0)
        self.dgamma = np.sum(self.xn * dout, axis=0)
        dxn = self.gamma * dout
        dxc = dxn / self.std
        dstd = -np.sum((dxn * self.xc) / (self.std * self.std), axis=0)
        dvar = 0.5 * dstd / self.std
        dxc += (2.0 / self.batch_size) * self.xc * dvar
        dmu = np.sum(dxc, axis=0)
        dx = dxc - dmu / self.batch_size
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return dx.reshape(*self.input_shape) if dx is not None else dx

"""Activation and loss functions used by the layers (plain NumPy, no state)."""
import numpy as np


def sigmoid(x):
    """The logistic function 1 / (1 + exp(-x)), elementwise (any shape)."""
    return 1.0 / (1.0 + np.exp(-x))


def relu(x):
    """max(0, x), elementwise (any shape)."""
    return np.maximum(0, x)


def softmax(x):
    """Softmax over the last axis of x (shape (D,) or (N, D)), stable for large scores.

    Returns an array of the shape of x whose last axis sums to one.
    """
    x = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(x)
    return e / np.sum(e, axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    """Mean cross-entropy of the probabilities y against the labels t.

    Inputs:
    - y: probabilities, shape (N, C) (or (C,) for one example)
    - t: labels, either one-hot of shape (N, C) or integers of shape (N,)

    Returns:
    - the average over the N examples of -log(y[i, t_i]) (a float)
    """
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:          # one-hot labels: convert to the class indices
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size

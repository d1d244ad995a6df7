"""Numerical gradients by centred differences, for gradient checks."""
import numpy as np


def numerical_gradient(f, x, h=1e-4):
    """The gradient of f at x by centred differences, one element of x at a time.

    Inputs:
    - f: a function of one argument (an array of the shape of x) returning a float; like the networks'
      ``lambda W: net.loss(X, t)``, it may ignore its argument and read x through a reference instead,
      since x is modified in place
    - x: a float array of any shape (modified during the call, restored afterwards)
    - h: the step

    Returns:
    - grad: an array of the shape of x, grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h)
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        idx = it.multi_index
        old = x[idx]
        x[idx] = old + h
        fxh1 = f(x)
        x[idx] = old - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = old
        it.iternext()
    return grad


def rel_error(x, y):
    """The largest relative error between two arrays (about 1e-7 or less for a correct gradient)."""
    return np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)))

"""Numerical gradients by centered differences, to check analytic gradients against."""
from random import randrange

import numpy as np


def rel_error(x, y):
    """Maximum relative error between two arrays: max(|x - y| / max(1e-8, |x| + |y|))."""
    x, y = np.asarray(x), np.asarray(y)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def eval_numerical_gradient(f, x, verbose=True, h=0.00001):
    """A naive implementation of the numerical gradient of f at x.

    Inputs:
    - f: A function that takes a single argument (the array x) and returns a scalar
    - x: The point (a numpy array of floats) at which to evaluate the gradient; it is perturbed in
      place, one entry at a time, and restored afterwards
    - verbose: If True, print each index and its partial derivative
    - h: The step of the centered difference (f(x + h) - f(x - h)) / (2h)

    Returns:
    - grad: Array of the same shape as x
    """
    grad = np.zeros_like(x)
    # iterate over all indexes in x
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        oldval = x[ix]
        x[ix] = oldval + h  # increment by h
        fxph = f(x)  # evaluate f(x + h)
        x[ix] = oldval - h
        fxmh = f(x)  # evaluate f(x - h)
        x[ix] = oldval  # restore

        # compute the partial derivative with centered formula
        grad[ix] = (fxph - fxmh) / (2 * h)
        if verbose:
            print(ix, grad[ix])
        it.iternext()  # step to next dimension

    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Evaluate a numeric gradient for a function that accepts a numpy array and returns a numpy
    array: the gradient of sum(f(x) * df) with respect to x.

    Inputs:
    - f: A function of the array x returning an array of the same shape as df
    - x: The input array, perturbed in place and restored
    - df: Upstream derivative, of the shape of f(x)
    - h: The step of the centered difference

    Returns:
    - grad: Array of the same shape as x
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index

        oldval = x[ix]
        x[ix] = oldval + h
        pos = np.array(f(x), copy=True)
        x[ix] = oldval - h
        neg = np.array(f(x), copy=True)
        x[ix] = oldval

        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def eval_numerical_gradient_blobs(f, inputs, output, h=1e-5):
    """Compute numeric gradients for a function that operates on input and output blobs.

    We assume that f accepts several input blobs as arguments, followed by a blob where outputs
    will be written. For example, f might be called like:

    f(x, w, out)

    where x and w are input Blobs, and the result of f will be written to out.

    Inputs:
    - f: function
    - inputs: tuple of input blobs; each has attributes vals and diffs (arrays of one shape)
    - output: output blob, with attributes vals and diffs (diffs holds the upstream derivative)
    - h: step size

    Returns:
    - numeric_diffs: A list of arrays, one per input blob, of the shape of its vals
    """
    numeric_diffs = []
    for input_blob in inputs:
        diff = np.zeros_like(input_blob.diffs)
        it = np.nditer(input_blob.vals, flags=["multi_index"], op_flags=["readwrite"])
        while not it.finished:
            idx = it.multi_index
            orig = input_blob.vals[idx]

            input_blob.vals[idx] = orig + h
            f(*(inputs + (output,)))
            pos = np.copy(output.vals)
            input_blob.vals[idx] = orig - h
            f(*(inputs + (output,)))
            neg = np.copy(output.vals)
            input_blob.vals[idx] = orig

            diff[idx] = np.sum((pos - neg) * output.diffs) / (2.0 * h)

            it.iternext()
        numeric_diffs.append(diff)
    return numeric_diffs


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5):
    """Sample a few random elements and only return numerical in these dimensions.

    Inputs:
    - f: A function of the array x returning a scalar
    - x: The point at which to check (perturbed in place and restored)
    - analytic_grad: The analytic gradient of f at x, of the shape of x
    - num_checks: How many random entries to check
    - h: The step of the centered difference

    Prints numerical, analytic and relative error of each checked entry, and returns the list of
    relative errors.
    """
    errors = []
    for i in range(num_checks):
        ix = tuple([randrange(m) for m in x.shape])

        oldval = x[ix]
        x[ix] = oldval + h  # increment by h
        fxph = f(x)  # evaluate f(x + h)
        x[ix] = oldval - h  # decrement by h
        fxmh = f(x)  # evaluate f(x - h)
        x[ix] = oldval  # reset

        grad_numerical = (fxph - fxmh) / (2 * h)
        grad_analytic = analytic_grad[ix]
        rel = abs(grad_numerical - grad_analytic) / max(1e-12, abs(grad_numerical) + abs(grad_analytic))
        errors.append(float(rel))
        print("numerical: %f analytic: %f, relative error: %e" % (grad_numerical, grad_analytic, rel))
    return errors


def eval_numerical_gradient_net(net, inputs, output, h=1e-5):
    """eval_numerical_gradient_blobs for a net object whose ``forward()`` (no arguments) reads the input
    blobs and writes the output blob.

    Inputs:
    - net: an object with a method forward()
    - inputs, output, h: as in eval_numerical_gradient_blobs

    Returns:
    - numeric_diffs: A list of arrays, one per input blob
    """
    return eval_numerical_gradient_blobs(lambda *args: net.forward(), inputs, output, h=h)

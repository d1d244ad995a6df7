"""Helpers shared by the tests that replay the notebooks' checks on the solutions and the starter.

These are the test suite's own, independent implementations (relative error, centred differences), so a
bug in the solutions' gradient_check cannot hide a bug in the layers.
"""
from __future__ import annotations

import numpy as np


def rel_error(x, y) -> float:
    """max(|x - y| / max(1e-8, |x| + |y|)), as in the notebooks."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    assert x.shape == y.shape, "shape %s != %s" % (x.shape, y.shape)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def numerical_gradient(f, x, h=1e-5):
    """Centred-difference gradient of the scalar f() with respect to the array x (perturbed in place)."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = f()
        x[ix] = old - h
        neg = f()
        x[ix] = old
        grad[ix] = (pos - neg) / (2 * h)
    return grad


def numerical_gradient_array(f, x, df, h=1e-5):
    """Centred-difference gradient of sum(f() * df) with respect to the array x (perturbed in place)."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = f().copy()
        x[ix] = old - h
        neg = f().copy()
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
    return grad


class Package:
    """One copy of cs231n ('solutions' or 'starter'): pkg('layers') -> its layers module."""

    def __init__(self, which, load):
        self.which, self._load = which, load

    def __call__(self, submodule):
        return self._load(submodule)


def passes(check, *args) -> bool:
    """Run check(*args): True if it returns without raising (and does not return False)."""
    try:
        return check(*args) is not False
    except Exception:
        return False


def verify(cs: Package, check) -> None:
    """The solutions must pass `check` (its own assertion message shows otherwise); the starter must fail
    it cleanly (an ordinary exception or a false condition, never a crash of the test run)."""
    if cs.which == "solutions":
        check(cs)
    else:
        assert not passes(check, cs), "the starter passes a check meant to fail on placeholders"

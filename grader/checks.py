"""Checks of the student's results, on the trusted side.

Every value that comes back from the sandbox is treated as untrusted data. The validators accept only
what a correct implementation returns: an *exact* ``numpy.ndarray`` (``type(x) is np.ndarray``, no
subclass) of a numeric dtype (integer or floating; not bool, not object), of the expected shape, with
finite values. A NaN or an infinity never passes, and every comparison is written so that a NaN would
make it fail (``err <= tol``, never ``not err > tol``).

A value equal to the expected one in another shape - unit dimensions added or dropped (``(1, D)`` for
``(D,)``), or a scalar where the docstring gives an array of one repeated value (``b = 0``) - is compared
as if it had the expected shape, and a *note* (:func:`notes`) tells the student which shape was expected:
the points are earned, the convention is pointed out.

A failed check raises :class:`CheckFailure` (an ``AssertionError``) whose message is the feedback the
student sees. Feedback names the value (``dx``), the shape or dtype that was expected, the size of the
error against the tolerance, or the count of non-finite entries - never a hidden input or an expected
value.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Sequence

import numpy as np


class CheckFailure(AssertionError):
    """A check failed; ``str(exc)`` is the student-facing feedback (with an optional hint)."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message + (f"\nHint: {self.hint}" if self.hint else "")


def fail(message: str, hint: str | None = None):
    raise CheckFailure(message, hint)


# Notes of the test running now (the suites' plugin clears them before a test and reports them after it).
_NOTES: list[str] = []
_QUIET = [0]      # > 0 inside matches()/matches_scalar(): a probe, not a check, makes no notes


def note(message: str) -> None:
    """Record a remark for the student that does not cost points (shown with the test's result)."""
    if not _QUIET[0] and message not in _NOTES and len(_NOTES) < 20:
        _NOTES.append(message)


def take_notes() -> list[str]:
    """The notes recorded since the last call (and forget them)."""
    taken = list(_NOTES)
    _NOTES.clear()
    return taken


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------
def rel_error(x, y) -> float:
    """The notebooks' relative error: ``max(|x - y| / max(1e-8, |x| + |y|))``."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def grading_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """Relative error used for grading: like :func:`rel_error`, but an entry much smaller than the
    array's scale is judged against that scale (``max(|a| + |e|, 1e-3 * max|e|, 1e-8)``).

    Without this, an entry that should be ~1e-12 (a cancellation) would fail a correct implementation
    that rounds differently. NaN in either array gives NaN (which fails every ``<=`` test).
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.size == 0:
        return 0.0
    scale = float(np.max(np.abs(e))) if e.size else 0.0
    floor = max(1e-8, 1e-3 * scale) if math.isfinite(scale) else 1e-8
    return float(np.max(np.abs(a - e) / np.maximum(floor, np.abs(a) + np.abs(e))))


def magnitude(err: float) -> str:
    """An error reported to the student as an order of magnitude only (``'about 1e-03'``): the exact
    figure would tell a little about the expected value at every upload."""
    if not math.isfinite(err):
        return "not finite"
    if err <= 0:
        return "0"
    return f"about 1e{int(round(math.log10(err))):+03d}".replace("e+", "e")


def scalar_error(actual: float, expected: float) -> float:
    """Relative error of two scalars (``|a - e| / max(1e-8, |a| + |e|)``)."""
    return float(abs(actual - expected) / max(1e-8, abs(actual) + abs(expected)))


# --------------------------------------------------------------------------------------------------
# Validation of untrusted results
# --------------------------------------------------------------------------------------------------
def describe(value: Any) -> str:
    """A short, safe description of a returned value (its type, and shape/dtype for arrays)."""
    t = type(value)
    if value is None:
        return "None"
    if t is np.ndarray:
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, np.ndarray):
        return f"a subclass of numpy.ndarray ({t.__name__})"
    name = t.__name__
    if name == "Handle":
        return "an object that is not plain data (it stays in your process as a Handle)"
    if t in (tuple, list):
        return f"a {name} of length {len(value)}"
    return f"a value of type {name}"


def _is_real_scalar(value: Any) -> bool:
    if type(value) is bool or isinstance(value, np.bool_):
        return False
    return type(value) in (int, float) or (isinstance(value, np.generic) and type(value).__module__ == "numpy"
                                            and np.dtype(type(value)).kind in "iuf")


def _squeezed(shape: Sequence[int]) -> tuple[int, ...]:
    return tuple(int(d) for d in shape if d != 1)


def array(value: Any, name: str, *, shape: Sequence[int] | None = None, finite: bool = True) -> np.ndarray:
    """Validate that ``value`` is an exact numeric ``np.ndarray`` (of ``shape``); return it as float64.

    With ``shape``, an array whose shape differs only by unit dimensions, and a real scalar (a Python or
    NumPy number, a 0-d array) for a non-scalar shape, are reshaped or broadcast to ``shape`` with a
    :func:`note` saying which shape was expected (the comparison that follows decides whether the values
    are right)."""
    if shape is not None and tuple(shape) != () and (_is_real_scalar(value) or (
            type(value) is np.ndarray and value.ndim == 0 and value.dtype.kind in "iuf")):
        note(f"{name}: expected an array of shape {tuple(int(d) for d in shape)}, got a scalar; it was graded "
             "as that scalar repeated")
        value = np.full(tuple(shape), np.asarray(value)[()], dtype=np.float64)
    if type(value) is not np.ndarray:
        fail(f"{name}: expected a numpy array, got {describe(value)}")
    if value.dtype.kind not in "iuf":
        fail(f"{name}: expected a numeric array, got dtype {value.dtype}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        if value.size == math.prod(shape) and _squeezed(value.shape) == _squeezed(shape):
            note(f"{name}: expected shape {tuple(int(d) for d in shape)}, got {tuple(value.shape)}; it was graded "
                 "as if reshaped")
            value = value.reshape(tuple(shape))
        else:
            fail(f"{name}: expected shape {tuple(shape)}, got {tuple(value.shape)}")
    out = value.astype(np.float64)
    if finite:
        bad = int(np.size(out) - np.count_nonzero(np.isfinite(out)))
        if bad:
            fail(f"{name}: {bad} of {out.size} entries are NaN or infinite")
    return out


def scalar(value: Any, name: str) -> float:
    """Validate a finite real number (Python int/float, a NumPy int/float scalar or a 0-d array)."""
    if type(value) is bool or isinstance(value, np.bool_):
        fail(f"{name}: expected a number, got a bool")
    if type(value) is np.ndarray:
        if value.ndim != 0:
            if value.size != 1:
                fail(f"{name}: expected a scalar, got {describe(value)}")
            note(f"{name}: expected a scalar, got an array of shape {value.shape}; it was graded as its one value")
        value = value.reshape(())[()]
    if type(value) in (int, float) or (isinstance(value, np.generic) and type(value).__module__ == "numpy"
                                        and np.dtype(type(value)).kind in "iuf"):
        out = float(value)
    else:
        fail(f"{name}: expected a number, got {describe(value)}")
    if not math.isfinite(out):
        fail(f"{name}: is {out} (NaN or infinite)")
    return out


def integer(value: Any, name: str) -> int:
    """Validate an integer (Python int or NumPy integer scalar, not bool)."""
    if type(value) is bool or isinstance(value, np.bool_):
        fail(f"{name}: expected an integer, got a bool")
    if type(value) is int:
        return value
    if isinstance(value, np.integer) and type(value).__module__ == "numpy":
        return int(value)
    if type(value) is float and value.is_integer():
        return int(value)
    fail(f"{name}: expected an integer, got {describe(value)}")


def sequence(value: Any, n: int, name: str) -> tuple:
    """Validate a tuple/list of exactly ``n`` items (what ``a, b = f(...)`` needs)."""
    if type(value) not in (tuple, list):
        fail(f"{name}: expected a tuple of {n} values, got {describe(value)}")
    if len(value) != n:
        fail(f"{name}: expected a tuple of {n} values, got {len(value)} values")
    return tuple(value)


def mapping(value: Any, name: str, keys: Iterable[str] | None = None, *, exact: bool = False) -> dict:
    """Validate a dict with str keys holding at least (``exact``: exactly) ``keys``."""
    if type(value) is not dict:
        fail(f"{name}: expected a dict, got {describe(value)}")
    if keys is not None:
        keys = list(keys)
        missing = [k for k in keys if k not in value]
        if missing:
            fail(f"{name}: missing key(s) {', '.join(repr(k) for k in missing)}")
        if exact:
            extra = [k for k in value if k not in keys]
            if extra:
                fail(f"{name}: unexpected key(s) {_some_keys(extra)}")
    return value


def _some_keys(keys: list, shown: int = 5, width: int = 40) -> str:
    """A short listing of (student-chosen) dict keys: the first few, each clipped."""
    from grader.text import clean

    def short(k) -> str:
        text = clean(str(k) if isinstance(k, str) else repr(k))
        return repr(text if len(text) <= width else text[:width] + "...")

    listed = ", ".join(short(k) for k in sorted(keys, key=lambda k: (len(str(k)), str(k)))[:shown])
    return listed + (f" and {len(keys) - shown} more" if len(keys) > shown else "")


# --------------------------------------------------------------------------------------------------
# Comparisons
# --------------------------------------------------------------------------------------------------
def close(value: Any, expected: np.ndarray, name: str, tol: float, hint: str | None = None) -> float:
    """Validate ``value`` as an array of ``expected``'s shape and compare it within ``tol``.

    Returns the error. The failure message gives the error and the tolerance, never the values.
    """
    expected = np.asarray(expected)
    try:
        actual = array(value, name, shape=expected.shape)
    except CheckFailure as exc:
        raise CheckFailure(exc.message, hint) from None
    err = grading_error(actual, expected)
    if not err <= tol:
        fail(f"{name}: relative error {magnitude(err)} is above the tolerance {tol:.0e}", hint)
    return err


def close_scalar(value: Any, expected: float, name: str, tol: float, hint: str | None = None) -> float:
    try:
        actual = scalar(value, name)
    except CheckFailure as exc:
        raise CheckFailure(exc.message, hint) from None
    err = scalar_error(actual, float(expected))
    if not err <= tol:
        fail(f"{name}: relative error {magnitude(err)} is above the tolerance {tol:.0e}", hint)
    return err


def matches(value: Any, expected: np.ndarray, tol: float) -> bool:
    """True when ``value`` is a valid array of ``expected``'s shape within ``tol`` (no exception, no note)."""
    _QUIET[0] += 1
    try:
        close(value, expected, "value", tol)
        return True
    except CheckFailure:
        return False
    finally:
        _QUIET[0] -= 1


def matches_scalar(value: Any, expected: float, tol: float) -> bool:
    _QUIET[0] += 1
    try:
        close_scalar(value, expected, "value", tol)
        return True
    except CheckFailure:
        return False
    finally:
        _QUIET[0] -= 1


def close_dict(value: Any, expected: dict[str, np.ndarray], name: str, tol: float) -> dict[str, float]:
    """Validate a dict of arrays (e.g. ``grads``) key by key; extra keys are an error."""
    mapping(value, name, expected.keys(), exact=True)
    return {k: close(value[k], expected[k], f"{name}[{k!r}]", tol) for k in expected}


# --------------------------------------------------------------------------------------------------
# Numerical gradients (trusted side)
# --------------------------------------------------------------------------------------------------
def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Centered-difference gradient of the scalar function ``f`` at ``x`` (``x`` is restored)."""
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        fp = f(x)
        x[ix] = old - h
        fm = f(x)
        x[ix] = old
        grad[ix] = (fp - fm) / (2 * h)
        it.iternext()
    return grad


def numerical_gradient_array(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray,
                             h: float = 1e-5) -> np.ndarray:
    """Centered-difference gradient of ``sum(f(x) * dout)`` with respect to ``x``."""
    return numerical_gradient(lambda z: float(np.sum(f(z) * dout)), x, h)


def directional_derivative(f: Callable[[float], float], h: float = 1e-5) -> float:
    """``(f(h) - f(-h)) / 2h``: the derivative along a direction, ``f(t) = loss(theta + t * v)``."""
    return (f(h) - f(-h)) / (2 * h)


# --------------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------------
def column_stats(x: np.ndarray, axis=0) -> tuple[np.ndarray, np.ndarray]:
    """Means and (biased) standard deviations along ``axis``."""
    return x.mean(axis=axis), x.std(axis=axis)


def normalized_stats(out: np.ndarray, gamma: np.ndarray, beta: np.ndarray, axis, name: str,
                     mean_tol: float = 1e-6, std_tol: float = 1e-3) -> None:
    """Check that ``out`` has per-feature means ``beta`` and stds ``|gamma|`` along ``axis``."""
    means, stds = column_stats(out, axis)
    if not np.max(np.abs(means - beta)) <= mean_tol * max(1.0, float(np.max(np.abs(beta)))):
        fail(f"{name}: the per-feature means of the output are not beta")
    if not np.max(np.abs(stds - np.abs(gamma)) / np.abs(gamma)) <= std_tol:
        fail(f"{name}: the per-feature standard deviations of the output are not gamma")


def dropout_stats(x: np.ndarray, out: np.ndarray, p: float, name: str, *, kept_tol: float = 0.015,
                  scale_tol: float = 1e-6) -> float:
    """Check inverted dropout with KEEP probability ``p``: every entry of ``out`` is 0 or ``x / p``
    and the kept fraction is ``p`` within ``kept_tol``. Returns the kept fraction."""
    kept = out != 0
    frac = float(np.mean(kept))
    scaled = out[kept] * p
    if scaled.size and not grading_error(scaled, x[kept]) <= scale_tol:
        fail(f"{name}: the kept entries are not the inputs divided by p (inverted dropout)")
    if not abs(frac - p) <= kept_tol:
        fail(f"{name}: the fraction of kept units differs from p by {abs(frac - p):.3f} (tolerance {kept_tol}; "
             "p is the probability of keeping a unit)")
    return frac

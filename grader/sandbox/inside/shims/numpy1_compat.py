"""The NumPy 1.x names and keywords that NumPy 2 removed, kept working for submissions (in the sandbox only).

Code of 2016-2023 uses ``np.int``, ``np.float``, ``np.NaN``, ``np.product``, ``np.reshape(a, newshape=...)``
...: under NumPy 2 each is an AttributeError or TypeError, and a whole question would score zero for API
churn rather than for its math. :func:`install` (run by ``sitecustomize`` when a sandboxed process starts)
makes each of them mean what it meant in NumPy 1.x; :func:`report` lists the ones the code used, so the
feedback can say so.
"""
from __future__ import annotations

import functools

USED: list[str] = []


def _asfarray(a, dtype=None):
    import numpy as np

    dtype = np.float64 if dtype is None or not np.issubdtype(np.dtype(dtype), np.inexact) else dtype
    return np.asarray(a, dtype=dtype)


def _aliases(np) -> dict:
    """Removed name -> what it was (callables for the removed functions)."""
    names = {
        "int": int, "float": float, "bool": bool, "object": object, "str": str, "unicode": str, "complex": complex,
        "long": int, "NaN": np.nan, "NAN": np.nan, "Inf": np.inf, "Infinity": np.inf, "infty": np.inf,
        "PINF": np.inf, "NINF": -np.inf, "PZERO": 0.0, "NZERO": -0.0, "float_": np.float64, "complex_": np.complex128,
        "int0": np.intp, "uint0": np.uintp, "string_": np.bytes_, "unicode_": np.str_, "bool8": np.bool_,
        "object0": np.object_, "str0": np.str_, "void0": np.void, "longfloat": np.longdouble,
        "singlecomplex": np.complex64, "cfloat": np.complex128, "longcomplex": np.clongdouble,
        "clongfloat": np.clongdouble, "product": np.prod, "cumproduct": np.cumprod, "alltrue": np.all,
        "sometrue": np.any, "round_": np.round, "asfarray": _asfarray,
        "msort": lambda a: np.sort(a, axis=0),
    }
    if hasattr(np, "trapezoid"):
        names["trapz"] = np.trapezoid
    names["in1d"] = lambda ar1, ar2, assume_unique=False, invert=False: np.isin(
        np.ravel(ar1), ar2, assume_unique=assume_unique, invert=invert)
    return {k: v for k, v in names.items() if k not in np.__dict__}


def _use(name: str) -> None:
    if name not in USED and len(USED) < 50:
        USED.append(name)


def install() -> None:
    import numpy as np

    aliases = _aliases(np)
    previous = np.__dict__.get("__getattr__")

    def __getattr__(name):
        if name in aliases:
            _use("np." + name)
            return aliases[name]
        if previous is not None:
            return previous(name)
        raise AttributeError(f"module 'numpy' has no attribute {name!r}")

    np.__getattr__ = __getattr__
    reshape = np.reshape

    @functools.wraps(reshape)
    def reshape_with_newshape(a, *args, **kwargs):
        if "newshape" in kwargs:
            _use("np.reshape(..., newshape=...)")
            kwargs["shape"] = kwargs.pop("newshape")
        return reshape(a, *args, **kwargs)

    np.reshape = reshape_with_newshape


def report() -> list[str]:
    return list(USED)

"""Helpers shared by the suites: calling the student's code and validating what comes back.

Every helper takes the ``sb`` fixture (a Sandbox, or the plugin's guarded view of it) and validates
each result with ``grader.checks`` before using it, so a malformed result fails the test with a clear
message instead of breaking the suite.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from grader import checks, compat
from grader.sandbox.proxy import StudentError

PKG = "cs231n"   # the package of a sandbox that does not say (``sb.package``: the assignment's)


def tolerance(suite_file: str, name: str) -> float:
    """The tolerance ``name`` of the manifest of the assignment whose suite file is ``suite_file``
    (``TOL = tolerance(__file__, "fc_layers")``): each is declared there with the measurements behind it."""
    from pathlib import Path

    from grader.assignments import load_assignment

    assignment = load_assignment(Path(suite_file).resolve().parent.parent.name)
    if name not in assignment.tolerances:
        raise KeyError(f"{assignment.name}'s manifest declares no tolerance {name!r}")
    return assignment.tolerances[name].value


def target(module: str, name: str, package: str = PKG) -> str:
    """``target('layers', 'affine_forward')`` -> ``'cs231n.layers.affine_forward'``."""
    return f"{package}.{module}.{name}"


def _package(sb) -> str:
    return getattr(sb, "package", PKG)


def _inputs_kept(sb, name: str, inputs: str) -> None:
    """After a watched call: the student's function must leave its array arguments unchanged (``inputs``:
    'fail' - a forward pass or a loss that changes them fails, as it would break a notebook's numerical
    gradient check; 'note' - said, at no cost, e.g. a backward pass overwriting ``dout``; 'ignore')."""
    modified = getattr(sb, "last_modified", [])
    if inputs == "ignore" or not modified:
        return
    which = ", ".join(f"argument {i + 1}" for i in modified)
    text = f"{name} changed its input array ({which}) in place"
    if inputs == "fail":
        checks.fail(text + ": the caller's arrays must stay unchanged (an in-place `x -= ...` on an input "
                    "breaks the numerical gradient checks of the notebooks, which call it again on the same x)",
                    hint="work on a copy (`x = x - x.max(axis=1, keepdims=True)` instead of `x -= ...`)")
    checks.note(text + "; it cost nothing here, but callers may still need that array")


FLOAT_SIZE = "cannot be interpreted as an integer"


def _float_size_hint(exc: StudentError) -> None:
    """A size or loop bound computed with ``/`` (a float) where NumPy or range() needs an int: the student's
    error, with a hint."""
    if exc.exc_type == "TypeError" and FLOAT_SIZE in exc.message:
        from grader.suites.plugin import feedback

        text, _ = feedback(exc, None)
        checks.fail(text, hint="a size computed with / is a float, even when it divides exactly: use integer "
                               "division (//), e.g. H_out = 1 + (H + 2 * pad - HH) // stride")


def forward(sb, module: str, name: str, *args, **kwargs) -> tuple[Any, Any]:
    """Call a forward function ``(out, cache)``; the cache stays in the sandbox as a Handle. A forward
    pass that changes its array arguments in place fails."""
    try:
        result = sb.call(target(module, name, _package(sb)), *args, keep=(1,), watch=True, **kwargs)
    except StudentError as exc:
        _float_size_hint(exc)
        # The worker could not keep element 1: the result is not a tuple of at least 2 values.
        if exc.exc_type in ("TypeError", "IndexError") and "keep element" in exc.message \
                and "Traceback" not in exc.traceback:
            checks.fail(f"{name} should return a tuple (out, cache)")
        raise
    out, cache = checks.sequence(result, 2, f"{name}(...)")
    _inputs_kept(sb, name, "fail")
    return out, cache


def call(sb, module: str, name: str, *args, n: int | None = None, inputs: str = "note", **kwargs) -> Any:
    """Call a function; with ``n`` the result must be a tuple of ``n`` values. ``inputs``: what an array
    argument changed in place costs ('fail', 'note' - the default, for backward passes -, 'ignore')."""
    try:
        result = sb.call(target(module, name, _package(sb)), *args, watch=inputs != "ignore", **kwargs)
    except StudentError as exc:
        _float_size_hint(exc)
        raise
    _inputs_kept(sb, name, inputs)
    if n is not None:
        return checks.sequence(result, n, f"{name}(...)")
    return result


def new_model(sb, cls: str, rng_seed: int, **kwargs):
    """Construct ``cs231n.<cls>`` with the worker's RNG seeded with ``rng_seed`` first.

    A ``dtype`` keyword is sent by name (``'float64'``): NumPy type objects are not plain data. The
    canonical keywords (``dropout``, ``normalization``) are renamed to the ones the submission's
    constructor takes (``dropout_keep_ratio`` in CS231n 2021+, ``use_batchnorm`` in 2016/17; see
    ``grader.compat.adapt_kwargs``), from its signature read by ``grade`` (``sb.submission``)."""
    if "dtype" in kwargs:
        kwargs["dtype"] = np.dtype(kwargs["dtype"]).name
    info = getattr(sb, "submission", None)
    if info is not None:
        kwargs = compat.adapt_kwargs(kwargs, info.constructor_params.get(cls.rsplit(".", 1)[-1]))
    sb.seed(rng_seed)
    return sb.new(f"{_package(sb)}.{cls}", **kwargs)


def set_params(sb, model, params: dict[str, np.ndarray]) -> None:
    """``model.params[k] = v`` for each entry, as the notebooks do (sent ahead without waiting: a
    failure is raised by the next call that waits for an answer)."""
    for k, v in params.items():
        sb.setitem(model, ("params", k), np.array(v, copy=True))


def scores(sb, model, X: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    return checks.array(sb.call_method(model, "loss", X), "scores = model.loss(X)", shape=shape)


def loss_and_grads(sb, model, X: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
    """``loss, grads = model.loss(X, y)``, checked to be a pair (values validated by the caller)."""
    return checks.sequence(sb.call_method(model, "loss", X, y), 2, "model.loss(X, y)")


def check_model_loss(sb, model, case, keys, reg: float, tag: str, hint, weights: Sequence[str],
                     loss_tol: float = 1e-8, grad_tol: float = 1e-7) -> None:
    """Set ``model.reg``, compare ``loss`` and every gradient with the reference (``tag``: '0' or 'reg');
    the feedback names the phase (``reg = 0`` or ``reg > 0``)."""
    phase = "reg = 0" if tag == "0" else "reg > 0"
    sb.setattr(model, "reg", reg)
    loss, grads = loss_and_grads(sb, model, case["X"], case["y"])
    params = {k: case[k] for k in keys}
    h = hint.l2_regularization(loss, case["loss_0"], case["loss_reg"], case["reg"], params, list(weights)) \
        if tag == "reg" else None
    checks.close_scalar(loss, case[f"loss_{tag}"], f"loss ({phase})", loss_tol, hint=h)
    checks.mapping(grads, f"grads ({phase})", keys, exact=True)
    for k in keys:
        gh = None
        if tag == "reg" and k in weights:
            gh = hint.reg_gradient(grads[k], case[f"grad_reg_{k}"], case[f"grad_0_{k}"], reg, case[k])
        checks.close(grads[k], case[f"grad_{tag}_{k}"], f"grads[{k!r}] ({phase})", grad_tol, hint=gh)


def init_stats(params: Any, case, weight_scale: float, name: str = "model.params", dtype=None,
               rel_tol: float = 0.1) -> None:
    """Validate freshly initialised parameters against the reference's (``case``: shapes and statistics of
    the reference model built with the same arguments): exact keys and shapes, dtype, weight standard
    deviation within ``rel_tol`` (or 5 standard errors, if larger) of ``weight_scale``, mean about zero, biases zero, gamma one / beta zero."""
    keys = [k[len("shape_"):] for k in case.expected if k.startswith("shape_")]
    checks.mapping(params, name, keys, exact=True)
    for k in keys:
        shape = tuple(int(d) for d in case[f"shape_{k}"])
        if type(params[k]) is np.ndarray and dtype is not None and params[k].dtype != np.dtype(dtype):
            checks.fail(f"{name}[{k!r}]: expected dtype {np.dtype(dtype)}, got {params[k].dtype}")
        arr = checks.array(params[k], f"{name}[{k!r}]", shape=shape)
        if k.startswith("W"):
            std, mean = float(arr.std()), float(arr.mean())
            # 5 standard errors of a sample std (about 1/sqrt(2n) relative), at least rel_tol.
            tol = max(rel_tol, 5.0 / np.sqrt(2.0 * arr.size))
            if not abs(std - weight_scale) <= tol * weight_scale:
                checks.fail(f"{name}[{k!r}]: the standard deviation of the initial weights should be "
                            f"weight_scale; it is {std / weight_scale:.3g} times weight_scale")
            if not abs(mean) <= 5 * weight_scale / np.sqrt(arr.size):
                checks.fail(f"{name}[{k!r}]: the initial weights should have mean zero")
        elif k.startswith("b") or k.startswith("beta"):
            if not np.all(arr == 0):
                checks.fail(f"{name}[{k!r}]: should be initialised to zeros")
        elif k.startswith("gamma"):
            if not np.all(arr == 1):
                checks.fail(f"{name}[{k!r}]: should be initialised to ones")

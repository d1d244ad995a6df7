"""The public checks of this assignment: run them before you upload.

    python -m PACKAGE.check            every question
    python -m PACKAGE.check Q1 Q4      some questions
    python -m PACKAGE.check --zip      build the archive to upload (the graded files, the notebooks, the model)

In a notebook: ``from PACKAGE.check import run; run("Q1")`` (prints the table, never raises).

The checks run your code in your own Python on the notebooks' public inputs. The grader runs tests with
the same names on other inputs, so passing every check here is necessary, not sufficient, for full marks.
This folder is generated; do not edit it (the grader uses its own copy).
"""
from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

HERE = Path(__file__).resolve().parent
PACKAGE = __name__.rpartition(".")[0] or "cs231n"
SPEC: dict = json.loads((HERE / "spec.json").read_text(encoding="utf-8"))


class CheckFailed(Exception):
    """A public check failed: ``str(exc)`` says what differs; ``hint``, when given, replaces the check's
    own hint (a known mistake recognised)."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class PublicCheck:
    question: str
    name: str
    hint: str
    run: Callable[[], None]


CHECKS: list[PublicCheck] = []


def check(question: str, name: str, hint: str) -> Callable:
    """Register ``fn`` as the public check ``name`` of ``question``; ``hint`` is printed when it fails."""
    def register(fn: Callable[[], None]) -> Callable[[], None]:
        CHECKS.append(PublicCheck(question, name, hint, fn))
        return fn
    return register


# ---------------------------------------------------------------------------------------------- helpers
def module(name: str):
    """This package's module ``name`` (``"layers"``, ``"classifiers.fc_net"``), imported fresh."""
    full = f"{PACKAGE}.{name}"
    if full in sys.modules:
        return importlib.reload(sys.modules[full])
    return importlib.import_module(full)


def fail(message: str, hint: str | None = None) -> None:
    raise CheckFailed(message, hint)


def rel_error(x: Any, y: Any) -> float:
    """max |x - y| / max(1e-8, |x| + |y|), as in the notebooks."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def array(value: Any, what: str, shape: tuple | None = None) -> np.ndarray:
    """``value`` as a float array of ``shape``, or a failure that says what came back instead."""
    if value is None:
        fail(f"{what} is None: not implemented yet")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        fail(f"{what} should be an array of numbers, got {type(value).__name__}")
    if shape is not None and arr.shape != tuple(shape):
        fail(f"{what} has shape {arr.shape}, expected {tuple(shape)}")
    if not np.all(np.isfinite(arr)):
        fail(f"{what} contains NaN or infinity")
    return arr


def close(actual: Any, expected: Any, what: str, tol: float, hint: str | None = None) -> None:
    """``actual`` matches ``expected`` (same shape, relative error at most ``tol``)."""
    expected = np.asarray(expected, dtype=float)
    arr = array(actual, what, expected.shape)
    err = rel_error(arr, expected)
    if not err <= tol:
        fail(f"{what}: relative error {err:.2e} (should be at most {tol:.0e})", hint)


def close_scalar(actual: Any, expected: float, what: str, tol: float, hint: str | None = None) -> None:
    value = array(actual, what, ())
    err = abs(float(value) - expected)
    if not err <= tol:
        fail(f"{what} is {float(value):.10g}, expected {expected:.10g} (difference {err:.2e}, at most {tol:.0e})",
             hint)


def matches(actual: Any, variant: Any, tol: float = 1e-6) -> bool:
    """Whether ``actual`` is ``variant`` (a known mistake's result) up to ``tol``; never raises."""
    try:
        a, v = np.asarray(actual, dtype=float), np.asarray(variant, dtype=float)
        return a.shape == v.shape and rel_error(a, v) <= tol
    except Exception:  # noqa: BLE001 - anything malformed matches nothing
        return False


def params_of(model: Any, keys: tuple) -> dict:
    """``model.params`` holding exactly ``keys``, or a failure that names the difference."""
    params = getattr(model, "params", None)
    if not isinstance(params, dict):
        fail("model.params should be a dict of the parameters")
    missing = [k for k in keys if k not in params]
    extra = sorted(set(params) - set(keys))
    if missing or extra:
        fail(f"model.params should hold exactly {', '.join(keys)}; missing {missing}, unexpected {extra}")
    return params


def numeric_gradient(f: Callable[[np.ndarray], Any], x: np.ndarray, df: Any, h: float = 1e-5) -> np.ndarray:
    """The numeric gradient of ``sum(f(x) * df)`` with respect to ``x`` (central differences, in place)."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        pos = np.array(f(x), dtype=float, copy=True)
        x[i] = old - h
        neg = np.array(f(x), dtype=float, copy=True)
        x[i] = old
        grad[i] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def lin(shape, lo, hi):
    """linspace(lo, hi) over the entries of an array of ``shape`` (the notebooks' fixed inputs)."""
    return np.linspace(lo, hi, int(np.prod(shape))).reshape(shape)


def pair(value, what, n=2):
    """``value`` unpacked into ``n`` items, or a failure that says what came back."""
    if value is None:
        fail(f"{what} returned None: not implemented yet")
    try:
        items = tuple(value)
    except TypeError:
        fail(f"{what} should return {n} values, got {type(value).__name__}")
    if len(items) != n:
        fail(f"{what} should return {n} values, got {len(items)}")
    return items


def grad_close(analytic, f, x, df, what, tol):
    """``analytic`` against the numeric gradient of ``sum(f(x) * df)`` (``x`` perturbed in place)."""
    arr = array(analytic, what, np.shape(x))
    close(arr, numeric_gradient(f, x, df), what, tol)


def model_gradients(model, X, y, keys, tol, h=1e-5):
    """Every gradient of ``model.loss(X, y)`` (a CS231n model: ``(loss, grads)``, parameters in
    ``model.params``) against finite differences of the loss; ``tol``: a number, or ``{first letter of the
    parameter's name: tolerance}`` (``"*"`` for the others)."""
    params = params_of(model, keys)
    _, grads = pair(model.loss(X, y), "model.loss(X, y)")
    if not isinstance(grads, dict):
        fail("model.loss(X, y) should return (loss, grads) with grads a dict")
    for k in keys:
        if k not in grads:
            fail(f"grads has no entry {k!r}")
        g = array(grads[k], f"grads[{k!r}]", np.shape(params[k]))
        numeric = numeric_gradient(lambda _: model.loss(X, y)[0], params[k], 1.0, h=h)
        err = rel_error(g, numeric)
        limit = tol.get(k[0], tol.get("*")) if isinstance(tol, dict) else tol
        if not err <= limit:
            fail(f"grads[{k!r}]: relative error {err:.2e} against the numeric gradient (at most {limit:.0e})")


def init_ok(params, shapes, weight_scale, rel_tol=0.2):
    """Freshly initialised ``params`` of ``shapes``: weights (``W...``) with standard deviation
    ``weight_scale`` (within ``rel_tol``), ``gamma...`` ones, every other parameter zeros."""
    for k, shape in shapes.items():
        arr = array(params[k], f"model.params[{k!r}]", shape)
        if k.startswith("W"):
            if not abs(arr.std() - weight_scale) <= rel_tol * weight_scale:
                fail(f"model.params[{k!r}]: the standard deviation of the initial weights should be "
                     f"weight_scale; it is {arr.std() / weight_scale:.3g} times weight_scale")
        elif k.startswith("gamma"):
            if not np.all(arr == 1):
                fail(f"model.params[{k!r}]: should be initialised to ones")
        elif not np.all(arr == 0):
            fail(f"model.params[{k!r}]: should be initialised to zeros")


# ---------------------------------------------------------------------------------------------- running
def _load_checks() -> list[PublicCheck]:
    if not CHECKS:
        importlib.import_module(f"{__name__}.tests")
    return CHECKS


def _failure_text(exc: BaseException) -> str:
    if isinstance(exc, CheckFailed):
        return str(exc)
    tb = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in tb if not f.filename.startswith(str(HERE))] or tb
    where = f" ({Path(ours[-1].filename).name}, line {ours[-1].lineno})" if ours else ""
    return f"{type(exc).__name__}: {exc}{where}"


def run_checks(questions: list[str] | None = None) -> list[dict]:
    """Run the checks of ``questions`` (all when None) -> one dict per check (question, name, passed,
    message, hint, seconds)."""
    wanted = {q.upper() for q in questions} if questions else None
    results = []
    for c in _load_checks():
        if wanted is not None and c.question not in wanted:
            continue
        t0 = time.perf_counter()
        np.random.seed(231)
        try:
            c.run()
            passed, message = True, ""
        except Exception as exc:  # noqa: BLE001 - a broken function is a failed check, never a crash
            passed, message = False, _failure_text(exc)
            hint = getattr(exc, "hint", None) if isinstance(exc, CheckFailed) else None
        else:
            hint = None
        results.append(dict(question=c.question, name=c.name, passed=passed, message=message, hint=hint or c.hint,
                            seconds=round(time.perf_counter() - t0, 3)))
    return results


def report(results: list[dict], out=None) -> None:
    """Print the per-question table, then each failure with its message and hint."""
    out = out or sys.stdout
    titles = {q["id"]: q["title"] for q in SPEC["questions"]}
    print(f"{SPEC['title']}: public checks", file=out)
    print(f"{'question':<9}{'title':<40}{'passed':>8}", file=out)
    for qid in [q["id"] for q in SPEC["questions"]]:
        mine = [r for r in results if r["question"] == qid]
        if mine:
            ok = sum(r["passed"] for r in mine)
            print(f"{qid:<9}{titles[qid][:39]:<40}{ok:>4} / {len(mine):<3}", file=out)
    failed = [r for r in results if not r["passed"]]
    for r in failed:
        print(f"\nFAILED {r['question']} {r['name']}: {r['message']}", file=out)
        print(f"  hint: {r['hint']}", file=out)
    total = len(results)
    print(f"\n{total - len(failed)} of {total} checks passed", file=out)


def run(*questions: str) -> bool:
    """Run and print the checks of ``questions`` (all when none are given); True when all passed. Never
    raises, so a notebook goes on to its next cell."""
    try:
        results = run_checks(list(questions) or None)
    except Exception as exc:  # noqa: BLE001 - e.g. a package that does not import at all
        print(f"the checks could not run: {_failure_text(exc)}")
        return False
    report(results)
    return all(r["passed"] for r in results)

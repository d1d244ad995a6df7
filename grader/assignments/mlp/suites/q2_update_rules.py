"""Q2: the update rules of optimizer.py, each over several steps on the same object: the parameters are
updated in place, and the state the rule keeps (v, h, m, s, iter) is checked after every step."""
import numpy as np
import pytest

from grader import checks
from grader.assignments.mlp.calls import held, new
from grader.assignments.mlp.cases import OPTIMIZER_STEPS, OPTIMIZERS

pytestmark = pytest.mark.files("optimizer.py")

TOL = 1e-8


def _run(sb, ref, hint, key):
    cls, kwargs, state = OPTIMIZERS[key]
    c = ref(f"Q2/{key}")
    opt = new(sb, f"optimizer.{cls}", **kwargs)
    params = sb.put({"W": c["W"], "b": c["b"]})
    arrays = {k: held(sb, params, k) for k in ("W", "b")}
    for step in range(OPTIMIZER_STEPS):
        where = f"{cls}, step {step + 1}"
        sb.call_method(opt, "update", params, {"W": c["dW"][step], "b": c["db"][step]})
        after = checks.mapping(sb.fetch(params), f"params after update ({where})", ("W", "b"))
        for k in ("W", "b"):
            h = hint.update_rule(key, step, c, after[k], k) if hint is not None else None
            checks.close(after[k], c[f"{k}_after"][step], f"params[{k!r}] ({where})", TOL, hint=h)
            same = sb.fetch(arrays[k])
            if not (type(same) is np.ndarray and np.array_equal(same, after[k])):
                checks.fail(f"update ({where}) must change params[{k!r}] in place (params[key] -= ...): the "
                            "layers hold references to these arrays")
        for attr in state:
            value = sb.getattr(opt, attr)
            if attr == "iter":
                if checks.integer(value, f"{cls}.iter ({where})") != int(c["iter_after"][step]):
                    checks.fail(f"{cls}.iter ({where}): the step counter should grow by one per update call")
                continue
            value = checks.mapping(value, f"{cls}.{attr} ({where})", ("W", "b"))
            for k in ("W", "b"):
                checks.close(value[k], c[f"{attr}_{k}_after"][step], f"{cls}.{attr}[{k!r}] ({where})", TOL)


def test_sgd(sb, ref, hint):
    _run(sb, ref, hint, "sgd")


def test_momentum(sb, ref, hint):
    _run(sb, ref, hint, "momentum")


def test_nesterov(sb, ref, hint):
    _run(sb, ref, hint, "nesterov")


def test_adagrad(sb, ref, hint):
    _run(sb, ref, hint, "adagrad")


def test_rmsprop(sb, ref, hint):
    _run(sb, ref, hint, "rmsprop")


def test_adam(sb, ref, hint):
    _run(sb, ref, hint, "adam")


def test_adabelief(sb, ref, hint):
    _run(sb, ref, hint, "adabelief")

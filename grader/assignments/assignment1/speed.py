"""The speed check of assignment 1: the submission's vectorized loss against its own naive one, timed side by
side in the submission's sandbox (cases.SPEEDUP says why the ratio required is what it is)."""
from __future__ import annotations

import time

from grader import checks
from grader.suites._common import call

from .cases import SPEEDUP, speed_inputs

ROUNDS = 3      # the naive loss once and the vectorized one 5 times per round


def _best_time(sb, target: str, args, runs: int, timeout: float) -> float:
    best = float("inf")
    for _ in range(runs):
        sb.flush()
        start = time.perf_counter()
        result = sb.call(target, *args, keep=True, timeout=timeout)   # the result stays in the sandbox
        sb.flush()                                                     # ... once the call is done
        best = min(best, time.perf_counter() - start)
        sb.release(result)
    return best


def check_speedup(sb, module: str, naive: str, vectorized: str, seed: int, limits) -> float:
    """The vectorized loss at least SPEEDUP times faster than the submission's own naive one on the
    svm.ipynb-sized case (the best of ROUNDS runs of the naive loss and 5 * ROUNDS of the vectorized one,
    alternating, in the same sandbox), after both agree on it to 1e-10."""
    a = speed_inputs(seed)
    W, X, y = sb.put(a["W"]), sb.put(a["X"]), sb.put(a["y"])
    args = (W, X, y, a["reg"])
    loss_n, dW_n = call(sb, module, naive, *args, n=2, timeout=limits.call_timeout)
    loss_v, dW_v = call(sb, module, vectorized, *args, n=2, timeout=limits.call_timeout)
    checks.close_scalar(loss_v, checks.scalar(loss_n, f"{naive} loss"), f"{vectorized} loss vs {naive} loss", 1e-10)
    checks.close(dW_v, checks.array(dW_n, f"{naive} gradient", shape=a["W"].shape),
                 f"{vectorized} gradient vs {naive} gradient", 1e-10)
    pkg = sb.package
    t_naive = t_vec = float("inf")
    for _ in range(ROUNDS):       # interleaved: a busy moment of the machine slows both, and minima drop it
        t_naive = min(t_naive, _best_time(sb, f"{pkg}.{module}.{naive}", args, 1, limits.call_timeout))
        t_vec = min(t_vec, _best_time(sb, f"{pkg}.{module}.{vectorized}", args, 5, limits.call_timeout))
    sb.release(W, X, y)
    ratio = t_naive / max(t_vec, 1e-9)
    if not ratio >= SPEEDUP:
        checks.fail(f"on {a['X'].shape[0]}x{a['X'].shape[1]} rows {vectorized} takes {t_vec * 1e3:.1f} ms and "
                    f"{naive} {t_naive * 1e3:.1f} ms: {ratio:.1f} times faster; at least {SPEEDUP:g} times is "
                    f"required (no Python loop over the examples or classes)")
    return ratio

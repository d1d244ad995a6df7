"""The speed check of assignment 1: the submission's vectorized loss against its own naive one, timed side by
side in the submission's sandbox (cases.SPEEDUP says why the ratio required is what it is)."""
from __future__ import annotations

import time

from grader import checks
from grader.suites._common import call

from .cases import SPEEDUP, speed_inputs

ROUNDS = 3      # the naive loss once and the vectorized one 5 times per round (interleaved), ...
ATTEMPTS = 3    # ... and up to 3 times that while the ratio is below SPEEDUP (the minima over all of them)


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
    svm.ipynb-sized case (the best runs of each, alternating, in the same sandbox: see ROUNDS and
    ATTEMPTS), after both agree on it to 1e-10."""
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
    for _ in range(ATTEMPTS):     # more rounds only while the ratio is short: a busy machine slows the
        for _ in range(ROUNDS):   # memory-bound vectorized loss more than the naive one
            t_naive = min(t_naive, _best_time(sb, f"{pkg}.{module}.{naive}", args, 1, limits.call_timeout))
            t_vec = min(t_vec, _best_time(sb, f"{pkg}.{module}.{vectorized}", args, 5, limits.call_timeout))
        ratio = t_naive / max(t_vec, 1e-9)
        if ratio >= SPEEDUP:
            break
    sb.release(W, X, y)
    if not ratio >= SPEEDUP:
        checks.fail(f"on {a['X'].shape[0]}x{a['X'].shape[1]} rows {vectorized} takes {t_vec * 1e3:.1f} ms and "
                    f"{naive} {t_naive * 1e3:.1f} ms: {ratio:.1f} times faster; at least {SPEEDUP:g} times is "
                    f"required (no Python loop over the examples or classes)")
    return ratio

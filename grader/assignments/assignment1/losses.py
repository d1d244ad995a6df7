"""Checking a linear classifier's loss function ``(W, X, y, reg) -> (loss, dW)`` in the submission's sandbox."""
from __future__ import annotations

import numpy as np

from grader import checks
from grader.suites._common import call

GRAD_CHECKS = 10        # coordinates of the sparse gradient check (as grad_check_sparse)
H = 1e-5


def check_loss(sb, c, module: str, fn: str, hint) -> None:
    """``fn`` at reg 0 and at ``c['reg']``: the loss to 1e-10 and dW to 1e-8 of the reference's."""
    for tag, reg in (("0", 0.0), ("reg", c["reg"])):
        loss, dW = call(sb, module, fn, c["W"], c["X"], c["y"], reg, n=2)
        where = f"{fn}(W, X, y, reg={reg:g})"
        h = hint.l2_term(loss, c["loss_0"], c["loss_reg"], reg, c["W"]) if tag == "reg" else None
        checks.close_scalar(loss, c[f"loss_{tag}"], f"loss of {where}", 1e-10, hint=h)
        checks.close(dW, c[f"dW_{tag}"], f"dW of {where}", 1e-8,
                     hint=hint.reg_gradient(dW, c["dW_reg"], c["dW_0"], reg, c["W"]) if tag == "reg" else None)


def check_gradient(sb, c, module: str, fn: str) -> None:
    """The submission's own dW against centred differences of its own loss at GRAD_CHECKS coordinates
    (reg 0 and c['reg']), so a gradient that does not belong to the loss fails even when the loss is wrong."""
    rng = np.random.RandomState(int(abs(float(c["W"][0, 0])) * 1e6) % (2 ** 31))
    W = c["W"]
    for reg in (0.0, c["reg"]):
        _, dW = call(sb, module, fn, W, c["X"], c["y"], reg, n=2)
        dW = checks.array(dW, f"dW of {fn}", shape=W.shape)
        for _ in range(GRAD_CHECKS):
            ix = tuple(int(rng.randint(d)) for d in W.shape)
            plus, minus = W.copy(), W.copy()
            plus[ix] += H
            minus[ix] -= H
            fp = checks.scalar(call(sb, module, fn, plus, c["X"], c["y"], reg, n=2)[0], f"loss of {fn}")
            fm = checks.scalar(call(sb, module, fn, minus, c["X"], c["y"], reg, n=2)[0], f"loss of {fn}")
            numeric = (fp - fm) / (2 * H)
            err = abs(numeric - dW[ix]) / max(1e-8, abs(numeric) + abs(dW[ix]))
            if not err <= 1e-6:
                checks.fail(f"{fn}: dW{list(ix)} differs from the numerical gradient of the loss "
                            f"(relative error {err:.1e}; tolerance 1e-6)")
        if not np.any(dW != 0):
            checks.fail(f"{fn}: dW is all zeros")

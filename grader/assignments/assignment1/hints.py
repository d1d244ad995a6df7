"""Known-mistake detectors of assignment 1: when a result is wrong, does it match a classic wrong variant?

Each detector recomputes, on the trusted side and from the hidden inputs, what a typical mistake would
produce, and returns a hint (a sentence about the *mistake*, never a value) when the student's result
matches that variant, else ``None``. Detectors never raise: they run on untrusted values.

The linear classifiers' L2 term is ``reg * sum(W * W)`` (gradient ``2 * reg * W``); the two-layer net's is
``0.5 * reg * sum(W * W)`` (gradient ``reg * W``), as in the classic notebooks.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from grader import checks

VARIANT_TOL = 1e-6


def first(value: Any, variants: dict[str, Any], tol: float = VARIANT_TOL) -> str | None:
    """The hint of the first variant ``value`` matches (``{hint: variant value}``)."""
    for message, variant in variants.items():
        try:
            if np.ndim(variant) == 0 and type(value) is not np.ndarray:
                if checks.matches_scalar(value, float(variant), tol):
                    return message
            elif checks.matches(value, np.asarray(variant), tol):
                return message
        except Exception:  # noqa: BLE001 - detectors must never fail a test by themselves
            continue
    return None


def l2_term(loss: Any, loss_0: float, loss_reg: float, reg: float, W: np.ndarray) -> str | None:
    """The linear classifiers' loss with 0.5 * reg * sum(W * W), or without the term."""
    penalty = loss_reg - loss_0
    return first(loss, {
        "the L2 term of the linear classifiers is reg * np.sum(W * W), without a factor 0.5": loss_0 + 0.5 * penalty,
        "the loss seems to leave out the regularisation term reg * np.sum(W * W)": loss_0,
    })


def reg_gradient(dW: Any, expected_reg: np.ndarray, expected_0: np.ndarray, reg: float, W: np.ndarray) -> str | None:
    return first(dW, {
        "dW seems to miss the gradient of the regularisation term, 2 * reg * W": expected_0,
        "the gradient of reg * np.sum(W * W) is 2 * reg * W, not reg * W": expected_reg - reg * W,
    })


def averaged(dx: Any, expected: np.ndarray, n: int) -> str | None:
    return first(dx, {"the gradient seems not to be averaged over the N examples (divide by N)": expected * n})


def softmax_stability(loss_big: Any) -> str | None:
    """The loss on large scores came out as NaN or infinity (an overflow in exp)."""
    try:
        value = float(np.asarray(loss_big, dtype=np.float64).reshape(()))
    except Exception:  # noqa: BLE001
        return None
    if not np.isfinite(value):
        return ("the softmax loss is not numerically stable: subtract the maximum score of each row before "
                "exponentiating, so that large scores do not overflow")
    return None

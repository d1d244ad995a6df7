"""Known-mistake detectors of the mlp assignment: when a result is wrong, does it match a classic wrong
variant? Each returns a sentence about the mistake (never a value) or None, and never raises."""
from __future__ import annotations

from typing import Any

import numpy as np

from grader import checks

TOL = 1e-6


def _matches(value: Any, variant: Any) -> bool:
    try:
        if np.ndim(variant) == 0:
            return checks.matches_scalar(value, float(variant), TOL)
        return checks.matches(value, np.asarray(variant), TOL)
    except Exception:  # noqa: BLE001 - detectors never fail a test by themselves
        return False


def _first(value: Any, variants: dict[str, Any]) -> str | None:
    for message, variant in variants.items():
        if _matches(value, variant):
            return message
    return None


# ---- update rules (first step only: the state is still zero there) ---------------------------------------
def update_rule(key: str, step: int, c, value: Any, k: str) -> str | None:
    if step != 0:
        return None
    try:
        from grader.assignments.mlp.cases import OPTIMIZERS

        _, kw, _ = OPTIMIZERS[key]
        p, g, lr = c[k], c[f"d{k}"][0], kw["lr"]
        variants: dict[str, Any] = {}
        if key == "momentum":
            variants["the velocity is v = momentum * v - lr * g, and the update p += v"] = p + lr * g
        if key in ("adagrad", "rmsprop"):
            h = g * g if key == "adagrad" else (1 - kw["decay_rate"]) * g * g
            variants["1e-7 goes outside the square root: p -= lr * g / (sqrt(h) + 1e-7)"] = p - lr * g / np.sqrt(h + 1e-7)
            if key == "rmsprop":
                variants["h decays: h = decay_rate * h + (1 - decay_rate) * g * g"] = p - lr * g / (np.abs(g) + 1e-7)
        if key in ("adam", "adabelief"):
            b1, b2 = kw["beta1"], kw["beta2"]
            m = (1 - b1) * g
            second = (1 - b2) * (g * g if key == "adam" else (g - m) ** 2)
            variants["use the bias-corrected rate lr_t = lr * sqrt(1 - beta2**iter) / (1 - beta1**iter), "
                     "with iter incremented before it is used"] = p - lr * m / (np.sqrt(second) + 1e-7)
            if key == "adabelief":
                variants["AdaBelief's second moment tracks (g - m)**2 (with the updated m), not g**2 as Adam's "
                         "does"] = p - lr * np.sqrt(1 - b2) / (1 - b1) * m / (np.sqrt((1 - b2) * g * g) + 1e-7)
        return _first(value, variants)
    except Exception:  # noqa: BLE001
        return None


# ---- weight decay ----------------------------------------------------------------------------------------
def weight_decay_loss(loss: Any, loss_0: float, lam: float, params: dict) -> str | None:
    try:
        squares = sum(float(np.sum(v ** 2)) for k, v in params.items() if k.startswith("W"))
        everything = sum(float(np.sum(v ** 2)) for v in params.values())
        return _first(loss, {
            "the weight decay term is 0.5 * lambda * sum(W**2) (with the 0.5)": loss_0 + lam * squares,
            "weight decay applies to the weight matrices W only, not to the biases": loss_0 + 0.5 * lam * everything,
            "the loss should include the weight decay term 0.5 * lambda * sum(W**2) over every W": loss_0,
        })
    except Exception:  # noqa: BLE001
        return None


def weight_decay_gradient(grad: Any, grad_0: np.ndarray, lam: float, W: np.ndarray) -> str | None:
    return _first(grad, {"the gradient of 0.5 * lambda * sum(W**2) is lambda * W: add it to dW": grad_0,
                         "the gradient of 0.5 * lambda * sum(W**2) is lambda * W (not 2 * lambda * W)":
                             grad_0 + 2 * lam * W})


# ---- dropout ---------------------------------------------------------------------------------------------
def dropout_train(out: np.ndarray, x: np.ndarray, ratio: float) -> str | None:
    try:
        kept = out != 0
        if np.allclose(out[kept], x[kept] / (1 - ratio)):
            return ("this is inverted dropout (kept units divided by 1 - ratio); here training keeps the values "
                    "as they are and the test pass multiplies by 1 - dropout_ratio")
    except Exception:  # noqa: BLE001
        pass
    return None


def dropout_fraction(fraction: float, ratio: float) -> str | None:
    if abs(fraction - ratio) < 0.02:
        return "dropout_ratio is the fraction of units DROPPED: keep a unit when np.random.rand() > dropout_ratio"
    return None


def dropout_test(out: Any, x: np.ndarray, ratio: float) -> str | None:
    return _first(out, {"at test time every unit is kept and scaled by 1 - dropout_ratio": x,
                        "at test time the output is x * (1 - dropout_ratio), the ratio being the one dropped":
                            x * ratio})

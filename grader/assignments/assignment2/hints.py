"""Known-mistake detectors: when a result is wrong, does it match a classic wrong variant?

Each detector recomputes, on the trusted side and from the hidden inputs, what a typical mistake would
produce, and returns a hint (a sentence about the *mistake*, never a value) when the student's result
matches that variant, else ``None``. Detectors never raise: they run on untrusted values, and anything
malformed simply matches nothing.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from grader import checks

VARIANT_TOL = 1e-6


def _matches(value: Any, variant: Any, tol: float = VARIANT_TOL) -> bool:
    try:
        if np.ndim(variant) == 0 and type(value) is not np.ndarray:
            return checks.matches_scalar(value, float(variant), tol)
        return checks.matches(value, np.asarray(variant), tol)
    except Exception:  # noqa: BLE001 - detectors must never fail a test by themselves
        return False


def first(value: Any, variants: dict[str, Any], tol: float = VARIANT_TOL) -> str | None:
    """The hint of the first variant ``value`` matches (``{hint: variant value}``)."""
    for message, variant in variants.items():
        try:
            if variant is not None and _matches(value, variant, tol):
                return message
        except Exception:  # noqa: BLE001
            continue
    return None


# ---- losses and regularisation ----------------------------------------------------------------------
def l2_regularization(loss: Any, loss_0: float, loss_reg: float, reg: float, params: dict,
                      weights: list[str]) -> str | None:
    """The reg loss without the 0.5 factor, or regularising biases/gamma/beta too."""
    penalty = loss_reg - loss_0
    others = sum(float(np.sum(np.asarray(params[k]) ** 2)) for k in params if k not in weights)
    return first(loss, {
        "the L2 term seems to miss the factor 0.5: use 0.5 * reg * sum(W ** 2) so that its gradient is "
        "reg * W": loss_0 + 2 * penalty,
        "the regularisation seems to include the biases (or gamma/beta): only the weights W are "
        "regularised": loss_reg + 0.5 * reg * others,
        "the loss seems to leave out the regularisation term": loss_0,
    })


def reg_gradient(grad: Any, expected_reg: np.ndarray, expected_0: np.ndarray, reg: float, w: np.ndarray) -> str | None:
    return first(grad, {
        "the gradient of the weights seems to miss the regularisation term reg * W": expected_0,
        "the gradient's regularisation term seems to be 2 * reg * W (with the 0.5 in the loss it is "
        "reg * W)": expected_reg + reg * w,
    })


def softmax_stability(loss_big: Any) -> str | None:
    """The loss on large scores came out as NaN or infinity (an overflow in exp)."""
    try:
        value = float(loss_big) if isinstance(loss_big, (float, np.floating)) else float(np.asarray(loss_big)) \
            if type(loss_big) is np.ndarray and np.size(loss_big) == 1 else None
    except Exception:  # noqa: BLE001
        return None
    if value is not None and not np.isfinite(value):
        return ("softmax_loss is not numerically stable: subtract the maximum score of each row before "
                "exponentiating, so that large scores do not overflow")
    return None


def softmax_gradient(dx: Any, expected: np.ndarray, n: int) -> str | None:
    return first(dx, {"dx seems not to be averaged over the N examples (divide by N)": expected * n})


def svm_gradient(dx: Any, expected: np.ndarray, n: int) -> str | None:
    return softmax_gradient(dx, expected, n)


# ---- layers ----------------------------------------------------------------------------------------------
def relu_backward(dx: Any, x: np.ndarray, dout: np.ndarray) -> str | None:
    return first(dx, {
        "relu_backward should pass dout where x > 0 (and 0 elsewhere), not the ReLU output": np.maximum(x, 0),
        "relu_backward seems to use x < 0 instead of x > 0": dout * (x < 0),
    })


def affine_backward(dx: Any, dout: np.ndarray, w: np.ndarray, x: np.ndarray) -> str | None:
    return first(dx, {"dx should have the shape of the original x (reshape it back)":
                      (dout @ w.T)})


# ---- update rules -------------------------------------------------------------------------------------
def momentum_velocity(velocity: Any, expected: np.ndarray) -> str | None:
    return first(velocity, {
        "your velocity has the opposite sign: store v = momentum * v - learning_rate * dw and add it to w":
            -expected,
    })


def adam_next_w(next_w: Any, w: np.ndarray, dw: np.ndarray, config: dict) -> str | None:
    """Compare one Adam step with: t not incremented before the bias correction; no bias correction."""
    lr, b1, b2 = config["learning_rate"], config.get("beta1", 0.9), config.get("beta2", 0.999)
    eps = config.get("epsilon", 1e-8)
    m0 = config.get("m", np.zeros_like(w))
    v0 = config.get("v", np.zeros_like(w))
    t = config.get("t", 0)
    m = b1 * m0 + (1 - b1) * dw
    v = b2 * v0 + (1 - b2) * dw * dw
    variants = {}
    if t > 0:
        variants["Adam's t must be incremented before the bias correction (use t + 1 in 1 - beta ** t)"] = \
            w - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    variants["Adam needs the bias correction m / (1 - beta1 ** t) and v / (1 - beta2 ** t)"] = \
        w - lr * m / (np.sqrt(v) + eps)
    return first(next_w, variants)


def rmsprop_next_w(next_w: Any, w: np.ndarray, dw: np.ndarray, config: dict) -> str | None:
    lr, decay, eps = config["learning_rate"], config.get("decay_rate", 0.99), config.get("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w))
    return first(next_w, {
        "the cache should decay with decay_rate: cache = decay_rate * cache + (1 - decay_rate) * dw ** 2":
            w - lr * dw / (np.sqrt((1 - decay) * cache + decay * dw * dw) + eps),
        "rmsprop divides by the square root of the cache (sqrt(cache) + epsilon)":
            w - lr * dw / ((decay * cache + (1 - decay) * dw * dw) + eps),
    }, tol=1e-9)


# ---- batch normalisation ----------------------------------------------------------------------------
def batchnorm_forward(out: Any, x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float, axis=0) -> str | None:
    mean = x.mean(axis=axis, keepdims=True)
    return first(out, {
        "batch normalization uses the biased variance (divide by N, np.var's default), not the unbiased one":
            gamma * (x - mean) / np.sqrt(x.var(axis=axis, ddof=1, keepdims=True) + eps) + beta,
        "normalise with sqrt(var + eps), the standard deviation, not var + eps":
            gamma * (x - mean) / (x.var(axis=axis, keepdims=True) + eps) + beta,
        "the statistics seem to be taken along the wrong axis (batchnorm: over the N examples of each "
        "feature; layernorm: over the features of each example)":
            gamma * (x - x.mean(axis=1 - axis, keepdims=True))
            / np.sqrt(x.var(axis=1 - axis, keepdims=True) + eps) + beta,
    })


def batchnorm_running(running: Any, old: np.ndarray, batch_stat: np.ndarray, momentum: float) -> str | None:
    return first(running, {
        "the running average is momentum * running + (1 - momentum) * batch statistic (the momentum "
        "weights the old value)": (1 - momentum) * old + momentum * batch_stat,
        "the running statistics were not updated in train mode": old,
    })


def batchnorm_test(out: Any, x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> str | None:
    return first(out, {
        "in test mode, normalise with running_mean and running_var, not with the batch statistics":
            gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) + beta,
    })


def spatial_layout(out: Any, x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> str | None:
    """Spatial batchnorm on x.reshape(-1, C) without moving the channel axis last first."""
    N, C, H, W = x.shape
    rows = x.reshape(-1, C)
    wrong = (gamma * (rows - rows.mean(axis=0)) / np.sqrt(rows.var(axis=0) + eps) + beta).reshape(N, C, H, W)
    return first(out, {"reshape to (N*H*W, C) after moving the channel axis last (transpose(0, 2, 3, 1)); "
                       "a plain reshape mixes the channels": wrong})


# ---- dropout -----------------------------------------------------------------------------------------------
def dropout_forward(x: np.ndarray, out: Any, p: float) -> str | None:
    try:
        o = checks.array(out, "out", shape=x.shape)
    except checks.CheckFailure:
        return None
    kept = o != 0
    frac = float(np.mean(kept))
    if kept.any() and checks.grading_error(o[kept], x[kept]) <= 1e-9:
        return "inverted dropout divides the kept units by p at training time (out = x * mask / p)"
    if abs(frac - (1 - p)) <= 0.02 and abs(frac - p) > 0.02:
        return "in this assignment p is the probability of KEEPING a unit (mask = rand(...) < p)"
    if kept.any() and checks.grading_error(o[kept] * (1 - p), x[kept]) <= 1e-9:
        return "the kept units are divided by 1 - p; with p the keep probability, divide by p"
    return None


def dropout_test(out: Any, x: np.ndarray, p: float) -> str | None:
    return first(out, {"at test time inverted dropout returns x unchanged (no scaling)": x * p})


# ---- convolution and pooling --------------------------------------------------------------------------
def conv_flipped(out: Any, x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pad: int) -> str | None:
    """The layer computes a cross-correlation (no kernel flip); a true convolution is the classic slip."""
    try:
        flipped = w[:, :, ::-1, ::-1]
        N, C, H, W = x.shape
        F, _, HH, WW = w.shape
        Ho, Wo = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
        xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        res = np.zeros((N, F, Ho, Wo))
        for i in range(Ho):
            for j in range(Wo):
                win = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                res[:, :, i, j] = np.tensordot(win, flipped, axes=([1, 2, 3], [1, 2, 3])) + b
        return first(out, {"do not flip the filters: the layer computes a cross-correlation "
                           "(sum of window * w)": res})
    except Exception:  # noqa: BLE001
        return None


def maxpool_overlap(dx: Any, x: np.ndarray, dout: np.ndarray, pool: dict) -> str | None:
    """Overlapping windows (pool larger than the stride) whose gradients overwrite (``=``) each other at a
    shared maximum instead of adding up (``+=``)."""
    try:
        ph, pw, s = pool["pool_height"], pool["pool_width"], pool["stride"]
        at_max = np.zeros_like(x)       # dx[argmax] = dout: a later window replaces an earlier one's gradient
        whole = np.zeros_like(x)        # dx[window] = mask * dout: a later window also writes zeros over it
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                region = (slice(None), slice(None), slice(i * s, i * s + ph), slice(j * s, j * s + pw))
                window = x[region]
                mask = window == window.max(axis=(2, 3), keepdims=True)
                whole[region] = mask * dout[:, :, i, j][:, :, None, None]
                at_max[region] = np.where(mask, dout[:, :, i, j][:, :, None, None], at_max[region])
        message = ("the windows overlap (pool larger than the stride): an input that is the maximum of two "
                   "windows gets the sum of both gradients, so add them (dx[...] += ...) instead of assigning")
        return first(dx, {message: at_max}) or first(dx, {message: whole})
    except Exception:  # noqa: BLE001
        return None


def maxpool_backward(dx: Any, x: np.ndarray, dout: np.ndarray, pool: dict) -> str | None:
    """dout spread over the whole window instead of routed to the maximum."""
    try:
        ph, pw, s = pool["pool_height"], pool["pool_width"], pool["stride"]
        spread = np.zeros_like(x)
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                spread[:, :, i * s:i * s + ph, j * s:j * s + pw] += dout[:, :, i, j][:, :, None, None]
        return first(dx, {"the upstream gradient of a window goes to the position of its maximum only":
                          spread})
    except Exception:  # noqa: BLE001
        return None

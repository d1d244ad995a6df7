"""How the suites drive the student's classes in the sandbox: construct a layer, an update rule or a net,
call its methods, and give a net parameters IN PLACE (its layers hold references to ``params``' arrays,
as an optimizer's in-place update requires). Every result is validated by the caller with ``grader.checks``."""
from __future__ import annotations

from typing import Any

import numpy as np

from grader import checks
from grader.suites._common import new_model


def new(sb, cls: str, *args, **kwargs):
    """``<package>.<cls>(*args, **kwargs)`` in the sandbox -> a Handle (``cls``: 'layers.Affine')."""
    return sb.new(f"{sb.package}.{cls}", *args, **kwargs)


def net(sb, cls: str, seed: int, **kwargs):
    """A net of the student's (``cls``: 'three_layer_net.ThreeLayerNet'), the RNG seeded first."""
    return new_model(sb, cls, seed, **kwargs)


def held(sb, container, key: str):
    """A Handle to ``container[key]`` itself (not a copy): to watch an array change in place."""
    return sb.call("operator.getitem", container, key, keep=True)


def load_params(sb, model, params: dict[str, np.ndarray]) -> None:
    """``np.copyto(model.params[k], v)`` for each entry, in the sandbox: the arrays the layers share change."""
    table = sb.call("builtins.getattr", model, "params", keep=True)
    for k, v in params.items():
        sb.call("numpy.copyto", held(sb, table, k), np.array(v, copy=True))


def forward_backward(sb, layer, x: np.ndarray, dout: np.ndarray, name: str, *fwd_args) -> tuple[np.ndarray, Any]:
    """``out = layer.forward(x, *fwd_args)``, ``dx = layer.backward(dout)`` (both validated as arrays)."""
    out = checks.array(sb.call_method(layer, "forward", x, *fwd_args), f"{name}.forward(x)", shape=None)
    dx = checks.array(sb.call_method(layer, "backward", dout), f"{name}.backward(dout)", shape=x.shape)
    return out, dx

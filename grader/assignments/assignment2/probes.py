"""Assignment 2's probes: what the grader measures of a submission besides the tests.

``dropout_semantics``: ``dropout_forward``'s ``p`` is the probability of DROPPING a unit in CS231n 2016/17
and of KEEPING it from 2018 on. The probe runs ``dropout_forward`` with ``p=0.3`` on 10,000 units: about
70% zeroed (the kept units scaled by 1/p) means keep-probability code, about 30% zeroed (scaled by 1/(1-p))
drop-probability code; anything else (e.g. 30% zeroed but scaled by 1/p: buggy 2018+ code) is unknown and
gets no note. The manifest declares which
convention the assignment uses; ``dropout_note`` is the message for results.json when they differ (the
tests keep the manifest's convention: a submission written for the other one fails the dropout tests and
is told why).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from grader.assignments import Probe

SEMANTICS = ("keep", "drop")
PROBE_P = 0.3
PROBE_SHAPE = (100, 100)


def classify_fraction_zeroed(fraction: float, p: float = PROBE_P, tolerance: float = 0.08,
                             scale: float | None = None) -> str:
    """``keep`` when about ``1 - p`` of the units were zeroed, ``drop`` when about ``p``, else ``unknown``.

    With ``scale`` (the kept outputs over their inputs), the convention must also be inverted dropout in
    its own terms: ``1 / p`` for keep, ``1 / (1 - p)`` for drop (the 2016/17 starters); any other scale is
    ``unknown`` - buggy code, not the other convention."""
    if abs(fraction - (1 - p)) < tolerance and (scale is None or abs(scale * p - 1) < 1e-6):
        return "keep"
    if abs(fraction - p) < tolerance and (scale is None or abs(scale * (1 - p) - 1) < 1e-6):
        return "drop"
    return "unknown"


def detect_dropout_semantics(sandbox, target: str = "cs231n.layers.dropout_forward") -> dict[str, Any]:
    """Measure the student's dropout convention through ``sandbox`` (a ``grader.sandbox.proxy.Sandbox``).

    Returns ``{"semantics": "keep" | "drop" | "unknown", "fraction_zeroed": float | None, "error": str}``.
    Anything the student's code does wrong (raises, returns the placeholder None, times out) gives
    ``unknown`` with the reason in ``error``; this function never raises for the student's code.
    """
    x = np.full(PROBE_SHAPE, 10.0)
    try:
        sandbox.seed(231)
        result = sandbox.call(target, x, {"mode": "train", "p": PROBE_P, "seed": 231}, keep=(1,))
    except Exception as e:  # StudentError, StudentTimeout, SandboxCrash: all mean "cannot tell"
        return {"semantics": "unknown", "fraction_zeroed": None, "error": f"{type(e).__name__}: {e}"[:300]}
    out = result[0] if isinstance(result, (tuple, list)) and result else result
    if not isinstance(out, np.ndarray) or out.shape != PROBE_SHAPE:
        return {"semantics": "unknown", "fraction_zeroed": None,
                "error": "dropout_forward did not return an array of the input's shape"}
    fraction = float(np.mean(out == 0))
    kept = out[out != 0] / x[out != 0]
    scale = float(np.mean(kept)) if kept.size and np.all(np.isfinite(kept)) and np.ptp(kept) <= 1e-9 else float("nan")
    return {"semantics": classify_fraction_zeroed(fraction, scale=scale), "fraction_zeroed": round(fraction, 4),
            "error": ""}


def dropout_note(detected: dict[str, Any], declared: str) -> str | None:
    """The note for results.json when the student's convention is not the manifest's ``declared`` one."""
    semantics = detected.get("semantics")
    if semantics not in SEMANTICS or semantics == declared:
        return None
    meaning = {"keep": "the probability of KEEPING a unit (CS231n 2018 and later)",
               "drop": "the probability of DROPPING a unit (CS231n 2016/2017)"}
    return (f"dropout_forward treats p as {meaning[semantics]}: with p={PROBE_P} it zeroed "
            f"{100 * detected['fraction_zeroed']:.0f}% of the units. This assignment defines p as "
            f"{meaning[declared]}, so the dropout tests use that convention.")


def _dropout_probe(sandbox, assignment) -> tuple[dict[str, Any], str | None]:
    detected = detect_dropout_semantics(sandbox)
    return detected, dropout_note(detected, assignment.dropout_semantics)


PROBES = [Probe("dropout_semantics", files=("layers.py",), run=_dropout_probe)]

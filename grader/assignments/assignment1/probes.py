"""Assignment 1's probes: which shape of the two-layer net was graded (``shapes.py``), said in the output."""
from __future__ import annotations

from grader.assignments import Probe

from .shapes import NEW_FILE, OLD_FILE


def _found(which: str, file: str, detail: str):
    def run(sandbox, assignment):
        return which, f"Q5 graded the {which} two-layer net: cs231n/{file} ({detail})."
    return run


PROBES = [
    Probe("two_layer_net_shape", (NEW_FILE,), _found("2021+", NEW_FILE, "TwoLayerNet on layers.py")),
    Probe("two_layer_net_shape", (OLD_FILE,), _found("2016-2020", OLD_FILE, "TwoLayerNet(input_size, hidden_size, "
                                                     "output_size, std) with loss(X, y, reg)"), absent=(NEW_FILE,)),
]

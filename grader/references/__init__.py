"""Reference outputs: the hidden inputs of every check and the values the reference solution gives.

Trusted side only; generic over assignments. What is an assignment's lives in its folder
(``grader/assignments/<assignment>/cases.py`` and ``training.py``); this package holds the machinery:

    cases.py      ``Cases``: the registry an assignment's cases are declared in; ``run_case``
    solution.py   the reference solution imported under a private name (``ref.layers``, ``ref.fc_net``)
    datasets.py   Fashion-MNIST, read here and never mounted in the sandbox
    training.py   training checks: the salted task, evaluation, calibration
    store.py      writing and checking ``reference_outputs/<assignment>/`` byte for byte
    (here)        ``References``: what the suites read, for one submission's salt

The inputs are HIDDEN: other shapes, seeds and values than the public notebook checks, so a submission
cannot hard-code the notebook's expected arrays. The stored cases are the UNSALTED ones: at grade time
every case is drawn again from a seed derived from the submission's salt (``grader.secret``: an HMAC of
the graded files under the grader's secret) and its expected values are computed then by the reference
solution (``References.with_salt``), so inputs that one upload leaks through its feedback are of no use to
the next.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ReferenceError
from .store import to_array
from .training import training_task

__all__ = ["CaseData", "ReferenceError", "References"]


@dataclass
class CaseData:
    """Inputs and expected values of one case."""

    name: str
    inputs: dict[str, Any]
    expected: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        """``case['x']`` (an input) or ``case['out']`` (an expected value); names are unique per case."""
        if key in self.inputs:
            return self.inputs[key]
        return self.expected[key]

    def __contains__(self, key: str) -> bool:
        return key in self.inputs or key in self.expected


def _from_stored(arr: np.ndarray) -> Any:
    if arr.ndim == 0:
        return arr.item()
    return np.array(arr)  # a private, writable copy


def _assignment(assignment):
    if isinstance(assignment, str):
        from grader.assignments import load_assignment

        return load_assignment(assignment)
    return assignment


class References:
    """Read access to ``reference_outputs/<assignment>/`` for the suites (trusted side).

    Without a salt, ``refs('Q1/affine_forward')`` is the stored (unsalted) case. ``refs.with_salt(salt)``
    (what a grade uses, see ``grader.secret``) gives a view whose cases have inputs drawn from the salt and
    expected values computed now by the reference solution; the training checks use the task of the salt
    (``training_task(salt)``); the manifest (calibration) and the fixed cases are shared.
    ``refs.package`` is the reference solution (``ref.layers``), ``refs.training_checks`` the assignment's.
    """

    def __init__(self, assignment, directory: Path | None = None):
        self.assignment = _assignment(assignment)
        self.directory = Path(directory) if directory is not None else self.assignment.references_dir
        manifest = self.directory / "manifest.json"
        if not manifest.is_file():
            raise ReferenceError(f"no reference outputs for {self.assignment.name}: run "
                                 f"`python -m grader refresh-references --assignment {self.assignment.name}`")
        self.manifest = json.loads(manifest.read_text())
        self.cases = self.assignment.cases
        self.training_checks = self.assignment.training_checks
        self._arrays: dict[str, dict[str, np.ndarray]] = {}
        self.salt: bytes | None = None
        self._salted: dict[str, tuple[dict[str, np.ndarray], dict[str, np.ndarray]]] = {}

    @property
    def package(self):
        """The reference solution's modules (``grader.references.solution.ReferencePackage``)."""
        return self.assignment.reference()

    def with_salt(self, salt: bytes | None) -> "References":
        """A view of the same reference outputs whose cases are drawn from ``salt`` (None: unsalted)."""
        view = copy.copy(self)
        view.salt = None if salt is None else bytes(salt)
        view._salted = {}
        return view

    def _salted_case(self, key: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        if key not in self._salted:
            from grader.secret import derived_seed

            from .cases import run_case

            inputs, expected = run_case(self.cases[key], derived_seed(self.salt, "case:" + key), self.package)
            self._salted[key] = ({k: to_array(v) for k, v in inputs.items()},
                                 {k: to_array(v) for k, v in expected.items()})
        return self._salted[key]

    def _question(self, question: str) -> dict[str, np.ndarray]:
        if question not in self._arrays:
            path = self.directory / f"{question}.npz"
            if not path.is_file():
                raise ReferenceError(f"missing reference file {self.assignment.name}/{question}.npz")
            with np.load(path, allow_pickle=False) as z:
                self._arrays[question] = {k: z[k] for k in z.files}
        return self._arrays[question]

    def preload(self) -> None:
        """Read every question's file now (they are read lazily otherwise); with a salt, also compute every
        salted case and the salted training task."""
        for entry in self.manifest.get("questions", {}):
            if self.salt is None or not self.cases.has_salted(entry):
                self._question(entry)    # with a salt, only what is not computed (the fixed cases)
        if self.salt is not None:
            for key in self.cases:
                self._salted_case(key)
            if self.training_checks:
                training_task(self.salt)

    def case(self, key: str) -> CaseData:
        """``refs.case('Q1/affine_forward')`` -> fresh copies of its inputs and expected values."""
        question, name = key.split("/", 1)
        if self.salt is not None and key in self.cases:
            inputs, expected = self._salted_case(key)
            return CaseData(name, {k: _from_stored(v) for k, v in inputs.items()},
                            {k: _from_stored(v) for k, v in expected.items()})
        arrays = self._question(question)
        inputs, expected = {}, {}
        prefix = name + "/"
        for k, v in arrays.items():
            if k.startswith(prefix):
                kind, field_name = k[len(prefix):].split("/", 1)
                (inputs if kind == "in" else expected)[field_name] = _from_stored(v)
        if not inputs and not expected:
            raise ReferenceError(f"no reference case {key}")
        return CaseData(name, inputs, expected)

    __call__ = case

    def threshold(self, check_name: str) -> float:
        entry = self.manifest.get("calibration", {}).get(check_name)
        if not entry:
            raise ReferenceError(f"training check {check_name!r} is not calibrated")
        return float(entry["threshold"])

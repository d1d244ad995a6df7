"""Reference cases: the hidden inputs of each check and how the reference solution answers them.

An assignment's ``cases.py`` holds one :class:`Cases` named ``CASES``; each case is registered with a
decorator::

    CASES = Cases()

    @CASES.case("Q1", "affine_forward", 1101, "x randn(4,3,2,5), w randn(30,6), b randn(6)",
                lambda rng: dict(x=rng.randn(4, 3, 2, 5), w=rng.randn(30, 6), b=rng.randn(6)))
    def _affine_forward(ref, a):                 # ref: the reference solution's modules
        out, _ = ref.layers.affine_forward(a["x"], a["w"], a["b"])
        return dict(out=out)

``build(rng)`` draws the inputs from its own ``np.random.RandomState``: seeded with ``seed`` for the stored
(unsalted) copy, with a seed derived from the submission's salt at grade time. ``@CASES.fixed(question,
name, recipe)`` registers values that are the same for every submission (``compute(ref) -> outputs``, e.g.
a dataset's mean image); they are stored only. Names are unique per case across inputs and outputs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from .errors import ReferenceError

Arrays = dict[str, Any]


@dataclass(frozen=True)
class Case:
    """One salted case: ``build(rng) -> inputs`` and ``compute(ref, inputs) -> expected``."""

    question: str
    name: str
    seed: int
    recipe: str
    build: Callable[[np.random.RandomState], Arrays]
    compute: Callable[[Any, Arrays], Arrays]

    @property
    def key(self) -> str:
        return f"{self.question}/{self.name}"


@dataclass(frozen=True)
class FixedCase:
    """Stored values that do not depend on the salt: ``compute(ref) -> outputs``."""

    question: str
    name: str
    recipe: str
    compute: Callable[[Any], Arrays]

    @property
    def key(self) -> str:
        return f"{self.question}/{self.name}"


class Cases:
    """The cases of one assignment, by key ``'Q1/affine_forward'``."""

    def __init__(self) -> None:
        self.salted: dict[str, Case] = {}
        self.fixed_cases: dict[str, FixedCase] = {}

    def _add(self, c: Case | FixedCase) -> None:
        if c.key in self.salted or c.key in self.fixed_cases:
            raise ValueError(f"duplicate case {c.key}")
        (self.salted if isinstance(c, Case) else self.fixed_cases)[c.key] = c

    def case(self, question: str, name: str, seed: int, recipe: str,
             build: Callable[[np.random.RandomState], Arrays]):
        """Register the decorated ``compute(ref, inputs)`` as the salted case ``question/name``."""
        def register(compute):
            self._add(Case(question, name, seed, recipe, build, compute))
            return compute
        return register

    def fixed(self, question: str, name: str, recipe: str):
        """Register the decorated ``compute(ref)`` as stored values of ``question/name``."""
        def register(compute):
            self._add(FixedCase(question, name, recipe, compute))
            return compute
        return register

    def __getitem__(self, key: str) -> Case:
        return self.salted[key]

    def __contains__(self, key: str) -> bool:
        return key in self.salted

    def __iter__(self) -> Iterator[str]:
        return iter(self.salted)

    def of(self, question: str) -> list[Case | FixedCase]:
        return [c for c in (*self.salted.values(), *self.fixed_cases.values()) if c.question == question]

    def questions(self) -> list[str]:
        """Every question with a case, in question order (``Q2`` before ``Q10``)."""
        found = {c.question for c in (*self.salted.values(), *self.fixed_cases.values())}
        return sorted(found, key=lambda q: (len(q), q))

    def has_salted(self, question: str) -> bool:
        return any(c.question == question for c in self.salted.values())


def run_case(c: Case, seed: int, ref: Any) -> tuple[Arrays, Arrays]:
    """``(inputs, expected)`` of case ``c`` with its inputs drawn from ``seed`` (``c.seed`` for the stored,
    unsalted case; a salt-derived seed at grade time). The global generator is seeded too (the reference
    may draw from it) and restored afterwards."""
    state = np.random.get_state()
    np.random.seed(seed)   # in case the reference draws from the global generator
    try:
        inputs = c.build(np.random.RandomState(seed))
        expected = c.compute(ref, {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in inputs.items()})
    finally:
        np.random.set_state(state)
    clash = set(inputs) & set(expected)
    if clash:
        raise ReferenceError(f"case {c.key}: names used for both an input and an output: {sorted(clash)}")
    return inputs, expected

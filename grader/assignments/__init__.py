"""Assignment manifests: one TOML file per assignment, parsed with ``tomllib`` into pydantic models.

A manifest says what is graded and how much each part is worth:

- ``[[questions]]``: ``id`` (``"Q1"``), ``title``, ``suite`` (a file of ``grader/suites/``) and
  ``[questions.tests]``, an ordered table ``test_name = points`` (partial credit per test; the question
  is worth the sum). Which graded files a test exercises is declared in its suite
  (``@pytest.mark.files(...)``): when the submission lacks one of them, the test scores zero unrun;
- ``[limits]``: per-call and training-call timeouts, the total time of the code questions, memory;
- ``graded_files``: the files of ``cs231n/`` taken from the submission;
- ``[[notebooks]]``: the notebooks run after the code questions (``grader.notebooks``): ``name``, ``points``
  for running to the end (tests of one more question, ``NB``; 0: run for feedback only), time limits;
- ``[best_model]``: the file name and the accuracy tiers of Q7.

``load_assignment('assignment2')`` returns the validated :class:`Assignment`; every inconsistency (a
test listed twice, a question without tests, points that are not positive) is a ``ManifestError``.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ASSIGNMENTS_DIR = Path(__file__).resolve().parent
SUITES_DIR = ASSIGNMENTS_DIR.parent / "suites"


class ManifestError(Exception):
    """The assignment manifest is missing or invalid (a configuration error of the grader)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limits(_Strict):
    """Time and memory limits of the code questions (seconds, MiB)."""

    call_timeout: float = Field(gt=0, description="one sandbox call of a unit check")
    train_timeout: float = Field(gt=0, description="one training call (Solver.train)")
    startup_timeout: float = Field(gt=0, description="starting the worker and importing the package")
    total_time: float = Field(gt=0, description="all code questions of one submission together")
    memory_mb: int = Field(gt=0, description="address space of the worker")


class Question(_Strict):
    id: str = Field(pattern=r"^Q[0-9]+$")
    title: str
    suite: str = Field(pattern=r"^q[0-9]+_[a-z0-9_]+\.py$")
    tests: dict[str, float]

    @field_validator("tests")
    @classmethod
    def _positive_points(cls, tests: dict[str, float]) -> dict[str, float]:
        if not tests:
            raise ValueError("a question needs at least one test")
        bad = [name for name, pts in tests.items() if not pts > 0]
        if bad:
            raise ValueError(f"tests with non-positive points: {bad}")
        return tests

    @property
    def number(self) -> int:
        return int(self.id[1:])

    @property
    def max_score(self) -> float:
        return float(sum(self.tests.values()))

    @property
    def module(self) -> str:
        """The suite's module name (file name without ``.py``)."""
        return self.suite[:-3]


class Notebook(_Strict):
    """One notebook (``FullyConnectedNets``: the ``.ipynb`` may be left out), its points for running to the
    end, and the seconds one cell / the whole notebook may take."""

    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+(\.ipynb)?$")
    points: float = Field(ge=0)
    cell_timeout: float = Field(gt=0)
    total_timeout: float = Field(gt=0)


class BestModel(_Strict):
    """Q7: the file of the tuned model, and ``test_name = minimum accuracy`` on the hidden split."""

    file: str
    max_bytes: int = Field(gt=0)
    tiers: dict[str, float]


class Assignment(_Strict):
    name: str
    title: str
    package: str = "cs231n"
    dropout_semantics: Literal["keep", "drop"]
    seed: int = Field(ge=0, description="seed of every randomised check (grading is deterministic)")
    graded_files: list[str]
    limits: Limits
    questions: list[Question]
    notebooks: list[Notebook] = Field(default_factory=list)
    best_model: BestModel | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Assignment":
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate question ids: {ids}")
        suites = [q.suite for q in self.questions]
        if len(set(suites)) != len(suites):
            raise ValueError(f"two questions share a suite file: {suites}")
        names = [n.name.removesuffix(".ipynb") for n in self.notebooks]
        if len(set(names)) != len(names):
            raise ValueError(f"a notebook is listed twice: {names}")
        if self.best_model is not None:
            listed = {t for q in self.questions for t in q.tests}
            missing = [t for t in self.best_model.tiers if t not in listed]
            if missing:
                raise ValueError(f"best_model tiers name tests no question lists: {missing}")
        return self

    @property
    def max_score(self) -> float:
        """Points of the code questions (the notebooks' points come on top when they run)."""
        return float(sum(q.max_score for q in self.questions))

    @property
    def notebook_points(self) -> float:
        return float(sum(n.points for n in self.notebooks))

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(qid)

    def suite_paths(self) -> list[Path]:
        return [SUITES_DIR / q.suite for q in self.questions]


def manifest_path(name: str) -> Path:
    if not name.replace("_", "").replace("-", "").isalnum():
        raise ManifestError(f"invalid assignment name {name!r}")
    return ASSIGNMENTS_DIR / f"{name}.toml"


def available() -> list[str]:
    """Names of the assignments that have a manifest."""
    return sorted(p.stem for p in ASSIGNMENTS_DIR.glob("*.toml"))


def load_assignment(name: str) -> Assignment:
    """Parse and validate ``grader/assignments/<name>.toml``."""
    path = manifest_path(name)
    if not path.is_file():
        raise ManifestError(f"no manifest for assignment {name!r} (known: {', '.join(available()) or 'none'})")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path.name}: {exc}") from None
    try:
        assignment = Assignment.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(f"{path.name}: {exc}") from None
    for suite in assignment.suite_paths():
        if not suite.is_file():
            raise ManifestError(f"{path.name}: suite file {suite.name} does not exist in grader/suites/")
    return assignment

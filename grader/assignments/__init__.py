"""Assignments: each one a folder of its own, found by name; this module is generic over them.

An assignment ``A`` is the set of folders named after it in a course root (the repository, or a folder of
``$GRADER_COURSE_DIRS``, which has the same top-level layout):

- ``grader/assignments/A/``: ``manifest.toml`` (what is graded and how much each part is worth, below),
  ``suites/`` (the hidden suites, one file per question), ``cases.py`` (the reference cases, a
  ``grader.references.Cases`` named ``CASES``), and optionally ``training.py`` (``TRAINING_CHECKS``, the
  calibrated training checks), ``hints.py`` (detectors of known mistakes, the suites' ``hint`` fixture)
  and ``probes.py`` (``PROBES``: measurements of the submission whose notes go to the output);
- ``solutions/A/``: the instructor's source (the student package and the notebooks);
- ``starter/A/`` and ``reference_outputs/A/``: generated from the solutions.

Its Python modules are importable as ``grader.assignments.A.<module>`` (the course roots' folders are on
this package's path), so suites import their assignment's constants with ``from grader.assignments.A.cases
import ...``; nothing outside an assignment's folders names it.

The manifest:

- ``[[questions]]``: ``id`` (``"Q1"``), ``title``, ``suite`` (a file of ``suites/``) and
  ``[questions.tests]``, an ordered table ``test_name = points`` (partial credit per test; the question
  is worth the sum); ``visibility`` (Gradescope's: ``visible``, the default; ``after_due_date``;
  ``after_published``, once the instructors publish the grades; ``hidden``, instructors only) of its tests,
  and ``[questions.test_visibility]``, ``test_name = visibility`` for the tests that differ. Which graded files a test exercises is declared in its suite
  (``@pytest.mark.files(...)``): when the submission lacks one of them, the test scores zero unrun;
- ``[limits]``: per-call and training-call timeouts, the total time of the code questions, memory;
- ``graded_files``: the files of the package taken from the submission;
- ``optional_files``: files taken from the submission when it has them, otherwise the grader's copy (if it
  has one) without a word: another year's shape of a graded file (e.g. the 2016-2020
  ``classifiers/neural_net.py``) or a provided file some years extend; a suite tells which shape it grades
  from ``SubmissionInfo.substituted`` (a missing optional file is listed there);
- ``[[notebooks]]``: the notebooks run after the code questions (``grader.notebooks``): ``name``, ``points``
  for running to the end (tests of one more question, ``NB``; 0: run for feedback only), time limits;
- ``[best_model]``: the file of a saved model and the accuracy tiers of its question;
- ``[[inline_questions]]``: the written answers scored by hand (``id`` such as ``"IQ1"``, ``title``,
  ``points``, and where the answer is: ``notebook`` and ``number``, its rank among the notebook's inline
  answers, from 1); instructors enter their scores in the service.

``load_assignment('assignment2')`` returns the validated :class:`Assignment`; every inconsistency (a
test listed twice, a question without tests, points that are not positive) is a ``ManifestError``.
"""
from __future__ import annotations

import importlib
import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ASSIGNMENTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = ASSIGNMENTS_DIR.parent.parent
COURSE_DIRS_ENV = "GRADER_COURSE_DIRS"
MANIFEST = "manifest.toml"


def course_roots() -> list[Path]:
    """The repository, then the folders of ``$GRADER_COURSE_DIRS`` (``os.pathsep``-separated)."""
    extra = [Path(p).resolve() for p in os.environ.get(COURSE_DIRS_ENV, "").split(os.pathsep) if p]
    return [REPO_ROOT] + [p for p in extra if p != REPO_ROOT]


def _extend_path() -> None:
    """Put every course root's ``grader/assignments`` on this package's path (``grader.assignments.A``)."""
    for root in course_roots()[1:]:
        folder = str(root / "grader" / "assignments")
        if folder not in __path__:
            __path__.append(folder)


_extend_path()


@dataclass(frozen=True)
class Probe:
    """A measurement of the submission besides the tests (an assignment's ``probes.py``): ``run(sandbox,
    assignment) -> (value, note or None)`` after the suites, when none of ``files`` is missing or broken
    and all of ``absent`` are missing;
    the value goes to ``extra_data.submission[name]``, the note to the output."""

    name: str
    files: tuple[str, ...]
    run: Callable[[Any, "Assignment"], tuple[Any, str | None]]
    absent: tuple[str, ...] = ()     # ... and each of these is missing (it measures one shape of a submission)


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
    grade_budget: float | None = Field(
        default=None, gt=0, description="the whole grade of one submission, code questions and notebooks: "
        "notebooks still to run when it is spent are not run (None: only the per-notebook limits)")
    slow_cell_timeout: float = Field(
        default=20.0, gt=0, description="a notebook cell that calls code which did not finish in time in the "
        "code questions (grader.notebooks.run.SlowCode)")


Visibility = Literal["visible", "hidden", "after_due_date", "after_published"]


class Question(_Strict):
    id: str = Field(pattern=r"^Q[0-9]+$")
    title: str
    suite: str = Field(pattern=r"^q[0-9]+_[a-z0-9_]+\.py$")
    tests: dict[str, float]
    visibility: Visibility = "visible"
    test_visibility: dict[str, Visibility] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_tests(self) -> "Question":
        unknown = [t for t in self.test_visibility if t not in self.tests]
        if unknown:
            raise ValueError(f"test_visibility names tests the question does not list: {unknown}")
        return self

    def visibility_of(self, test: str) -> str:
        """Who sees the feedback of ``test`` (Gradescope's vocabulary)."""
        return self.test_visibility.get(test, self.visibility)

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


class InlineQuestion(_Strict):
    """A written answer scored by hand: the ``number``-th inline answer of ``notebook`` (from 1)."""

    id: str = Field(pattern=r"^IQ[0-9]+$")
    title: str
    points: float = Field(gt=0)
    notebook: str = ""
    number: int = Field(default=0, ge=0)


class BestModel(_Strict):
    """Q7: the file of the tuned model, and ``test_name = minimum accuracy`` on the hidden split."""

    file: str
    max_bytes: int = Field(gt=0)
    tiers: dict[str, float]


class SharedFile(_Strict):
    """A file of the package taken from another assignment's solutions (``grader.authoring.compose``)."""

    file: str = Field(description="path inside the package, e.g. layers.py")
    source: str = Field(description="the assignment whose solutions hold it")
    keep: list[str] | None = Field(default=None, description="its top-level definitions to take (None: all)")


class Tolerance(_Strict):
    """One comparison tolerance of the suites (``grader.suites._common.tolerance``): its value (the largest
    ``grader.checks.grading_error`` that passes) and why it is that, measured against every known-correct
    formulation."""

    value: float = Field(gt=0, lt=1)
    why: str = Field(min_length=1)


class Assignment(_Strict):
    """A validated manifest, and where the assignment's folders are (``root``: its course root)."""

    root: Path = Field(exclude=True, default=REPO_ROOT)
    name: str
    title: str
    package: str = Field("cs231n", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="the package's folder and import name")
    # p in dropout_forward / FullyConnectedNet(dropout=p): the probability of keeping a unit, or of dropping it
    dropout_semantics: Literal["keep", "drop"] | None = None
    # the model classes whose constructor keywords the suites adapt to (``grader.compat``): class -> file
    model_classes: dict[str, str] = Field(default_factory=dict)
    seed: int = Field(ge=0, description="seed of every randomised check (grading is deterministic)")
    graded_files: list[str]
    optional_files: list[str] = Field(default_factory=list)
    limits: Limits
    questions: list[Question]
    notebooks: list[Notebook] = Field(default_factory=list)
    best_model: BestModel | None = None
    inline_questions: list[InlineQuestion] = Field(default_factory=list)
    shared: list[SharedFile] = Field(default_factory=list)
    tolerances: dict[str, Tolerance] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> "Assignment":
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate question ids: {ids}")
        suites = [q.suite for q in self.questions]
        if len(set(suites)) != len(suites):
            raise ValueError(f"two questions share a suite file: {suites}")
        inline = [q.id for q in self.inline_questions]
        if len(set(inline)) != len(inline):
            raise ValueError(f"duplicate inline question ids: {inline}")
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

    # ------------------------------------------------------------------------------------ the folders
    @property
    def grader_dir(self) -> Path:
        """``grader/assignments/<name>/``: the manifest, the suites, the cases, the hints."""
        return self.root / "grader" / "assignments" / self.name

    @property
    def suites_dir(self) -> Path:
        return self.grader_dir / "suites"

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions" / self.name

    @property
    def starter_dir(self) -> Path:
        return self.root / "starter" / self.name

    @property
    def references_dir(self) -> Path:
        return self.root / "reference_outputs" / self.name

    @property
    def provided_package(self) -> Path:
        """The starter's package: where the files the grader provides come from."""
        return self.starter_dir / self.package

    def solution_tree(self) -> Path:
        """The solutions with the files shared from other assignments written in: what the starter, the
        sample zips and the reference solution are made from (``solutions_dir`` when nothing is shared)."""
        from grader.authoring.compose import composed_tree

        return composed_tree(self)

    @property
    def solution_package(self) -> Path:
        return self.solution_tree() / self.package

    def suite_paths(self) -> list[Path]:
        return [self.suites_dir / q.suite for q in self.questions]

    # ------------------------------------------------------------------------------------ the modules
    def module(self, name: str) -> ModuleType | None:
        """``grader.assignments.<name>.<module>`` (``cases``, ``training``, ``hints``, ``probes``), or None
        when the assignment has no such file."""
        if not (self.grader_dir / f"{name}.py").is_file():
            return None
        return importlib.import_module(f"{__name__}.{self.name}.{name}")

    def attribute(self, module: str, name: str, default: Any) -> Any:
        mod = self.module(module)
        return getattr(mod, name, default) if mod is not None else default

    @property
    def cases(self):
        """The reference cases (``grader.references.Cases``) of ``cases.py``."""
        from grader.references.cases import Cases

        return self.attribute("cases", "CASES", Cases())

    @property
    def training_checks(self) -> dict:
        """``{name: TrainingCheck}`` of ``training.py`` (none without the file)."""
        return self.attribute("training", "TRAINING_CHECKS", {})

    @property
    def hints(self) -> ModuleType | None:
        return self.module("hints")

    @property
    def probes(self) -> list:
        return list(self.attribute("probes", "PROBES", []))

    def reference(self):
        """The reference solution's modules (``grader.references.solution.ReferencePackage``)."""
        from grader.references.solution import reference_package

        return reference_package(self.solution_package, self.name)


def _valid_name(name: str) -> bool:
    return name.isidentifier() and name.isascii() and not name.startswith("_")


def find(name: str) -> Path | None:
    """The course root that has assignment ``name`` (the first one), or None."""
    if not _valid_name(name):
        raise ManifestError(f"invalid assignment name {name!r}")
    for root in course_roots():
        if (root / "grader" / "assignments" / name / MANIFEST).is_file():
            return root
    return None


def available() -> list[str]:
    """Names of the assignments of every course root (each folder of ``grader/assignments`` with a manifest)."""
    names = {p.parent.name for root in course_roots() for p in (root / "grader" / "assignments").glob(f"*/{MANIFEST}")
             if _valid_name(p.parent.name)}
    return sorted(names)


def load_assignment(name: str) -> Assignment:
    """Parse and validate ``grader/assignments/<name>/manifest.toml``."""
    _extend_path()
    root = find(name)
    if root is None:
        raise ManifestError(f"no manifest for assignment {name!r} (known: {', '.join(available()) or 'none'})")
    return _load(root, name)


def reload() -> None:
    """Forget the parsed manifests (they are kept for the life of the process): the next
    ``load_assignment`` reads them again (the service calls it when a manifest changed on disk)."""
    _load.cache_clear()


@lru_cache(maxsize=32)
def _load(root: Path, name: str) -> Assignment:
    path = root / "grader" / "assignments" / name / MANIFEST
    where = f"{name}/{MANIFEST}"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{where}: {exc}") from None
    if data.get("name", name) != name:
        raise ManifestError(f"{where}: name {data.get('name')!r} is not the folder's name {name!r}")
    try:
        assignment = Assignment.model_validate({"root": root, "name": name, **data})
    except ValidationError as exc:
        raise ManifestError(f"{where}: {exc}") from None
    for suite in assignment.suite_paths():
        if not suite.is_file():
            raise ManifestError(f"{where}: suite file {suite.name} does not exist in {name}/suites/")
    return assignment

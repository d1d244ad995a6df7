"""Hand-written submissions for grading tests: the solutions of an assignment with small edits, graded
(code questions only) and read test by test."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from support.paths import ROOT


def make_submission(tmp_path: Path, assignment: str = "assignment2", *, prepend: dict[str, str] | None = None,
                    append: dict[str, str] | None = None, replace: dict[str, tuple[str, str]] | None = None,
                    add: dict[str, str] | None = None, remove=()) -> Path:
    """A copy of ``solutions/<assignment>`` (package and model, no notebooks) edited: ``prepend`` / ``append``
    code to a package file (``{'layers.py': code}``), ``replace`` an exact text occurring once
    (``{'optim.py': (old, new)}``), ``add`` new package files, ``remove`` package files."""
    sub = tmp_path / "submission"
    shutil.copytree(ROOT / "solutions" / assignment, sub,
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.ipynb"))
    pkg = next(p for p in sub.iterdir() if p.is_dir())
    for rel, code in (prepend or {}).items():
        (pkg / rel).write_text(textwrap.dedent(code) + "\n" + (pkg / rel).read_text())
    for rel, code in (append or {}).items():
        (pkg / rel).write_text((pkg / rel).read_text() + "\n\n" + textwrap.dedent(code))
    for rel, (old, new) in (replace or {}).items():
        text = (pkg / rel).read_text()
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {rel}"
        (pkg / rel).write_text(text.replace(old, new))
    for rel, code in (add or {}).items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(textwrap.dedent(code))
    for rel in remove:
        (pkg / rel).unlink()
    return sub


def grade_code(submission: Path, assignment: str = "assignment2", **options):
    """The code questions of ``submission`` graded -> the Results."""
    from grader.pipeline import grade

    return grade(submission, assignment, notebooks=False, **options)


def by_test(results) -> dict[str, object]:
    """``{test name: its results entry}``."""
    return {t.extra_data["test"]: t for t in results.tests}


def failed(results) -> set[str]:
    return {name for name, t in by_test(results).items() if t.status != "passed"}


def full_marks(results) -> float:
    return sum(t.max_score for t in results.tests)

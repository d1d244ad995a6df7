"""Assignment 2's grades did not change when the repository was laid out per assignment: the solutions, the
starter and 33 broken variants of the solutions (one realistic mistake each, across all questions:
tests/grader/regression/variants.py) get exactly the scores and statuses, test by test, that the grader of
before the move gave them (tests/grader/regression/baseline.json, written by make_baseline.py)."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from support.paths import ROOT, SOLUTIONS, STARTER

sys.path.insert(0, str(Path(__file__).parent / "regression"))

from grading import grade_all  # noqa: E402
from variants import VARIANTS  # noqa: E402

pytestmark = pytest.mark.slow
BASELINE = json.loads((Path(__file__).parent / "regression" / "baseline.json").read_text())
# REGRESSION_ROOT: another checkout to compare with the baseline (its solutions/ and starter/ at its top)
OTHER = Path(os.environ["REGRESSION_ROOT"]) if os.environ.get("REGRESSION_ROOT") else None


@pytest.fixture(scope="module")
def graded():
    if OTHER is not None:
        return grade_all(OTHER, OTHER / "solutions", OTHER / "starter")
    return grade_all(ROOT, SOLUTIONS, STARTER)


def test_the_baseline_covers_every_variant_and_every_question():
    assert set(BASELINE) == {v.name for v in VARIANTS} | {"solutions", "starter"}
    assert {v.question for v in VARIANTS} == {f"Q{i}" for i in range(1, 9)}
    assert len(VARIANTS) >= 20


@pytest.mark.parametrize("name", sorted(BASELINE))
def test_grades_are_unchanged(graded, name):
    before, now = BASELINE[name], graded[name]
    differ = {t: (before["tests"].get(t), now["tests"].get(t))
              for t in sorted(set(before["tests"]) | set(now["tests"])) if before["tests"].get(t) != now["tests"].get(t)}
    assert not differ, f"{name}: tests graded differently (before, now): {differ}"
    assert now["total"] == before["total"]


@pytest.mark.parametrize("variant", [v.name for v in VARIANTS if not v.right])
def test_every_variant_loses_points(variant):
    """A variant that scores full marks tests nothing."""
    assert BASELINE[variant]["total"] < BASELINE["solutions"]["total"] == 100
    assert BASELINE["starter"]["total"] == 0


@pytest.mark.parametrize("variant", [v.name for v in VARIANTS if v.right])
def test_a_variant_right_after_all_scores_full_marks(variant):
    """Equal values in another shape earn the points (the grader before the move gave them zero)."""
    assert BASELINE[variant]["total"] == BASELINE["solutions"]["total"] == 100

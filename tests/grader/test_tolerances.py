"""Every tolerance of assignment 2 is calibrated against every known-correct formulation: the formulations of
tests/grader/calibration/ (other summation orders, the graph batch norm, the log-sum-exp softmax, loops,
Adam's efficient form), appended to the solutions, are graded by the real suites in the real sandbox under 50
salts (50 sets of hidden inputs): the same verdict, full marks, every time, and every comparison at least 10
times below its tolerance. The manifest records each tolerance and why."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.assignments import load_assignment
from support.salted import grade_under_salts
from support.submissions import make_submission

CALIBRATION = Path(__file__).parent / "calibration"
QUESTIONS = ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q8"]    # Q7 grades a saved model, no formulation
SALTS = range(50)
MARGIN = 10.0


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("calibration")
    sub = make_submission(tmp, append={"layers.py": (CALIBRATION / "alternative_layers.py").read_text(),
                                       "optim.py": (CALIBRATION / "alternative_optim.py").read_text()})
    with pytest.MonkeyPatch.context() as mp:
        return grade_under_salts(sub / "cs231n", tmp, QUESTIONS, SALTS, monkeypatch=mp)


@pytest.mark.slow
def test_correct_formulations_pass_every_test_under_every_salt(graded):
    outcomes, _, info = graded
    assert not info.broken
    failures = {(i, t): o.output[:300] for i, tests in outcomes.items() for t, o in tests.items() if not o.passed}
    assert not failures, failures
    expected = {t for q in load_assignment("assignment2").questions if q.id in QUESTIONS for t in q.tests}
    assert all(set(tests) == expected for tests in outcomes.values())


@pytest.mark.slow
def test_every_comparison_has_a_margin_below_its_tolerance(graded):
    _, errors, _ = graded
    assert len(errors) > 50
    tight = {k: f"{e:.2g}" for k, e in errors.items() if not e * MARGIN <= k[2]}
    assert not tight, tight


def test_the_manifest_records_every_tolerance_the_suites_use_and_why():
    a = load_assignment("assignment2")
    used = set()
    for path in a.suite_paths():
        text = path.read_text()
        used |= {part.split('"')[1] for part in text.split("tolerance(__file__, ")[1:]}
        literal = re.search(r'",\s*1e-\d+', text)     # checks.close(value, expected, "name", 1e-8)
        assert literal is None, f"{path.name}: a tolerance written as a literal ({literal.group()})"
    assert used == set(a.tolerances)
    for name, tol in a.tolerances.items():
        assert "worst" in tol.why, name

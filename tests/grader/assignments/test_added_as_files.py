"""An assignment added only as files (tests/fixtures/course: its solutions and its grader folder) is found,
generated, self-tested and graded end to end by the CLI; no generic module names a particular assignment."""
from __future__ import annotations

import json
import re
import shutil

import pytest

from support.course import grader_cli, make_course
from support.paths import ROOT

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return make_course(tmp_path_factory.mktemp("tiny"))


def test_the_added_assignment_is_listed_beside_the_repositorys(course):
    proc = grader_cli(course, "list")
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert "tiny" in names and "assignment2" in names


def test_its_starter_and_reference_outputs_are_generated_from_its_solutions(course):
    starter = (course / "starter" / "tiny" / "cs231n" / "ops.py").read_text()
    assert "np.sum" not in starter and "pass" in starter                 # the region was stripped
    assert (course / "starter" / "tiny" / "cs231n" / "helpers.py").is_file()   # provided files kept
    manifest = json.loads((course / "reference_outputs" / "tiny" / "manifest.json").read_text())
    assert manifest["assignment"] == "tiny" and set(manifest["questions"]["Q1"]["cases"]) == {"scale", "row_sums"}
    assert grader_cli(course, "refresh-references", "--check", "--assignment", "tiny").returncode == 0


def test_selftest_covers_it(course):
    proc = grader_cli(course, "selftest", "--assignment", "tiny")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "the solutions get full marks (5 / 5" in proc.stdout and "the starter gets zero" in proc.stdout


def test_grade_scores_a_partly_correct_submission_per_test(course, tmp_path):
    sub = tmp_path / "sub"
    shutil.copytree(course / "solutions" / "tiny", sub)
    ops = sub / "cs231n" / "ops.py"
    ops.write_text(ops.read_text().replace("np.sum(as_float(x), axis=1)", "np.sum(as_float(x), axis=0)"))
    out = tmp_path / "results.json"
    proc = grader_cli(course, "grade", str(sub), "--assignment", "tiny", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out.read_text())
    scores = {t["extra_data"]["test"]: t["score"] for t in results["tests"]}
    assert scores == {"test_scale": 2, "test_row_sums": 0}
    assert results["score"] == 2 and results["extra_data"]["max_score"] == 5
    assert results["extra_data"]["assignment"] == "tiny"


def test_code_two_assignments_ship_has_one_source(course):
    """tiny2 takes scale() from tiny's ops.py ([[shared]] keep) and links tiny's helpers.py: its starter has
    exactly that code, its solutions have no copy of it, and it grades on its own."""
    assert not (course / "solutions" / "tiny2" / "cs231n" / "ops.py").exists()
    ops = (course / "starter" / "tiny2" / "cs231n" / "ops.py").read_text()
    assert "def scale" in ops and "row_sums" not in ops and "import numpy as np" in ops
    helpers = course / "starter" / "tiny2" / "cs231n" / "helpers.py"
    assert not helpers.is_symlink() and "def as_float" in helpers.read_text()
    proc = grader_cli(course, "selftest", "--assignment", "tiny2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "the solutions get full marks (4 / 4" in proc.stdout


def test_an_unknown_or_ambiguous_assignment_is_a_clear_error(course, tmp_path):
    proc = grader_cli(course, "grade", str(course / "solutions" / "tiny"), "--out", str(tmp_path / "r.json"))
    assert proc.returncode == 2 and "--assignment" in proc.stderr       # two assignments: say which
    proc = grader_cli(course, "grade", str(course / "solutions" / "tiny"), "--assignment", "nope")
    assert proc.returncode == 2 and "no manifest for assignment 'nope'" in proc.stderr


# The generic modules: everything of grader/ and api/ outside the assignments' own folders.
GENERIC = [p for p in sorted((ROOT / "grader").rglob("*.py")) + sorted((ROOT / "api").rglob("*.py"))
           if "assignments" not in p.relative_to(ROOT).parts[1:2] or p.name == "__init__.py"
           and p.parent == ROOT / "grader" / "assignments"]


def _assignment_specific_names() -> set[str]:
    """Names only one assignment has: its name, its question suites, its test functions, its graded files
    and its cases (what a generic module must never mention)."""
    from grader.assignments import available, load_assignment

    names: set[str] = set()
    for name in available():
        a = load_assignment(name)
        names.add(name)
        names |= {q.module for q in a.questions} | {t for q in a.questions for t in q.tests}
        names |= set(a.cases.salted) | set(a.cases.fixed_cases)
        names |= {f for f in a.graded_files if "/" in f}      # classifiers/fc_net.py (layers.py is too common)
    return names


def test_no_generic_module_names_an_assignment_a_question_a_test_or_a_file_of_one():
    specific = _assignment_specific_names()
    assert "assignment2" in specific and "test_affine_forward" in specific     # the test can fail
    found = []
    for path in GENERIC:
        text = path.read_text()
        code = re.sub(r'(?s)""".*?"""', "", text)      # docstrings may give examples
        for name in specific:
            if re.search(rf"(?<![\w/.]){re.escape(name)}(?![\w])", code):
                found.append(f"{path.relative_to(ROOT)}: {name}")
    assert not found, found

"""Assignment 1's notebooks graded as a submission's are (kernel in the sandbox, Fashion-MNIST): the
solutions' run to the end and print the canonical results; the starter's stop at their first check.
One grade of each, for the module."""
from __future__ import annotations

import shutil

import nbformat
import pytest

from grader.assignments import load_assignment
from grader.pipeline import grade

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")]

NOTEBOOKS = ("knn", "svm", "softmax", "two_layer_net", "features")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    a1 = load_assignment("assignment1")
    out = {}
    for which, tree in (("solutions", a1.solution_tree()), ("starter", a1.starter_dir)):
        base = tmp_path_factory.mktemp(which)
        shutil.copytree(tree, base / "assignment1", ignore=shutil.ignore_patterns("__pycache__"))
        results = grade(base / "assignment1", "assignment1", artifacts_dir=base / "executed")
        out[which] = (results, base / "executed")
    return out


def _nb_tests(results):
    return {t.extra_data["test"]: t for t in results.tests if t.extra_data.get("question") == "NB"}


def _printed(folder, name) -> str:
    path = next(folder.rglob(f"{name}.ipynb"))
    nb = nbformat.read(path, as_version=4)
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def test_the_solutions_notebooks_run_to_the_end(runs):
    results, executed = runs["solutions"]
    tests = _nb_tests(results)
    assert len(tests) == len(NOTEBOOKS) and all(t.status == "passed" for t in tests.values()), \
        {k: t.output for k, t in tests.items() if t.status != "passed"}
    assert sum(t.score for t in tests.values()) == 5 and results.extra_data.max_score == 100
    knn = _printed(executed, "knn")
    assert knn.count("Good! The distance matrices are the same") == 2 and "best k = " in knn
    assert "Gradient difference: 0.000000" in _printed(executed, "svm")
    assert "sanity check: 2.302585" in _printed(executed, "softmax")
    assert "difference:  9.769848888397517e-10" in _printed(executed, "two_layer_net")


def test_the_starters_notebooks_stop_at_their_first_check(runs):
    results, _ = runs["starter"]
    tests = _nb_tests(results)
    assert len(tests) == len(NOTEBOOKS) and all(t.status == "failed" and t.score == 0 for t in tests.values())
    assert results.score == 0

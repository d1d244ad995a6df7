"""The students' public checks (grader/authoring/public_checks.py and student_check/): generated from the
manifest and the assignment's public_checks.py, run in the student's own Python without the grader.

On the solutions every check passes; on the starter every one fails with its hint; ``--zip`` puts in the
graded files, the notebooks and the saved model and nothing else, refuses an archive over the upload
limit. The archive it builds from the solutions is graded at full marks by the Gradescope autograder
(tests/grader/gradescope/test_run_autograder.py).
"""
from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from grader.assignments import available, load_assignment
from grader.authoring import public_checks
from grader.authoring.regions import AuthoringError
from support.student_check import check_results, run_check, student_tree

WITH_CHECKS = [n for n in available() if (load_assignment(n).grader_dir / public_checks.SOURCE).is_file()]
FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")


def _declared(assignment) -> dict[tuple[str, str], str]:
    text = (assignment.grader_dir / public_checks.SOURCE).read_text(encoding="utf-8")
    found, _ = public_checks.declared(text, assignment.name)
    return {(q, t): h for q, t, h in found}


@pytest.fixture(scope="module", params=WITH_CHECKS)
def assignment(request):
    return load_assignment(request.param)


@pytest.fixture(scope="module")
def trees(assignment, tmp_path_factory):
    base = tmp_path_factory.mktemp(f"student-{assignment.name}")
    return {w: student_tree(assignment, w, base / w) for w in ("solutions", "starter")}


def test_assignment2_has_public_checks():
    assert "assignment2" in WITH_CHECKS


def test_checks_are_the_manifests_tests(assignment):
    declared = _declared(assignment)
    assert set(declared) == {(q.id, t) for q in assignment.questions for t in q.tests}
    assert all(h.strip() for h in declared.values())


def test_the_starter_ships_the_generated_check(assignment):
    """The committed starter holds exactly the generated check package (make-starter is in sync)."""
    for rel, data in public_checks.load(assignment).files.items():
        assert (assignment.starter_dir / rel).read_bytes() == data, rel
    spec = json.loads((assignment.starter_dir / assignment.package / "check" / "spec.json").read_text())
    assert spec["graded_files"] == list(assignment.graded_files)
    assert [q["id"] for q in spec["questions"]] == [q.id for q in assignment.questions]


def test_the_check_never_imports_the_grader(assignment):
    for rel, data in public_checks.load(assignment).files.items():
        if rel.suffix == ".py":
            text = data.decode()
            assert "import grader" not in text and "from grader" not in text, rel


def test_solutions_pass_every_check(assignment, trees):
    if assignment.best_model is not None and not FASHION_MNIST.exists():
        pytest.skip("Fashion-MNIST is not installed (the best model's checks evaluate on its public test split)")
    results = check_results(trees["solutions"], assignment.package)
    failed = [(r["name"], r["message"]) for r in results if not r["passed"]]
    assert not failed
    assert {(r["question"], r["name"]) for r in results} == set(_declared(assignment))
    proc = run_check(trees["solutions"], assignment.package)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"{len(results)} of {len(results)} checks passed" in proc.stdout


def test_starter_fails_every_check_with_its_hint(assignment, trees):
    results = check_results(trees["starter"], assignment.package)
    declared = _declared(assignment)
    assert len(results) == len(declared)
    for r in results:
        assert not r["passed"], r["name"]
        assert r["message"], r["name"]
        assert r["hint"] == declared[(r["question"], r["name"])], r["name"]
    proc = run_check(trees["starter"], assignment.package)
    assert proc.returncode == 1
    for (q, name), hint in declared.items():
        assert f"FAILED {q} {name}: " in proc.stdout
        assert f"  hint: {hint}" in proc.stdout


def test_one_question_only(assignment, trees):
    first = assignment.questions[0]
    results = check_results(trees["starter"], assignment.package, first.id.lower())
    assert [r["name"] for r in results] and {r["question"] for r in results} == {first.id}
    proc = run_check(trees["starter"], assignment.package, "Q999")
    assert proc.returncode == 2 and "unknown question" in proc.stderr


def _zip(tree: Path, package: str, out: Path) -> subprocess.CompletedProcess:
    return run_check(tree, package, "--zip", "--out", str(out))


def test_zip_holds_the_graded_files_notebooks_and_model_only(assignment, trees, tmp_path):
    tree = trees["solutions"]
    (tree / "notes.txt").write_text("not part of the upload")
    (tree / assignment.package / "scratch.py").write_text("x = 1\n")
    out = tmp_path / "upload.zip"
    proc = _zip(tree, assignment.package, out)
    assert proc.returncode == 0, proc.stderr
    names = sorted(zipfile.ZipFile(out).namelist())
    expected = [f"{assignment.package}/{f}" for f in assignment.graded_files]
    expected += [f"{n.name}.ipynb" for n in assignment.notebooks]
    if assignment.best_model is not None:
        expected.append(assignment.best_model.file)
    assert names == sorted(expected)
    for name in names:                                  # it says what it put in
        assert name in proc.stdout


def test_zip_notes_what_is_missing(assignment, tmp_path):
    tree = student_tree(assignment, "starter", tmp_path / "tree")
    missing = assignment.graded_files[0]
    (tree / assignment.package / missing).unlink()
    out = tmp_path / "upload.zip"
    proc = _zip(tree, assignment.package, out)
    assert proc.returncode == 0, proc.stderr
    assert f"missing graded file {assignment.package}/{missing}" in proc.stdout
    assert f"{assignment.package}/{missing}" not in zipfile.ZipFile(out).namelist()


def test_zip_refuses_an_archive_over_the_upload_limit(assignment, tmp_path):
    tree = student_tree(assignment, "starter", tmp_path / "tree")
    spec_path = tree / assignment.package / "check" / "spec.json"
    spec = json.loads(spec_path.read_text())
    spec["max_upload_bytes"] = 200
    spec_path.write_text(json.dumps(spec))
    out = tmp_path / "upload.zip"
    proc = _zip(tree, assignment.package, out)
    assert proc.returncode == 1
    assert "over the upload limit" in proc.stderr
    assert not out.exists() and not list(tmp_path.glob(".upload.zip*"))


def test_load_refuses_checks_that_disagree_with_the_manifest(tmp_path):
    a = load_assignment("assignment2")
    text = (a.grader_dir / public_checks.SOURCE).read_text(encoding="utf-8")
    found, _ = public_checks.declared(text, "x")
    assert len(found) == sum(len(q.tests) for q in a.questions)
    with pytest.raises(AuthoringError, match="never import the grader"):
        public_checks.declared("from grader import checks\n", "x")
    with pytest.raises(AuthoringError, match="string literals"):
        public_checks.declared("@check('Q1', 'test_a', hint=make())\ndef f(): pass\n", "x")
    consts, _ = public_checks.declared("H = 'a' + 'b'\n@check('Q1', 'test_a', hint=H + 'c')\ndef f(): pass\n", "x")
    assert consts == [("Q1", "test_a", "abc")]


def test_hints_speak_as_the_hidden_tests_do(assignment):
    """Public hints reuse the hidden hints' sentences (the known-mistake texts of hints.py and the suites)."""
    hidden = "".join(p.read_text(encoding="utf-8") for p in [assignment.grader_dir / "hints.py",
                                                              *assignment.suite_paths()] if p.is_file())
    hidden = " ".join(hidden.split()).replace('" "', "")
    hints = set(_declared(assignment).values())
    reused = [h for h in hints if any(part.strip() and part.strip() in hidden for part in h.split("; "))]
    assert len(reused) >= 3, sorted(hints)

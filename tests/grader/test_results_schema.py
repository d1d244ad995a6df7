"""Every path's results.json follows Gradescope's results format (tests/support/gradescope_schema.py): the
grader's CLI, the grading service (the file its worker keeps in the job's folder) and the Gradescope export
(a grade, and a grader failure). The schema itself is checked to refuse what the format does not allow."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from grader.gradescope import export, results as gs_results
from support.gradescope import make_root, run_autograder
from support.gradescope_schema import problems
from support.paths import ROOT, STARTER

A = "assignment2"


def _cli(submission, out, *extra) -> dict:
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", str(submission), "--assignment", A, "--out",
                           str(out), *extra], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={"OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(out.read_text())


def test_the_schema_refuses_what_gradescope_does_not_allow():
    good = {"score": 1.0, "tests": [{"name": "t", "score": 1.0, "max_score": 1.0, "status": "passed"}],
            "leaderboard": [{"name": "Accuracy", "value": 0.9, "order": "desc"}], "output_format": "text"}
    assert problems(good) == []
    for bad in ({**good, "scores": 1.0}, {**good, "visibility": "students"}, {**good, "output_format": "pdf"},
                {**good, "tests": [{"name": "t", "status": "ok"}]}, {**good, "tests": [{"name": "t", "points": 1}]},
                {**good, "leaderboard": [{"name": "Accuracy"}]}, {**good, "score": "1"}):
        assert problems(bad), bad


def test_cli_results_of_a_refused_archive(tmp_path):
    bad = tmp_path / "upload.zip"
    bad.write_bytes(b"not a zip")
    results = _cli(bad, tmp_path / "results.json")
    assert results["tests"] and problems(results) == []


@pytest.mark.slow
def test_cli_results_of_the_starter(tmp_path):
    results = _cli(STARTER, tmp_path / "results.json", "--no-notebooks")
    assert len(results["tests"]) > 50 and problems(results) == []


def test_gradescope_results_of_a_grade_and_of_a_failure(tmp_path):
    bad = tmp_path / "sub"
    bad.mkdir()
    (bad / "upload.zip").write_bytes(b"not a zip")
    root = make_root(export.export(A, tmp_path / "autograder.zip"), bad)
    try:
        done = run_autograder(root, timeout=300)
        assert done.results["tests"] and done.results["output_format"] == "text"
        assert problems(done.results) == []
    finally:
        shutil.rmtree(root, ignore_errors=True)
    failed = gs_results.failure("boom", execution_time=1.0)
    assert problems(failed) == []
    leader = gs_results.for_gradescope({**done.results, "extra_data": {"measures": {"Accuracy": 0.5}}}, {})
    assert leader["leaderboard"] and problems(leader) == []


@pytest.mark.slow
def test_service_results(tmp_path):
    """The real service grades an upload; the results.json its worker wrote follows the format."""
    from support.servers import Service, upload, wait_for_status

    archive = tmp_path / "upload.zip"
    shutil.make_archive(str(archive.with_suffix("")), "zip", STARTER)
    service = Service(tmp_path / "data").start()
    try:
        with service.client(service.student_token) as client:
            r = upload(client, archive)
            assert r.status_code in (200, 201, 202), r.text
            body = wait_for_status(client, r.json()["id"], timeout=300)
            assert body["status"] == "graded", body
    finally:
        service.stop()
    files = sorted((tmp_path / "data").rglob("results.json"))
    assert files, "the service kept no results.json"
    for path in files:
        results = json.loads(path.read_text())
        assert results["tests"] and problems(results) == [], path

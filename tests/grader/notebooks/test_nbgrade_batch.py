"""Batch grading: a folder of zips and folders, graded in parallel subprocesses, a CSV, re-runs that skip.

The real single-submission grade (``python -m grader grade``) runs for each submission; the failure-isolation
test swaps in commands that crash or hang for some submissions (a grader process dying is exactly what
the batch must survive) and the real grade for the others.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import authoring, batch
from grader.assignments import load_assignment

from support.paths import ROOT  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap (bwrap) is not installed"),
]


@pytest.fixture(scope="module")
def zips(tmp_path_factory) -> dict[str, Path]:
    return authoring.build_assignment_zips(tmp_path_factory.mktemp("zips"), load_assignment("assignment2"))


def code_only_copy(src_zip: Path, dest: Path) -> Path:
    """``src_zip`` without its notebooks (keeps each grade a few seconds)."""
    import zipfile

    with zipfile.ZipFile(src_zip) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if not info.filename.endswith(".ipynb"):
                zout.writestr(info, zin.read(info))
    return dest


def read_csv(path: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    with open(path, newline="") as f:
        header = next(csv.reader(f))
    return header, {r["submission"]: r for r in rows}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader.batch", *args], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, OPENBLAS_NUM_THREADS="1"), timeout=600)


def test_batch_grades_skips_and_forces(tmp_path, zips):
    subs = tmp_path / "subs"
    subs.mkdir()
    code_only_copy(zips["solutions"], subs / "alice.zip")
    code_only_copy(zips["starter"], subs / "bob.zip")
    shutil.copytree(ROOT / "solutions" / "assignment2" / "cs231n", subs / "carol" / "cs231n",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "solutions" / "assignment2" / "best_model.npz", subs / "carol")
    (subs / "dave.zip").write_bytes(b"this is not a zip archive")
    (subs / "notes.txt").write_text("not a submission")
    out = tmp_path / "out"

    proc = run_cli(str(subs), "--assignment", "assignment2", "--out-dir", str(out), "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "4/4" in proc.stderr and ("sub/s" in proc.stderr or "s/sub" in proc.stderr), "tqdm: count and rate"
    assert "4 submissions: 4 graded, 0 skipped, 0 failed" in proc.stdout

    header, rows = read_csv(out / "grades.csv")
    questions = json.loads((out / "alice" / "results.json").read_text())["extra_data"]["questions"]
    assert header == ["submission", "status", "score", "max_score", *[q["id"] for q in questions], "seconds",
                      "message"]
    assert sorted(rows) == ["alice", "bob", "carol", "dave"]
    # The uploads hold no notebooks: every code question earns full marks, the notebooks (NB) none of theirs.
    assert questions[-1]["id"] == "NB" and questions[-1]["max_score"] > 0
    code_full = f"{sum(q['max_score'] for q in questions[:-1]):g}"
    assert float(rows["alice"]["max_score"]) == sum(q["max_score"] for q in questions)
    assert rows["alice"]["score"] == code_full and rows["carol"]["score"] == code_full
    assert all(rows["alice"][q["id"]] == f"{q['max_score']:g}" for q in questions[:-1])
    assert rows["alice"]["NB"] == rows["carol"]["NB"] == rows["dave"]["NB"] == "0"
    assert rows["bob"]["score"] == "0" and rows["bob"]["status"] == "graded"
    assert rows["dave"]["score"] == "0" and "could not be unpacked" in rows["dave"]["message"]
    for name in rows:
        assert json.loads((out / name / "results.json").read_text())["extra_data"]["assignment"] == "assignment2"
    first = (out / "alice" / "results.json").stat().st_mtime_ns

    # Re-run: nothing to do.
    started = time.monotonic()
    proc = run_cli(str(subs), "--assignment", "assignment2", "--out-dir", str(out), "--jobs", "2", "--no-progress")
    assert proc.returncode == 0 and "0 graded, 4 skipped" in proc.stdout, proc.stdout + proc.stderr
    assert time.monotonic() - started < 15
    assert (out / "alice" / "results.json").stat().st_mtime_ns == first
    assert read_csv(out / "grades.csv")[1]["alice"]["score"] == code_full, "skipped rows keep their grades"

    # A changed submission is graded again, the others are not; --force grades everything.
    code_only_copy(zips["starter"], subs / "alice.zip")
    summary = batch.grade_batch(subs, assignment="assignment2", out_dir=out, jobs=2, progress=False)
    assert {o.submission.name: o.status for o in summary.outcomes} == {
        "alice": "graded", "bob": "skipped", "carol": "skipped", "dave": "skipped"}
    assert read_csv(out / "grades.csv")[1]["alice"]["score"] == "0"
    summary = batch.grade_batch(subs, assignment="assignment2", out_dir=out, jobs=2, progress=False, force=True)
    assert summary.count("graded") == 4


def test_a_crashing_or_hanging_grade_never_stops_the_batch(tmp_path, zips):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("crash", "hang", "ok"):
        code_only_copy(zips["solutions"], subs / f"{name}.zip")

    def command(sub, assignment, results_path):
        if sub.name == "crash":
            return [sys.executable, "-c", "import os; print('boom'); os._exit(3)"]
        if sub.name == "hang":
            return [sys.executable, "-c", "import time; time.sleep(600)"]
        return batch.grade_command(sub, assignment, results_path)

    out = tmp_path / "out"
    started = time.monotonic()
    summary = batch.grade_batch(subs, assignment="assignment2", out_dir=out, jobs=3, timeout=12, progress=False,
                                command=command)
    assert time.monotonic() - started < 60
    status = {o.submission.name: o.status for o in summary.outcomes}
    assert status == {"crash": "failed", "hang": "timeout", "ok": "graded"}
    _, rows = read_csv(out / "grades.csv")
    assert rows["crash"]["status"] == "failed" and "status 3" in rows["crash"]["message"]
    assert "boom" in (out / "crash" / "grade.log").read_text()
    assert rows["hang"]["status"] == "timeout" and rows["hang"]["score"] == ""
    assert rows["ok"]["score"] != "" and rows["ok"]["NB"] == "0"   # full marks but for the missing notebooks
    assert float(rows["ok"]["score"]) == float(rows["ok"]["max_score"]) - load_assignment("assignment2").notebook_points
    # the failed ones are tried again by the next run, the graded one is not
    summary = batch.grade_batch(subs, assignment="assignment2", out_dir=out, jobs=3, timeout=12, progress=False)
    assert {o.submission.name: o.status for o in summary.outcomes} == {
        "crash": "graded", "hang": "graded", "ok": "skipped"}


def test_find_submissions_names(tmp_path):
    for name in ("a.zip", "b.tar.gz", "c.tgz", "d.txt", ".hidden.zip", "a"):
        path = tmp_path / name
        path.mkdir() if name == "a" else path.write_bytes(b"x")
    (tmp_path / "e").mkdir()
    found = {s.name: s.path.name for s in batch.find_submissions(tmp_path, exclude=[tmp_path / "e"])}
    assert found == {"a.zip": "a.zip", "a": "a", "b": "b.tar.gz", "c": "c.tgz"}


def test_csv_cells_a_spreadsheet_would_evaluate_stay_text(tmp_path):
    """Submission names are file names the student chose, and messages quote the grade's log: a cell that
    starts like a formula gets a leading ' (CSV injection), numbers are written as numbers."""
    from grader.text import csv_cell

    results = {"score": 3.5, "extra_data": {"max_score": 10.0, "status": "ok",
                                            "questions": [{"id": "Q1", "score": 3.5}, {"id": "@Q2", "score": "=2+2"}]}}
    names = ["=HYPERLINK(\"http://evil\",\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "plain", "a=b"]
    outcomes = [batch.Outcome(batch.Submission(n, tmp_path / "x"), "graded", 1.0, "", results) for n in names]
    outcomes.append(batch.Outcome(batch.Submission("zz", tmp_path / "y"), "failed", 2.0, "=cmd|' /C calc'!A0"))
    header, rows = read_csv(batch.write_csv(outcomes, tmp_path / "grades.csv"))
    assert header == ["submission", "status", "score", "max_score", "Q1", "'@Q2", "seconds", "message"]
    assert set(rows) == {"'" + n for n in names[:6]} | {"plain", "a=b", "zz"}
    assert rows["'=HYPERLINK(\"http://evil\",\"x\")"]["score"] == "3.5" and rows["plain"]["Q1"] == "3.5"
    assert rows["plain"]["max_score"] == "10" and rows["plain"]["'@Q2"] == "'=2+2"
    assert rows["zz"]["message"] == "'=cmd|' /C calc'!A0" and rows["zz"]["status"] == "failed"
    for row in rows.values():
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    assert csv_cell(-1.5) == "'-1.5" and csv_cell(None) == "" and csv_cell("ok \udcff") == "ok ?"

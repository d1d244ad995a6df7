"""The Gradescope export (grader/gradescope/): what the zip holds, the results it writes, its failure paths.
The whole autograder graded in a simulated root is tests/grader/gradescope/test_run_autograder.py."""
from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
import zipfile

import pytest

from grader.assignments import available
from grader.gradescope import export, results, run
from support.gradescope import make_root, run_autograder
from support.paths import ROOT

A = "assignment2"


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "autograder.zip"
    proc = subprocess.run([sys.executable, "-m", "grader", "export-gradescope", "--assignment", A, "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return out


def test_the_zip_holds_what_gradescope_and_the_grader_need(autograder):
    with zipfile.ZipFile(autograder) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        names = set(infos)
        for script in ("setup.sh", "run_autograder"):
            assert stat.S_IMODE(infos[script].external_attr >> 16) == 0o755
            assert zf.read(script).startswith(b"#!/usr/bin/env bash\n")
        assert f"--assignment {A}".encode() in zf.read("run_autograder")
        assert b"chmod 700" in zf.read("setup.sh") and b"bubblewrap" in zf.read("setup.sh")
        reqs = zf.read("requirements.txt").decode().split()
    assert {"requirements.txt", "constraints.txt", "pyproject.toml", "grader-secret/secret",
            "grader/__main__.py", "grader/gradescope/run.py", "grader/sandbox/inside/worker.py",
            f"grader/assignments/{A}/manifest.toml", f"grader/assignments/{A}/suites/q1_fc_layers.py",
            f"reference_outputs/{A}/manifest.json", f"solutions/{A}/cs231n/layers.py",
            f"starter/{A}/cs231n/layers.py", f"starter/{A}/cs231n/check/tests.py"} <= names
    assert any(r.startswith("numpy") for r in reqs) and any(r.startswith("nbclient") for r in reqs)
    assert not any(r.startswith(("fastapi", "sqlalchemy")) for r in reqs)       # the service stays out
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert not any(n.startswith(("api/", "tests/", "bench/")) for n in names)
    for other in set(available()) - {A}:
        assert not any(f"/{other}/" in n for n in names), other


def test_the_scripts_are_valid_bash(autograder, tmp_path):
    with zipfile.ZipFile(autograder) as zf:
        for script in ("setup.sh", "run_autograder"):
            (tmp_path / script).write_bytes(zf.read(script))
            proc = subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True, text=True)
            assert proc.returncode == 0, proc.stderr


def test_each_export_has_its_own_secret_and_is_otherwise_reproducible(tmp_path):
    a, b = (export.export(A, tmp_path / f"{k}.zip") for k in "ab")
    secrets = [zipfile.ZipFile(p).read("grader-secret/secret") for p in (a, b)]
    assert len(secrets[0]) == 32 and secrets[0] != secrets[1]
    c, d = (export.export(A, tmp_path / f"{k}.zip", secret=b"s" * 32) for k in "cd")
    assert c.read_bytes() == d.read_bytes()


def test_results_for_gradescope_use_text_and_publish_the_measures():
    graded = {"score": 3.0, "execution_time": 1.0, "output": "<b>student text</b>", "visibility": "visible",
              "stdout_visibility": "hidden", "tests": [],
              "extra_data": {"measures": {"Best model accuracy": 0.87}, "sandbox": {"tier": "setpriv"}}}
    out = results.for_gradescope(graded, {"tier": "setpriv", "network": "host"})
    assert out["output_format"] == out["test_output_format"] == out["test_name_format"] == "text"
    assert out["leaderboard"] == [{"name": "Best model accuracy", "value": 0.87, "order": "desc"}]
    assert out["extra_data"]["isolation"]["tier"] == "setpriv"
    assert "leaderboard" not in results.for_gradescope({**graded, "extra_data": {}}, {})


def test_a_grader_failure_is_a_hidden_zero_with_its_reason(tmp_path):
    (tmp_path / "source").mkdir()
    (tmp_path / "submission").mkdir()
    assert run.main(["--root", str(tmp_path), "--assignment", "no_such_assignment"]) == 0
    written = json.loads((tmp_path / "results" / "results.json").read_text())
    assert written["score"] == 0 and written["tests"] == []
    assert written["visibility"] == "hidden" and written["stdout_visibility"] == "hidden"
    assert "no_such_assignment" in written["output"] and written["extra_data"]["grader_failed"] is True


def test_run_autograder_writes_results_even_when_python_is_missing(autograder, tmp_path):
    (tmp_path / "sub").mkdir()
    root = make_root(autograder, tmp_path / "sub")
    try:
        done = run_autograder(root, python=str(tmp_path / "no-python"), timeout=60)
        assert done.proc.returncode == 0
        assert done.results["score"] == 0 and done.results["visibility"] == "hidden"
        assert "could not run" in done.results["output"]
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_submission_is_the_folder_or_its_only_archive(tmp_path):
    (tmp_path / "cs231n").mkdir()
    assert run.submission_path(tmp_path) == tmp_path
    other = tmp_path / "zipped"
    other.mkdir()
    (other / "upload.zip").write_bytes(b"PK")
    assert run.submission_path(other) == other / "upload.zip"


def test_lock_down_makes_the_source_and_the_secret_root_only(tmp_path):
    source = tmp_path / "source"
    (source / "grader-secret").mkdir(parents=True)
    (source / "grader-secret" / "secret").write_bytes(b"x" * 32)
    source.chmod(0o755)
    secret_dir = run.lock_down(source)
    assert stat.S_IMODE(source.stat().st_mode) == 0o700
    assert stat.S_IMODE(secret_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((secret_dir / "secret").stat().st_mode) == 0o600


@pytest.mark.parametrize("name", sorted(set(available()) - {A}))
def test_every_assignment_exports_with_its_own_package(tmp_path, name):
    """The export is generic: another assignment (the MLP's package is ``common``) ships its own folders, and
    the files it shares with another assignment come with that one's solutions."""
    from grader.assignments import load_assignment

    a = load_assignment(name)
    names = set(zipfile.ZipFile(export.export(name, tmp_path / "autograder.zip")).namelist())
    assert f"grader/assignments/{name}/manifest.toml" in names
    assert f"starter/{name}/{a.package}/check/spec.json" in names
    assert any(n.startswith(f"reference_outputs/{name}/") for n in names)
    for shared in {s.source for s in a.shared}:
        assert any(n.startswith(f"solutions/{shared}/") for n in names)
    assert f"--assignment {name}".encode() in zipfile.ZipFile(tmp_path / "autograder.zip").read("run_autograder")

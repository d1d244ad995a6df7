"""schemathesis against the service's OpenAPI document, every check (no 5xx, answers that conform to the
schema: status codes, content types, headers and bodies; valid data accepted, invalid data refused; the
stateful phase follows the upload's link to the submission).

Short by default (CI); longer on demand:

    HOSTILE_FUZZ_SECONDS=600 HOSTILE_FUZZ_EXAMPLES=300 .venv/bin/python -m pytest tests/hostile/test_openapi_fuzz.py

One schemathesis worker: with several threads, Python 3.11's ``ast.parse`` (which Hypothesis calls to describe
its filters) can fail with "AST constructor recursion depth mismatch" (CPython gh-106905), an error of the
tool, not of the service.

The service runs without workers (uploads are recorded and queued, not graded), as the instructor and as a
student (whose answers differ: 403 on the gradebook, only their own submissions).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.servers import Service

pytestmark = pytest.mark.slow
HERE = Path(__file__).parent
SECONDS = os.environ.get("HOSTILE_FUZZ_SECONDS", "15")
EXAMPLES = os.environ.get("HOSTILE_FUZZ_EXAMPLES", "15")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    svc = Service(tmp_path_factory.mktemp("fuzz") / "svc", workers=0,
                  env={"GRADER_MAX_IN_FLIGHT": 1_000_000}).start()
    yield svc
    svc.stop()


def schemathesis() -> list[str]:
    exe = Path(sys.executable).with_name("schemathesis")
    if not exe.exists():
        found = shutil.which("schemathesis")
        if found is None:
            pytest.fail("schemathesis is not installed (it is in the project's test extra)")
        exe = Path(found)
    return [str(exe)]


@pytest.mark.parametrize("who", ["instructor", "student"])
def test_no_server_error_and_no_schema_violation(service, tmp_path, who):
    token = service.instructor_token if who == "instructor" else service.student_token
    cmd = schemathesis() + ["--config-file", str(HERE / "schemathesis.toml"), "run", service.url + "openapi.json",
                            "--checks", "all", "--header", f"Authorization: Bearer {token}",
                            "--max-examples", EXAMPLES, "--max-time", SECONDS, "--workers", "1", "--no-color",
                            "--generation-database", "none", "--report", "junit",
                            "--report-dir", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=float(SECONDS) * 3 + 120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-8000:]
    assert "5xx" not in out.split("SUMMARY")[-1] or "Server error" not in out, out[-8000:]
    assert "no issues found" in out or " passed" in out, out[-3000:]

"""What an operator reads and runs: the roster format (as `python -m api import-roster` accepts it and as
the READMEs document it), `make serve`'s PORT, and the workers' stop grace period in docker-compose.yml."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from api.settings import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()
API_README = (REPO_ROOT / "api" / "README.md").read_text()
COMPOSE = (REPO_ROOT / "docker-compose.yml").read_text()


def service_section(text: str) -> str:
    return text.split("## The grading service", 1)[1].split("\n## ", 1)[0]


def import_roster(tmp_path, text: str) -> subprocess.CompletedProcess:
    roster = tmp_path / "roster.csv"
    roster.write_text(text, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "api", "import-roster", str(roster), "--data-dir",
                           str(tmp_path / "data")], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


def created(proc: subprocess.CompletedProcess) -> dict[str, str]:
    lines = proc.stdout.strip().splitlines()
    assert lines[0] == "name,role,token", proc.stdout
    return {line.split(",")[0]: line.split(",")[1] for line in lines[1:]}


def documented_roster(text: str) -> str:
    """The roster example of a README: the code block that starts with the header row."""
    m = re.search(r"```\n(name,role\n(?:[^`\n]+\n)+)```", text)
    assert m, "no roster example starting with its header row 'name,role'"
    return m.group(1)


@pytest.mark.parametrize("readme", ["README.md", "api/README.md"])
def test_the_documented_roster_is_what_the_importer_takes(readme, tmp_path):
    text = service_section(README) if readme == "README.md" else API_README
    assert "name[,role] per line" not in text
    example = documented_roster(text)
    proc = import_roster(tmp_path, example)
    assert proc.returncode == 0, proc.stderr
    expected = {line.split(",")[0]: line.split(",")[1] for line in example.strip().splitlines()[1:]}
    assert created(proc) == expected and "name" not in created(proc)


def test_the_importer_skips_a_header_row_wherever_it_repeats_and_refuses_a_file_without_one(tmp_path):
    proc = import_roster(tmp_path, "\ufeffName , Role\ncarol,\n\nname,role\ndave,instructor\n")
    assert proc.returncode == 0, proc.stderr
    assert created(proc) == {"carol": "student", "dave": "instructor"}     # no user called 'name'
    proc = import_roster(tmp_path, "erin,student\n")
    assert proc.returncode == 2 and "header" in proc.stderr and "name,role" in proc.stderr, proc.stderr
    assert created(import_roster(tmp_path, "name\nfrank\n")) == {"frank": "student"}   # role column optional
    helptext = subprocess.run([sys.executable, "-m", "api", "import-roster", "--help"], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=60).stdout
    assert "name,role" in helptext and "header" in helptext


def test_make_serve_port_is_documented_and_is_what_the_makefile_reads():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "--port $${PORT:-8000}" in makefile
    section = service_section(README)
    assert "make serve PORT=" in section and "8000" in section
    assert "PORT" in API_README


def _seconds(duration: str) -> float:
    """A compose duration: 1680s, 28m, 1h2m3s, 90 (seconds)."""
    duration = duration.strip().strip("'\"")
    if re.fullmatch(r"\d+(\.\d+)?", duration):
        return float(duration)
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s|us)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    scale = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6}
    return sum(float(n) * scale[u] for n, u in parts)


def test_the_workers_stop_grace_period_covers_a_whole_job():
    """SIGTERM lets an RQ worker finish its grade; docker kills it when the grace period ends. An RQ job may
    run GRADER_JOB_TIMEOUT + 120 s (api/queue/rq.py), so the grace period must be at least that."""
    worker = COMPOSE.split("\n  worker:", 1)[1].split("\n  api:", 1)[0].split("\nvolumes:", 1)[0]
    grace = re.search(r"^\s+stop_grace_period:\s*(\S+)", worker, re.M)
    assert grace, "the worker service has no stop_grace_period"
    timeout = float(re.search(r'GRADER_JOB_TIMEOUT:\s*"?(\d+)', COMPOSE).group(1))
    assert _seconds(grace.group(1)) >= timeout + 120
    comment = worker[:grace.start()].rsplit("\n    stop", 1)[0][-800:]
    assert "GRADER_JOB_TIMEOUT" in comment                        # the reason is written beside it
    # workers must not wait for a healthy api: its /healthz is degraded while jobs wait without a worker
    assert re.search(r"\n      api:\n        condition: service_started\n", worker), worker

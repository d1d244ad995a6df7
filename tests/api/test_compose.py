"""docker-compose.yml validates (`docker-compose config`) and describes the deployment the service needs."""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from api.settings import REPO_ROOT

COMPOSE = shutil.which("docker-compose")
SECRET = "test-secret-0123456789abcdefghij"   # what an operator puts in .env (GRADER_SECRET)


def compose_config(**env: str) -> subprocess.CompletedProcess:
    """``docker-compose config`` with the environment ``env`` (on top of ours, GRADER_SECRET removed)."""
    base = {k: v for k, v in os.environ.items() if k != "GRADER_SECRET"}
    return subprocess.run([COMPOSE, "-f", "docker-compose.yml", "config"], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60, env=dict(base, **env))


def sections(text: str) -> dict[str, dict[str, str]]:
    """Top-level section -> {entry name: its indented text}, from `docker-compose config` output."""
    out: dict[str, dict[str, str]] = {}
    top = name = None
    for line in text.splitlines():
        if re.match(r"^\S.*:$", line):
            top, name = line[:-1], None
            out[top] = {}
        elif top and re.match(r"^  \S.*:", line):
            name = line.strip().split(":")[0]
            out[top][name] = ""
        elif top and name:
            out[top][name] += line + "\n"
    return out


@pytest.mark.skipif(COMPOSE is None, reason="docker-compose binary not installed")
def test_compose_file_validates_and_has_the_services():
    proc = compose_config(GRADER_SECRET=SECRET)
    assert proc.returncode == 0, proc.stderr                         # `config` validates the file
    resolved = sections(proc.stdout)
    services, volumes = resolved["services"], resolved["volumes"]
    assert set(services) == {"api", "worker", "redis", "postgres"}
    assert {"pgdata", "grader-data", "datasets"} <= set(volumes)
    assert all("healthcheck:" in body for body in services.values())
    worker = services["worker"]
    for opt in ("seccomp=unconfined", "apparmor=unconfined", "systempaths=unconfined"):
        assert opt in worker                                          # what bubblewrap needs, and no more
    assert "privileged" not in proc.stdout and "cap_add" not in proc.stdout
    assert "container_name" not in worker and "ports:" not in worker  # scalable: --scale worker=N
    assert "GRADER_QUEUE: rq" in services["api"] and "GRADER_QUEUE: rq" in worker
    assert "grader-data" in services["api"] and "grader-data" in worker  # uploads shared api <-> workers
    assert "ping" in worker and "--sandbox" in worker                  # the worker's health = sandbox works


@pytest.mark.skipif(COMPOSE is None, reason="docker-compose binary not installed")
@pytest.mark.skipif((REPO_ROOT / ".env").exists(), reason="a local .env sets the compose variables")
def test_all_workers_share_one_required_grader_secret():
    """The hidden inputs derive from the grader's secret: every worker gets the same GRADER_SECRET from the
    operator's environment / .env, the file refuses to start without one, and the api (which does not grade)
    does not get it."""
    missing = compose_config()
    assert missing.returncode != 0 and "set GRADER_SECRET" in missing.stderr
    proc = compose_config(GRADER_SECRET=SECRET)
    assert proc.returncode == 0, proc.stderr
    services = sections(proc.stdout)["services"]
    assert f"GRADER_SECRET: {SECRET}" in services["worker"]
    assert "GRADER_SECRET" not in services["api"] and "GRADER_QUEUE: rq" in services["worker"]
    assert "GRADER_SECRET_DIR" not in proc.stdout                     # no per-container secret file instead


@pytest.mark.skipif(COMPOSE is None, reason="docker-compose binary not installed")
def test_notebook_setting_agrees_and_the_job_timeout_fits_the_manifest():
    """api (its assignments' questions) and workers (what they grade) agree on GRADER_GRADE_NOTEBOOKS, and
    a grade is not killed before the manifest's own limits (code checks + every notebook) are used up, for
    every assignment."""
    from grader.assignments import available, load_assignment

    proc = compose_config(GRADER_SECRET=SECRET)
    assert proc.returncode == 0, proc.stderr
    services = sections(proc.stdout)["services"]
    setting = [re.search(r"GRADER_GRADE_NOTEBOOKS: [\"']?(\w+)", services[s]) for s in ("api", "worker")]
    assert all(setting) and setting[0].group(1) == setting[1].group(1) == "true"
    budget = max(a.limits.total_time + sum(nb.total_timeout for nb in a.notebooks)
                 for a in map(load_assignment, available()))
    timeouts = {float(re.search(r"GRADER_JOB_TIMEOUT: [\"']?([\d.]+)", services[s]).group(1))
                for s in ("api", "worker")}
    assert len(timeouts) == 1 and timeouts.pop() >= budget + 60

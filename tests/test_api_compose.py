"""docker-compose.yml validates (`docker-compose config`) and describes the deployment the service needs."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from api.settings import REPO_ROOT

COMPOSE = shutil.which("docker-compose")


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
    proc = subprocess.run([COMPOSE, "-f", "docker-compose.yml", "config"], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60)
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

"""Hostile submissions uploaded through the HTTP API to a real service with real workers (tests/hostile/conftest.py).

Each case (``support.hostile_cases.CASES``: resources, escape and leak, forgery, network, archives, notebooks)
must end with: the score the same code earns without the attack (no unearned point, no honest point lost), no
byte of anything not the student's own in what the student or the instructor sees, the grade within its time
bound and recorded exactly once, the service and both workers healthy, and the student's next honest
submission graded at full marks. A failure names the case and the property it broke.
"""
from __future__ import annotations

import os

import pytest

from support.hostile_battery import WORKERS, verify
from support.hostile_cases import CASES

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", [c.name for c in CASES], ids=[f"{c.group}-{c.name}" for c in CASES])
def test_hostile_submission(battery, name):
    verify(battery, name)


def test_nothing_outlives_the_battery(battery):
    """After every case: no grader or sandbox process is left below the service, only its workers."""
    for c in CASES:
        battery.outcome(c.name)
    import time
    deadline = time.monotonic() + 30
    while True:
        left = below(battery.svc.proc.pid)
        extra = [cmd for cmd in left.values() if " -m api worker" not in cmd]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert not extra, f"processes left after the battery: {extra}"
    assert sum(" -m api worker" in cmd for cmd in left.values()) == WORKERS, left


def below(pid: int) -> dict[int, str]:
    """Every living process below ``pid``: pid -> command line."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                if fields[0] != "Z":
                    parents[int(entry)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                pass
    found, frontier = {}, [pid]
    while frontier:
        frontier = [p for p, pp in parents.items() if pp in frontier]
        for p in frontier:
            try:
                with open(f"/proc/{p}/cmdline", "rb") as fh:
                    found[p] = fh.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                pass
    return found

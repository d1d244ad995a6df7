"""Grading yields the CPU to the requests: the CPU policy the real grader actually runs under.

A local worker starts ``python -m grader grade`` under SCHED_IDLE (``GRADER_GRADER_SCHED_IDLE``, the default)
or with a niceness (``GRADER_GRADER_NICE`` when it is off). The grader stays in its worker's session (its own
process group only): a new session would be a new autogroup of Linux's scheduler, which shares the CPU with
the whole service as an equal whatever the grader's policy. The worker itself keeps the normal policy (it
holds the database's write lock for a moment at every claim, heartbeat and result). Everything is read from
/proc and ``os.sched_getscheduler`` of the running processes during a real grade.
"""
from __future__ import annotations

import os
import time

import pytest

from support.servers import Service, make_zips, upload, wait_for_status

pytestmark = pytest.mark.serial      # a SCHED_IDLE grader needs idle CPU: not beside other tests


def stat_fields(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name: [0] state, [1] ppid, [2] pgrp, [3] session, [16] nice."""
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()


def descendants(pid: int) -> list[int]:
    """Every living process below ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(stat_fields(int(entry))[1])
            except (OSError, IndexError, ValueError):
                pass
    found, frontier = [], [pid]
    while frontier:
        children = [p for p, pp in parents.items() if pp in frontier]
        found += children
        frontier = children
    return found


def watch_grade(svc: Service, archive) -> tuple[dict, int, dict[int, tuple[str, int, int, int, int]]]:
    """Upload ``archive``, and while it is graded record (command, policy, process group, session, nice) of
    the worker's descendants; returns the final submission, the worker pid and the records by pid."""
    seen: dict[int, tuple[str, int, int, int, int]] = {}
    with svc.client(svc.student_token) as student, svc.client(svc.instructor_token) as teacher:
        sid = upload(student, archive).json()["id"]
        wait_for_status(student, sid, ("running", "graded", "error"), timeout=60, interval=0.02)
        worker = teacher.get(f"/api/v1/submissions/{sid}").json()["history"][0]["worker"]
        worker_pid = int(worker.rsplit(":", 1)[1])
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            for pid in descendants(worker_pid):
                if pid in seen:
                    continue
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as fh:
                        cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")
                    fields = stat_fields(pid)
                    seen[pid] = (cmd, os.sched_getscheduler(pid), int(fields[2]), int(fields[3]), int(fields[16]))
                except (OSError, IndexError, ValueError):
                    pass                                  # gone meanwhile
            if teacher.get(f"/api/v1/submissions/{sid}").json()["status"] in ("graded", "error"):
                break
            time.sleep(0.02)
        done = wait_for_status(student, sid, timeout=60)
    return done, worker_pid, seen


@pytest.fixture(scope="module")
def zips(tmp_path_factory):
    return make_zips(tmp_path_factory.mktemp("zips"))


@pytest.mark.parametrize("sched_idle", [True, False], ids=["sched_idle", "nice"])
def test_the_grader_runs_at_low_priority_in_its_workers_session(tmp_path, zips, sched_idle):
    svc = Service(tmp_path / "svc", workers=1,
                  env={"GRADER_GRADER_SCHED_IDLE": int(sched_idle), "GRADER_GRADER_NICE": 7}).start()
    try:
        done, worker_pid, seen = watch_grade(svc, zips["solutions"])
        worker_policy, worker_fields = os.sched_getscheduler(worker_pid), stat_fields(worker_pid)
    finally:
        svc.stop()
    assert done["status"] == "graded" and done["score"] == pytest.approx(done["max_score"])
    graders = {pid: v for pid, v in seen.items() if " -m grader grade " in v[0]}
    assert len(graders) == 1, seen
    (grader_pid, (_, policy, group, session, nice)), = graders.items()
    assert worker_policy == os.SCHED_OTHER and int(worker_fields[16]) == 0      # the worker: normal
    assert group == grader_pid                           # its own process group (killed as a whole)
    assert session == int(worker_fields[3])              # but its worker's session (autogroup)
    if sched_idle:
        assert policy == os.SCHED_IDLE
        # the sandboxes the grader starts inherit the policy
        sandboxes = {pid: v for pid, v in seen.items() if "/sandbox/harness/worker.py" in v[0]}
        assert sandboxes, f"no sandbox seen during the grade: {seen}"
        assert all(v[1] == os.SCHED_IDLE for v in sandboxes.values()), sandboxes
    else:
        assert policy == os.SCHED_OTHER and nice == 7

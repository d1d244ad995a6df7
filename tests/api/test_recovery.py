"""Jobs survive dead workers and service restarts (SQLite, local worker pool, real grader).

* A local worker killed with SIGKILL in the middle of a grade: its grader dies with it, the lease expires,
  the service re-queues the job, and it is graded exactly once (one ``lost`` attempt, one ``graded``).
* The service stopped (SIGTERM) with jobs queued and one running: the worker gives its job back; after a
  restart every job is graded.
* The whole service crashed (SIGKILL to every process): after a restart the running job is re-queued when
  its lease expires, and every job is graded exactly once.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from support.servers import Service, make_zips, upload, wait_for_status

LEASE = 3.0


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    out.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return out


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(what)


def db_rows(data_dir: Path, sql: str, args=()) -> list[tuple]:
    with sqlite3.connect(data_dir / "grader.db", timeout=30) as conn:
        return conn.execute(sql, args).fetchall()


def graded_once(data_dir: Path, ids: list[int]) -> None:
    """Each submission is graded, with exactly one 'graded' attempt and no other successful write.

    ('retry' = the grader's own exit status 2, e.g. the sandbox could not start: re-queued, not a result.)
    """
    for sid in ids:
        outcomes = [r[0] for r in db_rows(data_dir, "SELECT outcome FROM attempts WHERE submission_id = ? "
                                                    "ORDER BY id", (sid,))]
        assert outcomes.count("graded") == 1, (sid, outcomes)
        assert outcomes[-1] == "graded", (sid, outcomes)
        assert set(outcomes) <= {"graded", "lost", "released", "retry"}, (sid, outcomes)


@pytest.fixture(scope="module")
def zips(tmp_path_factory):
    return make_zips(tmp_path_factory.mktemp("zips"))


@pytest.fixture(scope="module")
def env():
    return {"GRADER_LEASE_SECONDS": LEASE, "GRADER_REAPER_INTERVAL": 0.5, "GRADER_POLL_INTERVAL": 0.2}


def test_worker_killed_mid_grade_is_graded_exactly_once(tmp_path, zips, env):
    svc = Service(tmp_path / "svc", workers=1, env=env).start()
    try:
        with svc.client(svc.student_token) as student, svc.client(svc.instructor_token) as teacher:
            sid = upload(student, zips["solutions"]).json()["id"]
            wait_for_status(student, sid, ("running",), timeout=60, interval=0.05)
            worker = teacher.get(f"/api/v1/submissions/{sid}").json()["history"][0]["worker"]
            worker_pid = int(worker.rsplit(":", 1)[1])
            grader_pids = wait_until(lambda: children_of(worker_pid), 20, "the grader never started")
            os.kill(worker_pid, signal.SIGKILL)
            wait_until(lambda: not any(alive(p) for p in grader_pids), 10,
                       "the grader outlived its killed worker")
            done = wait_for_status(student, sid, timeout=240)
            view = teacher.get(f"/api/v1/submissions/{sid}").json()
            health = teacher.get("/healthz").json()
        assert done["status"] == "graded" and done["max_score"] > 0
        assert done["score"] == pytest.approx(done["max_score"])
        assert [h["outcome"] for h in view["history"] if h["outcome"] != "retry"] == ["lost", "graded"]
        assert view["history"][0]["worker"] == worker and view["history"][-1]["worker"] != worker
        assert view["attempts"] >= 2
        assert health["workers_alive"] == 1                    # the pool replaced the dead worker
        graded_once(svc.data_dir, [sid])
    finally:
        svc.stop()


def test_restarts_lose_no_job(tmp_path, zips, env):
    svc = Service(tmp_path / "svc", workers=1, env=env).start()
    ids: list[int] = []
    try:
        # 1. graceful stop while one job runs and two wait: the running one is handed back
        with svc.client(svc.student_token) as student:
            ids += [upload(student, zips[k]).json()["id"] for k in ("starter", "solutions", "starter")]
            wait_for_status(student, ids[0], ("running",), timeout=60, interval=0.05)
        svc.stop(signal.SIGTERM)
        states = dict(db_rows(svc.data_dir, "SELECT id, status FROM submissions"))
        assert "running" not in states.values(), states
        assert all(states[i] in ("queued", "graded") for i in ids)
        released = db_rows(svc.data_dir, "SELECT count(*) FROM attempts WHERE outcome = 'released'")[0][0]
        assert released >= 1 or states[ids[0]] == "graded"

        # 2. restart, wait until a job runs, then crash everything at once (service, worker, grader)
        svc.start()
        with svc.client(svc.student_token) as student:
            running = wait_until(lambda: [r[0] for r in db_rows(svc.data_dir, "SELECT id FROM submissions "
                                                                "WHERE status = 'running'")], 60, "nothing ran")
        svc.stop(signal.SIGKILL)
        assert db_rows(svc.data_dir, "SELECT status FROM submissions WHERE id = ?", (running[0],))[0][0] == "running"

        # 3. restart: the crashed job's lease expires, it is re-queued, and everything gets graded
        svc.start()
        with svc.client(svc.student_token) as student:
            results = {sid: wait_for_status(student, sid, timeout=240) for sid in ids}
    finally:
        svc.stop()
    assert [results[i]["status"] for i in ids] == ["graded"] * 3
    assert results[ids[0]]["score"] == 0 and results[ids[2]]["score"] == 0
    full = results[ids[1]]
    assert full["max_score"] > 0 and full["score"] == pytest.approx(full["max_score"])
    graded_once(svc.data_dir, ids)
    lost = db_rows(svc.data_dir, "SELECT submission_id FROM attempts WHERE outcome = 'lost'")
    assert [r[0] for r in lost] == running[:1]

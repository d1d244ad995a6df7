"""Faults while the service grades the fixture course's ``tinynb`` (limits of seconds, code questions only):
a worker SIGKILLed mid-grade, the service crashed with a full queue, Redis restarted under RQ workers,
PostgreSQL restarted under local workers, the upload disk full. Each ends with every accepted submission
graded exactly once at the score its code earns (solution 5, starter 0, a call that sleeps: 2), and a
refused upload is a clear 503/507 with no record and no half-written file.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from support.course import make_course
from support.hostile_cases import ASSIGNMENT, SCALE_POINTS, CODE_POINTS, Target, half_with, zip_bytes
from support.servers import PostgresServer, RedisServer, Service, Worker, make_zips, postgres_bindir, \
    wait_for_status

pytestmark = pytest.mark.slow
FAST = {"GRADER_LEASE_SECONDS": 3, "GRADER_REAPER_INTERVAL": 0.5, "GRADER_POLL_INTERVAL": 0.2,
        "GRADER_GRADE_NOTEBOOKS": 0, "GRADER_MAX_IN_FLIGHT": 100}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return make_course(tmp_path_factory.mktemp("faults-course"))


@pytest.fixture(scope="module")
def uploads(course, tmp_path_factory):
    """name -> (archive bytes, the score its code earns)."""
    zips = make_zips(tmp_path_factory.mktemp("faults-zips"), ASSIGNMENT, env={"GRADER_COURSE_DIRS": course})
    t = Target(starter="", helpers=(course / "starter" / ASSIGNMENT / "cs231n" / "helpers.py").read_text(),
               solution=(course / "solutions" / "tiny" / "cs231n" / "ops.py").read_text(), notebook="")
    return {"solution": (zips["solutions"].read_bytes(), CODE_POINTS),
            "starter": (zips["starter"].read_bytes(), 0.0),
            "sleeps": (half_with("import time\ntime.sleep(3600)")(t), SCALE_POINTS)}


def send(svc: Service, uploads, kinds) -> list[tuple[int, float]]:
    """Upload ``kinds`` (names of ``uploads``) as the demo student; returns [(id, expected score)]."""
    out = []
    with svc.client(svc.student_token) as c:
        for i, kind in enumerate(kinds):
            data, expected = uploads[kind]
            r = c.post("/api/v1/submissions", data={"assignment": ASSIGNMENT},
                       files={"file": (f"{kind}-{i}.zip", data, "application/zip")})
            assert r.status_code == 202, r.text
            out.append((r.json()["id"], expected))
    return out


def graded_exactly_once(svc: Service, sent: list[tuple[int, float]], timeout: float = 240) -> dict[int, dict]:
    """Every submission of ``sent`` ends graded, with its expected score and exactly one 'graded' attempt."""
    views = {}
    with svc.client(svc.instructor_token) as t:
        for sid, expected in sent:
            done = wait_for_status(t, sid, timeout=timeout, interval=0.5)
            view = t.get(f"/api/v1/submissions/{sid}").json()
            outcomes = [h["outcome"] for h in view["history"]]
            assert done["status"] == "graded", (sid, done["status"], view["error"], outcomes)
            assert outcomes.count("graded") == 1 and outcomes[-1] == "graded", (sid, outcomes)
            assert set(outcomes) <= {"graded", "lost", "released", "retry"}, (sid, outcomes)
            assert done["score"] == pytest.approx(expected), (sid, done["score"], expected)
            views[sid] = view
        listed = t.get("/api/v1/submissions", params={"limit": 1000}).json()
    ids = [s["id"] for s in listed["items"]]
    assert len(ids) == len(set(ids)), "a submission is listed twice"
    return views


def running_one(svc: Service, timeout: float = 60) -> dict:
    """The first submission seen running, with its instructor view."""
    deadline = time.monotonic() + timeout
    with svc.client(svc.instructor_token) as t:
        while time.monotonic() < deadline:
            items = t.get("/api/v1/submissions", params={"status": "running"}).json()["items"]
            if items:
                return t.get(f"/api/v1/submissions/{items[-1]['id']}").json()
            time.sleep(0.1)
    raise TimeoutError("nothing started running")


def test_worker_sigkilled_mid_grade(tmp_path, course, uploads):
    svc = Service(tmp_path / "svc", workers=2, env=dict(FAST, GRADER_COURSE_DIRS=course)).start()
    try:
        sent = send(svc, uploads, ["sleeps", "solution", "sleeps", "starter", "solution", "sleeps"])
        view = running_one(svc)
        pid = int(view["history"][-1]["worker"].rsplit(":", 1)[1])
        time.sleep(0.5)
        os.kill(pid, signal.SIGKILL)
        views = graded_exactly_once(svc, sent)
        with svc.client(svc.instructor_token) as t:
            health = t.get("/healthz")
    finally:
        svc.stop()
    assert "lost" in [h["outcome"] for h in views[view["id"]]["history"]]
    assert health.status_code == 200 and health.json()["workers_alive"] == 2


def test_service_crash_with_a_full_queue(tmp_path, course, uploads):
    svc = Service(tmp_path / "svc", workers=2, env=dict(FAST, GRADER_COURSE_DIRS=course)).start()
    try:
        sent = send(svc, uploads, ["sleeps", "solution", "starter", "sleeps"] * 3)
        running_one(svc)
        svc.stop(signal.SIGKILL)                    # the service, its workers and graders at once
        svc.start()
        graded_exactly_once(svc, sent)
    finally:
        svc.stop()


def test_redis_restart_under_rq_workers(tmp_path, course, uploads):
    redis = RedisServer(tmp_path / "redis").start()
    env = dict(FAST, GRADER_COURSE_DIRS=course, REDIS_URL=redis.url, GRADER_QUEUE="rq")
    svc = workers = None
    try:
        svc = Service(tmp_path / "svc", workers=0, queue="rq", env=env).start()
        wenv = dict(env, GRADER_DATA_DIR=svc.data_dir)
        workers = [Worker(tmp_path / f"w{i}.log", wenv, name=f"fault-w{i}-{os.getpid()}").start() for i in range(2)]
        sent = send(svc, uploads, ["sleeps", "solution", "starter", "sleeps", "solution", "starter"])
        running_one(svc)
        redis.stop()                                # no persistence: every RQ job is gone
        time.sleep(2)
        redis.start()
        for i, w in enumerate(workers):             # a worker that lost Redis exits; its supervisor restarts it
            if w.proc.poll() is not None:
                w.start()
        graded_exactly_once(svc, sent)
        with svc.client(svc.instructor_token) as t:
            more = send(svc, uploads, ["solution"])
            graded_exactly_once(svc, more)
            health = t.get("/healthz")
        assert health.status_code == 200 and health.json()["queue_ok"], health.text
    finally:
        for thing in (workers or []):
            thing.stop()
        if svc:
            svc.stop()
        redis.stop()


@pytest.mark.skipif(postgres_bindir() is None, reason="PostgreSQL binaries not installed")
def test_postgres_restart_under_local_workers(tmp_path, course, uploads):
    pg = PostgresServer().start()
    svc = None
    try:
        env = dict(FAST, GRADER_COURSE_DIRS=course, DATABASE_URL=pg.url)
        svc = Service(tmp_path / "svc", workers=2, env=env).start()
        sent = send(svc, uploads, ["sleeps", "solution", "starter", "sleeps", "solution", "starter"])
        running_one(svc)
        pg.proc.send_signal(signal.SIGINT)          # down: uploads are refused with a clear 503, nothing recorded
        pg.proc.wait(30)
        with svc.client(svc.student_token) as c:
            r = c.post("/api/v1/submissions", data={"assignment": ASSIGNMENT},
                       files={"file": ("while-down.zip", uploads["solution"][0], "application/zip")})
            health = c.get("/healthz")
            listing = c.get("/api/v1/submissions")
        assert r.status_code == 503 and r.json()["code"] == "database_unavailable", (r.status_code, r.text)
        assert r.headers["retry-after"].isdigit()
        assert listing.status_code == 503 and listing.json()["code"] == "database_unavailable", listing.text
        assert health.status_code == 503, health.text
        pg.restart()
        graded_exactly_once(svc, sent)
        more = send(svc, uploads, ["solution", "starter"])
        graded_exactly_once(svc, more)
        with svc.client(svc.instructor_token) as t:
            names = [s["filename"] for s in t.get("/api/v1/submissions", params={"limit": 1000}).json()["items"]]
            assert t.get("/healthz").status_code == 200
        assert "while-down.zip" not in names and len(names) == len(sent) + len(more), names
    finally:
        if svc:
            svc.stop()
        pg.stop()


def test_upload_disk_full(tmp_path, course, uploads):
    """The uploads folder on a 1 MiB file system: an archive that does not fit is a 507, nothing recorded and
    no partial file left; one that fits is still accepted and graded."""
    data_dir = tmp_path / "svc"
    store = data_dir / "uploads"
    store.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(store)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode(errors='replace')}")
    svc = Service(data_dir, workers=1, env=dict(FAST, GRADER_COURSE_DIRS=course)).start()
    try:
        big = zip_bytes([("cs231n/ops.py", "x = 1\n"), ("data/noise.bin", os.urandom(3 * 1024 * 1024))])
        with svc.client(svc.student_token) as c:
            for name in ("big.zip", "again.zip"):
                r = c.post("/api/v1/submissions", data={"assignment": ASSIGNMENT},
                           files={"file": (name, big, "application/zip")})
                assert r.status_code == 507, (r.status_code, r.text)
                assert r.json()["code"] == "insufficient_storage" and "space" in r.json()["detail"], r.text
            assert c.get("/api/v1/submissions").json()["total"] == 0
        left = [p for p in Path(store).rglob("*") if p.is_file()]
        assert not left, f"half-written files left: {left}"
        sent = send(svc, uploads, ["solution"])
        graded_exactly_once(svc, sent)
    finally:
        svc.stop()
        subprocess.run(["umount", str(store)], capture_output=True)

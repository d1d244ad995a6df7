"""Distributed mode end to end: PostgreSQL + Redis + RQ workers (`python -m api worker --queue rq`).

Real servers started by the test: a PostgreSQL cluster (initdb in a temp dir, run as the `postgres` user
when we are root), a `redis-server`, the service with `--queue rq`, and two RQ worker processes sharing
the service's data directory. Grades starter.zip and solutions.zip, then SIGKILLs the worker that is in
the middle of a grade and checks the job is re-queued and graded exactly once by the other worker.
"""
from __future__ import annotations

import os
import signal
import time

import psycopg
import pytest

from support.servers import PostgresServer, RedisServer, Service, Worker, make_zips, postgres_bindir, upload, \
    wait_for_status

pytestmark = pytest.mark.skipif(postgres_bindir() is None, reason="PostgreSQL binaries not installed")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """PostgreSQL, Redis, the service (RQ mode) and two RQ workers; yields the service."""
    root = tmp_path_factory.mktemp("dist")
    started = []
    try:
        pg = PostgresServer().start()
        started.append(pg)
        redis = RedisServer(root / "redis").start()
        started.append(redis)
        env = {"DATABASE_URL": pg.url, "REDIS_URL": redis.url, "GRADER_QUEUE": "rq",
               "GRADER_LEASE_SECONDS": 3, "GRADER_REAPER_INTERVAL": 0.5}
        svc = Service(root / "data", workers=0, queue="rq", env=env).start()
        started.append(svc)
        worker_env = dict(env, GRADER_DATA_DIR=svc.data_dir)
        svc.workers_ = [Worker(root / f"worker-{i}.log", worker_env, name=f"w{i}-{os.getpid()}").start()
                        for i in range(2)]
        started.extend(svc.workers_)
        svc.pg, svc.redis = pg, redis
        yield svc
    finally:
        for thing in reversed(started):
            thing.stop()


@pytest.fixture(scope="module")
def zips(tmp_path_factory):
    return make_zips(tmp_path_factory.mktemp("zips"))


def test_grades_through_redis_workers_into_postgres(cluster, zips):
    with cluster.client(cluster.student_token) as student, cluster.client(cluster.instructor_token) as teacher:
        health = teacher.get("/healthz").json()
        assert health["queue"] == "rq" and health["queue_ok"] and health["database"]
        full_id = upload(student, zips["solutions"]).json()["id"]
        zero_id = upload(student, zips["starter"]).json()["id"]
        full, zero = wait_for_status(student, full_id), wait_for_status(student, zero_id)
        views = [teacher.get(f"/api/v1/submissions/{i}").json() for i in (full_id, zero_id)]
    assert full["status"] == "graded" and zero["status"] == "graded", [(v["error"], v["log_tail"]) for v in views]
    assert full["max_score"] > 0 and full["score"] == pytest.approx(full["max_score"])
    assert zero["score"] == 0
    for view in views:
        assert [h["outcome"] for h in view["history"] if h["outcome"] != "retry"] == ["graded"]
        assert view["history"][0]["worker"].startswith("rq@")
    with psycopg.connect(cluster.pg.url.replace("postgresql+psycopg", "postgresql")) as conn:
        rows = dict(conn.execute("SELECT id, status FROM submissions WHERE id IN (%s, %s)",
                                 (full_id, zero_id)).fetchall())
    assert rows == {full_id: "graded", zero_id: "graded"}            # the record lives in PostgreSQL


def test_rq_worker_killed_mid_grade_is_regraded_exactly_once(cluster, zips):
    with cluster.client(cluster.student_token) as student, cluster.client(cluster.instructor_token) as teacher:
        sid = upload(student, zips["solutions"]).json()["id"]
        wait_for_status(student, sid, ("running",), timeout=60, interval=0.05)
        worker = teacher.get(f"/api/v1/submissions/{sid}").json()["history"][0]["worker"]
        pid = int(worker.rsplit(":", 1)[1])
        victim = next(w for w in cluster.workers_ if w.pid == pid)
        time.sleep(0.5)                                  # well inside the grade
        os.kill(pid, signal.SIGKILL)
        victim.proc.wait()
        done = wait_for_status(student, sid, timeout=240)
        view = teacher.get(f"/api/v1/submissions/{sid}").json()
    victim.start()                                       # back to two workers for whatever follows
    assert done["status"] == "graded" and done["max_score"] > 0
    assert done["score"] == pytest.approx(done["max_score"])
    outcomes = [h["outcome"] for h in view["history"] if h["outcome"] != "retry"]    # retry: grader exit 2
    assert outcomes == ["lost", "graded"], outcomes
    assert view["history"][-1]["worker"] != worker
    with psycopg.connect(cluster.pg.url.replace("postgresql+psycopg", "postgresql")) as conn:
        graded = conn.execute("SELECT count(*) FROM attempts WHERE submission_id = %s AND outcome = 'graded'",
                              (sid,)).fetchone()[0]
    assert graded == 1

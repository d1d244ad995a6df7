"""``/healthz`` in RQ mode tells whether queued jobs can be graded: a real ``redis-server``, the service with
``--queue rq`` and no grading worker at all.

With nothing queued and no worker the service is ok (workers may start after it, as in docker-compose).
Once a submission waits and no worker has been registered for two lease periods, it is degraded (503).
A worker registering on the queue (RQ's own registration, in Redis) makes it ok again, and its
registration going away makes it degraded again.
"""
from __future__ import annotations

import time

import httpx
import pytest
import redis
from rq import Queue, Worker

from api.settings import load_settings
from support.hostile import post_raw, tiny_zip
from support.servers import RedisServer, Service

LEASE = 1.0                   # GRADER_LEASE_SECONDS: degraded after 2 leases without a worker


@pytest.fixture(scope="module")
def rq_service(tmp_path_factory):
    root = tmp_path_factory.mktemp("health-rq")
    started = []
    try:
        server = RedisServer(root / "redis").start()
        started.append(server)
        svc = Service(root / "data", workers=0, queue="rq",
                      env={"REDIS_URL": server.url, "GRADER_QUEUE": "rq", "GRADER_LEASE_SECONDS": LEASE}).start()
        started.append(svc)
        svc.redis = server
        yield svc
    finally:
        for thing in reversed(started):
            thing.stop()


def health(svc: Service) -> tuple[int, dict]:
    r = httpx.get(svc.url + "healthz", timeout=10)
    return r.status_code, r.json()


def wait_health(svc: Service, status: str, timeout: float = 20.0) -> tuple[int, dict]:
    deadline = time.monotonic() + timeout
    while True:
        code, body = health(svc)
        if body["status"] == status or time.monotonic() > deadline:
            return code, body
        time.sleep(0.2)


def test_rq_health_is_degraded_while_jobs_wait_without_a_worker(rq_service):
    svc = rq_service
    time.sleep(2.5 * LEASE)                        # past the grace period of the service's start
    code, body = health(svc)
    assert code == 200 and body["status"] == "ok", body          # nothing waits: no worker needed
    assert body["queue"] == "rq" and body["queued"] == 0 and body["workers_alive"] == 0

    with svc.client(svc.student_token) as student:
        r = post_raw(student, b"waiting.zip", tiny_zip())
        assert r.status_code == 202, r.text
    code, body = wait_health(svc, "degraded")
    assert code == 503 and body["status"] == "degraded", body
    assert body["queued"] == 1 and body["workers_alive"] == 0 and body["queue_ok"] is False
    assert body["database"] is True

    conn = redis.Redis.from_url(svc.redis.url)
    queue = Queue(load_settings().rq_queue_name, connection=conn)
    assert queue.count == 1                        # the job waits on Redis
    probe = Worker([queue], connection=conn, name=f"probe-{time.monotonic_ns()}")
    probe.register_birth()                         # RQ's registration of a worker (what `rq worker` does first)
    try:
        code, body = wait_health(svc, "ok")
        assert code == 200 and body["status"] == "ok", body
        assert body["workers_alive"] == 1 and body["queued"] == 1
    finally:
        probe.register_death()
    code, body = wait_health(svc, "degraded")      # the worker is gone, the job still waits
    assert code == 503 and body["workers_alive"] == 0, body

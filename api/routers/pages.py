"""The web page (``/``) and the health check (``/healthz``).

``/healthz`` is ``ok`` (200) when the database answers and the queue can make progress, else ``degraded``
(503). Local mode: at least one local worker is alive. RQ mode: Redis answers, and jobs do not wait
without a worker: RQ keeps each worker's registration in Redis (a key that the worker renews while it
runs, and that expires some minutes after it died), so when submissions are queued and no registered
worker has been seen for ``WORKER_GRACE_LEASES`` leases (``GRADER_LEASE_SECONDS``; the service's start
counts as a sighting, so workers that start with it have time to register), the queue is not ok.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import func, select

from .. import __version__
from ..db import ping
from ..models import Submission
from ..schemas import Health

router = APIRouter()
INDEX = Path(__file__).resolve().parent.parent / "static" / "index.html"
WORKER_GRACE_LEASES = 2     # RQ mode: queued jobs and no worker seen for this many lease periods = degraded
log = logging.getLogger("api.health")


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    return FileResponse(INDEX, media_type="text/html")


def _health(request: Request) -> Health:
    state = request.app.state
    db_ok = ping(state.engine)
    queued = running = 0
    if db_ok:
        with state.sessions() as session:
            counts = dict(session.execute(select(Submission.status, func.count(Submission.id))
                                          .group_by(Submission.status)).all())
        queued, running = counts.get("queued", 0), counts.get("running", 0)
    dispatcher = state.dispatcher
    queue_ok = dispatcher.queue_ok()
    workers = dispatcher.workers_alive()
    if dispatcher.kind == "rq" and queue_ok:
        workers = rq_workers_alive(dispatcher)
        now = time.monotonic()
        if workers:
            state.worker_seen_at = now
        grace = WORKER_GRACE_LEASES * state.settings.lease_seconds
        if queued and not workers and now - getattr(state, "worker_seen_at", now) > grace:
            queue_ok = False               # jobs wait and nothing will take them
    return Health(status="ok" if db_ok and queue_ok else "degraded", database=db_ok, queue=dispatcher.kind,
                  queue_ok=queue_ok, workers_alive=workers, queued=queued, running=running,
                  version=__version__)


def rq_workers_alive(dispatcher) -> int | None:
    """RQ workers registered on the grading queue whose registration has not expired (None: cannot tell)."""
    from rq import Worker

    rq = dispatcher.rq
    try:
        keys = Worker.all_keys(queue=rq.queue)
        if not keys:
            return 0
        pipe = rq.redis.pipeline(transaction=False)
        for key in keys:
            pipe.exists(key)
        return sum(1 for found in pipe.execute() if found)
    except Exception as exc:               # Redis went away between the ping and here
        log.warning("cannot count RQ workers: %s", exc)
        return None


@router.get("/healthz", response_model=Health, tags=["health"],
            responses={503: {"model": Health, "description": "database or queue unavailable, or (RQ) jobs wait "
                                                              "and no worker is alive"}})
async def healthz(request: Request):
    """200 when the database answers and the queue can make progress, else 503 (docker-compose health
    checks). RQ mode: 503 also when submissions wait and no RQ worker has been registered for a while."""
    health = await run_in_threadpool(_health, request)
    return JSONResponse(health.model_dump(), status_code=200 if health.status == "ok" else 503)

"""The web page (``/``) and the health check (``/healthz``)."""
from __future__ import annotations

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
    return Health(status="ok" if db_ok and queue_ok else "degraded", database=db_ok, queue=dispatcher.kind,
                  queue_ok=queue_ok, workers_alive=dispatcher.workers_alive(), queued=queued, running=running,
                  version=__version__)


@router.get("/healthz", response_model=Health, tags=["health"],
            responses={503: {"model": Health, "description": "database or queue unavailable"}})
async def healthz(request: Request):
    """200 when the database and the queue answer, else 503 (used by docker-compose health checks)."""
    health = await run_in_threadpool(_health, request)
    return JSONResponse(health.model_dump(), status_code=200 if health.status == "ok" else 503)

"""The FastAPI application factory.

``create_app(settings)`` wires the pieces together; on start-up (lifespan) it creates the data
directories, applies the Alembic migrations, and starts the queue dispatcher (local worker pool or RQ
hand-over, plus the maintenance thread that re-queues jobs of dead workers). Everything a request needs
hangs off ``app.state``: ``settings``, ``engine``, ``sessions``, ``catalog``, ``store``, ``token_cache``,
``writer`` (group commit of new submissions) and ``dispatcher``.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from . import __version__
from .auth import TokenCache
from .catalog import Catalog
from .db import make_engine, make_session_factory, migrate
from .errors import install_error_handlers
from .queue import Dispatcher
from .routers import assignments, gradebook, pages, submissions
from .schemas import ErrorOut
from .settings import Settings, load_settings
from .storage import ArchiveStore
from .writer import SubmissionWriter

STATIC_DIR = Path(__file__).resolve().parent / "static"

COMMON_ERRORS = {401: {"model": ErrorOut, "description": "missing or unknown token"}}
UPLOAD_THREADS = 4      # threads that check, hash and store uploaded archives (off the event loop)


def _started_pool(n: int) -> ThreadPoolExecutor:
    """A thread pool whose ``n`` threads exist already (a burst of uploads should not pay for creating them)."""
    pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="upload")
    barrier = threading.Barrier(n)
    for f in [pool.submit(barrier.wait, 5) for _ in range(n)]:
        f.result()
    return pool


def create_app(settings: Settings | None = None, start_workers: bool = True, supervised: bool = False) -> FastAPI:
    """Build the app.

    ``start_workers=False`` leaves grading to separately started workers. ``supervised=True`` is an HTTP
    process of ``serve --http-workers N``: its supervisor has migrated the database and runs the worker
    pool and the maintenance thread, so this process only serves requests.
    """
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        settings.ensure_dirs()
        engine = make_engine(settings.db_url)
        if not supervised:
            migrate(engine)
        app.state.engine = engine
        app.state.sessions = make_session_factory(engine)
        app.state.writer = SubmissionWriter(engine, settings.max_in_flight)
        app.state.writer.start()
        app.state.upload_pool = _started_pool(UPLOAD_THREADS)
        app.state.dispatcher = Dispatcher(settings, app.state.sessions, start_workers=start_workers and not supervised,
                                          maintain=not supervised)
        app.state.dispatcher.start()
        try:
            yield
        finally:
            app.state.dispatcher.stop()
            app.state.writer.stop()
            app.state.upload_pool.shutdown(wait=False)
            engine.dispose()

    app = FastAPI(
        title="CS231n assignment grading service",
        version=__version__,
        summary="Upload a submission archive, get it graded in the sandbox, read the scores.",
        lifespan=lifespan,
        docs_url=None,   # served below from the installed swagger-ui-bundle: no CDN, works offline
    )
    _mount_offline_docs(app)
    app.state.settings = settings
    app.state.catalog = Catalog(settings.assignments_dir, notebooks=settings.grade_notebooks)
    app.state.store = ArchiveStore(settings.uploads_dir)
    app.state.token_cache = TokenCache(ttl=30.0)
    install_error_handlers(app)
    app.include_router(submissions.router, prefix="/api/v1", responses=COMMON_ERRORS)
    app.include_router(assignments.router, prefix="/api/v1")
    app.include_router(gradebook.router, prefix="/api/v1", responses=COMMON_ERRORS)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    logging.getLogger("api").setLevel(logging.INFO)
    return app


def _mount_offline_docs(app: FastAPI) -> None:
    """``/docs``: Swagger UI from the ``swagger-ui-bundle`` package instead of a CDN."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/static/swagger", StaticFiles(directory=swagger_ui_path), name="swagger")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} - API docs",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/swagger/favicon-32x32.png")

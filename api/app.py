"""The FastAPI application factory.

``create_app(settings)`` wires the pieces together; on start-up (lifespan) it creates the data
directories, applies the Alembic migrations, and starts the queue dispatcher (local worker pool or RQ
hand-over, plus the maintenance thread that re-queues jobs of dead workers). Everything a request needs
hangs off ``app.state``: ``settings``, ``engine``, ``sessions``, ``catalog``, ``store``, ``token_cache``,
``writer`` (group commit of new submissions) and ``dispatcher``.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from sqlalchemy import BigInteger, Integer, SmallInteger
from sqlalchemy.engine import make_url

from . import __version__
from .auth import CurrentUser, TokenCache
from .catalog import Catalog
from .db import make_engine, make_session_factory, migrate
from .errors import INT64_MAX, check_request_values, install_error_handlers
from .models import Submission
from .queue import Dispatcher
from .routers import assignments, course, exports, grading, gradebook, pages, submissions
from .schemas import BodyIn, ErrorOut
from .settings import Settings, load_settings
from .storage import ArchiveStore
from .writer import SubmissionWriter

STATIC_DIR = Path(__file__).resolve().parent / "static"

COMMON_ERRORS = {401: {"model": ErrorOut, "description": "missing or unknown token"},
                 503: {"model": ErrorOut, "description": "the database does not answer (Retry-After)"}}
UPLOAD_THREADS = 4      # threads that check, hash and store uploaded archives (off the event loop)


def _started_pool(n: int) -> ThreadPoolExecutor:
    """A thread pool whose ``n`` threads exist already (a burst of uploads should not pay for creating them)."""
    pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="upload")
    barrier = threading.Barrier(n)
    for f in [pool.submit(barrier.wait, 5) for _ in range(n)]:
        f.result()
    return pool


def column_max(db_url: str, column) -> int:
    """The largest value an integer ``column`` holds on the database of ``db_url`` (SQLite: 64 bits always;
    PostgreSQL and others: by its type, ``integer`` = 32 bits)."""
    if make_url(db_url).get_backend_name() == "sqlite":
        return INT64_MAX
    kind = column.type
    if isinstance(kind, BigInteger):
        return INT64_MAX
    if isinstance(kind, SmallInteger):
        return 2**15 - 1
    if isinstance(kind, Integer):
        return 2**31 - 1
    return INT64_MAX


async def _checked_values(request: Request) -> None:
    check_request_values(request, request.app.state.id_max)


async def _checked_values_of_user(request: Request, _user: CurrentUser) -> None:
    """The same, once the token is checked (a request without a token is a 401 whatever its values)."""
    check_request_values(request, request.app.state.id_max)


# the operations that refuse an assignment the service does not offer (422 unknown_assignment)
_ASSIGNMENT_CHECKED = (("/api/v1/submissions", "post"), ("/api/v1/gradebook.csv", "get"),
                       ("/api/v1/gradebook/canvas.csv", "get"))
#: JSON bodies whose ``assignment`` must be offered.
_ASSIGNMENT_BODIES = ("RegradeIn",)
#: The JSON request bodies (``schemas.BodyIn``), by their schema names.
BODY_MODELS = frozenset(cls.__name__ for cls in BodyIn.__subclasses__())
#: Matches a string without a NUL character (a query or path value with one is refused: no row has it).
NO_NUL = "^[^\\x00]*$"


def _offered_assignments(schema: dict, offered: list[str]) -> None:
    """Declare the ``assignment`` values the service accepts (the catalogue's ids, an ``enum``) where an
    unknown one is refused, so that the document describes what a valid request is."""
    for path, method in _ASSIGNMENT_CHECKED:
        op = schema.get("paths", {}).get(path, {}).get(method)
        if op is None:
            continue
        for param in op.get("parameters", []):
            if param.get("name") == "assignment" and param.get("in") == "query":
                param["schema"] = {"anyOf": [{"type": "string", "enum": offered}, {"type": "null"}],
                                   "title": "Assignment"}
        form = (op.get("requestBody", {}).get("content", {}).get("multipart/form-data", {}).get("schema", {}))
        if "assignment" in form.get("properties", {}):
            form["properties"]["assignment"]["enum"] = offered
    components = schema.get("components", {}).get("schemas", {})
    for name in _ASSIGNMENT_BODIES:
        prop = components.get(name, {}).get("properties", {}).get("assignment")
        if prop is not None:
            prop["anyOf"] = [{"type": "string", "enum": offered}, {"type": "null"}]


def _no_nul(s: dict) -> None:
    for branch in s.get("anyOf", [s]):
        if branch.get("type") == "string" and "enum" not in branch and "format" not in branch:
            branch.setdefault("pattern", NO_NUL)


def _no_nul_in_parameters(schema: dict) -> None:
    """Every string query and path parameter, and every string of a JSON request body (``schemas.BodyIn``),
    is declared without NUL characters (``NO_NUL``), which the service refuses
    (``errors.check_request_values``, ``BodyIn``)."""
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            for param in op.get("parameters", []) if isinstance(op, dict) else []:
                if param.get("in") in ("query", "path"):
                    _no_nul(param.get("schema", {}))
    for name, component in schema.get("components", {}).get("schemas", {}).items():
        if name in BODY_MODELS:
            for prop in component.get("properties", {}).values():
                _no_nul(prop)


def _document_error_shape(app: FastAPI) -> None:
    """The OpenAPI document promises for a 422 the body every 422 has: ``ErrorOut`` (FastAPI would document
    its own list of validation errors, which this service never sends), and lists the assignments offered
    (rebuilt when they change)."""
    generate = app.openapi
    built_for: list[tuple[str, ...]] = [()]

    def openapi() -> dict:
        offered = tuple(sorted(app.state.catalog.all()))
        if app.openapi_schema is not None and built_for[0] != offered:
            app.openapi_schema = None
        if app.openapi_schema is None:
            built_for[0] = offered
            schema = json.loads(json.dumps(generate()))        # a copy: FastAPI caches what it generates
            for ops in schema.get("paths", {}).values():
                for op in ops.values():
                    answer = op.get("responses", {}).get("422") if isinstance(op, dict) else None
                    if answer is not None:
                        answer["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
                        if answer.get("description") in (None, "", "Validation Error"):
                            answer["description"] = "invalid request: a parameter is missing, malformed or out of range"
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.setdefault("ErrorOut", ErrorOut.model_json_schema())
            components.pop("HTTPValidationError", None)
            if "#/components/schemas/ValidationError" not in json.dumps(schema):
                components.pop("ValidationError", None)
            _offered_assignments(schema, list(offered))
            _no_nul_in_parameters(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi


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
        app.state.worker_seen_at = time.monotonic()    # /healthz: workers starting with us have time to register
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
        docs_url=None,   # served below from api/static/swagger: no CDN, works offline
        redoc_url=None,  # ReDoc would load its script from a CDN: not offered (it fails offline)
    )
    _mount_offline_docs(app)
    app.state.settings = settings
    app.state.catalog = Catalog(notebooks=settings.grade_notebooks)
    app.state.store = ArchiveStore(settings.uploads_dir)
    app.state.token_cache = TokenCache(ttl=30.0)
    app.state.id_max = {"submission_id": column_max(settings.db_url, Submission.__table__.c.id)}
    install_error_handlers(app)
    # every route checks its path and query values first (api/errors.py), after the token where one is needed
    app.include_router(submissions.router, prefix="/api/v1", responses=COMMON_ERRORS,
                       dependencies=[Depends(_checked_values_of_user)])
    app.include_router(assignments.router, prefix="/api/v1", dependencies=[Depends(_checked_values)])
    app.include_router(gradebook.router, prefix="/api/v1", responses=COMMON_ERRORS,
                       dependencies=[Depends(_checked_values_of_user)])
    app.include_router(grading.router, prefix="/api/v1", responses=COMMON_ERRORS,
                       dependencies=[Depends(_checked_values_of_user)])
    app.include_router(exports.router, prefix="/api/v1", responses=COMMON_ERRORS,
                       dependencies=[Depends(_checked_values_of_user)])
    app.include_router(course.router, prefix="/api/v1", dependencies=[Depends(_checked_values)])
    app.include_router(pages.router, dependencies=[Depends(_checked_values)])
    _document_error_shape(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    logging.getLogger("api").setLevel(logging.INFO)
    return app


def _mount_offline_docs(app: FastAPI) -> None:
    """``/docs``: Swagger UI 5 (it reads OpenAPI 3.1, which FastAPI writes) from ``api/static/swagger``, a
    copy of the npm package ``swagger-ui-dist`` (version in its README.txt), instead of a CDN. The Python
    package ``swagger-ui-bundle`` ships Swagger UI 4.15, which cannot render 3.1."""
    from fastapi.openapi.docs import get_swagger_ui_html

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} - API docs",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/swagger/favicon-32x32.png",
                                   # no badge fetched from validator.swagger.io
                                   swagger_ui_parameters={"validatorUrl": None})

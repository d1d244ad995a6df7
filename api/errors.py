"""One JSON shape for every error: ``{"detail": "<sentence for a person>", "code": "<machine code>"}``.

Handlers registered by the app factory turn ``APIError``, FastAPI's own ``HTTPException`` and request
validation errors into that shape, so a client never has to parse two formats. A 405 lists in ``Allow``
every method of the path (not only those of the first route that matched it), and ``OPTIONS`` on a path
the service serves is answered 204 with that ``Allow`` (an unknown path stays a 404).

``check_request_values`` (a dependency of every API route, see ``api/app.py``) refuses at the edge the
values a database would fail on rather than answer: an integer path id beyond what the id column holds
(SQLite: 2^63-1, PostgreSQL ``integer``: 2^31-1) cannot name a row, so it is a 404 like any missing id; an
integer query value beyond 64 bits (``?offset=``) and a NUL character in any query value (PostgreSQL text
cannot hold one) are a 422 ``validation_error``.
"""
from __future__ import annotations

import errno
import types
import typing

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException


class APIError(Exception):
    """An error answered with ``status`` and ``{"detail": message, "code": code}``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


NO_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def no_space() -> APIError:
    """507: the disk that keeps uploads is full (nothing of the upload was recorded)."""
    return APIError(507, "insufficient_storage", "the server has no space left to store the upload; nothing "
                                                 "was recorded, try again later")


def unavailable_error(exc: BaseException) -> APIError | None:
    """The answer for trouble of the service's storage rather than of the request: a full disk (507), the
    database unreachable or locked (503, with ``Retry-After``); ``None`` for anything else."""
    if isinstance(exc, OSError) and exc.errno in NO_SPACE_ERRNOS:
        return no_space()
    names = {k.__name__ for k in type(exc).__mro__}
    orig = getattr(exc, "orig", None)
    if orig is not None:
        names |= {k.__name__ for k in type(orig).__mro__}
        if "database or disk is full" in str(orig):
            return no_space()
    if getattr(exc, "connection_invalidated", False) or names & {"OperationalError", "InterfaceError",
                                                                  "DisconnectionError"}:
        return APIError(503, "database_unavailable", "the database is not answering; nothing was recorded, "
                                                     "try again in a moment", headers={"Retry-After": "5"})
    return None


def not_found(what: str = "submission") -> APIError:
    return APIError(404, "not_found", f"{what} not found")


#: FastAPI's detail of a request body it cannot decode (not UTF-8, not JSON): answered as the 422 of any
#: other invalid body, which every operation with a body documents.
BODY_PARSE_ERROR = "There was an error parsing the body"

_DEFAULT_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                  405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type",
                  422: "validation_error", 429: "too_many_requests"}


# ------------------------------------------------------------------------------- values at the edge

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_AS_INT = TypeAdapter(int)                 # the lax parsing FastAPI applies to an ``int`` parameter


def _is_int(annotation) -> bool:
    if annotation is int:
        return True
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and int in typing.get_args(annotation)


def _declared_ints(route) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The names of the ``int`` path and query parameters of ``route`` (and of its dependencies)."""
    found = getattr(route, "_int_params_", None)
    if found is None and route is not None:
        paths, queries, todo = [], [], [getattr(route, "dependant", None)]
        while todo:
            dep = todo.pop()
            if dep is None:
                continue
            paths += [f.alias for f in dep.path_params if _is_int(f.field_info.annotation)]
            queries += [f.alias for f in dep.query_params if _is_int(f.field_info.annotation)]
            todo += dep.dependencies
        found = route._int_params_ = (tuple(paths), tuple(queries))
    return found or ((), ())


def _as_int(value: str) -> int | None:
    try:
        return _AS_INT.validate_python(value)
    except ValidationError:
        return None                        # not an integer at all: FastAPI's own validation answers


def invalid(name: str, problem: str) -> APIError:
    return APIError(422, "validation_error", f"invalid request: {name}: {problem}")


def check_request_values(request: Request, id_max: dict[str, int]) -> None:
    """404 for an integer path id no row can have (``id_max``: largest id per parameter name, others: 64
    bits), 422 for an integer query value beyond 64 bits or any query value with a NUL character."""
    query = request.query_params
    if query:
        for name, value in query.multi_items():
            if "\x00" in value or "\x00" in name:
                raise invalid(repr(name) if "\x00" in name else name, "must not contain a NUL character")
    for name, value in request.path_params.items():
        if isinstance(value, str) and "\x00" in value:     # no row has it (and PostgreSQL refuses it in a query)
            raise not_found(name.removesuffix("_id") if name.endswith("_id") else name)
    paths, queries = _declared_ints(request.scope.get("route"))
    for name in paths:
        raw = request.path_params.get(name)
        number = _as_int(raw) if isinstance(raw, str) else None
        if number is not None and not (1 if name in id_max else INT64_MIN) <= number <= id_max.get(name, INT64_MAX):
            raise not_found(name.removesuffix("_id") if name.endswith("_id") else "resource")
    for name in queries:
        for raw in query.getlist(name):
            number = _as_int(raw)
            if number is not None and not INT64_MIN <= number <= INT64_MAX:
                raise invalid(name, f"must be between {INT64_MIN} and {INT64_MAX}")


# ------------------------------------------------------------------------------- allowed methods

def allowed_methods(request: Request) -> list[str]:
    """Every method some route (or static mount) of the app answers on the request's path, and OPTIONS."""
    app = request.app
    table = getattr(app.state, "allow_table", None)
    if table is None:                      # (compiled path, methods); a mount (static files): GET and HEAD
        try:                               # newer FastAPI: included routers resolve their routes lazily
            from fastapi.routing import iter_route_contexts
            routes = list(iter_route_contexts(app.router.routes))
        except ImportError:
            routes = app.router.routes
        table = app.state.allow_table = [(rc.path_regex, frozenset(rc.methods or ("GET", "HEAD")))
                                         for rc in routes if getattr(rc, "path_regex", None) is not None]
    path, root = request.scope.get("path", ""), request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):] or "/"
    methods = {"OPTIONS"}
    for regex, allowed in table:
        if regex.match(path):
            methods |= allowed
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api_error(_request: Request, exc: APIError):
        return JSONResponse({"detail": exc.message, "code": exc.code}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:         # the path exists: say which methods it takes
            headers["Allow"] = ", ".join(allowed_methods(request))
            if request.method == "OPTIONS":
                return Response(status_code=204, headers=headers)
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 400 and detail == BODY_PARSE_ERROR:   # FastAPI's answer to a body it cannot decode
            return JSONResponse({"detail": "invalid request: the body is not JSON (UTF-8)", "code": "validation_error"},
                                status_code=422)
        code = _DEFAULT_CODES.get(exc.status_code, "error")
        return JSONResponse({"detail": detail, "code": code}, status_code=exc.status_code, headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError):
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
            problems.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg", "invalid"))
        return JSONResponse({"detail": "invalid request: " + "; ".join(problems), "code": "validation_error"},
                            status_code=422)

    # Storage trouble is answered here, as an error of the request's handling (Starlette's ExceptionMiddleware),
    # not by the catch-all below: that one runs in the server-error middleware, which re-raises after
    # answering, so the server closes the connection and the client's next request on it is reset.
    async def _storage_error(request: Request, exc: Exception):
        unavailable = unavailable_error(exc)
        if unavailable is None:
            raise exc
        return JSONResponse({"detail": unavailable.message, "code": unavailable.code},
                            status_code=unavailable.status, headers=unavailable.headers)

    app.add_exception_handler(SQLAlchemyError, _storage_error)
    app.add_exception_handler(OSError, _storage_error)

    @app.exception_handler(Exception)
    async def _internal_error(_request: Request, exc: Exception):
        unavailable = unavailable_error(exc)
        if unavailable is not None:
            return JSONResponse({"detail": unavailable.message, "code": unavailable.code},
                                status_code=unavailable.status, headers=unavailable.headers)
        return JSONResponse({"detail": f"internal error ({type(exc).__name__})", "code": "internal_error"},
                            status_code=500)

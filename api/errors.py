"""One JSON shape for every error: ``{"detail": "<sentence for a person>", "code": "<machine code>"}``.

Handlers registered by the app factory turn ``APIError``, FastAPI's own ``HTTPException`` and request
validation errors into that shape, so a client never has to parse two formats.
"""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class APIError(Exception):
    """An error answered with ``status`` and ``{"detail": message, "code": code}``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def not_found(what: str = "submission") -> APIError:
    return APIError(404, "not_found", f"{what} not found")


_DEFAULT_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                  405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type",
                  422: "validation_error", 429: "too_many_requests"}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api_error(_request: Request, exc: APIError):
        return JSONResponse({"detail": exc.message, "code": exc.code}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        code = _DEFAULT_CODES.get(exc.status_code, "error")
        return JSONResponse({"detail": detail, "code": code}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError):
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
            problems.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg", "invalid"))
        return JSONResponse({"detail": "invalid request: " + "; ".join(problems), "code": "validation_error"},
                            status_code=422)

    @app.exception_handler(Exception)
    async def _internal_error(_request: Request, exc: Exception):
        return JSONResponse({"detail": f"internal error ({type(exc).__name__})", "code": "internal_error"},
                            status_code=500)

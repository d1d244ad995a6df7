"""Identity: bearer tokens with a role (student or instructor), as FastAPI dependencies.

A token is 32 random bytes (``secrets.token_urlsafe(32)``); the database keeps only its sha256, so a
leaked database does not leak tokens. ``create_user`` returns the token once; it cannot be recovered.
"""
from __future__ import annotations

import csv
import hashlib
import io
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .errors import APIError
from .models import ROLES, User


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def create_user(session: Session, name: str, role: str) -> str:
    """Add a user and return their new token (the only time it is visible). Raises ValueError on bad input."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValueError("a user name must have 1..200 characters")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise ValueError(f"user {name!r} already exists")
    token = new_token()
    session.add(User(name=name, role=role, token_hash=hash_token(token)))
    session.flush()
    return token


def count_users(session: Session) -> int:
    return session.scalar(select(func.count(User.id))) or 0


def import_roster(session: Session, text: str) -> list[tuple[str, str, str | None]]:
    """Create the users of a roster CSV (header with ``name`` and optionally ``role``; default student).

    Returns ``(name, role, token)`` per row; ``token`` is None for names that already existed (their token
    is unchanged). Blank lines are skipped; a bad row raises ValueError naming its line.
    """
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    if "name" not in fields:
        raise ValueError("the roster needs a header row with a 'name' column (and optionally 'role')")
    out = []
    for lineno, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        name, role = row.get("name", ""), (row.get("role") or "student").lower()
        if not name:
            continue
        if session.scalar(select(User.id).where(User.name == name)) is not None:
            out.append((name, role, None))
            continue
        try:
            out.append((name, role, create_user(session, name, role)))
        except ValueError as exc:
            raise ValueError(f"line {lineno}: {exc}") from None
    return out


# ---------------------------------------------------------------- FastAPI dependencies

def get_session(request: Request) -> Iterator[Session]:
    """A database session for one request."""
    with request.app.state.sessions() as session:
        yield session


DB = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Principal:
    """The authenticated user of a request (a plain value: no database session is held open)."""

    id: int
    name: str
    role: str

    @property
    def is_instructor(self) -> bool:
        return self.role == "instructor"


class TokenCache:
    """Recently seen valid tokens (by hash) -> Principal, for ``ttl`` seconds; saves a query per request.

    A user removed from the database keeps access for at most ``ttl`` seconds.
    """

    def __init__(self, ttl: float = 30.0, size: int = 10_000):
        self.ttl, self.size = ttl, size
        self._items: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> Principal | None:
        item = self._items.get(digest)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def put(self, digest: str, principal: Principal) -> None:
        with self._lock:
            if len(self._items) >= self.size:
                self._items.clear()
            self._items[digest] = (time.monotonic() + self.ttl, principal)


def _lookup(request: Request, digest: str):
    with request.app.state.sessions() as session:
        return session.execute(select(User.id, User.name, User.role).where(User.token_hash == digest)).first()


async def current_user(request: Request) -> Principal:
    """The user of the request's ``Authorization: Bearer <token>`` header, else 401.

    It uses its own short session, so a long upload does not hold a database connection.
    """
    header = request.headers.get("authorization", "")
    scheme, _, token = header.strip().partition(" ")
    if not header.strip():
        raise APIError(401, "missing_token", "missing bearer token (send 'Authorization: Bearer <token>')",
                       {"WWW-Authenticate": "Bearer"})
    if scheme.lower() != "bearer" or not token.strip():
        raise APIError(401, "invalid_token", "the Authorization header must be 'Bearer <token>'",
                       {"WWW-Authenticate": "Bearer"})
    digest = hash_token(token.strip())
    cache: TokenCache = request.app.state.token_cache
    principal = cache.get(digest)
    if principal is None:
        row = await run_in_threadpool(_lookup, request, digest)
        if row is None:
            raise APIError(401, "invalid_token", "unknown or revoked token",
                           {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        principal = Principal(row.id, row.name, row.role)
        cache.put(digest, principal)
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]


def instructor(user: CurrentUser) -> Principal:
    """The current user if an instructor, else 403."""
    if user.role != "instructor":
        raise APIError(403, "forbidden", "this needs an instructor token")
    return user


Instructor = Annotated[Principal, Depends(instructor)]

"""Database engine, sessions and schema migrations.

SQLite (default, a file under the data directory) or PostgreSQL (``DATABASE_URL=postgresql+psycopg://...``).
On SQLite every connection uses WAL (readers never block the writer), a 30 s busy timeout (writers of
several processes wait for each other instead of failing) and ``synchronous=NORMAL``.

Write transactions in this service start with their write statement (Python's sqlite3 driver opens the
transaction only at the first INSERT/UPDATE), and every state change of a job is one conditional UPDATE
(``... WHERE status = 'queued'`` / ``... WHERE claim_token = :mine``), so the same code is atomic on
both databases.
"""
from __future__ import annotations

import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the pragmas / pool settings this service relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               pool_size=20, max_overflow=20)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (run at service start-up)."""
    cfg = _alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def schema_is_current(engine: Engine) -> bool:
    """True when the database is at the newest migration."""
    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision() == head
    except Exception:
        return False


def wait_for_schema(engine: Engine, timeout: float = 120.0) -> None:
    """Block until the service has migrated the database (workers may start before the API)."""
    deadline = time.monotonic() + timeout
    while not schema_is_current(engine):
        if time.monotonic() > deadline:
            raise RuntimeError("database schema is not at the newest migration; start the API (it migrates)")
        time.sleep(1.0)


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False

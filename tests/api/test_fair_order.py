"""Workers take submissions round-robin by student (``api.jobs.fair_order``), on SQLite and PostgreSQL: one
student's many uploads never make another student's first one wait behind them."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from api import jobs
from api.auth import create_user
from api.db import make_engine, migrate
from api.models import Submission, User
from api.settings import load_settings
from support.servers import PostgresServer, postgres_bindir


@pytest.fixture(scope="module")
def postgres():
    if postgres_bindir() is None:
        pytest.skip("PostgreSQL is not installed")
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def ctx(request, tmp_path, monkeypatch):
    if request.param == "postgresql":
        pg = request.getfixturevalue("postgres")
        name = f"fair_{abs(hash(request.node.name)) % 10**8}"
        import psycopg
        with psycopg.connect(host="127.0.0.1", port=pg.port, user=pg.user, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        monkeypatch.setenv("GRADER_DB_URL", f"postgresql+psycopg://{pg.user}@127.0.0.1:{pg.port}/{name}")
    settings = load_settings(data_dir=tmp_path)
    settings.ensure_dirs()
    migrate(make_engine(settings.db_url))
    context = jobs.JobContext(settings, "w")
    yield context
    context.engine.dispose()


def queue(ctx, *students: str) -> dict[int, str]:
    """One queued submission per name, in this order (ids increase) -> {id: student}."""
    owner = {}
    with ctx.sessions() as s:
        for name in dict.fromkeys(students):
            if s.scalar(select(User.id).where(User.name == name)) is None:
                create_user(s, name, "student")
        s.commit()
        ids = {u.name: u.id for u in s.scalars(select(User))}
        for name in students:
            sub = Submission(user_id=ids[name], assignment="a", status="queued", original_name="x.zip",
                             archive_sha256="0" * 64, size_bytes=1, attempts=0)
            s.add(sub)
            s.flush()
            owner[sub.id] = name
        s.commit()
    return owner


def claimed_order(ctx, owner, n: int) -> list[str]:
    got = []
    for _ in range(n):
        c = jobs.claim(ctx)
        assert c is not None
        got.append(owner[c.submission_id])
    return got


def test_a_students_second_upload_waits_behind_every_others_first(ctx):
    owner = queue(ctx, "ann", "ann", "ann", "ann", "bob", "ann", "cat", "bob")
    assert claimed_order(ctx, owner, 8) == ["ann", "bob", "cat", "ann", "bob", "ann", "ann", "ann"]
    assert jobs.claim(ctx) is None


def test_a_student_with_a_grade_running_waits_behind_those_with_none(ctx):
    owner = queue(ctx, "ann", "ann", "ann")
    assert claimed_order(ctx, owner, 1) == ["ann"]          # ann's first is now running
    owner |= queue(ctx, "bob")
    assert claimed_order(ctx, owner, 3) == ["bob", "ann", "ann"]


def test_within_one_student_the_oldest_goes_first(ctx):
    owner = queue(ctx, "ann", "ann", "ann")
    first = sorted(owner)
    assert [jobs.claim(ctx).submission_id for _ in range(3)] == first

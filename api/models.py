"""Database tables (SQLAlchemy 2 declarative models).

The database is the record of every grading job:

* ``users``        -- one row per person; the bearer token is stored only as its sha256.
* ``submissions``  -- one row per upload; it is also the job: ``status`` goes
                      queued -> running -> graded | error, and the claim columns (``claim_token``,
                      ``lease_expires_at``, ``worker``) say which worker holds it and until when. A graded
                      row holds its result as served (``score``, ``max_score``, ``questions``, ``feedback``,
                      ``student_feedback``; ``api.results``), written once when the job finishes.
* ``assignment_policies`` -- per assignment: due date, hard deadline, late penalty rule, submission quota,
                      whether the grades are published (``api.course``); ``extensions`` -- a student's own
                      due date for one assignment.
* ``regrades``     -- one row per regrade asked for: who, when, why, the score before and after.
* ``manual_scores`` -- an instructor's score and comment of one inline question of one submission.
* ``attempts``     -- one row per claim of a submission by a worker, with its outcome
                      (graded, error, retry, lost, released, superseded); a submission graded once has
                      exactly one attempt with outcome ``graded``.

Times are stored as naive UTC and returned timezone-aware (``UTCDateTime``).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, TypeDecorator,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

STATUSES = ("queued", "running", "graded", "error")
ROLES = ("student", "instructor")


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator):
    """A DateTime stored as naive UTC (same text/ordering on SQLite and PostgreSQL), read back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_upload_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    submissions: Mapped[list["Submission"]] = relationship(back_populates="user")


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_status_id", "status", "id"),
        Index("ix_submissions_user_assignment", "user_id", "assignment"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assignment: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    original_name: Mapped[str] = mapped_column(String(255))
    archive_sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # queue bookkeeping: when and under which id (RQ job id) the job was last handed to a queue
    enqueued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    queue_ref: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # the claim held by a worker while status == 'running'
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)   # not claimable before
    claim_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # the result, as the API serves it (built once from the grader's results, see api.results)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    questions: Mapped[list | None] = mapped_column(JSON, nullable=True)          # [{id, title, score, max_score}]
    feedback: Mapped[dict | None] = mapped_column(JSON, nullable=True)           # instructors: every test
    student_feedback: Mapped[dict | None] = mapped_column(JSON, nullable=True)   # the student: visible tests
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    log_tail: Mapped[str | None] = mapped_column(Text, nullable=True)
    # the late policy at upload time (api.course): how late, and the percentage taken off its score
    late_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    penalty_percent: Mapped[float | None] = mapped_column(Float, nullable=True)
    # sha256 of the graded files as the grader assembled them (the same for the same code in any archive)
    graded_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)

    user: Mapped[User] = relationship(back_populates="submissions")


class Attempt(Base):
    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    claim_token: Mapped[str] = mapped_column(String(64), unique=True)
    worker: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class AssignmentPolicy(Base):
    """Due date, late penalty rule and quota of one assignment (no row: no due date, no limit)."""

    __tablename__ = "assignment_policies"

    assignment: Mapped[str] = mapped_column(String(100), primary_key=True)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    hard_deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    penalty_percent: Mapped[float] = mapped_column(Float, default=0.0)       # per started unit late
    penalty_unit: Mapped[str] = mapped_column(String(8), default="day")      # 'hour' | 'day'
    penalty_cap_percent: Mapped[float] = mapped_column(Float, default=100.0)
    max_submissions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Extension(Base):
    """One student's own due date of one assignment (their hard deadline moves by as much)."""

    __tablename__ = "extensions"
    __table_args__ = (UniqueConstraint("assignment", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    granted_by: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Regrade(Base):
    """A regrade of one submission: who asked, when and why, its score before, and after once graded."""

    __tablename__ = "regrades"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    old_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    new_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)     # graded | error


class ManualScore(Base):
    """An instructor's score and comment of one inline question (manifest ``inline_questions``)."""

    __tablename__ = "manual_scores"
    __table_args__ = (UniqueConstraint("submission_id", "question"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    question: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")
    graded_by: Mapped[str] = mapped_column(String(200))
    graded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

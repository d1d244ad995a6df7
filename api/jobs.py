"""The grading job's state: claims, leases and results in the database, the same for both queue back-ends.

Life of one submission (all state lives in the ``submissions`` row; see ``api.models``)::

    queued --claim--> running --finish--> graded | error
      ^                  |
      +----reap/release--+       (lease expired: worker died; or worker shut down gracefully)

* **claim**: a worker takes the next submission in the fair order (round-robin by student, ``fair_order``);
  one conditional UPDATE (``WHERE id = :id AND status = 'queued'``) gives it to that worker with a fresh
  random ``claim_token`` and a lease; an ``attempts`` row records the claim. Two workers can never both
  claim it.
* **heartbeat**: while the grader runs, the worker renews its lease (``WHERE claim_token = :mine``); when
  that finds no row, the claim was taken away and the worker stops its grader.
* **finish**: the result is written by ``UPDATE ... WHERE claim_token = :mine AND status = 'running'``, so a
  worker whose lease expired cannot overwrite the result of the worker that took over: a submission is
  graded into exactly one result.
* **reap**: a claim whose lease expired (the worker died) is put back to ``queued``; after
  ``max_attempts`` claims the submission is marked ``error`` instead of looping forever.
* **release**: a worker asked to stop (service shutdown) kills its grader and puts the submission back to
  ``queued`` without counting the attempt.
* **retry**: the grader exits with status 2 (its own infrastructure/configuration error, e.g. the sandbox
  could not start) -- not the student's fault, so the submission goes back to ``queued`` with a growing
  delay (``retry_at``) until ``max_attempts``, then ``error``.

Running the grader under a claim is ``api.grader_process``; the RQ job is ``api.queue.rq.rq_grade``.
"""
from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from .db import make_engine, make_session_factory
from .models import Attempt, Submission, utcnow
from .regrades import record_outcome
from .settings import Settings, load_settings
from .storage import ArchiveStore

if TYPE_CHECKING:
    from .results import StoredResult

log = logging.getLogger("api.jobs")

RETRY_BACKOFF_SECONDS = 5.0    # delay before attempt n+1 = n * this
NO_RESULT = dict(score=None, max_score=None, questions=None, feedback=None, student_feedback=None,
                 graded_sha256=None)


@dataclass(frozen=True)
class Claim:
    """A worker's hold on one submission."""

    submission_id: int
    token: str
    number: int          # which attempt this is (1, 2, ...)
    worker: str
    assignment: str
    archive_sha256: str


@dataclass
class GradeOutcome:
    """What one attempt came to; ``result`` (for ``graded``) is what the submission's row will serve."""

    status: str                    # 'graded' | 'error' | 'retry' | 'lost'
    result: "StoredResult | None" = None
    error: str | None = None
    log_tail: str | None = None


class JobContext:
    """What a worker process needs: settings, database sessions, the archive store and its own name."""

    def __init__(self, settings: Settings, kind: str = "worker"):
        self.settings = settings
        self.engine = make_engine(settings.db_url)
        self.sessions: sessionmaker[Session] = make_session_factory(self.engine)
        self.store = ArchiveStore(settings.uploads_dir)
        self.worker = f"{kind}@{socket.gethostname()}:{os.getpid()}"
        self.stop = threading.Event()

    @classmethod
    def from_env(cls, kind: str = "worker") -> "JobContext":
        return cls(load_settings(), kind)


# ------------------------------------------------------------------------------------ state changes

FAIR_CANDIDATES = 8     # rows the fair order offers one claim (the next ones if other workers take these)


def _claimable():
    return (Submission.status == "queued", or_(Submission.retry_at.is_(None), Submission.retry_at <= utcnow()))


def fair_order(session: Session, limit: int = FAIR_CANDIDATES) -> list[int]:
    """The queued submissions to grade next, fairest first: round-robin by student.

    A submission's place is its rank among its student's queued submissions plus the number of that student's
    submissions being graded now, ties by age (id): a student's second job waits behind every other
    student's first, and a student whose job is running waits behind those who have none running. So one
    student's many (or endless) uploads delay another student by at most the grades already running."""
    running = (select(Submission.user_id, func.count().label("n"))
               .where(Submission.status == "running").group_by(Submission.user_id).subquery())
    rank = func.row_number().over(partition_by=Submission.user_id, order_by=Submission.id).label("rank")
    queued = select(Submission.id, Submission.user_id, rank).where(*_claimable()).subquery()
    pick = (select(queued.c.id)
            .outerjoin(running, running.c.user_id == queued.c.user_id)
            .order_by(queued.c.rank + func.coalesce(running.c.n, 0), queued.c.id)
            .limit(limit))
    return list(session.execute(pick).scalars())


def claim(ctx: JobContext, submission_id: int | None = None) -> Claim | None:
    """Claim ``submission_id``, or else the next queued submission in the fair order (``fair_order``);
    None if there is nothing to take.

    On PostgreSQL the candidate row is locked with ``FOR UPDATE SKIP LOCKED`` so concurrent workers pick
    different rows; on SQLite (where FOR UPDATE does not exist) the conditional UPDATE alone decides.
    """
    lease = timedelta(seconds=ctx.settings.lease_seconds)
    for _ in range(5):
        with ctx.sessions() as session:
            candidates = [submission_id] if submission_id is not None else fair_order(session)
            for candidate in candidates:
                got = _claim_one(ctx, session, candidate, lease)
                if got is not None:
                    return got
            session.rollback()
            if submission_id is not None or not candidates:
                return None
    return None


def _claim_one(ctx: JobContext, session: Session, submission_id: int, lease: timedelta) -> Claim | None:
    """Take ``submission_id`` if it is still queued (committed), else None (rolled back)."""
    row = session.execute(select(Submission.id, Submission.assignment, Submission.archive_sha256)
                          .where(Submission.id == submission_id, *_claimable())
                          .with_for_update(skip_locked=True)).first()
    if row is None:
        session.rollback()
        return None
    now, token = utcnow(), secrets.token_hex(16)
    number = session.execute(
        update(Submission)
        .where(Submission.id == row.id, Submission.status == "queued")
        .values(status="running", claim_token=token, attempts=Submission.attempts + 1,
                started_at=now, lease_expires_at=now + lease, worker=ctx.worker)
        .returning(Submission.attempts)
    ).scalar()
    if number is None:                     # another worker was quicker
        session.rollback()
        return None
    session.add(Attempt(submission_id=row.id, number=number, claim_token=token, worker=ctx.worker,
                        started_at=now, heartbeat_at=now))
    session.commit()
    return Claim(row.id, token, number, ctx.worker, row.assignment, row.archive_sha256)


def still_ours(c: Claim) -> tuple:
    """The WHERE conditions of every write under a claim: the submission is running under this claim's
    token (an expired lease reaped meanwhile, or a later claim, makes the write match nothing)."""
    return (Submission.id == c.submission_id, Submission.claim_token == c.token, Submission.status == "running")


def heartbeat(ctx: JobContext, c: Claim) -> bool:
    """Renew the lease; False when the claim is no longer ours (it expired and was reaped)."""
    now = utcnow()
    with ctx.sessions() as session:
        renewed = session.execute(
            update(Submission)
            .where(*still_ours(c))
            .values(lease_expires_at=now + timedelta(seconds=ctx.settings.lease_seconds))
        ).rowcount
        if renewed:
            session.execute(update(Attempt).where(Attempt.claim_token == c.token).values(heartbeat_at=now))
        session.commit()
        return renewed == 1


def finish(ctx: JobContext, c: Claim, outcome: GradeOutcome) -> str | None:
    """Write the result, only if the claim is still ours. Returns the status written (None: not ours)."""
    now = utcnow()
    guard = still_ours(c)
    status = outcome.status
    if status == "retry" and c.number >= ctx.settings.max_attempts:
        status = "error"                                     # retried enough: give up
    with ctx.sessions() as session:
        written = 0
        if status in ("graded", "error"):
            written = session.execute(
                update(Submission).where(*guard)
                .values(status=status, **(outcome.result.columns() if outcome.result is not None else NO_RESULT),
                        error=outcome.error, log_tail=outcome.log_tail,
                        finished_at=now, claim_token=None, lease_expires_at=None, retry_at=None)
            ).rowcount
            if written:
                record_outcome(session, c.submission_id, status,
                               outcome.result.score if outcome.result is not None else None)
        elif status == "retry":
            written = session.execute(
                update(Submission).where(*guard)
                .values(status="queued", claim_token=None, lease_expires_at=None, worker=None,
                        enqueued_at=None, queue_ref=None, error=outcome.error, log_tail=outcome.log_tail,
                        retry_at=now + timedelta(seconds=RETRY_BACKOFF_SECONDS * c.number))
            ).rowcount
        session.execute(
            update(Attempt).where(Attempt.claim_token == c.token, Attempt.outcome.is_(None))
            .values(finished_at=now, outcome=status if written else "superseded",
                    detail=(outcome.error if status != "graded" else None) if written
                    else "the lease had expired; another attempt owns the result")
        )
        session.commit()
        return status if written == 1 else None


def release(ctx: JobContext, c: Claim, reason: str) -> bool:
    """Give a claimed submission back to the queue without counting the attempt (graceful shutdown)."""
    now = utcnow()
    with ctx.sessions() as session:
        released = session.execute(
            update(Submission)
            .where(*still_ours(c))
            .values(status="queued", claim_token=None, lease_expires_at=None, worker=None,
                    attempts=Submission.attempts - 1, enqueued_at=None, queue_ref=None)
        ).rowcount
        session.execute(update(Attempt).where(Attempt.claim_token == c.token, Attempt.outcome.is_(None))
                        .values(finished_at=now, outcome="released", detail=reason))
        session.commit()
        return released == 1


def reap_expired(sessions: sessionmaker[Session], max_attempts: int) -> list[int]:
    """Put submissions whose worker stopped heart-beating back in the queue; returns their ids.

    A submission that has already been claimed ``max_attempts`` times is marked ``error`` instead.
    """
    now = utcnow()
    requeued = []
    with sessions() as session:
        rows = session.execute(
            select(Submission.id, Submission.claim_token, Submission.attempts, Submission.worker)
            .where(Submission.status == "running", Submission.lease_expires_at < now)
        ).all()
        for row in rows:
            guard = (Submission.id == row.id, Submission.claim_token == row.claim_token,
                     Submission.status == "running")
            if row.attempts >= max_attempts:
                values = dict(status="error", finished_at=now, claim_token=None, lease_expires_at=None,
                              error=f"grading did not complete: the worker stopped responding "
                                    f"{row.attempts} times (last: {row.worker})")
            else:
                values = dict(status="queued", claim_token=None, lease_expires_at=None, worker=None,
                              enqueued_at=None, queue_ref=None)
            if session.execute(update(Submission).where(*guard).values(**values)).rowcount == 1:
                session.execute(update(Attempt)
                                .where(Attempt.claim_token == row.claim_token, Attempt.outcome.is_(None))
                                .values(finished_at=now, outcome="lost",
                                        detail=f"lease expired (worker {row.worker})"))
                if values["status"] == "queued":
                    requeued.append(row.id)
                else:
                    record_outcome(session, row.id, "error", None)
                log.warning("submission %s: lease of %s expired -> %s", row.id, row.worker, values["status"])
        session.commit()
    return requeued

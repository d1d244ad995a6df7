"""The distributed queue: Redis + RQ workers (``python -m api worker --queue rq``), on any machine.

Redis only carries the message "a submission (<id>) waits"; the database stays the record of the job. An
RQ job runs ``rq_grade(id)`` (below), which claims the next submission in the fair order in the database
exactly like a local worker does, so a duplicate message is harmless (it finds nothing left and skips).

The service keeps Redis and the database consistent (``RQQueue.sync``, run by the dispatcher's
maintenance thread): it enqueues submissions that never reached Redis (Redis down at upload time, or a
submission put back by the reaper) and re-enqueues those whose RQ job vanished or failed.
Workers are ``SimpleWorker``s (no fork per job): the grade already runs in its own child process, and a
worker killed mid-grade takes that child with it, so the lease expires and the job is re-queued.
"""
from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from ..models import Submission, utcnow
from ..settings import Settings

log = logging.getLogger("api.queue.rq")

STALE_AFTER = timedelta(seconds=30)     # a queued submission this old gets its RQ job checked
RQ_JOB = "api.queue.rq.rq_grade"         # what an RQ worker imports and calls with the submission's id


def new_job_id() -> str:
    return f"grade-{secrets.token_hex(8)}"


class RQQueue:
    """Enqueueing side (in the service)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.redis = Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
        self.queue = Queue(settings.rq_queue_name, connection=self.redis)

    def enqueue(self, submission_id: int, job_id: str) -> None:
        self.queue.enqueue(RQ_JOB, submission_id, job_id=job_id,
                           job_timeout=int(self.settings.job_timeout + 120), result_ttl=3600,
                           failure_ttl=7 * 24 * 3600, description=f"grade submission {submission_id}")

    def ping(self) -> bool:
        try:
            return bool(self.redis.ping())
        except Exception:
            return False

    def _hand_over(self, sessions: sessionmaker[Session], submission_id: int) -> None:
        job_id = new_job_id()
        with sessions() as session:
            marked = session.execute(
                update(Submission).where(Submission.id == submission_id, Submission.status == "queued")
                .values(enqueued_at=utcnow(), queue_ref=job_id)).rowcount
            session.commit()
        if marked:
            try:
                self.enqueue(submission_id, job_id)
            except Exception:
                with sessions() as session:
                    session.execute(update(Submission).where(Submission.id == submission_id,
                                                             Submission.queue_ref == job_id)
                                    .values(enqueued_at=None))
                    session.commit()
                raise

    def sync(self, sessions: sessionmaker[Session]) -> int:
        """Make every queued submission have a live RQ job; returns how many were (re-)enqueued."""
        with sessions() as session:
            rows = session.execute(select(Submission.id, Submission.enqueued_at, Submission.queue_ref)
                                   .where(Submission.status == "queued",
                                          or_(Submission.retry_at.is_(None), Submission.retry_at <= utcnow()))
                                   .order_by(Submission.id)).all()
        stale_before = utcnow() - STALE_AFTER
        need = [r.id for r in rows if r.enqueued_at is None]
        check = [r for r in rows if r.enqueued_at is not None and r.enqueued_at < stale_before]
        if check:
            jobs = Job.fetch_many([r.queue_ref for r in check], connection=self.redis)
            for row, job in zip(check, jobs):
                status = job.get_status(refresh=False) if job is not None else None
                if status is None or status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED,
                                                JobStatus.FINISHED):
                    need.append(row.id)
        for sid in need:
            self._hand_over(sessions, sid)
        if need:
            log.info("enqueued %d submission(s) on RQ: %s", len(need), need[:20])
        return len(need)


def run_rq_worker(settings: Settings, burst: bool = False, name: str | None = None) -> None:
    """Run one RQ worker on the grading queue (blocks; warm shutdown on SIGTERM)."""
    redis = Redis.from_url(settings.redis_url)
    queue = Queue(settings.rq_queue_name, connection=redis)
    worker = SimpleWorker([queue], connection=redis, name=name)
    worker.work(burst=burst, logging_level="INFO", with_scheduler=False)


# ------------------------------------------------------------------------------------ the RQ job

_CONTEXT = None


def rq_grade(submission_id: int) -> str:
    """The RQ job: claim the next queued submission in the fair order (``api.jobs.fair_order``) and grade it.

    Every queued submission has one RQ job, so the jobs waiting in Redis are as many as the submissions
    waiting in the database; a job grades whichever submission is fairest to grade next (not necessarily
    ``submission_id``: Redis is first-in first-out, the database decides who is next). A job that finds
    nothing queued (a duplicate) skips."""
    global _CONTEXT
    from ..grader_process import process
    from ..jobs import JobContext, claim

    if _CONTEXT is None:
        _CONTEXT = JobContext.from_env(kind="rq")
    c = claim(_CONTEXT)
    if c is None:
        return f"skipped: nothing queued (submission {submission_id} already claimed or finished)"
    return f"submission {c.submission_id}: " + process(_CONTEXT, c)

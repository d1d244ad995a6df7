"""The grading job, the same code for both queue back-ends (local worker pool and Redis/RQ).

Life of one submission (all state lives in the ``submissions`` row; see ``api.models``)::

    queued --claim--> running --finish--> graded | error
      ^                  |
      +----reap/release--+       (lease expired: worker died; or worker shut down gracefully)

* **claim**: one conditional UPDATE (``WHERE id = :id AND status = 'queued'``) gives the submission to one
  worker with a fresh random ``claim_token`` and a lease; an ``attempts`` row records the claim. Two workers
  can never both claim it.
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

The grade itself is ``python -m grader grade ARCHIVE --assignment A --out results.json`` run as a child
process (crash isolation, its own process group, killed if the worker dies), with a time limit.
"""
from __future__ import annotations

import ctypes
import functools
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from .db import make_engine, make_session_factory
from .models import Attempt, Submission, utcnow
from .settings import REPO_ROOT, Settings, load_settings
from .storage import ArchiveStore

log = logging.getLogger("api.jobs")

MAX_TEST_OUTPUT_CHARS = 20_000
RETRYABLE_EXIT_CODES = {2}     # `python -m grader grade`: 2 = grader or configuration error (not the student's)
RETRY_BACKOFF_SECONDS = 5.0    # delay before attempt n+1 = n * this
LOG_TAIL_CHARS = 8_000


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
    status: str                    # 'graded' | 'error' | 'retry' | 'lost'
    score: float | None = None
    max_score: float | None = None
    results_json: str | None = None
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

def claim(ctx: JobContext, submission_id: int | None = None) -> Claim | None:
    """Claim ``submission_id`` (RQ) or the oldest queued submission (local pool); None if nothing to take.

    On PostgreSQL the candidate row is locked with ``FOR UPDATE SKIP LOCKED`` so concurrent workers pick
    different rows; on SQLite (where FOR UPDATE does not exist) the conditional UPDATE alone decides.
    """
    lease = timedelta(seconds=ctx.settings.lease_seconds)
    for _ in range(5):
        with ctx.sessions() as session:
            pick = (select(Submission.id, Submission.assignment, Submission.archive_sha256)
                    .where(or_(Submission.retry_at.is_(None), Submission.retry_at <= utcnow())))
            if submission_id is None:
                pick = pick.where(Submission.status == "queued").order_by(Submission.id).limit(1)
            else:
                pick = pick.where(Submission.id == submission_id, Submission.status == "queued")
            row = session.execute(pick.with_for_update(skip_locked=True)).first()
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
            if number is None:
                session.rollback()
                if submission_id is not None:
                    return None
                continue                       # another worker was quicker; look again
            session.add(Attempt(submission_id=row.id, number=number, claim_token=token, worker=ctx.worker,
                                started_at=now, heartbeat_at=now))
            session.commit()
            return Claim(row.id, token, number, ctx.worker, row.assignment, row.archive_sha256)
    return None


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
                .values(status=status, score=outcome.score, max_score=outcome.max_score,
                        results_json=outcome.results_json, error=outcome.error, log_tail=outcome.log_tail,
                        finished_at=now, claim_token=None, lease_expires_at=None, retry_at=None)
            ).rowcount
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
                log.warning("submission %s: lease of %s expired -> %s", row.id, row.worker, values["status"])
        session.commit()
    return requeued


# ------------------------------------------------------------------------------------ running the grader

def _grader_child_setup(sched_idle: bool, nice: int) -> None:
    """In the grader child: die with the worker (PR_SET_PDEATHSIG) and run at a low CPU priority.

    SCHED_IDLE (default) or a niceness; inherited by everything the grader starts (its sandboxes).
    """
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)   # PR_SET_PDEATHSIG = 1
    except OSError:
        pass
    if sched_idle:
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return
        except (OSError, AttributeError):        # not Linux: fall back to the niceness
            pass
    if nice:
        try:
            os.nice(nice)
        except OSError:
            pass


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _tail(path: Path, chars: int = LOG_TAIL_CHARS) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - chars))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def grader_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def read_results(path: Path) -> tuple[float, float, str]:
    """Check a Gradescope results file and return ``(score, max_score, json_text)`` (ValueError if bad)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("results.json is not a JSON object")
    tests = data.get("tests") or []
    if not isinstance(tests, list):
        raise ValueError("results.json: 'tests' is not a list")
    for t in tests:
        if isinstance(t, dict) and isinstance(t.get("output"), str) and len(t["output"]) > MAX_TEST_OUTPUT_CHARS:
            t["output"] = t["output"][:MAX_TEST_OUTPUT_CHARS] + "\n... (output truncated)"
    extra = data.get("extra_data") if isinstance(data.get("extra_data"), dict) else {}
    if "score" in data:
        score = float(data["score"])
    else:
        score = float(sum(float(t.get("score", 0)) for t in tests if isinstance(t, dict)))
    max_score = extra.get("max_score")
    if max_score is None:
        max_score = sum(float(t.get("max_score", 0)) for t in tests if isinstance(t, dict))
    return score, float(max_score), json.dumps(data)


def run_grader(ctx: JobContext, c: Claim, archive: Path) -> GradeOutcome:
    """Run the grader on ``archive`` while keeping the lease alive; kill it on timeout or lost claim."""
    settings = ctx.settings
    workdir = settings.jobs_dir / f"{c.submission_id}-{c.number}-{c.token[:8]}"
    workdir.mkdir(parents=True, exist_ok=True)
    out, log_path = workdir / "results.json", workdir / "grader.log"
    argv = settings.grader_argv() + ["grade", str(archive), "--assignment", c.assignment, "--out", str(out)]
    if not settings.train_ahead:
        argv.append("--no-train-ahead")
    if not settings.grade_notebooks:
        argv.append("--no-notebooks")
    with open(log_path, "wb") as log_fh:
        # its own process group (killed as a whole), but not its own session: a new session is a new
        # autogroup of Linux's scheduler (for processes in the root cgroup), which gets as much CPU as the
        # whole service whatever the grader's policy or niceness
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log_fh, stderr=subprocess.STDOUT,
                                cwd=workdir, env=grader_env(), process_group=0,
                                preexec_fn=functools.partial(_grader_child_setup, settings.grader_sched_idle,
                                                             settings.grader_nice))
    started = time.monotonic()
    next_beat = started + settings.heartbeat_interval
    try:
        while True:
            try:
                rc = proc.wait(timeout=0.25)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if ctx.stop.is_set():
                raise SystemExit("worker stopping")
            if now - started > settings.job_timeout:
                _kill_group(proc)
                return GradeOutcome("error", error=f"grading timed out after {settings.job_timeout:.0f} s",
                                    log_tail=_tail(log_path))
            if now >= next_beat:
                next_beat = now + settings.heartbeat_interval
                try:
                    alive = heartbeat(ctx, c)
                except Exception as exc:                      # database briefly unavailable: keep grading
                    log.warning("heartbeat for submission %s failed: %s", c.submission_id, exc)
                    alive = True
                if not alive:
                    _kill_group(proc)
                    return GradeOutcome("lost")
    except BaseException:
        _kill_group(proc)
        raise
    tail = _tail(log_path)
    if rc in RETRYABLE_EXIT_CODES:
        return GradeOutcome("retry", error=f"the grader could not grade (exit status {rc}); retrying",
                            log_tail=tail)
    if rc != 0:
        return GradeOutcome("error", error=f"the grader exited with status {rc}", log_tail=tail)
    try:
        score, max_score, text = read_results(out)
    except (OSError, ValueError, TypeError) as exc:
        return GradeOutcome("error", error=f"the grader wrote no valid results file ({exc})", log_tail=tail)
    return GradeOutcome("graded", score=score, max_score=max_score, results_json=text, log_tail=tail)


def process(ctx: JobContext, c: Claim) -> str:
    """Grade one claimed submission and record the result; returns the attempt's outcome."""
    archive = ctx.store.path_for(c.archive_sha256)
    if not archive.is_file():
        outcome = GradeOutcome("error", error=f"the uploaded archive is missing from storage ({archive})")
    else:
        try:
            outcome = run_grader(ctx, c, archive)
        except BaseException:
            try:
                release(ctx, c, "worker stopped during the grade")
            except Exception as exc:
                log.warning("could not release submission %s: %s", c.submission_id, exc)
            raise
    if outcome.status == "lost":
        finish(ctx, c, outcome)             # records the attempt as superseded; the row is not touched
        return "superseded"
    written = finish(ctx, c, outcome)
    log.info("submission %s attempt %s: %s", c.submission_id, c.number,
             written or f"{outcome.status} discarded (claim expired)")
    return written or "superseded"


# ------------------------------------------------------------------------------------ RQ entry point

_RQ_CONTEXT: JobContext | None = None


def rq_grade(submission_id: int) -> str:
    """The RQ job: claim ``submission_id`` and grade it. A duplicate RQ job finds it claimed and skips."""
    global _RQ_CONTEXT
    if _RQ_CONTEXT is None:
        _RQ_CONTEXT = JobContext.from_env(kind="rq")
    c = claim(_RQ_CONTEXT, submission_id)
    if c is None:
        return "skipped: not queued (already claimed or finished)"
    return process(_RQ_CONTEXT, c)

"""Grading one claimed submission: the grader as a child process while the claim's lease is kept alive.

The grade is ``python -m grader grade ARCHIVE --assignment A --out results.json`` run and read by
``grader.child.run_grade`` (the same code as ``grade-batch``): crash isolation, a process group of its own
in the worker's session, killed if the worker dies (``PR_SET_PDEATHSIG``), at idle CPU priority
(``SCHED_IDLE``, or a niceness), under the ``job_timeout``. While it runs the worker renews its lease every
``heartbeat_interval``; when the claim was taken away (the lease expired and the job went to another
worker) or the worker is asked to stop, the grader is killed. What came out is recorded by
``api.jobs.finish``: the result as the API serves it (``api.results``), or why there is none.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from grader.child import GradeFailed, Priority, child_env, grade_argv, run_grade

from .jobs import Claim, GradeOutcome, JobContext, finish, heartbeat, release
from .results import stored_result

log = logging.getLogger("api.grader_process")

LOG_TAIL_CHARS = 8_000      # characters of the grader's log kept with the result (instructors see them)
WATCH_SECONDS = 0.25        # how often the worker looks at its stop flag (and, when due, heartbeats)


class ClaimLost(Exception):
    """The lease expired and the submission was reaped: another attempt owns the result."""


def _watcher(ctx: JobContext, c: Claim):
    """The callback ``run_grade`` calls while the grader runs: stop when the worker must, heartbeat when due."""
    next_beat = time.monotonic() + ctx.settings.heartbeat_interval

    def watch() -> None:
        nonlocal next_beat
        if ctx.stop.is_set():
            raise SystemExit("worker stopping")
        now = time.monotonic()
        if now < next_beat:
            return
        next_beat = now + ctx.settings.heartbeat_interval
        try:
            alive = heartbeat(ctx, c)
        except Exception as exc:                      # database briefly unavailable: keep grading
            log.warning("heartbeat for submission %s failed: %s", c.submission_id, exc)
            return
        if not alive:
            raise ClaimLost()

    return watch


def run_grader(ctx: JobContext, c: Claim, archive: Path) -> GradeOutcome:
    """Grade ``archive`` under the claim ``c``; the outcome to record (SystemExit when the worker stops)."""
    settings = ctx.settings
    workdir = settings.jobs_dir / f"{c.submission_id}-{c.number}-{c.token[:8]}"
    workdir.mkdir(parents=True, exist_ok=True)
    out, log_path = workdir / "results.json", workdir / "grader.log"
    argv = grade_argv(archive, c.assignment, out, command=settings.grader_argv(),
                      notebooks=settings.grade_notebooks, train_ahead=settings.train_ahead)
    priority = Priority(die_with_parent=True, sched_idle=settings.grader_sched_idle, nice=settings.grader_nice)
    try:
        graded = run_grade(argv, out, log_path, timeout=settings.job_timeout, cwd=workdir, env=child_env(),
                           priority=priority, watch=_watcher(ctx, c), watch_every=WATCH_SECONDS)
    except ClaimLost:
        return GradeOutcome("lost")
    except GradeFailed as exc:
        if exc.retryable:
            return GradeOutcome("retry", error=f"the grader could not grade (exit status {exc.returncode}); retrying",
                                log_tail=exc.log_tail(LOG_TAIL_CHARS))
        return GradeOutcome("error", error=str(exc), log_tail=exc.log_tail(LOG_TAIL_CHARS))
    return GradeOutcome("graded", result=stored_result(graded.results), log_tail=graded.log_tail(LOG_TAIL_CHARS))


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

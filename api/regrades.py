"""Regrades: a finished submission goes back to the queue, and its grade keeps its history.

``requeue`` puts graded (or failed) submissions back to ``queued`` as a new job: the attempt counter starts
again (``max_attempts`` applies to the regrade), the claim columns are cleared, and a ``regrades`` row
records who asked, when, why and the score before. The submission keeps serving its previous result until
the new one is written; ``api.jobs.finish`` then completes every open regrade row of the submission with the
new score (``record_outcome``). Submissions already queued or running are skipped: they will be graded with
the current manifest anyway.

The grade of unchanged files under an unchanged manifest is the same (the hidden inputs come from the
secret and the files, ``grader.secret``); after a manifest fix the history shows old and new score.
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .models import Regrade, Submission, utcnow

FINISHED = ("graded", "error")


def requeue(session: Session, ids: list[int], by: str, reason: str | None,
            queue_refs: dict[int, str | None]) -> tuple[list[int], list[int]]:
    """Put the finished submissions among ``ids`` back in the queue; returns ``(queued, skipped)``.
    ``queue_refs``: the new queue id of each (RQ job id; None in local mode). The caller commits."""
    queued, skipped = [], []
    now = utcnow()
    for sid in ids:
        old = session.scalar(select(Submission.score).where(Submission.id == sid))
        done = session.execute(
            update(Submission).where(Submission.id == sid, Submission.status.in_(FINISHED))
            .values(status="queued", attempts=0, claim_token=None, lease_expires_at=None, worker=None,
                    retry_at=None, enqueued_at=now, queue_ref=queue_refs.get(sid))).rowcount
        if done:
            session.add(Regrade(submission_id=sid, requested_by=by, requested_at=now, reason=reason, old_score=old))
            queued.append(sid)
        else:
            skipped.append(sid)
    return queued, skipped


def record_outcome(session: Session, submission_id: int, status: str, score: float | None) -> None:
    """Complete the open regrades of a submission whose job just finished (in the finishing transaction)."""
    session.execute(update(Regrade).where(Regrade.submission_id == submission_id, Regrade.finished_at.is_(None))
                    .values(new_score=score, outcome=status, finished_at=utcnow()))

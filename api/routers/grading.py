"""What instructors do to grades: regrades (``POST /regrades``) and manual scores of inline questions
(``PUT /submissions/{id}/manual/{question}``). See ``api.regrades`` for a regrade's life."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from ..auth import DB, Instructor
from ..errors import INT64_MAX, APIError, not_found
from ..models import ManualScore, Submission, User, utcnow
from ..regrades import requeue
from ..schemas import ErrorOut, ManualScoreIn, ManualScoreOut, RegradeIn, RegradesCreated

router = APIRouter(tags=["grading"])
ERRORS = {403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}}


@router.post("/regrades", status_code=202, response_model=RegradesCreated, responses=ERRORS)
async def create_regrades(body: RegradeIn, request: Request, user: Instructor) -> RegradesCreated:
    """Grade again one submission (``submission_id``), a student's submissions of an assignment (``student``
    and ``assignment``) or every submission of an assignment (``assignment``)."""
    return await run_in_threadpool(_regrade, request, body, user.name)


def _regrade(request: Request, body: RegradeIn, by: str) -> RegradesCreated:
    app = request.app
    query = select(Submission.id)
    if body.submission_id is not None:
        if body.submission_id > app.state.id_max.get("submission_id", INT64_MAX):
            raise not_found("submission")       # no row can have it (and the database would refuse the query)
        query = query.where(Submission.id == body.submission_id)
    elif body.assignment is not None:
        if app.state.catalog.get(body.assignment) is None:
            raise APIError(422, "unknown_assignment", f"unknown assignment '{body.assignment}'")
        query = query.where(Submission.assignment == body.assignment)
        if body.student is not None:
            query = query.join(User, Submission.user_id == User.id).where(User.name == body.student)
    else:
        raise APIError(422, "validation_error", "name a submission_id, or an assignment (and a student)")
    dispatcher = app.state.dispatcher
    with app.state.sessions() as session:
        ids = list(session.scalars(query.order_by(Submission.id)))
        if body.submission_id is not None and not ids:
            raise not_found("submission")
        refs = {sid: dispatcher.new_queue_ref() for sid in ids}
        queued, skipped = requeue(session, ids, by, body.reason, refs)
        session.commit()
    for sid in queued:
        dispatcher.submitted(sid, refs[sid])
    return RegradesCreated(queued=queued, skipped=skipped)


@router.put("/submissions/{submission_id}/manual/{question}", response_model=ManualScoreOut, responses=ERRORS)
def put_manual_score(submission_id: int, question: str, body: ManualScoreIn, request: Request, user: Instructor,
                     session: DB) -> ManualScoreOut:
    """Score one inline question of a submission by hand (the manifest's ``inline_questions``)."""
    sub = session.get(Submission, submission_id)
    if sub is None:
        raise not_found("submission")
    a = request.app.state.catalog.get(sub.assignment)
    q = a.inline_question(question) if a is not None else None
    if q is None:
        raise not_found("inline question")
    if body.score > q.points:
        raise APIError(422, "validation_error", f"{question} is worth {q.points:g} points, not {body.score:g}")
    m = session.scalar(select(ManualScore).where(ManualScore.submission_id == submission_id,
                                                 ManualScore.question == question))
    m = m or ManualScore(submission_id=submission_id, question=question)
    m.score, m.comment, m.graded_by, m.graded_at = body.score, body.comment, user.name, utcnow()
    session.add(m)
    session.commit()
    return ManualScoreOut(question=q.id, title=q.title, points=q.points, score=m.score, comment=m.comment,
                          graded_by=m.graded_by, graded_at=m.graded_at)

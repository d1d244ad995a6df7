"""Submissions: upload (``POST``), poll one (``GET /{id}``), list (``GET``), and who am I (``/me``).

A student sees only their own submissions -- another student's id answers 404, exactly like an id that
does not exist -- and only the tests whose Gradescope ``visibility`` shows them now (``visible``; once their
due date has passed ``after_due_date``; once the grades are published ``after_published``: ``api.course``);
the others are counted (``hidden_tests``) but their names, scores and output never leave the server for a
student (``hidden`` ones are not even in the student's stored feedback: ``api.results``).

An upload names its assignment (form field ``assignment``), one of the catalogue's (``api.catalog``). A
student's upload after the assignment's hard deadline is refused (403 ``past_deadline``), one beyond its
quota too (429 ``quota_exhausted``); every accepted one records how late it is and its penalty.
"""
from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import defer

from ..auth import DB, CurrentUser, Principal
from ..catalog import Catalog, Offered
from ..errors import INT64_MAX, APIError, not_found
from ..course import Deadline, after_penalty, deadline, student_feedback
from ..models import Attempt, ManualScore, Regrade, Submission, User, utcnow
from ..results import Feedback
from ..schemas import (AttemptOut, ErrorOut, ManualScoreOut, Me, MyDeadline, QuestionScore, RegradeOut, Status,
                       SubmissionCreated, SubmissionList, SubmissionOut, SubmissionSummary, UploadForm)
from ..storage import check_zip, receive_upload
from ..writer import too_many_in_flight

router = APIRouter(tags=["submissions"])

IN_FLIGHT = ("queued", "running")
UPLOAD_ERRORS = {
    400: {"model": ErrorOut, "description": "malformed multipart body"},
    413: {"model": ErrorOut, "description": "file over the size limit (refused while streaming)"},
    415: {"model": ErrorOut, "description": "not multipart/form-data, or the file is not a zip archive"},
    422: {"model": ErrorOut, "description": "missing/empty file, missing or unknown assignment"},
    403: {"model": ErrorOut, "description": "the assignment's hard deadline has passed (past_deadline)"},
    429: {"model": ErrorOut, "description": "too many submissions of this student queued or running, or the "
                                            "assignment's quota of submissions is used (quota_exhausted)"},
    503: {"model": ErrorOut, "description": "the database does not answer (nothing recorded; Retry-After)"},
    507: {"model": ErrorOut, "description": "no space left to store the upload (nothing recorded)"},
}


def submission_url(base_url: str, submission_id: int) -> str:
    """Absolute URL of a submission (built from the request's base URL; cheaper than url_for)."""
    return f"{str(base_url).rstrip('/')}/api/v1/submissions/{submission_id}"


# ------------------------------------------------------------------------------------------ upload

def _check_assignment(catalog: Catalog, value: str | None) -> str:
    """The assignment an upload names: one the catalogue offers (else a 422 listing them)."""
    if not value or catalog.get(value) is None:
        known = ", ".join(sorted(catalog.all())) or "none configured"
        if not value:
            raise APIError(422, "missing_assignment", f"missing form field 'assignment' (one of: {known})")
        raise APIError(422, "unknown_assignment", f"unknown assignment '{value}' (known: {known})")
    return value


IN_FLIGHT_COUNT = select(func.count(Submission.id)).where(Submission.user_id == bindparam("uid"),
                                                          Submission.status.in_(IN_FLIGHT))
PRECHECK_ABOVE_BYTES = 1 << 20


def _precheck_in_flight(request: Request, user: Principal) -> None:
    """Refuse a large upload of a student who is already at the limit before reading its body."""
    limit = request.app.state.settings.max_in_flight
    with request.app.state.engine.connect() as conn:
        if conn.execute(IN_FLIGHT_COUNT, {"uid": user.id}).scalar_one() >= limit:
            raise too_many_in_flight(limit)


def _deadline(request: Request, assignment: str, user_id: int) -> Deadline:
    with request.app.state.sessions() as session:
        return deadline(session, assignment, user_id)


def _store(request: Request, upload) -> None:
    """Check the archive, hash it and store it at its content address (in a worker thread)."""
    check_zip(upload)
    request.app.state.store.save(upload)


@router.post(
    "/submissions", status_code=202, response_model=SubmissionCreated, responses=UPLOAD_ERRORS,
    summary="Upload a submission archive for grading",
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {
        "schema": UploadForm.model_json_schema()}}}},
)
async def create_submission(request: Request, user: CurrentUser):
    """Multipart form with ``assignment`` and ``file`` (a .zip). Answers 202 at once; grading is queued.

    The body is read as a stream: a file over the size limit is refused as soon as it passes the limit.
    """
    app = request.app
    settings, catalog, store = app.state.settings, app.state.catalog, app.state.store
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > PRECHECK_ABOVE_BYTES:
        await run_in_threadpool(_precheck_in_flight, request, user)     # small uploads: checked at insert

    def on_field(name: str, value: str) -> None:
        if name == "assignment":
            _check_assignment(catalog, value)

    upload = await receive_upload(request, store, settings.max_upload_bytes, on_field=on_field)
    dispatcher = app.state.dispatcher
    queue_ref = dispatcher.new_queue_ref()
    try:
        assignment = _check_assignment(catalog, upload.fields.get("assignment"))
        rule = None if user.is_instructor else await run_in_threadpool(_deadline, request, assignment, user.id)
        if rule is not None and rule.refused(utcnow()):
            raise APIError(403, "past_deadline", f"the deadline of {assignment} has passed "
                                                 f"({rule.hard_deadline_at.isoformat()}); uploads are closed")
        await asyncio.get_running_loop().run_in_executor(app.state.upload_pool, _store, request, upload)
    finally:
        upload.discard()                   # no-op once the archive is stored
    # the in-flight limit and the quota are enforced exactly here, in the same transaction as the insert,
    # which also records how late the upload is (api/writer.py)
    sub_id, created_at = await app.state.writer.add(user_id=user.id, assignment=assignment,
                                                    filename=upload.filename, sha256=upload.sha256,
                                                    size=upload.size, queue_ref=queue_ref, rule=rule)
    if queue_ref is not None:
        await run_in_threadpool(dispatcher.submitted, sub_id, queue_ref)
    url = submission_url(request.base_url, sub_id)
    body = SubmissionCreated(id=sub_id, status="queued", assignment=assignment, url=url, created_at=created_at)
    return JSONResponse(body.model_dump(mode="json"), status_code=202, headers={"Location": url})


# ------------------------------------------------------------------------------------------ reading

def manual_view(a: Offered | None, rows: list[ManualScore], answers: list[dict] | None) -> list[ManualScoreOut]:
    """The inline questions of ``a`` with the scores entered (and, for instructors, the written answers:
    the ``number``-th inline answer of the question's notebook)."""
    if a is None:
        return []
    by_question = {m.question: m for m in rows}
    out = []
    for q in a.inline:
        m = by_question.get(q.id)
        answer = None
        if answers is not None:
            mine = [x for x in answers if str(x.get("notebook", "")).removesuffix(".ipynb")
                    == q.notebook.removesuffix(".ipynb")]
            if 1 <= q.number <= len(mine):
                answer = str(mine[q.number - 1].get("answer", ""))
        out.append(ManualScoreOut(question=q.id, title=q.title, points=q.points, score=m.score if m else None,
                                  comment=m.comment if m else "", graded_by=m.graded_by if m else None,
                                  graded_at=m.graded_at if m else None, answer=answer))
    return out


def final_score(score: float | None, manual: list, penalty_percent: float | None) -> float | None:
    """Automatic plus manual points, after the late penalty."""
    if score is None:
        return None
    return after_penalty(score + sum(m.score or 0.0 for m in manual), penalty_percent)


def submission_view(catalog: Catalog, base_url: str, sub: Submission, student_name: str, instructor: bool,
                    attempts: list[Attempt] | None = None, rule: Deadline | None = None,
                    manual: list[ManualScore] = (), regrades: list[Regrade] | None = None,
                    duplicates: list[int] | None = None) -> SubmissionOut:
    """The API view of one submission for a student or an instructor, from what the row stores.

    An instructor gets ``feedback`` (every test, the output, the log, the attempts, the regrades, the
    written answers), a student ``student_feedback`` (built by ``api.results`` when the job finished: the
    tests that are not ``hidden``, of which those whose visibility does not show them yet under ``rule``
    are counted as hidden; the output; nothing but the status when the results as a whole are hidden).
    Before a result exists the questions come from the catalogue, without scores.
    """
    history = None
    if instructor and attempts is not None:
        history = [AttemptOut(number=a.number, worker=a.worker, started_at=a.started_at, finished_at=a.finished_at,
                              outcome=a.outcome, detail=a.detail) for a in attempts]
    stored = sub.feedback if instructor else student_feedback(sub.student_feedback, rule or Deadline(), utcnow())
    feedback = Feedback.model_validate(stored) if stored else Feedback()
    questions = [QuestionScore.model_validate(q) for q in sub.questions or []]
    offered = catalog.get(sub.assignment)
    if not questions and offered is not None:
        questions = [QuestionScore(id=q.id, title=q.title, score=None, max_score=q.points) for q in offered.questions]
    manual_out = manual_view(offered, list(manual), feedback.inline_answers if instructor else None)
    if not instructor and not (rule or Deadline()).published:
        manual_out = [m.model_copy(update=dict(score=None, comment="", graded_by=None, graded_at=None))
                      for m in manual_out]
    score = sub.score
    if not feedback.scores_visible:
        score, questions, manual_out = None, [], []
    queue_seconds = (sub.started_at - sub.created_at).total_seconds() if sub.started_at else None
    grading_seconds = ((sub.finished_at - sub.started_at).total_seconds()
                       if sub.finished_at and sub.started_at else None)
    return SubmissionOut(
        id=sub.id, student=student_name, assignment=sub.assignment, status=sub.status, filename=sub.original_name,
        size_bytes=sub.size_bytes, sha256=sub.archive_sha256, created_at=sub.created_at, started_at=sub.started_at,
        finished_at=sub.finished_at, queue_seconds=queue_seconds, grading_seconds=grading_seconds,
        attempts=sub.attempts, score=score, max_score=sub.max_score, questions=questions, tests=feedback.tests,
        hidden_tests=feedback.hidden_tests, output=feedback.output, error=sub.error,
        log_tail=sub.log_tail if instructor else None, history=history, late_seconds=sub.late_seconds,
        penalty_percent=sub.penalty_percent, final_score=final_score(score, manual_out, sub.penalty_percent),
        manual=manual_out,
        regrades=[RegradeOut(requested_by=r.requested_by, requested_at=r.requested_at, reason=r.reason,
                             old_score=r.old_score, new_score=r.new_score, finished_at=r.finished_at,
                             outcome=r.outcome) for r in regrades] if instructor and regrades is not None else None,
        duplicate_of=duplicates if instructor else None, url=submission_url(base_url, sub.id))


def duplicates_of(session, sub: Submission) -> list[int]:
    """Other students' submissions of the same assignment whose graded files are the same as ``sub``'s."""
    if not sub.graded_sha256:
        return []
    return list(session.scalars(select(Submission.id).where(
        Submission.assignment == sub.assignment, Submission.graded_sha256 == sub.graded_sha256,
        Submission.user_id != sub.user_id).order_by(Submission.id)))


@router.get("/submissions/{submission_id}", response_model=SubmissionOut, name="get_submission",
            responses={404: {"model": ErrorOut, "description": "no such submission (or not yours)"}})
def get_submission(submission_id: int, request: Request, user: CurrentUser, session: DB) -> SubmissionOut:
    """One submission with its status, timing, scores per question, the tests you may see, its lateness and
    penalty, the inline questions' manual scores (instructors also: attempts, regrades, duplicates)."""
    row = session.execute(select(Submission, User.name).join(User, Submission.user_id == User.id)
                          .where(Submission.id == submission_id)).first()
    if row is None or (not user.is_instructor and row.Submission.user_id != user.id):
        raise not_found("submission")
    sub = row.Submission
    manual = list(session.scalars(select(ManualScore).where(ManualScore.submission_id == submission_id)))
    if not user.is_instructor:
        return submission_view(request.app.state.catalog, str(request.base_url), sub, row.name, False,
                               rule=deadline(session, sub.assignment, sub.user_id), manual=manual)
    attempts = list(session.scalars(select(Attempt).where(Attempt.submission_id == submission_id)
                                    .order_by(Attempt.id)))
    regrades = list(session.scalars(select(Regrade).where(Regrade.submission_id == submission_id)
                                    .order_by(Regrade.id)))
    return submission_view(request.app.state.catalog, str(request.base_url), sub, row.name, True, attempts,
                           manual=manual, regrades=regrades, duplicates=duplicates_of(session, sub))


@router.get("/submissions", response_model=SubmissionList)
def list_submissions(
    request: Request, user: CurrentUser, session: DB,
    student: Annotated[str | None, Query(description="instructors: only this student's submissions")] = None,
    assignment: Annotated[str | None, Query()] = None,
    status: Annotated[Status | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
) -> SubmissionList:
    """Newest first. A student gets only their own; an instructor everyone's, filterable by student."""
    query = (select(Submission, User.name).join(User, Submission.user_id == User.id)
             .options(defer(Submission.questions), defer(Submission.feedback), defer(Submission.student_feedback),
                      defer(Submission.log_tail), defer(Submission.error)))
    if not user.is_instructor:
        query = query.where(Submission.user_id == user.id)
    if student is not None:
        query = query.where(User.name == student)
    if assignment is not None:
        query = query.where(Submission.assignment == assignment)
    if status is not None:
        query = query.where(Submission.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(Submission.id.desc()).limit(limit).offset(offset)).all()
    items = [SubmissionSummary(id=s.id, student=name, assignment=s.assignment, status=s.status,
                               filename=s.original_name, created_at=s.created_at, finished_at=s.finished_at,
                               score=s.score, max_score=s.max_score, attempts=s.attempts,
                               late_seconds=s.late_seconds, penalty_percent=s.penalty_percent, url=submission_url(request.base_url, s.id))
             for s, name in rows]
    return SubmissionList(items=items, total=total, limit=limit, offset=offset)


@router.get("/me/deadlines", response_model=list[MyDeadline], tags=["identity"])
def my_deadlines(request: Request, user: CurrentUser, session: DB) -> list[MyDeadline]:
    """Every assignment's due date and hard deadline for you (your extensions applied), and your uploads."""
    counts = dict(session.execute(select(Submission.assignment, func.count(Submission.id))
                                  .where(Submission.user_id == user.id).group_by(Submission.assignment)).all())
    out = []
    for name in sorted(request.app.state.catalog.all()):
        rule = deadline(session, name, user.id)
        out.append(MyDeadline(assignment=name, due_at=rule.due_at, hard_deadline_at=rule.hard_deadline_at,
                              extended=rule.extended, submissions=counts.get(name, 0),
                              max_submissions=rule.max_submissions))
    return out


@router.get("/me", response_model=Me, tags=["identity"])
def me(user: CurrentUser) -> Me:
    """Who the token belongs to (the web page uses it to show the instructor view)."""
    return Me(name=user.name, role=user.role)

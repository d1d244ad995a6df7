"""The course's rules (instructors set them, everyone reads them): due dates, late policy, quota, whether
the grades are published, and per-student extensions; the course's time zone (``api.course``).

``PUT /assignments/{id}/policy`` replaces the assignment's policy; ``PUT``/``DELETE
/assignments/{id}/extensions/{student}`` grants or withdraws a student's own due date. Times are ISO 8601;
one without an offset is read in the course's time zone. The policy of a new upload is the one in force
when it is received; past submissions keep the lateness and penalty recorded when they arrived.
"""
from __future__ import annotations

import datetime as dt
import zoneinfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from ..auth import DB, Instructor
from ..errors import APIError, not_found
from ..models import AssignmentPolicy, Extension, User, utcnow
from ..schemas import Course, ErrorOut, ExtensionIn, ExtensionOut, PolicyIn, PolicyOut

router = APIRouter(tags=["course"])
ERRORS = {403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}}


def in_utc(request: Request, value: dt.datetime | None) -> dt.datetime | None:
    """``value`` as aware UTC; a time without an offset is one of the course's time zone."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zoneinfo.ZoneInfo(request.app.state.settings.course_timezone))
    return value.astimezone(dt.timezone.utc)


def policy_out(p: AssignmentPolicy | None) -> PolicyOut | None:
    if p is None:
        return None
    return PolicyOut(due_at=p.due_at, hard_deadline_at=p.hard_deadline_at, penalty_percent=p.penalty_percent,
                     penalty_unit=p.penalty_unit, penalty_cap_percent=p.penalty_cap_percent,
                     max_submissions=p.max_submissions, published=p.published, updated_at=p.updated_at,
                     updated_by=p.updated_by)


def _offered(request: Request, assignment_id: str):
    a = request.app.state.catalog.get(assignment_id)
    if a is None:
        raise not_found("assignment")
    return a


@router.get("/course", response_model=Course)
def course(request: Request) -> Course:
    """The course's time zone (the page shows every time in it)."""
    return Course(timezone=request.app.state.settings.course_timezone)


@router.put("/assignments/{assignment_id}/policy", response_model=PolicyOut, responses=ERRORS)
def put_policy(assignment_id: str, body: PolicyIn, request: Request, user: Instructor, session: DB) -> PolicyOut:
    """Set the assignment's due date, hard deadline, late penalty, quota and publication."""
    _offered(request, assignment_id)
    due, hard = in_utc(request, body.due_at), in_utc(request, body.hard_deadline_at)
    if due is not None and hard is not None and hard < due:
        raise APIError(422, "validation_error", "the hard deadline is before the due date")
    p = session.get(AssignmentPolicy, assignment_id) or AssignmentPolicy(assignment=assignment_id)
    p.due_at, p.hard_deadline_at = due, hard
    p.penalty_percent, p.penalty_unit, p.penalty_cap_percent = (body.penalty_percent, body.penalty_unit,
                                                                body.penalty_cap_percent)
    p.max_submissions, p.published = body.max_submissions, body.published
    p.updated_at, p.updated_by = utcnow(), user.name
    session.add(p)
    session.commit()
    return policy_out(p)


@router.get("/assignments/{assignment_id}/extensions", response_model=list[ExtensionOut], responses=ERRORS)
def list_extensions(assignment_id: str, request: Request, user: Instructor, session: DB) -> list[ExtensionOut]:
    _offered(request, assignment_id)
    rows = session.execute(select(Extension, User.name).join(User, Extension.user_id == User.id)
                           .where(Extension.assignment == assignment_id).order_by(User.name)).all()
    return [ExtensionOut(student=name, due_at=e.due_at, granted_by=e.granted_by, granted_at=e.granted_at)
            for e, name in rows]


def _student(session, name: str) -> User:
    u = session.scalar(select(User).where(User.name == name, User.role == "student"))
    if u is None:
        raise not_found("student")
    return u


@router.put("/assignments/{assignment_id}/extensions/{student}", response_model=ExtensionOut, responses=ERRORS)
def put_extension(assignment_id: str, student: str, body: ExtensionIn, request: Request, user: Instructor,
                  session: DB) -> ExtensionOut:
    """Give ``student`` their own due date (their hard deadline moves by as much)."""
    _offered(request, assignment_id)
    u = _student(session, student)
    e = session.scalar(select(Extension).where(Extension.assignment == assignment_id, Extension.user_id == u.id))
    e = e or Extension(assignment=assignment_id, user_id=u.id)
    e.due_at, e.granted_by, e.granted_at = in_utc(request, body.due_at), user.name, utcnow()
    session.add(e)
    session.commit()
    return ExtensionOut(student=u.name, due_at=e.due_at, granted_by=e.granted_by, granted_at=e.granted_at)


@router.delete("/assignments/{assignment_id}/extensions/{student}", status_code=204, responses=ERRORS)
def delete_extension(assignment_id: str, student: str, request: Request, user: Instructor, session: DB):
    _offered(request, assignment_id)
    u = _student(session, student)
    e = session.scalar(select(Extension).where(Extension.assignment == assignment_id, Extension.user_id == u.id))
    if e is None:
        raise not_found("extension")
    session.delete(e)
    session.commit()
    return Response(status_code=204)

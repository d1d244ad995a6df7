"""The assignments the service grades, with their questions and points (public: no token needed).

Every assignment the grader finds (``api.catalog``: ``grader.assignments``, the repository's and those of
``$GRADER_COURSE_DIRS``); an upload names one of them."""
from __future__ import annotations

from fastapi import APIRouter, Request

from ..catalog import Offered
from ..errors import not_found
from sqlalchemy import select

from ..models import AssignmentPolicy
from ..schemas import AssignmentList, AssignmentOut, ErrorOut, InlineQuestionOut, QuestionOut
from .course import policy_out

router = APIRouter(tags=["assignments"])


def assignment_out(a: Offered, policy: AssignmentPolicy | None = None) -> AssignmentOut:
    return AssignmentOut(id=a.id, title=a.title, max_score=a.max_score,
                         questions=[QuestionOut(id=q.id, title=q.title, points=q.points) for q in a.questions],
                         inline_questions=[InlineQuestionOut(id=q.id, title=q.title, points=q.points)
                                           for q in a.inline],
                         policy=policy_out(policy))


def _policies(request: Request) -> dict[str, AssignmentPolicy]:
    with request.app.state.sessions() as session:
        return {p.assignment: p for p in session.scalars(select(AssignmentPolicy))}


@router.get("/assignments", response_model=AssignmentList)
def list_assignments(request: Request) -> AssignmentList:
    """Every assignment the grader finds (``grader/assignments/<id>/manifest.toml`` of each course root),
    with its due date and late policy."""
    catalog = request.app.state.catalog
    policies = _policies(request)
    return AssignmentList(items=[assignment_out(a, policies.get(name)) for name, a in sorted(catalog.all().items())])


@router.get("/assignments/{assignment_id}", response_model=AssignmentOut,
            responses={404: {"model": ErrorOut}})
def get_assignment(assignment_id: str, request: Request) -> AssignmentOut:
    a = request.app.state.catalog.get(assignment_id)
    if a is None:
        raise not_found("assignment")
    return assignment_out(a, _policies(request).get(assignment_id))

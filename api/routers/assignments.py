"""The assignments the service grades, with their questions and points (public: no token needed).

Every assignment the grader finds (``api.catalog``: ``grader.assignments``, the repository's and those of
``$GRADER_COURSE_DIRS``); an upload names one of them."""
from __future__ import annotations

from fastapi import APIRouter, Request

from ..catalog import Offered
from ..errors import not_found
from ..schemas import AssignmentList, AssignmentOut, ErrorOut, QuestionOut

router = APIRouter(tags=["assignments"])


def assignment_out(a: Offered) -> AssignmentOut:
    return AssignmentOut(id=a.id, title=a.title, max_score=a.max_score,
                         questions=[QuestionOut(id=q.id, title=q.title, points=q.points) for q in a.questions])


@router.get("/assignments", response_model=AssignmentList)
def list_assignments(request: Request) -> AssignmentList:
    """Every assignment the grader finds (``grader/assignments/<id>/manifest.toml`` of each course root)."""
    catalog = request.app.state.catalog
    return AssignmentList(items=[assignment_out(a) for _, a in sorted(catalog.all().items())])


@router.get("/assignments/{assignment_id}", response_model=AssignmentOut,
            responses={404: {"model": ErrorOut}})
def get_assignment(assignment_id: str, request: Request) -> AssignmentOut:
    a = request.app.state.catalog.get(assignment_id)
    if a is None:
        raise not_found("assignment")
    return assignment_out(a)

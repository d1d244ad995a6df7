"""The gradebook as CSV (instructors): one row per student, one column per question.

``policy=best`` takes each student's highest-scoring graded submission (ties: the later one);
``policy=latest`` their most recent graded submission. Every student of the roster gets a row, with
empty cells when they have no graded submission. Text cells go through ``grader.text.csv_cell``, so a name
such as ``=HYPERLINK(...)`` stays text in a spreadsheet.
"""
from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from grader.text import csv_cell

from ..auth import DB, Instructor
from ..errors import APIError
from ..models import Submission, User
from ..schemas import ErrorOut

router = APIRouter(tags=["gradebook"])


def _question_scores(sub: Submission) -> dict[str, float | None]:
    try:
        results = json.loads(sub.results_json or "{}")
        return {str(q.get("id")): q.get("score") for q in results.get("extra_data", {}).get("questions", [])}
    except (ValueError, AttributeError, TypeError):
        return {}


def pick(subs: list[Submission], policy: str) -> Submission | None:
    """The submission that counts for one student under ``policy`` (graded ones only)."""
    graded = [s for s in subs if s.status == "graded" and s.score is not None]
    if not graded:
        return None
    if policy == "latest":
        return max(graded, key=lambda s: (s.created_at, s.id))
    return max(graded, key=lambda s: (s.score, s.created_at, s.id))


def _fmt(x) -> str:
    """A score cell: a number, or empty when there is none (or the stored value is not a number)."""
    if x is None or isinstance(x, bool):
        return ""
    try:
        return f"{float(x):g}"
    except (TypeError, ValueError):
        return ""


@router.get("/gradebook.csv", response_class=Response, responses={
    200: {"content": {"text/csv": {}}, "description": "the gradebook"},
    403: {"model": ErrorOut}, 422: {"model": ErrorOut}})
def gradebook_csv(
    request: Request, user: Instructor, session: DB,
    assignment: Annotated[str | None, Query(description="default: the only assignment, if there is one")] = None,
    policy: Annotated[Literal["best", "latest"], Query(description="which submission counts")] = "best",
) -> Response:
    catalog = request.app.state.catalog
    known = catalog.all()
    if assignment is None:
        if len(known) != 1:
            raise APIError(422, "missing_assignment", "say which assignment: ?assignment=<id> "
                                                      f"(known: {', '.join(sorted(known)) or 'none'})")
        assignment = next(iter(known))
    a = catalog.get(assignment)
    if a is None:
        raise APIError(422, "unknown_assignment", f"unknown assignment '{assignment}'")
    students = session.scalars(select(User).where(User.role == "student").order_by(User.name)).all()
    subs: dict[int, list[Submission]] = {}
    for s in session.scalars(select(Submission).where(Submission.assignment == assignment)):
        subs.setdefault(s.user_id, []).append(s)

    buf = io.StringIO()
    writer = csv.writer(buf)
    qcols = [q.id for q in a.questions]
    writer.writerow(["student", "submission_id", "submitted_at", "submissions", "score", "max_score"]
                    + [csv_cell(f"{q.id} ({q.title}) /{q.points:g}") for q in a.questions])
    for st in students:
        mine = subs.get(st.id, [])
        chosen = pick(mine, policy)
        if chosen is None:
            writer.writerow([csv_cell(st.name), "", "", len(mine), "", _fmt(a.max_score)] + [""] * len(qcols))
            continue
        per_q = _question_scores(chosen)
        writer.writerow([csv_cell(st.name), chosen.id, chosen.created_at.isoformat(), len(mine), _fmt(chosen.score),
                         _fmt(chosen.max_score)] + [_fmt(per_q.get(q)) for q in qcols])
    filename = f"gradebook-{assignment}-{policy}.csv"
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})

"""The gradebook as CSV (instructors): one row per student, one column set per assignment.

A column set is ``submission_id, submitted_at, submissions, score, max_score`` and one column per question
(``<id> (<title>) /<points>``, the questions of the catalogue, in the order of the results). With
``?assignment=A`` the gradebook has the set of ``A`` alone, named as just said; without it, the set of every
assignment the service offers, each column name prefixed with the assignment's id (``A score``, ...).

``policy=best`` takes each student's highest-scoring graded submission (ties: the later one);
``policy=latest`` their most recent graded submission. Every student of the roster gets a row, with
empty cells when they have no graded submission of an assignment. The scores come from the columns a
finished job wrote (``score``, ``questions``: ``api.results``); no results file is read. Text cells go
through ``grader.text.csv_cell``, so a name such as ``=HYPERLINK(...)`` stays text in a spreadsheet.
"""
from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from grader.text import csv_cell

from ..auth import DB, Instructor
from ..catalog import Offered
from ..errors import APIError
from ..models import Submission, User
from ..schemas import ErrorOut

router = APIRouter(tags=["gradebook"])

SET_COLUMNS = ("submission_id", "submitted_at", "submissions", "score", "max_score")
ID_CHUNK = 500      # submission ids per query when reading the question scores of the chosen submissions


def pick(subs: list, policy: str):
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


def _header(a: Offered, prefix: str) -> list[str]:
    return [csv_cell(f"{prefix}{c}") for c in SET_COLUMNS] + [csv_cell(f"{prefix}{q.id} ({q.title}) /{q.points:g}")
                                                               for q in a.questions]


def _question_scores(session, ids: list[int]) -> dict[int, dict[str, float | None]]:
    """``{submission id: {question id: score}}`` of the submissions ``ids`` (their stored ``questions``)."""
    out: dict[int, dict[str, float | None]] = {}
    for start in range(0, len(ids), ID_CHUNK):
        rows = session.execute(select(Submission.id, Submission.questions)
                               .where(Submission.id.in_(ids[start:start + ID_CHUNK])))
        for sid, questions in rows:
            out[sid] = {str(q.get("id")): q.get("score") for q in questions or [] if isinstance(q, dict)}
    return out


@router.get("/gradebook.csv", response_class=Response, responses={
    200: {"content": {"text/csv": {}}, "description": "the gradebook"},
    403: {"model": ErrorOut}, 422: {"model": ErrorOut}})
def gradebook_csv(
    request: Request, user: Instructor, session: DB,
    assignment: Annotated[str | None, Query(description="this assignment only (default: every assignment, "
                                                        "one column set each)")] = None,
    policy: Annotated[Literal["best", "latest"], Query(description="which submission counts")] = "best",
) -> Response:
    catalog = request.app.state.catalog
    if assignment is None:
        chosen = [a for _, a in sorted(catalog.all().items())]
    else:
        a = catalog.get(assignment)
        if a is None:
            known = ", ".join(sorted(catalog.all())) or "none"
            raise APIError(422, "unknown_assignment", f"unknown assignment '{assignment}' (known: {known})")
        chosen = [a]
    prefixed = assignment is None
    students = session.scalars(select(User).where(User.role == "student").order_by(User.name)).all()
    subs: dict[tuple[int, str], list] = {}
    rows = session.execute(select(Submission.id, Submission.user_id, Submission.assignment, Submission.status,
                                  Submission.score, Submission.max_score, Submission.created_at)
                           .where(Submission.assignment.in_([a.id for a in chosen])))
    for s in rows:
        subs.setdefault((s.user_id, s.assignment), []).append(s)
    counted = {key: pick(mine, policy) for key, mine in subs.items()}
    scores = _question_scores(session, sorted(s.id for s in counted.values() if s is not None))

    buf = io.StringIO()
    writer = csv.writer(buf)
    header = ["student"]
    for a in chosen:
        header += _header(a, f"{a.id} " if prefixed else "")
    writer.writerow(header)
    for st in students:
        line = [csv_cell(st.name)]
        for a in chosen:
            mine = subs.get((st.id, a.id), [])
            sub = counted.get((st.id, a.id))
            if sub is None:
                line += ["", "", len(mine), "", _fmt(a.max_score)] + [""] * len(a.questions)
                continue
            per_q = scores.get(sub.id, {})
            line += [sub.id, sub.created_at.isoformat(), len(mine), _fmt(sub.score), _fmt(sub.max_score)]
            line += [_fmt(per_q.get(q.id)) for q in a.questions]
        writer.writerow(line)
    filename = f"gradebook-{assignment or 'all'}-{policy}.csv"
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})

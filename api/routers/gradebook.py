"""The gradebook as CSV (instructors): one row per student, one column set per assignment; and the same
grades in Canvas's gradebook-import layout (``/gradebook/canvas.csv``).

A column set is ``submission_id, submitted_at, submissions, score, max_score``, one column per question
(``<id> (<title>) /<points>``, the questions of the catalogue, in the order of the results), one per inline
question scored by hand (same naming), then ``autograded`` (the automatic points) and ``penalty_percent``
(the late penalty recorded at upload). ``score`` is the final score: automatic plus manual points, less the
late penalty; ``max_score`` counts the inline questions' points too. With
``?assignment=A`` the gradebook has the set of ``A`` alone, named as just said; without it, the set of every
assignment the service offers, each column name prefixed with the assignment's id (``A score``, ...).

``policy=best`` takes each student's submission with the highest final score (ties: the later one);
``policy=latest`` their most recent one; both among the submissions that have a score (one being regraded
keeps its previous score until the new one is written). Every student of the roster gets a row, with
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
from ..course import after_penalty
from ..errors import APIError
from ..models import ManualScore, Submission, User
from ..schemas import ErrorOut

router = APIRouter(tags=["gradebook"])

SET_COLUMNS = ("submission_id", "submitted_at", "submissions", "score", "max_score")
TAIL_COLUMNS = ("autograded", "penalty_percent")
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
ID_CHUNK = 500      # submission ids per query when reading the question scores of the chosen submissions


def final(sub, manual: dict[int, dict[str, float]] | None = None) -> float | None:
    """Automatic plus manual points of ``sub``, less its late penalty."""
    if sub.score is None:
        return None
    extra = sum((manual or {}).get(sub.id, {}).values())
    return after_penalty(sub.score + extra, getattr(sub, "penalty_percent", None))


def pick(subs: list, policy: str, manual: dict[int, dict[str, float]] | None = None):
    """The submission that counts for one student under ``policy`` (those with a score only)."""
    graded = [s for s in subs if s.status != "error" and s.score is not None]
    if not graded:
        return None
    if policy == "latest":
        return max(graded, key=lambda s: (s.created_at, s.id))
    return max(graded, key=lambda s: (final(s, manual), s.created_at, s.id))


def _fmt(x) -> str:
    """A score cell: a number, or empty when there is none (or the stored value is not a number)."""
    if x is None or isinstance(x, bool):
        return ""
    try:
        return f"{float(x):g}"
    except (TypeError, ValueError):
        return ""


def max_points(a: Offered) -> float:
    return a.max_score + sum(q.points for q in a.inline)


def _header(a: Offered, prefix: str) -> list[str]:
    return ([csv_cell(f"{prefix}{c}") for c in SET_COLUMNS]
            + [csv_cell(f"{prefix}{q.id} ({q.title}) /{q.points:g}") for q in (*a.questions, *a.inline)]
            + [csv_cell(f"{prefix}{c}") for c in TAIL_COLUMNS])


def _manual_scores(session, assignments: list[str]) -> dict[int, dict[str, float]]:
    """``{submission id: {inline question: score}}`` of the submissions of ``assignments``."""
    out: dict[int, dict[str, float]] = {}
    rows = session.execute(select(ManualScore.submission_id, ManualScore.question, ManualScore.score)
                           .join(Submission, Submission.id == ManualScore.submission_id)
                           .where(Submission.assignment.in_(assignments)))
    for sid, question, score in rows:
        out.setdefault(sid, {})[question] = score
    return out


def _question_scores(session, ids: list[int]) -> dict[int, dict[str, float | None]]:
    """``{submission id: {question id: score}}`` of the submissions ``ids`` (their stored ``questions``)."""
    out: dict[int, dict[str, float | None]] = {}
    for start in range(0, len(ids), ID_CHUNK):
        rows = session.execute(select(Submission.id, Submission.questions)
                               .where(Submission.id.in_(ids[start:start + ID_CHUNK])))
        for sid, questions in rows:
            out[sid] = {str(q.get("id")): q.get("score") for q in questions or [] if isinstance(q, dict)}
    return out


def _chosen(request: Request, assignment: str | None) -> list[Offered]:
    catalog = request.app.state.catalog
    if assignment is None:
        return [a for _, a in sorted(catalog.all().items())]
    a = catalog.get(assignment)
    if a is None:
        known = ", ".join(sorted(catalog.all())) or "none"
        raise APIError(422, "unknown_assignment", f"unknown assignment '{assignment}' (known: {known})")
    return [a]


def counted_submissions(session, chosen: list[Offered], policy: str):
    """The students, their submissions per assignment, the one that counts of each, the manual scores."""
    students = session.scalars(select(User).where(User.role == "student").order_by(User.name)).all()
    subs: dict[tuple[int, str], list] = {}
    rows = session.execute(select(Submission.id, Submission.user_id, Submission.assignment, Submission.status,
                                  Submission.score, Submission.max_score, Submission.created_at,
                                  Submission.penalty_percent)
                           .where(Submission.assignment.in_([a.id for a in chosen])))
    for s in rows:
        subs.setdefault((s.user_id, s.assignment), []).append(s)
    manual = _manual_scores(session, [a.id for a in chosen])
    counted = {key: pick(mine, policy, manual) for key, mine in subs.items()}
    return students, subs, counted, manual


def _csv(rows: list[list], filename: str) -> Response:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


Policy = Annotated[Literal["best", "latest"], Query(description="which submission counts")]
CSV_ANSWERS = {200: {"content": {"text/csv": {}}, "description": "the gradebook"},
               403: {"model": ErrorOut}, 422: {"model": ErrorOut}}


@router.get("/gradebook.csv", response_class=Response, responses=CSV_ANSWERS)
def gradebook_csv(
    request: Request, user: Instructor, session: DB,
    assignment: Annotated[str | None, Query(description="this assignment only (default: every assignment, "
                                                        "one column set each)")] = None,
    policy: Policy = "best",
) -> Response:
    """One row per student and the question scores of the submission that counts (see the module)."""
    chosen = _chosen(request, assignment)
    prefixed = assignment is None
    students, subs, counted, manual = counted_submissions(session, chosen, policy)
    scores = _question_scores(session, sorted(s.id for s in counted.values() if s is not None))
    header = ["student"]
    for a in chosen:
        header += _header(a, f"{a.id} " if prefixed else "")
    out = [header]
    for st in students:
        line = [csv_cell(st.name)]
        for a in chosen:
            mine = subs.get((st.id, a.id), [])
            sub = counted.get((st.id, a.id))
            if sub is None:
                line += (["", "", len(mine), "", _fmt(max_points(a))] + [""] * (len(a.questions) + len(a.inline))
                         + [""] * len(TAIL_COLUMNS))
                continue
            per_q, by_hand = scores.get(sub.id, {}), manual.get(sub.id, {})
            line += [sub.id, sub.created_at.isoformat(), len(mine), _fmt(final(sub, manual)), _fmt(max_points(a))]
            line += [_fmt(per_q.get(q.id)) for q in a.questions] + [_fmt(by_hand.get(q.id)) for q in a.inline]
            line += [_fmt(sub.score), _fmt(sub.penalty_percent or 0.0)]
        out.append(line)
    return _csv(out, f"gradebook-{assignment or 'all'}-{policy}.csv")


@router.get("/gradebook/canvas.csv", response_class=Response, responses=CSV_ANSWERS)
def gradebook_canvas_csv(
    request: Request, user: Instructor, session: DB,
    assignment: Annotated[str | None, Query(description="this assignment only (default: every assignment)")] = None,
    policy: Policy = "best",
) -> Response:
    """The final scores in Canvas's gradebook-import layout: the columns ``Student, ID, SIS User ID, SIS Login
    ID, Section``, then one column per assignment named ``<title> (<id>)``; the second row is ``Points
    Possible``. Students are matched by ``SIS Login ID`` (the service's user name; the Canvas ``ID`` is left
    empty); a student without a submission that counts has an empty cell (Canvas leaves it unchanged)."""
    chosen = _chosen(request, assignment)
    students, _, counted, manual = counted_submissions(session, chosen, policy)
    out = [list(CANVAS_COLUMNS) + [csv_cell(f"{a.title} ({a.id})") for a in chosen],
           ["Points Possible", "", "", "", ""] + [_fmt(max_points(a)) for a in chosen]]
    for st in students:
        name = csv_cell(st.name)
        cells = []
        for a in chosen:
            sub = counted.get((st.id, a.id))
            cells.append(_fmt(final(sub, manual)) if sub is not None else "")
        out.append([name, "", name, name, ""] + cells)
    return _csv(out, f"canvas-{assignment or 'all'}-{policy}.csv")

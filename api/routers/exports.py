"""Exports for instructors: every submission of an assignment as one zip, and the duplicate archives.

``GET /assignments/{id}/submissions.zip?policy=latest|best`` holds, per student, the archive of the
submission that counts (``api.routers.gradebook.pick``; ``policy=all``: every submission) as
``<student>/<submission id>-<file name>``, and ``index.csv`` (student, submission, file, archive sha256,
graded-files sha256, score, final score, the other students' submissions with the same graded files).

``GET /duplicates?assignment=A`` lists the groups of submissions of different students whose *graded files*
are the same (the digest the grader computes over the files it grades, ``grader.secret.files_digest``, so a
renamed archive or other files beside them do not hide a copy). Groups whose submissions all score zero are
left out: the unchanged starter code is the same for everyone.
"""
from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel
from sqlalchemy import func, select
from starlette.background import BackgroundTask

from grader.text import csv_cell

from ..auth import DB, Instructor
from ..errors import not_found
from ..models import Submission, User
from ..schemas import ErrorOut
from .gradebook import counted_submissions, final

router = APIRouter(tags=["exports"])


class DuplicateGroup(BaseModel):
    graded_sha256: str
    submissions: list[int]
    students: list[str]


class Duplicates(BaseModel):
    assignment: str
    groups: list[DuplicateGroup]


def duplicate_groups(session, assignment: str) -> list[DuplicateGroup]:
    digests = session.execute(
        select(Submission.graded_sha256)
        .where(Submission.assignment == assignment, Submission.graded_sha256.is_not(None))
        .group_by(Submission.graded_sha256)
        .having(func.count(func.distinct(Submission.user_id)) > 1)).scalars().all()
    groups = []
    for digest in sorted(digests):
        rows = session.execute(select(Submission.id, Submission.score, User.name)
                               .join(User, Submission.user_id == User.id)
                               .where(Submission.assignment == assignment, Submission.graded_sha256 == digest)
                               .order_by(Submission.id)).all()
        if not any((r.score or 0) > 0 for r in rows):
            continue
        groups.append(DuplicateGroup(graded_sha256=digest, submissions=[r.id for r in rows],
                                     students=sorted({r.name for r in rows})))
    return groups


@router.get("/duplicates", response_model=Duplicates, responses={403: {"model": ErrorOut}, 404: {"model": ErrorOut}})
def duplicates(request: Request, user: Instructor, session: DB,
               assignment: Annotated[str, Query(max_length=100)]) -> Duplicates:
    """Submissions of different students with the same graded files."""
    if request.app.state.catalog.get(assignment) is None:
        raise not_found("assignment")
    return Duplicates(assignment=assignment, groups=duplicate_groups(session, assignment))


@router.get("/assignments/{assignment_id}/submissions.zip", response_class=Response, responses={
    200: {"content": {"application/zip": {}}, "description": "the archives and index.csv"},
    403: {"model": ErrorOut}, 404: {"model": ErrorOut}})
def submissions_zip(assignment_id: str, request: Request, user: Instructor, session: DB,
                    policy: Annotated[Literal["latest", "best", "all"], Query()] = "latest"):
    a = request.app.state.catalog.get(assignment_id)
    if a is None:
        raise not_found("assignment")
    students, subs, counted, manual = counted_submissions(session, [a], "best" if policy == "best" else "latest")
    names = {st.id: st.name for st in students}
    if policy == "all":
        chosen = sorted((s for mine in subs.values() for s in mine), key=lambda s: s.id)
    else:
        chosen = sorted((s for s in counted.values() if s is not None), key=lambda s: s.id)
    details = {r.id: r for r in session.execute(
        select(Submission.id, Submission.original_name, Submission.archive_sha256, Submission.graded_sha256)
        .where(Submission.id.in_([s.id for s in chosen]))).all()} if chosen else {}
    dup_of: dict[int, list[int]] = {}
    for g in duplicate_groups(session, assignment_id):
        for sid in g.submissions:
            dup_of[sid] = [o for o in g.submissions if o != sid]
    store = request.app.state.store
    spool = tempfile.SpooledTemporaryFile(max_size=32 << 20)
    index = io.StringIO()
    writer = csv.writer(index)
    writer.writerow(["student", "submission_id", "file", "archive_sha256", "graded_sha256", "score",
                     "final_score", "same_graded_files_as"])
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_STORED) as zf:
        for s in chosen:
            d = details[s.id]
            student = names.get(s.user_id, f"user-{s.user_id}")
            safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in student) or "_"
            name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in d.original_name) or "archive.zip"
            path = store.path_for(d.archive_sha256)
            if path.is_file():
                zf.write(path, f"{safe}/{s.id}-{name}")
            writer.writerow([csv_cell(student), s.id, csv_cell(d.original_name), d.archive_sha256,
                             d.graded_sha256 or "", "" if s.score is None else f"{s.score:g}",
                             "" if final(s, manual) is None else f"{final(s, manual):g}",
                             " ".join(map(str, dup_of.get(s.id, []))) or ""])
        zf.writestr("index.csv", index.getvalue())
    size = spool.tell()
    spool.seek(0)

    def chunks():
        while block := spool.read(1 << 20):
            yield block

    return StreamingResponse(chunks(), media_type="application/zip", background=BackgroundTask(spool.close),
                             headers={"Content-Disposition": f'attachment; filename="{assignment_id}-{policy}.zip"',
                                      "Content-Length": str(size)})

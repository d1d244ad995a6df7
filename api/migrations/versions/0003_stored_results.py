"""submissions: the result as served (questions, feedback, student_feedback) instead of the results.json text

The service used to keep the grader's whole results.json (``results_json``) and read it again on every
GET and for every gradebook row. From this revision a finished job stores what the API serves
(``api.results``): the per-question scores, the instructors' feedback (every test) and the student's
(visible tests only). Existing rows are converted from their ``results_json``, which is then dropped (the
complete results file is still in the job's folder under ``<data>/jobs/``).

This migration reads the old column on its own, leniently (it must not depend on code that changes later).

Revision ID: 0003
Revises: 0002
Create Date: 2026-01-20
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CHUNK = 200

submissions = sa.table("submissions", sa.column("id", sa.Integer), sa.column("results_json", sa.Text),
                       sa.column("questions", sa.JSON), sa.column("feedback", sa.JSON),
                       sa.column("student_feedback", sa.JSON), sa.column("score", sa.Float),
                       sa.column("max_score", sa.Float))


def _num(value):
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _text(value):
    return None if value is None else str(value)


def converted(text: str):
    """``(questions, feedback, student_feedback)`` of an old ``results_json`` (None when it is unreadable)."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    extra = data.get("extra_data") if isinstance(data.get("extra_data"), dict) else {}
    questions = [{"id": str(q.get("id", "")), "title": str(q.get("title", q.get("id", ""))),
                  "score": _num(q.get("score")), "max_score": _num(q.get("max_score")) or 0.0}
                 for q in extra.get("questions") or [] if isinstance(q, dict)]
    tests = [{"name": str(t.get("name", "")), "number": _text(t.get("number")), "score": _num(t.get("score")),
              "max_score": _num(t.get("max_score")), "status": _text(t.get("status")),
              "output": _text(t.get("output")), "visibility": str(t.get("visibility") or "visible")}
             for t in data.get("tests") or [] if isinstance(t, dict)]
    output = _text(data.get("output"))
    visible = [t for t in tests if t["visibility"] == "visible"]
    feedback = {"tests": tests, "hidden_tests": 0, "output": output, "scores_visible": True}
    if (data.get("visibility") or "visible") != "visible":
        student = {"tests": [], "hidden_tests": len(tests), "output": None, "scores_visible": False}
    else:
        shown = output if (data.get("stdout_visibility") or "visible") == "visible" else None
        student = {"tests": visible, "hidden_tests": len(tests) - len(visible), "output": shown,
                   "scores_visible": True}
    return questions, feedback, student


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("questions", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("feedback", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("student_feedback", sa.JSON(), nullable=True))
    conn = op.get_bind()
    ids = conn.execute(sa.select(submissions.c.id).where(submissions.c.results_json.is_not(None))).scalars().all()
    for start in range(0, len(ids), CHUNK):
        rows = conn.execute(sa.select(submissions.c.id, submissions.c.results_json)
                            .where(submissions.c.id.in_(ids[start:start + CHUNK]))).all()
        for row in rows:
            parts = converted(row.results_json)
            if parts is not None:
                questions, feedback, student = parts
                conn.execute(submissions.update().where(submissions.c.id == row.id)
                             .values(questions=questions, feedback=feedback, student_feedback=student))
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("results_json")


def downgrade() -> None:
    """Back to ``results_json``, rebuilt from what is stored (the tests, the output, the question scores)."""
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("results_json", sa.Text(), nullable=True))
    conn = op.get_bind()
    ids = conn.execute(sa.select(submissions.c.id).where(submissions.c.feedback.is_not(None))).scalars().all()
    for start in range(0, len(ids), CHUNK):
        rows = conn.execute(sa.select(submissions.c.id, submissions.c.score, submissions.c.max_score,
                                      submissions.c.questions, submissions.c.feedback,
                                      submissions.c.student_feedback)
                            .where(submissions.c.id.in_(ids[start:start + CHUNK]))).all()
        for row in rows:
            feedback, student = row.feedback or {}, row.student_feedback or {}
            results = {"score": row.score, "output": feedback.get("output") or "", "tests": feedback.get("tests") or [],
                       "visibility": "visible" if student.get("scores_visible", True) else "hidden",
                       "stdout_visibility": "visible" if student.get("output") is not None else "hidden",
                       "extra_data": {"max_score": row.max_score, "questions": row.questions or []}}
            conn.execute(submissions.update().where(submissions.c.id == row.id)
                         .values(results_json=json.dumps(results)))
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("student_feedback")
        batch.drop_column("feedback")
        batch.drop_column("questions")

"""the course around the grades: due dates and late policy, extensions, regrades, manual scores

New tables ``assignment_policies``, ``extensions``, ``regrades``, ``manual_scores``; on ``submissions`` the
late policy applied at upload (``late_seconds``, ``penalty_percent``) and the digest of the graded files
(``graded_sha256``, for duplicates). The students' stored feedback now keeps the overall output with the
results (it speaks of their own submission): existing rows get it from the instructors' feedback.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

from api.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CHUNK = 200
submissions = sa.table("submissions", sa.column("id", sa.Integer), sa.column("feedback", sa.JSON),
                       sa.column("student_feedback", sa.JSON))


def upgrade() -> None:
    op.create_table(
        "assignment_policies",
        sa.Column("assignment", sa.String(100), primary_key=True),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("hard_deadline_at", UTCDateTime(), nullable=True),
        sa.Column("penalty_percent", sa.Float(), nullable=False, server_default="0"),
        sa.Column("penalty_unit", sa.String(8), nullable=False, server_default="day"),
        sa.Column("penalty_cap_percent", sa.Float(), nullable=False, server_default="100"),
        sa.Column("max_submissions", sa.Integer(), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.Column("updated_by", sa.String(200), nullable=True),
    )
    op.create_table(
        "extensions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("assignment", sa.String(100), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("granted_by", sa.String(200), nullable=False),
        sa.Column("granted_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("assignment", "user_id"),
    )
    op.create_table(
        "regrades",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("submission_id", sa.Integer(), sa.ForeignKey("submissions.id"), nullable=False, index=True),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("old_score", sa.Float(), nullable=True),
        sa.Column("new_score", sa.Float(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
    )
    op.create_table(
        "manual_scores",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("submission_id", sa.Integer(), sa.ForeignKey("submissions.id"), nullable=False, index=True),
        sa.Column("question", sa.String(20), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("graded_by", sa.String(200), nullable=False),
        sa.Column("graded_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("submission_id", "question"),
    )
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("late_seconds", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("penalty_percent", sa.Float(), nullable=True))
        batch.add_column(sa.Column("graded_sha256", sa.String(64), nullable=True))
    conn = op.get_bind()
    ids = conn.execute(sa.select(submissions.c.id).where(submissions.c.student_feedback.is_not(None))).scalars().all()
    for start in range(0, len(ids), CHUNK):
        rows = conn.execute(sa.select(submissions.c.id, submissions.c.feedback, submissions.c.student_feedback)
                            .where(submissions.c.id.in_(ids[start:start + CHUNK]))).all()
        for row in rows:
            student, feedback = dict(row.student_feedback or {}), row.feedback or {}
            if student.get("scores_visible", True) and student.get("output") is None and feedback.get("output"):
                student["output"] = feedback["output"]
                conn.execute(submissions.update().where(submissions.c.id == row.id).values(student_feedback=student))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("graded_sha256")
        batch.drop_column("penalty_percent")
        batch.drop_column("late_seconds")
    for table in ("manual_scores", "regrades", "extensions", "assignment_policies"):
        op.drop_table(table)

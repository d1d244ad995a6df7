"""submissions.retry_at: when a job put back after a grader infrastructure error may run again

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-23
"""
import sqlalchemy as sa
from alembic import op

from api.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("retry_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("retry_at")

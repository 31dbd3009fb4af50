"""Sync runs reconcile: parts of a source skipped (with the permission to grant), warnings, and what the
index held for the source afterwards.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_runs") as runs:
        runs.add_column(sa.Column("skipped", sa.Integer(), nullable=False, server_default="0"))
        runs.add_column(sa.Column("warnings", sa.JSON(), nullable=False, server_default="[]"))
        runs.add_column(sa.Column("held", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_runs") as runs:
        runs.drop_column("held")
        runs.drop_column("warnings")
        runs.drop_column("skipped")

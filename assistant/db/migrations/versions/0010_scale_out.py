"""Scaling out: queued jobs for workers, "sync now" requests on the connector, leases of periodic tasks,
OpenID Connect states already spent (shared by every web replica).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("connectors") as connectors:
        connectors.add_column(sa.Column("sync_requested_at", sa.DateTime(timezone=True), nullable=True))
        connectors.add_column(sa.Column("sync_requested_full", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(320), nullable=True),
        sa.Column("owner", sa.String(255), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_table(
        "task_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "spent_sign_in_states",
        sa.Column("state_hash", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_spent_sign_in_states_expires_at", "spent_sign_in_states", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_spent_sign_in_states_expires_at", "spent_sign_in_states")
    op.drop_table("spent_sign_in_states")
    op.drop_table("task_leases")
    op.drop_index("ix_jobs_status", "jobs")
    op.drop_table("jobs")
    with op.batch_alter_table("connectors") as connectors:
        connectors.drop_column("sync_requested_full")
        connectors.drop_column("sync_requested_at")

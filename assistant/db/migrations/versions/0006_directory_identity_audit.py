"""Company identity: directory people (sign-in method, subject, disabled, group sync state), API key
scopes and expiry, and the append-only audit log.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.add_column(sa.Column("name", sa.String(255), nullable=True))
        users.add_column(sa.Column("auth_method", sa.String(16), nullable=False, server_default="local"))
        users.add_column(sa.Column("subject", sa.String(512), nullable=True))
        users.add_column(sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()))
        users.add_column(sa.Column("groups_synced_at", sa.DateTime(timezone=True), nullable=True))
        users.add_column(sa.Column("groups_sync_error", sa.Text(), nullable=True))
        users.create_index("ix_users_subject", ["subject"])
    with op.batch_alter_table("api_keys") as keys:
        # Keys made before scopes could do everything their owner can; they keep that.
        keys.add_column(sa.Column("scopes", sa.JSON(), nullable=False, server_default='["search", "ask", "admin"]'))
        keys.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(320), nullable=True),
        sa.Column("via", sa.String(32), nullable=False),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_actor", "audit_events", ["actor"])
    op.create_index("ix_audit_events_action", "audit_events", ["action"])


def downgrade() -> None:
    op.drop_table("audit_events")
    with op.batch_alter_table("api_keys") as keys:
        keys.drop_column("expires_at")
        keys.drop_column("scopes")
    with op.batch_alter_table("users") as users:
        users.drop_index("ix_users_subject")
        for column in ("groups_sync_error", "groups_synced_at", "disabled", "subject", "auth_method", "name"):
            users.drop_column(column)

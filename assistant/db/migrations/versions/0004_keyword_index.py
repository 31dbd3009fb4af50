"""The keyword index: chunk texts for full-text search, and each document's ACL as principals.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgres_chunks()
    else:
        _sqlite_chunks()
    op.create_table(
        "keyword_principals",
        sa.Column("document_id", sa.String(64), primary_key=True),
        sa.Column("principal", sa.String(320), primary_key=True),
    )
    op.create_index("ix_keyword_principals_principal", "keyword_principals", ["principal"])


def _sqlite_chunks() -> None:
    op.create_table(
        "keyword_chunks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chunk_id", sa.String(128), nullable=False, unique=True),
        sa.Column("document_id", sa.String(64), nullable=False, index=True),
        sa.Column("body", sa.Text(), nullable=False),
    )
    # An external-content FTS5 table: the text is stored once, the triggers keep the index in step.
    op.execute(
        "CREATE VIRTUAL TABLE keyword_fts USING fts5(body, content='keyword_chunks', content_rowid='id', "
        "tokenize='porter unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE TRIGGER keyword_chunks_added AFTER INSERT ON keyword_chunks BEGIN "
        "INSERT INTO keyword_fts(rowid, body) VALUES (new.id, new.body); END"
    )
    op.execute(
        "CREATE TRIGGER keyword_chunks_removed AFTER DELETE ON keyword_chunks BEGIN "
        "INSERT INTO keyword_fts(keyword_fts, rowid, body) VALUES ('delete', old.id, old.body); END"
    )


def _postgres_chunks() -> None:
    op.execute(
        "CREATE TABLE keyword_chunks ("
        "chunk_id VARCHAR(128) PRIMARY KEY, document_id VARCHAR(64) NOT NULL, body TEXT NOT NULL, "
        "terms tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED)"
    )
    op.execute("CREATE INDEX ix_keyword_chunks_document_id ON keyword_chunks (document_id)")
    op.execute("CREATE INDEX ix_keyword_chunks_terms ON keyword_chunks USING GIN (terms)")


def downgrade() -> None:
    op.drop_table("keyword_principals")
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE keyword_fts")
    op.drop_table("keyword_chunks")

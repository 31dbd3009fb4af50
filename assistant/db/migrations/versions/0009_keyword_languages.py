"""The keyword index stems each chunk in its document's language: every row records the language; SQLite
indexes a copy of the text stemmed in Python (no more English-only Porter stemming), PostgreSQL a tsvector
made with that language's configuration. The index is emptied: the first use refills it from the vector
store, detecting each document's language (``enclave.runtime.rebuild_keywords``).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    _drop_chunks(postgres)
    op.execute("DELETE FROM keyword_principals")
    if postgres:
        op.execute(
            "CREATE TABLE keyword_chunks ("
            "chunk_id VARCHAR(128) PRIMARY KEY, document_id VARCHAR(64) NOT NULL, body TEXT NOT NULL, "
            "language VARCHAR(16) NOT NULL, terms tsvector NOT NULL)"
        )
        op.execute("CREATE INDEX ix_keyword_chunks_document_id ON keyword_chunks (document_id)")
        op.execute("CREATE INDEX ix_keyword_chunks_terms ON keyword_chunks USING GIN (terms)")
    else:
        _sqlite_chunks(
            [sa.Column("language", sa.String(16), nullable=False), sa.Column("stems", sa.Text(), nullable=False)],
            indexed="stems", tokenizer="unicode61 remove_diacritics 2",
        )  # fmt: skip
    op.create_index("ix_keyword_chunks_language", "keyword_chunks", ["language"])


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    _drop_chunks(postgres)
    op.execute("DELETE FROM keyword_principals")
    if postgres:
        op.execute(
            "CREATE TABLE keyword_chunks ("
            "chunk_id VARCHAR(128) PRIMARY KEY, document_id VARCHAR(64) NOT NULL, body TEXT NOT NULL, "
            "terms tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED)"
        )
        op.execute("CREATE INDEX ix_keyword_chunks_document_id ON keyword_chunks (document_id)")
        op.execute("CREATE INDEX ix_keyword_chunks_terms ON keyword_chunks USING GIN (terms)")
    else:
        _sqlite_chunks([], indexed="body", tokenizer="porter unicode61 remove_diacritics 2")


def _drop_chunks(postgres: bool) -> None:
    if not postgres:
        op.execute("DROP TABLE keyword_fts")  # its triggers go with keyword_chunks
    op.drop_table("keyword_chunks")


def _sqlite_chunks(columns: list[sa.Column], indexed: str, tokenizer: str) -> None:
    op.create_table(
        "keyword_chunks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chunk_id", sa.String(128), nullable=False, unique=True),
        sa.Column("document_id", sa.String(64), nullable=False, index=True),
        sa.Column("body", sa.Text(), nullable=False),
        *columns,
    )
    # An external-content FTS5 table: the text is stored once, the triggers keep the index in step.
    op.execute(
        f"CREATE VIRTUAL TABLE keyword_fts USING fts5({indexed}, content='keyword_chunks', content_rowid='id', "
        f"tokenize='{tokenizer}')"
    )
    op.execute(
        "CREATE TRIGGER keyword_chunks_added AFTER INSERT ON keyword_chunks BEGIN "
        f"INSERT INTO keyword_fts(rowid, {indexed}) VALUES (new.id, new.{indexed}); END"
    )
    op.execute(
        "CREATE TRIGGER keyword_chunks_removed AFTER DELETE ON keyword_chunks BEGIN "
        f"INSERT INTO keyword_fts(keyword_fts, rowid, {indexed}) VALUES ('delete', old.id, old.{indexed}); END"
    )

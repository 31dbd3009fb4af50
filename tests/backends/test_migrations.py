"""Schema changes go through Alembic migrations, so an upgraded appliance keeps its data,
on SQLite (the default) and on PostgreSQL alike."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from assistant.db import MIGRATIONS, engine_for
from assistant.db.models import Base


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'enclave.db'}"
    return request.getfixturevalue("postgres_url")


def test_the_migrations_build_the_models_schema_on_an_empty_database(database_url):
    """A model changed without a migration, or a migration one database tolerates and the other not, shows here."""
    # The keyword index's tables differ by dialect (FTS5, tsvector); their migration writes them in SQL.
    options = {"include_name": lambda name, kind, _parent: not (kind == "table" and name.startswith("keyword_"))}
    with engine_for(database_url).connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection, opts=options), Base.metadata) == []
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0010"


def test_an_old_database_is_upgraded_with_its_data_kept(database_url):
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    old = create_engine(database_url)
    with old.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(
            text(
                "INSERT INTO documents (id, source, source_type, external_id, title, uri, content_hash, size, access,"
                " details, chunk_count, indexed_at) VALUES ('d1', 'files', 'local', '/a.txt', 'a.txt', 'file:///a.txt',"
                " 'h', 3, '{}', '{}', 1, '2026-01-01 00:00:00+00')"
            )
        )
    assert "users" not in inspect(old).get_table_names()
    old.dispose()

    engine = engine_for(database_url)  # opening the database brings it to the newest schema

    with engine.connect() as connection:
        assert connection.execute(text("SELECT title FROM documents WHERE id = 'd1'")).scalar() == "a.txt"
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_the_database_itself_refuses_to_change_or_delete_audit_events(database_url):
    """Past Enclave's code (a psql or sqlite3 session), the triggers of migration 0008 still refuse."""
    engine = engine_for(database_url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO audit_events (at, actor, via, action, outcome, details) "
                 "VALUES ('2026-12-01 08:00:00+00', 'ana@example.com', 'session', 'sign_out', 'ok', '{}')")
        )  # fmt: skip
    for change in ("UPDATE audit_events SET actor = 'someone else'", "DELETE FROM audit_events"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
            connection.execute(text(change))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT actor FROM audit_events")).scalars().all() == ["ana@example.com"]

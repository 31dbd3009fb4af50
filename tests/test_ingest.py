"""Ingesting folders of real files into a real Chroma and SQLite: bad input and change detection.

Failure modes covered: one bad file (corrupt PDF, empty, binary bytes in a
.txt, a file that vanishes mid-run) stopping the run or being reported without
its reason; failures not recorded, or not cleared once the file is fixed;
unchanged files being re-embedded (by version or by content hash); an edit
or a deletion touching more than the one document; --prune leaving the deleted
file's chunks searchable or the edited file's old text behind.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.access import Viewer
from assistant.db.models import Document, IngestFailure
from assistant.embeddings import Embedder, Vector
from enclave.folders import FILES, ingest_paths
from ingest import parse
from ingest.documents import SourceDocument
from ingest.index import Source, document_id

CORRUPT_PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R\ntruncated here"


class CountingEmbedder(Embedder):
    """The real embedder, counting how many texts it is asked to embed."""

    def __init__(self, inner: Embedder):
        super().__init__(inner.batch_size)
        self.inner = inner
        self.name = inner.name
        self.texts = 0

    def embed_batch(self, texts: Sequence[str]) -> list[Vector]:
        self.texts += len(texts)
        return self.inner.embed_batch(texts)


@pytest.fixture
def counting_runtime(make_runtime, embedder):
    runtime = make_runtime(with_llm=False)
    runtime.__dict__["embedder"] = CountingEmbedder(embedder)
    return runtime


def _documents(runtime) -> dict[str, Document]:
    with runtime.sessions() as session:
        return {d.external_id: d for d in session.scalars(select(Document)).all()}


def _failures(runtime) -> dict[str, str]:
    with runtime.sessions() as session:
        return {f.external_id: f.reason for f in session.scalars(select(IngestFailure)).all()}


def _chunk_ids(runtime) -> list[str]:
    return sorted(runtime.store._collection.get(include=[])["ids"])


def _search_titles(runtime, query: str, k: int = 3) -> list[str]:
    return [h.origin.title for h in runtime.assistant.search(query, Viewer.operator(), k)]


def test_bad_files_fail_with_reasons_while_the_rest_is_indexed(make_runtime, documents, tmp_path):
    folder = tmp_path / "docs"
    good = documents(folder, ["txt", "md", "pdf", "docx"])
    (folder / "corrupt.pdf").write_bytes(CORRUPT_PDF)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8)
    vanishing = folder / "zz-vanishes.md"  # sorted last, so it is still to come when the first file is done
    vanishing.write_text("# Gone\n\nThis file is deleted while the run is under way.\n")
    runtime = make_runtime(with_llm=False)
    processed: list[tuple[Path, str]] = []

    def on_file(path: Path, outcome: str) -> None:
        if not processed:
            vanishing.unlink()
        processed.append((path, outcome))

    summary = ingest_paths(runtime.sink, [folder], on_file=on_file)

    failed = dict(summary.failed)
    assert set(failed) == {folder / "corrupt.pdf", folder / "empty.txt", folder / "binary.txt", vanishing}
    assert "could not read this pdf file" in failed[folder / "corrupt.pdf"]
    assert "empty file" in failed[folder / "empty.txt"]
    assert "binary content in a text file" in failed[folder / "binary.txt"]
    assert failed[vanishing] == "the file disappeared before it could be read"
    assert sorted(summary.added) == sorted(good.values())
    assert not summary.ok
    assert len(processed) == 8 and processed[0][0] != vanishing
    # The failures are remembered with their reasons (for `enclave status`), the good files are searchable.
    assert _failures(runtime) == {str(path): reason for path, reason in failed.items()}
    assert set(_documents(runtime)) == {str(p) for p in good.values()}
    assert runtime.store.document_ids() == {document_id(FILES.id, str(p)) for p in good.values()}
    assert _search_titles(runtime, "When does the parking garage close?", 1) == ["sample.txt"]


def test_a_fixed_file_clears_its_failure(make_runtime, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    broken = folder / "notes.txt"
    broken.write_bytes(b"")
    runtime = make_runtime(with_llm=False)

    first = ingest_paths(runtime.sink, [folder])
    broken.write_text("The library lends projectors for up to three days.\n")
    second = ingest_paths(runtime.sink, [folder])

    assert [p for p, _ in first.failed] == [broken] and first.added == []
    assert second.added == [broken] and second.ok
    assert _failures(runtime) == {}


def test_prune_forgets_failures_of_files_that_are_gone(make_runtime, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text("The library lends projectors for up to three days.\n")
    (folder / "deleted.txt").write_bytes(b"")
    (folder / "still-broken.txt").write_bytes(b"\x00\x01\x02")
    runtime = make_runtime(with_llm=False)
    ingest_paths(runtime.sink, [folder])
    assert set(_failures(runtime)) == {str(folder / "deleted.txt"), str(folder / "still-broken.txt")}

    (folder / "deleted.txt").unlink()
    summary = ingest_paths(runtime.sink, [folder], prune=True)

    # `enclave status` must not report a file that no longer exists as failing, forever.
    assert set(_failures(runtime)) == {str(folder / "still-broken.txt")}
    assert summary.failed == [(folder / "still-broken.txt", _failures(runtime)[str(folder / "still-broken.txt")])]
    assert summary.unchanged == [folder / "good.txt"] and summary.pruned == []


def test_paths_named_on_the_command_line_are_reported(make_runtime, tmp_path):
    (tmp_path / "slides.key").write_bytes(b"keynote")
    runtime = make_runtime(with_llm=False)

    summary = ingest_paths(runtime.sink, [tmp_path / "missing.txt", tmp_path / "slides.key"])

    assert dict(summary.failed) == {
        tmp_path / "missing.txt": "no such file or folder",
        tmp_path / "slides.key": "unsupported file type '.key'",
    }


def test_unchanged_files_are_not_embedded_again(counting_runtime, documents, tmp_path):
    folder = tmp_path / "docs"
    paths = documents(folder)
    first = ingest_paths(counting_runtime.sink, [folder])
    embedded_once = counting_runtime.embedder.texts
    chunk_ids, rows = _chunk_ids(counting_runtime), _documents(counting_runtime)

    second = ingest_paths(counting_runtime.sink, [folder])

    assert sorted(first.added) == sorted(paths.values()) and first.chunks_written == len(chunk_ids) > 0
    assert sorted(second.unchanged) == sorted(paths.values())
    assert (second.added, second.updated, second.failed, second.chunks_written) == ([], [], [], 0)
    assert counting_runtime.embedder.texts == embedded_once
    assert _chunk_ids(counting_runtime) == chunk_ids
    after = _documents(counting_runtime)
    assert {k: (d.content_hash, d.chunk_count, d.indexed_at) for k, d in after.items()} == {
        k: (d.content_hash, d.chunk_count, d.indexed_at) for k, d in rows.items()
    }

    # A new modification time with the same bytes: the version differs, the content hash does not.
    touched = paths["txt"]
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    third = ingest_paths(counting_runtime.sink, [folder])

    assert sorted(third.unchanged) == sorted(paths.values()) and third.chunks_written == 0
    assert counting_runtime.embedder.texts == embedded_once
    assert _documents(counting_runtime)[str(touched)].version.startswith(f"{stat.st_mtime_ns + 5_000_000_000}:")


def test_a_document_read_by_an_earlier_reader_is_read_again(counting_runtime, tmp_path, monkeypatch):
    # An upgrade that reads a format differently (here: HTML sections headed by the page's <title>) must reach
    # documents indexed before it, though their bytes did not change; the others stay as they are.
    folder = tmp_path / "docs"
    folder.mkdir()
    body = "<p>" + "Each row of the group is fed to the aggregate function in turn. " * 5 + "</p>"
    (folder / "functions-aggregate.html").write_text(
        f"<html><head><title>9.21. Aggregate Functions</title></head><body><h3>Ordered sets</h3>{body}</body></html>"
    )
    (folder / "notes.txt").write_text("The canteen opens at 11:30.")
    ingest_paths(counting_runtime.sink, [folder])
    [hit] = counting_runtime.assistant.search("aggregate function", Viewer.operator(), 1)
    assert hit.heading == "9.21. Aggregate Functions › Ordered sets"

    unchanged = ingest_paths(counting_runtime.sink, [folder])
    monkeypatch.setitem(parse.READER_REVISIONS, "html", parse.READER_REVISIONS["html"] + 1)
    upgraded = ingest_paths(counting_runtime.sink, [folder])
    settled = ingest_paths(counting_runtime.sink, [folder])

    assert len(unchanged.unchanged) == 2 and unchanged.updated == []
    assert [Path(p).name for p in upgraded.updated] == ["functions-aggregate.html"] and len(upgraded.unchanged) == 1
    assert len(settled.unchanged) == 2 and settled.updated == []


def test_an_edit_and_a_deletion_change_only_those_two_documents(counting_runtime, documents, tmp_path):
    folder = tmp_path / "docs"
    paths = documents(folder)
    ingest_paths(counting_runtime.sink, [folder])
    before = _documents(counting_runtime)
    assert _search_titles(counting_runtime, "How often does the guest wifi password rotate?", 1) == ["sample.md"]
    embedded = counting_runtime.embedder.texts

    edited, deleted = paths["txt"], paths["md"]
    edited.write_text("Facilities.\n\nSince May the parking garage closes at 23:30 every night, weekends included.\n")
    deleted.unlink()
    summary = ingest_paths(counting_runtime.sink, [folder], prune=True)

    assert summary.updated == [edited]
    assert summary.pruned == [str(deleted)]
    assert sorted(summary.unchanged) == sorted(p for k, p in paths.items() if k not in ("txt", "md"))
    assert (summary.added, summary.failed) == ([], [])
    # Only the edited file was embedded again.
    assert counting_runtime.embedder.texts - embedded == summary.chunks_written == 1
    after = _documents(counting_runtime)
    assert set(after) == set(before) - {str(deleted)}
    assert after[str(edited)].content_hash != before[str(edited)].content_hash
    assert not counting_runtime.blobs.path(before[str(edited)].blob).exists()
    assert not counting_runtime.blobs.path(before[str(deleted)].blob).exists()
    assert counting_runtime.blobs.path(after[str(edited)].blob).exists()

    # Search no longer finds the deleted file, and finds the edited file's new text only.
    gone = document_id(FILES.id, str(deleted))
    assert gone not in counting_runtime.store.document_ids()
    hits = counting_runtime.assistant.search("How often does the guest wifi password rotate?", Viewer.operator(), 10)
    assert gone not in {h.origin.document_id for h in hits}
    assert not any("wifi" in h.text for h in hits)
    top = counting_runtime.assistant.search("When does the parking garage close?", Viewer.operator(), 1)[0]
    assert top.origin.title == "sample.txt"
    assert "23:30" in top.text and "22:00" not in top.text


def test_prune_without_deletions_removes_nothing(make_runtime, documents, tmp_path):
    folder = tmp_path / "docs"
    documents(folder, ["txt", "html"])
    runtime = make_runtime(with_llm=False)
    ingest_paths(runtime.sink, [folder])

    summary = ingest_paths(runtime.sink, [folder], prune=True)

    assert summary.pruned == [] and len(summary.unchanged) == 2
    assert len(runtime.store.document_ids()) == 2


def test_a_failure_to_record_one_document_of_a_batch_leaves_the_documents_recorded_before_it(make_runtime):
    runtime = make_runtime(with_llm=False)
    put = runtime.blobs.put

    def refuse_the_second(raw: bytes) -> str:
        if raw.startswith(b"second"):
            raise OSError("disk full")
        return put(raw)

    runtime.blobs.put = refuse_the_second
    items = [SourceDocument(name, f"{name}.txt", f"file:///{name}", f"{name} document about parking", "a.txt")
             for name in ("first", "second", "third")]  # fmt: skip

    results = runtime.sink.index_many(Source("files", "local"), items)
    assert next(results)[1].outcome == "added"
    with pytest.raises(OSError, match="disk full"):
        next(results)

    assert {d.external_id for d in _documents(runtime).values()} == {"first"}
    assert {i.split(":")[0] for i in _chunk_ids(runtime)} == {document_id("files", "first")}

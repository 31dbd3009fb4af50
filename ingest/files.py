"""`enclave ingest`: index files and folders from local disk, then optionally prune."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from assistant.access import Access
from assistant.db.models import Document, IngestFailure
from connectors.local import files

from .index import Indexer, Source
from .parse import ParseError

FILES = Source(id="files", type="local")


@dataclass
class Summary:
    added: list[Path] = field(default_factory=list)
    updated: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    chunks_written: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed


def ingest_paths(
    indexer: Indexer,
    paths: Iterable[Path],
    access: Access = Access.everyone(),
    prune: bool = False,
    on_found: Callable[[int], None] = lambda total: None,
    on_file: Callable[[Path, str], None] = lambda path, outcome: None,
) -> Summary:
    """Index every supported file under ``paths``; one bad file never stops the rest."""
    found = list(files.discover(paths))
    on_found(len(found))
    summary = Summary()
    readable = []
    for item in found:
        problem = item.problem
        if problem is None:
            try:
                readable.append(files.as_document(item.path, access))
                continue
            except OSError as error:
                problem = files.describe_os_error(error)
        _record(indexer, summary, item.path, problem)
        on_file(item.path, "failed")
    for document, result in indexer.index_many(FILES, readable):
        path = Path(document.external_id)
        if isinstance(result, OSError):
            _record(indexer, summary, path, files.describe_os_error(result))
        elif isinstance(result, ParseError):
            _record(indexer, summary, path, str(result))
        else:
            getattr(summary, result.outcome).append(path)
            if result.outcome != "unchanged":
                summary.chunks_written += result.chunks
        on_file(path, "failed" if isinstance(result, Exception) else result.outcome)
    if prune:
        summary.pruned = prune_missing(indexer)
    return summary


def _record(indexer: Indexer, summary: Summary, path: Path, reason: str) -> None:
    summary.failed.append((path, reason))
    indexer.record_failure(FILES, str(path), path.name, reason)


def prune_missing(indexer: Indexer) -> list[str]:
    """Remove documents (and recorded failures) of files that no longer exist; returns the documents' paths."""
    with indexer.sessions() as session:
        known = session.scalars(select(Document.external_id).where(Document.source == FILES.id)).all()
        # A failure of a file that is gone will never clear by indexing: forget it too.
        for failure in session.scalars(select(IngestFailure).where(IngestFailure.source == FILES.id)).all():
            if not Path(failure.external_id).exists():
                session.delete(failure)
        session.commit()
    gone = [path for path in known if not Path(path).exists()]
    indexer.remove(FILES, gone)
    return gone

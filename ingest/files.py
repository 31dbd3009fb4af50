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
    for item in found:
        outcome = _ingest_one(indexer, item, access, summary)
        on_file(item.path, outcome)
    if prune:
        summary.pruned = prune_missing(indexer)
    return summary


def _ingest_one(indexer: Indexer, item: files.Found, access: Access, summary: Summary) -> str:
    path = item.path
    reason = item.problem
    if reason is None:
        try:
            result = indexer.index(FILES, files.as_document(path, access))
        except OSError as error:
            reason = files.describe_os_error(error)
        except ParseError as error:
            reason = str(error)
        else:
            getattr(summary, result.outcome).append(path)
            if result.outcome != "unchanged":
                summary.chunks_written += result.chunks
            return result.outcome
    summary.failed.append((path, reason))
    indexer.record_failure(FILES, str(path), path.name, reason)
    return "failed"


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

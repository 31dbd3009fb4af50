"""`enclave ingest`: index files and folders from local disk through the ingestion sink, then optionally prune."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.access import Access
from connectors.local import files
from ingest.documents import failure_reason
from ingest.index import Source

from .sink import IngestionSink

FILES = Source(id="files", type="local")


@dataclass
class Summary:
    added: list[Path] = field(default_factory=list)
    updated: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    chunks_written: int = 0
    ocr_pages: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed


def ingest_paths(
    sink: IngestionSink,
    paths: Iterable[Path],
    access: Access = Access.everyone(),
    prune: bool = False,
    on_found: Callable[[int], None] = lambda total: None,
    on_file: Callable[[Path, str], None] = lambda path, outcome: None,
) -> Summary:
    """Index every supported file under ``paths``; one bad file never stops the rest.

    With ``prune``, documents and failures of files that no longer exist are forgotten.
    """
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
                problem = failure_reason(error)
        sink.fail(FILES, str(item.path), item.path.name, problem)
        summary.failed.append((item.path, problem))
        on_file(item.path, "failed")
    for document, result in sink.index_many(FILES, readable):
        path = Path(document.external_id)
        if result.outcome == "failed":
            summary.failed.append((path, result.reason))
        else:
            getattr(summary, result.outcome).append(path)
            if result.outcome != "unchanged":
                summary.chunks_written += result.chunks
                summary.ocr_pages += result.ocr_pages
        on_file(path, f"{result.outcome}, {result.ocr_pages} page(s) by OCR" if result.ocr_pages else result.outcome)
    if prune:
        summary.pruned = sink.prune(FILES, lambda path: Path(path).exists())
    return summary

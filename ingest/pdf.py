"""Read a PDF page by page: its text layer, its tables with their rows and columns, and OCR where a page is a scan.

The text layer is laid out by pdfminer.six (paragraphs as text boxes, in
reading order); pdfplumber, on the same layout, finds ruled tables, which are
written as Markdown pipe rows in place of their loose cell text. Lines set
larger than the page's body text, or bold where it is not, are its headings:
the document's sections open at them (``parse.py``), under the title the PDF
gives itself. A page whose text layer holds too little text for a page (a scan,
a photo, text drawn as outlines) is rendered with pdfium and read with
Tesseract (``ocr.py``); the longer reading wins. A page that cannot be read
becomes a warning; the rest of the document is still indexed.
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter

from .ocr import OcrOptions, recognize
from .reading import ReadPage

log = logging.getLogger("enclave.ocr")

# Fewer visible characters than this, and a page is taken for a scan: a stamp or a page number
# in the text layer of a scanned page must not keep the rest of the page from being read.
MIN_TEXT_CHARS = 100
RENDER_DPI = 300  # what Tesseract is trained for; less loses small print
MIN_TABLE_CELLS = 2  # a single ruled box around a paragraph is a frame, not a table
# A short block set this much larger than the page's body text, or bold where the body is not, is a heading.
HEADING_SIZE = 1.15
MAX_HEADING_CHARS = 200
MAX_HEADING_LINES = 2
_FILE_NAME = re.compile(r"\.[A-Za-z0-9]{2,4}$")  # "Microsoft Word - policy.docx" names a file, not the document


def read_pdf(content: bytes, options: OcrOptions) -> list[ReadPage]:
    import pdfplumber

    renderer = _Renderer(content)
    pages = []
    with pdfplumber.open(io.BytesIO(content), laparams={}) as pdf:  # laparams: pdfminer's layout, as before
        for number, page in enumerate(pdf.pages, start=1):
            try:
                read = _text_layer(number, page)
            except Exception as error:  # one broken page (a bad font, a bad stream) spoils only itself
                read = ReadPage(number, method="none", warning=f"its text layer could not be read ({_gist(error)})")
            finally:
                page.close()
            pages.append(_with_ocr(read, renderer, options) if _looks_scanned(read) else read)
    renderer.close()
    return pages


def title(content: bytes) -> str:
    """The title the PDF gives itself in its metadata ("Linz Headquarters Office Guide"), or "" when it has none
    worth showing: what every page is about, where the file name may say little."""
    import pdfplumber

    try:
        with pdfplumber.open(io.BytesIO(content)) as pdf:
            found = pdf.metadata.get("Title")
    except Exception:  # a damaged catalogue: the pages may still be read, and say what the title would have
        return ""
    found = " ".join(str(found or "").split())
    return found if len(found) <= MAX_HEADING_CHARS and not _FILE_NAME.search(found) else ""


def _text_layer(number: int, page) -> ReadPage:
    from pdfminer.layout import LTTextContainer

    tables = [t for t in page.find_tables() if _is_table(t)]
    boxes = [
        box for box in page.layout
        if isinstance(box, LTTextContainer) and not any(_inside(page, box, t.bbox) for t in tables)
    ]  # fmt: skip
    body = _body_style(boxes)
    blocks, headings = [], []
    for box in boxes:
        for text, styled in _runs(box, body):
            blocks.append((_top(page, box), text))
            if styled and _short_and_no_sentence(text):
                headings.append(text)
    for table in tables:
        # A table goes before the first paragraph below its top edge: where it stands on the page.
        at = next((i for i, (top, _) in enumerate(blocks) if top >= table.bbox[1]), len(blocks))
        blocks.insert(at, (table.bbox[1], _markdown(table.extract())))
    text = "\n\n".join(text for _, text in blocks if text)
    return ReadPage(number, text, "text", tables=len(tables), headings=tuple(headings))


def _characters(items) -> list:
    from pdfminer.layout import LTChar

    return [c for c in items if isinstance(c, LTChar) and c.get_text().strip()]


def _lines(box) -> list:
    """A text box's lines (a line standing alone is its own)."""
    from pdfminer.layout import LTTextBox

    return list(box) if isinstance(box, LTTextBox) else [box]


def _body_style(boxes: list) -> tuple[float, bool]:
    """The size and boldness most of the page's characters are set in."""
    styles = Counter((round(c.size, 1), _bold(c)) for box in boxes for line in _lines(box) for c in _characters(line))
    return styles.most_common(1)[0][0] if styles else (0.0, False)


def _runs(box, body: tuple[float, bool]) -> list[tuple[str, bool]]:
    """The box's text in runs of lines set alike, each with whether it is set as a heading: pdfminer often
    puts a heading in one box with the paragraph under it."""
    runs: list[tuple[list[str], bool]] = []
    for line in _lines(box):
        text = line.get_text().strip()
        if not text:
            continue
        styled = _styled_as_heading(_characters(line), body)
        if runs and runs[-1][1] == styled:
            runs[-1][0].append(text)
        else:
            runs.append(([text], styled))
    return [("\n".join(lines), styled) for lines, styled in runs]


def _styled_as_heading(chars: list, body: tuple[float, bool]) -> bool:
    """Set larger than the body, or bold where the body is not (nearly every character of it)."""
    size, bold = body
    if not chars:
        return False
    larger = sum(c.size >= size * HEADING_SIZE for c in chars)
    heavier = 0 if bold else sum(_bold(c) for c in chars)
    return max(larger, heavier) >= 0.9 * len(chars)


def _short_and_no_sentence(text: str) -> bool:
    return len(text) <= MAX_HEADING_CHARS and text.count("\n") < MAX_HEADING_LINES and not text.endswith(".")


def _bold(char) -> bool:
    return "bold" in char.fontname.lower()


def _is_table(table) -> bool:
    rows = table.extract()
    return len(rows) >= MIN_TABLE_CELLS and max(len(row) for row in rows) >= MIN_TABLE_CELLS


def _top(page, box) -> float:
    """A pdfminer box's top edge in pdfplumber's coordinates (measured from the page's top)."""
    return page.height - box.y1


def _inside(page, box, bbox) -> bool:
    x0, top, x1, bottom = bbox
    middle_x, middle_top = (box.x0 + box.x1) / 2, page.height - (box.y0 + box.y1) / 2
    return x0 <= middle_x <= x1 and top <= middle_top <= bottom


def _markdown(rows: list[list[str | None]]) -> str:
    """Rows as Markdown pipe rows, the first as the header: each row stays one line, its cells in order."""
    width = max(len(row) for row in rows)
    cells = [[" ".join((cell or "").split()) for cell in row] + [""] * (width - len(row)) for row in rows]
    lines = ["| " + " | ".join(row) + " |" for row in cells]
    lines.insert(1, "|" + "---|" * width)
    return "\n".join(lines)


def _looks_scanned(page: ReadPage) -> bool:
    return len("".join(page.text.split())) < MIN_TEXT_CHARS


def _with_ocr(page: ReadPage, renderer: _Renderer, options: OcrOptions) -> ReadPage:
    """The page read again with OCR, if OCR is on and finds more than its text layer holds."""
    if not options.enabled:
        warning = page.warning or ("" if page.text else "no text layer, and OCR is off")
        return ReadPage(
            page.number, page.text, page.method if page.text else "none", tables=page.tables, warning=warning
        )
    try:
        image = renderer.page(page.number)
        if _blank(image):
            return page if page.text else ReadPage(page.number, method="none", warning=page.warning)
        log.info("OCR: page %d", page.number)
        found = recognize(image, options.languages)
    except Exception as error:  # Tesseract missing, a page pdfium cannot draw: a warning, never the document
        return ReadPage(page.number, page.text, page.method if page.text else "none", tables=page.tables,
                        warning=f"OCR could not read it ({_gist(error)})")  # fmt: skip
    if len(found.text) <= len(page.text):
        return page
    return ReadPage(page.number, found.text, "ocr", found.confidence, warning=page.warning)


class _Renderer:
    """Draws pages as images with pdfium, opening the document only once a page needs it."""

    def __init__(self, content: bytes):
        self.content = content
        self.document = None

    def page(self, number: int):
        import pypdfium2

        if self.document is None:
            self.document = pypdfium2.PdfDocument(self.content)
        return self.document[number - 1].render(scale=RENDER_DPI / 72).to_pil()

    def close(self) -> None:
        if self.document is not None:
            self.document.close()


def _blank(image) -> bool:
    """Nothing drawn on the page: OCR would spend seconds to find nothing."""
    from PIL import ImageOps

    return ImageOps.invert(image.convert("L")).getbbox() is None


def _gist(error: Exception) -> str:
    message = str(error).strip() or type(error).__name__
    return message if len(message) < 200 else message[:200] + "…"

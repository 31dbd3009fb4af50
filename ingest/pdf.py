"""Read a PDF page by page: its text layer, its tables with their rows and columns, and OCR where a page is a scan.

The text layer is laid out by pdfminer.six (paragraphs as text boxes, in
reading order); pdfplumber, on the same layout, finds ruled tables, which are
written as Markdown pipe rows in place of their loose cell text. A page whose
text layer holds too little text for a page (a scan, a photo, text drawn as
outlines) is rendered with pdfium and read with Tesseract (``ocr.py``); the
longer reading wins. A page that cannot be read becomes a warning; the rest of
the document is still indexed.
"""

from __future__ import annotations

import io
import logging

from .ocr import OcrOptions, recognize
from .reading import ReadPage

log = logging.getLogger("enclave.ocr")

# Fewer visible characters than this, and a page is taken for a scan: a stamp or a page number
# in the text layer of a scanned page must not keep the rest of the page from being read.
MIN_TEXT_CHARS = 100
RENDER_DPI = 300  # what Tesseract is trained for; less loses small print
MIN_TABLE_CELLS = 2  # a single ruled box around a paragraph is a frame, not a table


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


def _text_layer(number: int, page) -> ReadPage:
    from pdfminer.layout import LTTextContainer

    tables = [t for t in page.find_tables() if _is_table(t)]
    blocks = [
        (_top(page, box), box.get_text().strip())
        for box in page.layout
        if isinstance(box, LTTextContainer) and not any(_inside(page, box, t.bbox) for t in tables)
    ]
    for table in tables:
        # A table goes before the first paragraph below its top edge: where it stands on the page.
        at = next((i for i, (top, _) in enumerate(blocks) if top >= table.bbox[1]), len(blocks))
        blocks.insert(at, (table.bbox[1], _markdown(table.extract())))
    return ReadPage(number, "\n\n".join(text for _, text in blocks if text), "text", tables=len(tables))


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

"""Reading scans, images, PDF pages and tables, with the real Tesseract.

Failure modes covered: a scanned page (no text layer) yielding nothing, German
read without its umlauts, a stamp in a scan's text layer keeping the page from
OCR, a table flattened into loose words or its cells duplicated, a table losing
its page, OCR running when it is off, a missing language pack failing the whole
document instead of one page, and the report of what was read not adding up.
"""

from __future__ import annotations

import io

import pytest

from ingest.ocr import OcrOptions
from ingest.parse import ParseError, read
from tests.conftest import text_image

ENGLISH = "The boiler room is inspected every Thursday by the heron team."
GERMAN = "Grüße an die Kolleginnen: die Tür schließt um fünf."
TABLE = [("Region", "Budget"), ("Quokka Island", "4,750 EUR"), ("Walrus Bay", "1,200 EUR")]
LONG = "This page explains how the facilities team plans its week, which rooms it checks and who to call. " * 2


def scanned_pdf(*pages: list[str], stamp: str = "") -> bytes:
    """A PDF whose pages are only pictures of text, as a scanner makes them (``stamp``: a tiny text layer)."""
    images = [text_image(lines).convert("RGB") for lines in pages]
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=300)
    if not stamp:
        return out.getvalue()
    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter

    overlay = FPDF(unit="pt", format=(images[0].width * 72 / 300, images[0].height * 72 / 300))
    overlay.add_page()
    overlay.set_font("helvetica", size=4)
    overlay.text(2, 6, stamp)
    stamped = PdfReader(io.BytesIO(overlay.output())).pages[0]
    writer = PdfWriter(clone_from=PdfReader(out))
    writer.pages[0].merge_page(stamped)
    result = io.BytesIO()
    writer.write(result)
    return result.getvalue()


def table_pdf() -> bytes:
    """Four pages of text; page 3 holds a ruled table."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for number in range(1, 5):
        pdf.add_page()
        pdf.multi_cell(0, 8, f"Page {number}. {LONG}")
        if number == 3:
            with pdf.table() as table:
                for cells in TABLE:
                    row = table.row()
                    for cell in cells:
                        row.cell(cell)
    return bytes(pdf.output())


@pytest.fixture(scope="module")
def scan():
    return scanned_pdf([ENGLISH], [GERMAN])


@pytest.fixture(scope="module")
def scan_read(scan):
    return read(scan, "scan.pdf", ocr=OcrOptions(languages="eng+deu"))


def test_scanned_pages_are_read_with_ocr_in_their_languages(scan_read):
    pages = {s.page: s.text for s in scan_read.sections}
    assert ENGLISH in pages[1]
    assert GERMAN in pages[2]  # umlauts and all: the German model read it
    english_only = read(scanned_pdf([GERMAN]), "scan.pdf", ocr=OcrOptions(languages="eng"))
    assert GERMAN not in english_only.sections[0].text
    report = scan_read.report
    assert (report["pages"], report["text_pages"], report["ocr_pages"], report["warnings"]) == (2, 0, 2, [])
    assert 80 < report["ocr_confidence"] <= 100


def test_a_scan_with_a_stamp_in_its_text_layer_is_still_read():
    stamped = scanned_pdf([ENGLISH], stamp="Scanned 2024-05-02")

    found = read(stamped, "stamped.pdf")

    assert ENGLISH in found.sections[0].text and found.report["ocr_pages"] == 1


def test_an_image_is_read_whole():
    image = io.BytesIO()
    text_image([ENGLISH]).save(image, "WEBP", lossless=True)

    found = read(image.getvalue(), "screenshot.webp")

    assert [(s.page, s.text) for s in found.sections] == [(None, ENGLISH)]
    assert found.report["format"] == "image" and found.report["ocr_pages"] == 1


def test_tables_keep_rows_and_columns_on_their_page():
    found = read(table_pdf(), "budget.pdf")

    page3 = next(s.text for s in found.sections if s.page == 3)
    lines = page3.splitlines()
    assert "| Region | Budget |" in lines and "| Quokka Island | 4,750 EUR |" in lines
    assert page3.count("Quokka Island") == 1  # the cells are not also kept as loose words
    assert page3.index("Page 3.") < page3.index("| Region")  # in their place below the text
    report = found.report
    assert (report["pages"], report["text_pages"], report["ocr_pages"], report["tables"]) == (4, 4, 0, 1)


def test_with_ocr_off_scans_and_images_say_why_they_have_no_text(scan):
    off = OcrOptions(enabled=False)
    with pytest.raises(ParseError, match="page 1: no text layer, and OCR is off"):
        read(scan, "scan.pdf", ocr=off)
    image = io.BytesIO()
    text_image([ENGLISH]).save(image, "PNG")
    with pytest.raises(ParseError, match="OCR is off"):
        read(image.getvalue(), "screenshot.png", ocr=off)


def test_a_page_that_cannot_be_read_is_a_warning_and_the_rest_is_indexed():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for document in (table_pdf(), scanned_pdf([ENGLISH])):
        writer.append(PdfReader(io.BytesIO(document)))
    mixed = io.BytesIO()
    writer.write(mixed)

    found = read(mixed.getvalue(), "mixed.pdf", ocr=OcrOptions(languages="eng+tlh"))

    assert [s.page for s in found.sections] == [1, 2, 3, 4]
    assert found.report["warnings"] == [
        "page 5: OCR could not read it (OCR language tlh is not installed (apt-get install tesseract-ocr-tlh))"
    ]
    with pytest.raises(ParseError, match="tesseract-ocr-tlh"):
        read(scanned_pdf([ENGLISH]), "scan.pdf", ocr=OcrOptions(languages="tlh"))


def test_a_scan_is_read_again_when_the_ocr_languages_change(tmp_path, embedder):
    from assistant.access import Viewer
    from enclave.folders import ingest_paths
    from tests.conftest import runtime_with, settings_for

    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "notice.pdf").write_bytes(scanned_pdf([GERMAN]))
    data_dir = tmp_path / "data"

    def ingest(languages: str):
        runtime = runtime_with(settings_for(data_dir=data_dir, ocr_languages=languages), embedder)
        return runtime, ingest_paths(runtime.sink, [folder])

    _, english = ingest("eng")
    _, same = ingest("eng")
    runtime, german = ingest("eng+deu")

    assert [len(s.added) for s in (english, same, german)] == [1, 0, 0]
    assert len(same.unchanged) == 1 and len(german.updated) == 1
    [hit] = runtime.retriever.search("Wann schließt die Tür?", Viewer.operator(), 1)
    assert GERMAN in hit.text

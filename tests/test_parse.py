"""Parsing real files of every supported format into text sections.

Failure modes covered: a format losing its text, PDF pages or slides losing
their numbers, tables flattened into a run of words, an e-mail losing its
subject, and each kind of unusable input (corrupt, empty, binary, unsupported,
no text layer) raising ParseError with a reason an admin can act on.
"""

from __future__ import annotations

import pytest

from ingest.parse import SUPPORTED_EXTENSIONS, ParseError, kind_of, parse
from tests.conftest import DOCUMENT_FACTS
from tests.format_samples import FORMAT_FACTS, write_samples


@pytest.fixture(scope="module")
def parsed(tmp_path_factory, documents):
    folder = tmp_path_factory.mktemp("formats")
    return {kind: parse(path.read_bytes(), path.name) for kind, path in documents(folder).items()}


def test_every_supported_extension_has_a_sample():
    # A new format added to the parser must get a sample file (and facts) here or in tests/format_samples.py.
    samples = {kind_of(f"x.{kind}") for kind in {*DOCUMENT_FACTS, *FORMAT_FACTS}}
    assert samples == {kind_of(f"x{e}") for e in SUPPORTED_EXTENSIONS}


@pytest.fixture(scope="module")
def parsed_samples(tmp_path_factory):
    samples = write_samples(tmp_path_factory.mktemp("more"))
    return {kind: parse(path.read_bytes(), path.name) for kind, path in samples.items()}


@pytest.mark.parametrize("kind", sorted(FORMAT_FACTS))
def test_every_newer_format_yields_its_text(parsed_samples, kind):
    text = "\n".join(section.text for section in parsed_samples[kind])
    for fact in FORMAT_FACTS[kind]:
        assert fact in text, f"{kind}: {fact!r} missing from {text!r}"


def test_opendocument_slides_are_numbered_and_an_epub_reads_in_spine_order(parsed_samples):
    assert [s.page for s in parsed_samples["odp"]] == [1, 2]
    book = "\n".join(s.text for s in parsed_samples["epub"])
    assert book.index("lighthouse keeper") < book.index("storm closed")


@pytest.mark.parametrize("kind", sorted(DOCUMENT_FACTS))
def test_every_format_yields_its_text(parsed, kind):
    text = "\n".join(section.text for section in parsed[kind])
    for fact in DOCUMENT_FACTS[kind]:
        assert fact in text, f"{kind}: {fact!r} missing from {text!r}"


def test_pdf_pages_are_numbered(parsed):
    assert [(s.page, s.text.rstrip(".")) for s in parsed["pdf"]] == list(enumerate(DOCUMENT_FACTS["pdf"], start=1))


def test_pdf_sections_open_at_headings_under_the_documents_own_title():
    # A heading is told by its type (larger, or bold); the PDF's metadata title heads every section, as an
    # HTML page's <title> does, and a heading at the foot of a page heads the next page's text.
    from fpdf import FPDF

    fire_alarm = "Fire alarm: leave the building by the nearest exit and do not use the lifts."
    body = "Reception is staffed from 06:45 to 18:30 on working days, and visitors are registered there. " * 3
    pdf = FPDF()
    pdf.set_title("Linz Headquarters Office Guide")
    pdf.add_page()
    for heading, style, size in (("Opening hours", "", 16), ("Parking", "B", 11)):
        pdf.set_font("helvetica", style, size)
        pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", "", 11)
        pdf.multi_cell(0, 6, body, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "B", 11)
    pdf.set_y(-40)
    pdf.multi_cell(0, 8, "Safety", new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    pdf.set_font("helvetica", "", 11)
    pdf.multi_cell(0, 6, fire_alarm)

    sections = parse(bytes(pdf.output()), "guide.pdf")

    assert [(s.page, s.heading, s.text.split("\n")[0]) for s in sections] == [
        (1, "Linz Headquarters Office Guide › Opening hours", "Opening hours"),
        (1, "Linz Headquarters Office Guide › Parking", "Parking"),
        (2, "Linz Headquarters Office Guide › Safety", fire_alarm),
    ]


def test_a_pdf_title_that_names_a_file_heads_nothing():
    from fpdf import FPDF

    from ingest.pdf import title

    pdf = FPDF()
    pdf.set_title("Microsoft Word - policy_v3.docx")
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(0, 6, "Expense claims are paid with the next monthly payroll run.")

    assert title(bytes(pdf.output())) == ""
    assert [s.heading for s in parse(bytes(pdf.output()), "policy.pdf")] == [""]


def test_slides_are_numbered(parsed):
    pages = {s.page: s.text for s in parsed["pptx"]}
    assert sorted(pages) == [1, 2]
    assert "Falcon" in pages[1] and "Marketing" in pages[2]


def test_sheets_are_named_not_numbered(parsed):
    assert [(s.page, s.heading) for s in parsed["xlsx"]] == [(None, "Prices")]


@pytest.mark.parametrize(
    ("kind", "rows"),
    [
        ("docx", ["City | Allowance", "Oslo | 95 EUR"]),
        ("xlsx", ["Product | Price", "Widget | 4.50", "Gadget | 7.25"]),
        ("html", ["Day | Dish", "Monday | Soup", "Tuesday | Pasta"]),
        ("md", ["Floor | Printer", "2 | Laserjet", "3 | Inkjet"]),
        ("csv", ["name | team", "Ada | Research", "Grace | Compilers"]),
    ],
)
def test_tables_keep_their_rows(parsed, kind, rows):
    lines = "\n".join(s.text for s in parsed[kind]).splitlines()
    for row in rows:
        assert row in lines, f"{kind}: row {row!r} not on a line of its own in {lines!r}"


def test_html_sections_are_headed_by_the_page_title():
    # A long page's later sections name only their own heading; the <title> says what the whole page is about.
    body = "<p>" + "Each row of the group is fed to the function. " * 6 + "</p>"
    page = (
        "<html><head><title>9.21. Aggregate Functions</title></head><body>"
        f"<h2>9.21. Aggregate Functions</h2>{body}<h3>Ordered-set aggregates</h3>{body}</body></html>"
    )
    headings = [s.heading for s in parse(page.encode(), "functions-aggregate.html")]
    assert headings == ["9.21. Aggregate Functions", "9.21. Aggregate Functions › Ordered-set aggregates"]
    untitled = parse(f"<html><body><h3>Ordered-set aggregates</h3>{body}</body></html>".encode(), "a.html")
    assert [s.heading for s in untitled] == ["Ordered-set aggregates"]


def test_email_keeps_subject_and_sender(parsed):
    text = parsed["eml"][0].text
    assert text.startswith("Subject: Quarterly offsite in Bergen")
    assert "alice@example.com" in text


def test_kind_falls_back_to_mime_type():
    assert kind_of("download", "application/pdf; charset=binary") == "pdf"
    assert kind_of("page", "text/html") == "html"
    assert kind_of("mail", "application/vnd.ms-outlook") == "msg"
    assert kind_of("archive.7z") is None


@pytest.mark.parametrize(
    ("filename", "content", "reason"),
    [
        ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\nno xref\n", "could not read this pdf file"),
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\t\n", "empty file"),
        ("binary.txt", bytes(range(256)) * 4, "binary content in a text file (NUL bytes)"),
        ("noise.txt", bytes(range(128, 256)) * 8, "binary content in a text file (not readable as text)"),
        ("binary.html", b"\x89PNG\r\n\x1a\n" + bytes(200), "binary content in a text file"),
        ("archive.7z", b"7z\xbc\xaf\x27\x1c", "unsupported file type '.7z'"),
        ("broken.zip", b"PK\x03\x04", "could not read this zip file"),
        ("fake.docx", b"this is not a zip file at all", "could not read this docx file"),
    ],
)
def test_unusable_input_says_why(filename, content, reason):
    with pytest.raises(ParseError) as raised:
        parse(content, filename)
    assert reason in str(raised.value)


def test_pdf_without_text_layer_says_so(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 50, 50)  # a drawing, no text: what a scanned page looks like to pdfminer
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))

    with pytest.raises(ParseError, match="no text found in this pdf file"):
        parse(path.read_bytes(), path.name)


HANDBOOK = b"""# Employee Handbook

Welcome to the company. This handbook explains how we work together, what you can expect from us and
what we expect from you, from your first day to your last. Keep it at hand; HR updates it every January.

## Vacation

Everyone gets 26 days a year. Requests go through PeopleHub at least two weeks ahead, and your manager
answers within three working days. Days not taken by the end of March lapse unless HR agrees otherwise.

## Parking

Level P3 of the garage is for employees; visitors use level P1 and register at reception first.
"""


def test_sections_follow_the_documents_headings():
    sections = parse(HANDBOOK, "handbook.md")

    assert [s.heading for s in sections] == ["Employee Handbook", "Vacation", "Parking"]
    assert sections[1].text.startswith("Vacation\n\n") and "PeopleHub" in sections[1].text
    assert "visitors use level P1" in sections[2].text and "PeopleHub" not in sections[2].text


def test_short_sections_are_kept_together_under_the_first_heading():
    faq = b"# FAQ\n\n## Wifi?\n\nGuest-Net.\n\n## Printer?\n\nSecond floor.\n\n## Coffee?\n\nKitchen, free.\n"

    [section] = parse(faq, "faq.md")

    assert section.heading == "FAQ"
    assert all(word in section.text for word in ("Wifi?", "Guest-Net.", "Printer?", "Coffee?", "Kitchen, free."))

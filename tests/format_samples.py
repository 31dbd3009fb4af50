"""Real files of the formats read by ``ingest/formats.py`` and the containers of ``ingest/containers.py``.

OpenDocument and EPUB files are written by hand as their specifications lay them out (a zip of XML with the
mimetype first, uncompressed); RTF by hand; Outlook .msg with aspose-email-foss (an MSG writer independent
of the python-oxmsg reader Enclave uses); mails with the standard library; archives with zipfile. Each sample
holds the facts in ``FORMAT_FACTS``.
"""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage
from pathlib import Path

FORMAT_FACTS: dict[str, list[str]] = {
    "odt": ["Expense reports are due on the fifth working day", "Hotel | 140 EUR"],
    "ods": ["Stapler | 12.90", "Toner | 61.00"],
    "odp": ["The Heron launch moves to September", "Support hires four engineers"],
    "rtf": ["The night shift hands over at 06:00", "Forklift licences are renewed yearly"],
    "epub": ["Chapter one: the lighthouse keeper counts ships", "The storm closed the harbour for nine days"],
    "msg": ["Subject: Quarterly invoice", "Please pay within thirty days"],
    "zip": ["notes/agenda.txt"],
}

_ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"'
)
_ODF_MIME = {
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
}


def _table(rows: list[tuple[str, ...]], name: str = "Table1") -> str:
    cells = "".join(
        "<table:table-row>"
        + "".join(f'<table:table-cell office:value-type="string"><text:p>{c}</text:p></table:table-cell>' for c in row)
        + '<table:table-cell table:number-columns-repeated="1000"/></table:table-row>'
        for row in rows
    )
    return f'<table:table table:name="{name}">{cells}<table:table-row table:number-rows-repeated="9999">' \
        "<table:table-cell/></table:table-row></table:table>"


def _write_opendocument(path: Path, kind: str, body: str) -> None:
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODF_NS} office:version="1.3">'
        f"<office:body>{body}</office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{_ODF_MIME[kind]}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), _ODF_MIME[kind], compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", manifest)


def write_odt(path: Path) -> None:
    _write_opendocument(path, "odt", (
        '<office:text><text:h text:outline-level="1">Travel and expenses</text:h>'
        "<text:p>Expense reports are due on the fifth<text:s/>working day of the month.</text:p>"
        + _table([("Item", "Limit"), ("Hotel", "140 EUR")]) + "</office:text>"
    ))  # fmt: skip


def write_ods(path: Path) -> None:
    rows = [("Item", "Price"), ("Stapler", "12.90"), ("Toner", "61.00")]
    _write_opendocument(path, "ods", f"<office:spreadsheet>{_table(rows, 'Supplies')}</office:spreadsheet>")


def write_odp(path: Path) -> None:
    slides = [("Roadmap", "The Heron launch moves to September."), ("Hiring", "Support hires four engineers.")]
    pages = "".join(
        f'<draw:page draw:name="{title}"><draw:frame presentation:class="title"><draw:text-box>'
        f"<text:p>{title}</text:p></draw:text-box></draw:frame><draw:frame><draw:text-box>"
        f"<text:p>{body}</text:p></draw:text-box></draw:frame></draw:page>"
        for title, body in slides
    )
    _write_opendocument(path, "odp", f"<office:presentation>{pages}</office:presentation>")


def write_rtf(path: Path) -> None:
    path.write_bytes(
        rb"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0 Times New Roman;}}"
        rb"{\b Warehouse rules}\par The night shift hands over at 06:00.\par"
        rb" Forklift licences are renewed yearly. Caf\'e9 opens at seven.\par}"
    )


def write_epub(path: Path) -> None:
    chapters = [
        ("Chapter one", "Chapter one: the lighthouse keeper counts ships at dusk."),
        ("Chapter two", "The storm closed the harbour for nine days."),
    ]
    package = (
        '<?xml version="1.0" encoding="UTF-8"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
        'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">'
        "sample</dc:identifier><dc:title>The Lighthouse</dc:title><dc:language>en</dc:language></metadata><manifest>"
        + "".join(f'<item id="c{n}" href="text/c{n}.xhtml" media-type="application/xhtml+xml"/>' for n in (1, 2))
        + '</manifest><spine><itemref idref="c1"/><itemref idref="c2"/></spine></package>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        book.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<rootfiles><rootfile full-path="OEBPS/book.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        book.writestr("OEBPS/book.opf", package)
        # Stored last chapter first: the spine, not the order in the zip, gives the reading order.
        for n, (title, text) in reversed(list(enumerate(chapters, start=1))):
            book.writestr(
                f"OEBPS/text/c{n}.xhtml",
                '<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head>'
                f"<title>{title}</title></head><body><h1>{title}</h1><p>{text}</p></body></html>",
            )


def msg_bytes(subject: str, body: str, attachments: dict[str, bytes]) -> bytes:
    """An Outlook .msg, written by aspose-email-foss."""
    from aspose.email_foss import msg

    message = msg.MapiMessage.create(subject, body)
    message.set_property(msg.PropertyId.SENDER_NAME, "Ann Accounts")
    message.set_property(msg.PropertyId.SENDER_EMAIL_ADDRESS, "ann@example.com")
    message.add_recipient("bob@example.com", display_name="Bob")
    for name, content in attachments.items():
        message.add_attachment(name, content, mime_type="application/octet-stream")
    return msg.MsgWriter.to_bytes(message.to_msg_document())


def write_msg(path: Path) -> None:
    path.write_bytes(msg_bytes("Quarterly invoice", "Please pay within thirty days.", {}))


def eml_bytes(subject: str, body: str, attachments: dict[str, bytes]) -> bytes:
    """A MIME mail with these files attached."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Ann <ann@example.com>", "bob@example.com", subject
    message.set_content(body)
    for name, content in attachments.items():
        maintype, subtype = ("application", "pdf") if name.endswith(".pdf") else ("application", "octet-stream")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def write_zip(path: Path) -> None:
    path.write_bytes(zip_bytes({"notes/agenda.txt": b"Agenda: budget review.\n"}))


def write_zip_bomb(path: Path, gigabytes: int = 1) -> None:
    """``gigabytes`` of zeros in one member, compressed as it is written: about a megabyte on disk per gigabyte."""
    zeros = bytes(2**20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("zeros.txt", "w", force_zip64=True) as member:
            for _ in range(gigabytes * 1024):
                member.write(zeros)


def pdf_bytes(sentence: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 10, sentence)
    return bytes(pdf.output())


WRITERS = {
    "odt": write_odt,
    "ods": write_ods,
    "odp": write_odp,
    "rtf": write_rtf,
    "epub": write_epub,
    "msg": write_msg,
    "zip": write_zip,
}


def write_samples(folder: Path) -> dict[str, Path]:
    """One sample per format of ``FORMAT_FACTS``: kind -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind, write in WRITERS.items():
        written[kind] = folder / f"sample.{kind}"
        write(written[kind])
    return written

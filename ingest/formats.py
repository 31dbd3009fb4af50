"""Readers for the formats ``parse.py`` does not read through unstructured: OpenDocument text, spreadsheets and
presentations, RTF, EPUB, mails (.eml, Outlook .msg), and the member list of a zip archive.

unstructured reads OpenDocument, RTF and EPUB only by converting them with pandoc, a system binary the
appliance does without. These are small by comparison: OpenDocument and EPUB files are zips of XML, and
``striprtf`` reads RTF. Each reader returns unstructured elements (headings as Title, paragraphs as Text,
tables with their HTML, slides with their numbers), which ``parse.py`` groups into sections like every other
format. XML is parsed without entities or network access, and no zip member is read past a size cap, so a
crafted file cannot make a reader balloon.

A mail is read whole here (``open_mail``): its text is its header (subject, sender, recipients, the names of
its attachments) and body, never empty even when only an attachment was sent; ``containers.py`` takes the
attachments from the same reading.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html import escape
from pathlib import PurePosixPath

from lxml import etree
from unstructured.documents.elements import Element, ElementMetadata, Table, Text, Title

KINDS_BY_EXTENSION = {
    ".odt": "odt",
    ".ods": "ods",
    ".odp": "odp",
    ".rtf": "rtf",
    ".epub": "epub",
    ".zip": "zip",
    ".msg": "msg",
}
KINDS_BY_MIME = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "application/rtf": "rtf",
    "text/rtf": "rtf",
    "application/epub+zip": "epub",
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
    "application/vnd.ms-outlook": "msg",
}

MAX_MEMBER_BYTES = 64 * 2**20  # one XML part of a document; real ones are a few megabytes at most

_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
H, P, SPACE, TAB, BREAK = (f"{{{_TEXT}}}{name}" for name in ("h", "p", "s", "tab", "line-break"))
TABLE, ROW, CELL = (f"{{{_TABLE}}}{name}" for name in ("table", "table-row", "table-cell"))
REPEATED = f"{{{_TABLE}}}number-columns-repeated"
MAX_REPEATS = 50  # a spreadsheet repeats a cell a thousand times to fill a row; a value that often is noise


def _member(archive: zipfile.ZipFile, name: str) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > MAX_MEMBER_BYTES:
        raise ValueError(f"{name} expands to {info.file_size // 2**20} MB, more than a document part may")
    with archive.open(info) as member:
        return member.read(MAX_MEMBER_BYTES + 1)[:MAX_MEMBER_BYTES]


def _xml(data: bytes) -> etree._Element:
    return etree.fromstring(data, parser=_SAFE_XML)


def _text(node: etree._Element) -> str:
    """A paragraph's text with OpenDocument's spaces, tabs and line breaks put back."""
    parts = [node.text or ""]
    for child in node:
        if child.tag == SPACE:
            parts.append(" " * int(child.get(f"{{{_TEXT}}}c", "1")))
        elif child.tag == TAB:
            parts.append("\t")
        elif child.tag == BREAK:
            parts.append("\n")
        else:
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts).strip()


def _table(node: etree._Element) -> Table:
    """A table as the HTML rows parse.py renders as ``cell | cell`` lines."""
    rows = []
    for row in node.iter(ROW):
        cells = []
        for cell in row.iter(CELL):
            text = " ".join(_text(p) for p in cell.iter(P, H))
            cells.extend([text] * min(int(cell.get(REPEATED, "1")), MAX_REPEATS if text else 1))
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    html = f"<table>{''.join(rows)}</table>"
    return Table(text=" ".join(_text(p) for p in node.iter(P)), metadata=ElementMetadata(text_as_html=html))


def _in_table(node: etree._Element) -> bool:
    return any(True for _ in node.iterancestors(TABLE))


def _flow(body: etree._Element, page: int | None = None) -> list[Element]:
    """Headings, paragraphs and tables in reading order; a table's cells are read with their table."""
    elements: list[Element] = []
    for node in body.iter(H, P, TABLE):
        if _in_table(node):
            continue
        element = _table(node) if node.tag == TABLE else (Title if node.tag == H else Text)(_text(node))
        element.metadata.page_number = page
        elements.append(element)
    return elements


def _opendocument_body(content: bytes, kind: str) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        root = _xml(_member(archive, "content.xml"))
    body = root.find(f"{{{_OFFICE}}}body/{{{_OFFICE}}}{kind}")
    if body is None:
        raise ValueError(f"no {kind} in this OpenDocument file")
    return body


def read_odt(content: bytes) -> list[Element]:
    return _flow(_opendocument_body(content, "text"))


def read_ods(content: bytes) -> list[Element]:
    """Each sheet under its name."""
    elements: list[Element] = []
    for sheet in _opendocument_body(content, "spreadsheet").iter(TABLE):
        elements += [Title(sheet.get(f"{{{_TABLE}}}name", "Sheet")), _table(sheet)]
    return elements


def read_odp(content: bytes) -> list[Element]:
    """Each slide numbered as a page."""
    slides = _opendocument_body(content, "presentation").iter(f"{{{_DRAW}}}page")
    return [element for number, slide in enumerate(slides, start=1) for element in _flow(slide, page=number)]


def read_rtf(content: bytes) -> list[Element]:
    from striprtf.striprtf import rtf_to_text

    if not content.lstrip().startswith(b"{\\rtf"):
        raise ValueError("not an RTF file (it does not start with {\\rtf)")
    # RTF is 7-bit text; characters beyond it are escapes that striprtf decodes with the code page given.
    text = rtf_to_text(content.decode("latin-1"), encoding="cp1252", errors="replace")
    return [Text(line.strip()) for line in text.splitlines() if line.strip()]


def read_epub(content: bytes) -> list[Element]:
    """The chapters in reading order (the package's spine), each read as HTML."""
    from unstructured.partition.html import partition_html

    elements: list[Element] = []
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        for chapter in _spine(book):
            elements += partition_html(text=_member(book, chapter).decode("utf-8", "replace"), languages=["eng"])
    return elements


def _spine(book: zipfile.ZipFile) -> list[str]:
    container = _xml(_member(book, "META-INF/container.xml"))
    package_path = container.find(".//{*}rootfile").get("full-path")
    package = _xml(_member(book, package_path))
    files = {item.get("id"): item.get("href") for item in package.iter("{*}item")}
    folder = posixpath.dirname(package_path)
    chapters = [files.get(ref.get("idref")) for ref in package.iter("{*}itemref")]
    return [posixpath.normpath(posixpath.join(folder, href)) for href in chapters if href]


def read_zip(content: bytes) -> list[Element]:
    """An archive's own text: the names of its members (containers.py indexes each member on its own)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
    return [Title("Files in this archive"), Text("\n".join(names) or "(empty archive)")]


@dataclass(frozen=True)
class Mail:
    subject: str
    sender: str
    recipients: list[str]
    body: str
    body_is_html: bool
    attachments: list[tuple[str, bytes]]  # file name, content


def open_mail(content: bytes, kind: str) -> Mail:
    """A mail of ``kind`` "email" (MIME, .eml) or "msg" (Outlook)."""
    return _outlook_mail(content) if kind == "msg" else _mime_mail(content)


def _mime_mail(content: bytes) -> Mail:
    message = BytesParser(policy=policy.default).parsebytes(content)
    body = message.get_body(preferencelist=("plain", "html"))
    return Mail(
        subject=str(message["subject"] or ""),
        sender=str(message["from"] or ""),
        recipients=[str(message[field]) for field in ("to", "cc") if message[field]],
        body=body.get_content() if body else "",
        body_is_html=bool(body) and body.get_content_subtype() == "html",
        attachments=[(_attachment_name(part), _attachment_bytes(part)) for part in _attached(message)],
    )


def _attached(message: EmailMessage):
    """Attachments, in the body's nested multiparts too, but not inside attached mails (those have their own)."""
    for part in message.iter_parts():
        if part.is_attachment():
            yield part
        elif part.is_multipart():
            yield from _attached(part)


def _attachment_name(part: EmailMessage) -> str:
    name = _base_name(part.get_filename() or "")
    return name or ("attached message.eml" if part.get_content_type() == "message/rfc822" else "attachment")


def _attachment_bytes(part: EmailMessage) -> bytes:
    content = part.get_content()
    if isinstance(content, EmailMessage):
        return content.as_bytes()
    return content.encode("utf-8") if isinstance(content, str) else content


def _outlook_mail(content: bytes) -> Mail:
    from oxmsg import Message

    message = Message.load(io.BytesIO(content))
    attachments = [(_base_name(a.file_name or ""), a.file_bytes) for a in message.attachments]
    return Mail(
        subject=message.subject or "",
        sender=message.sender or "",
        recipients=[r.email_address for r in message.recipients if r.email_address],
        body=message.html_body or message.body or "",
        body_is_html=bool(message.html_body),
        attachments=[(name, data) for name, data in attachments if name and data is not None],  # embedded mails
    )


def _base_name(name: str) -> str:
    """The last part of a name a mail gives, with Windows or POSIX folders: a label, never a path."""
    return PurePosixPath(name.replace("\\", "/")).name


def _read_mail(kind: str) -> Callable[[bytes], list[Element]]:
    def read(content: bytes) -> list[Element]:
        from unstructured.partition.html import partition_html

        mail = open_mail(content, kind)
        header = [f"Subject: {mail.subject}", f"From: {mail.sender}", f"To: {', '.join(mail.recipients)}"]
        if mail.attachments:
            header.append(f"Attachments: {', '.join(name for name, _ in mail.attachments)}")
        if mail.body_is_html:
            body = partition_html(text=mail.body, languages=["eng"])
        else:
            body = [Text(paragraph.strip()) for paragraph in mail.body.split("\n\n") if paragraph.strip()]
        return [Text("\n".join(header)), *body]

    return read


READERS: dict[str, Callable[[bytes], list[Element]]] = {
    "email": _read_mail("email"),
    "msg": _read_mail("msg"),
    "odt": read_odt,
    "ods": read_ods,
    "odp": read_odp,
    "rtf": read_rtf,
    "epub": read_epub,
    "zip": read_zip,
}

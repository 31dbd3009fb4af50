"""Files that hold other files: mails with attachments (.eml, .msg) and zip archives.

A container is indexed as a document of its own (a mail's header and body, an archive's list of names: see
``formats.py``) and every supported file inside it as a part: a document of its own beside it. ``unpack``
lists the parts, the parts of parts included, up to ``Limits.depth`` containers deep; a container deeper
than that is indexed with its own text only.

A part is keyed by its container's external id, ``#``, and where it sits: ``attachment/<n>-<name>`` in a
mail, ``member/<path>`` in an archive (``mail.eml#attachment/1-invoice.pdf``, and
``docs.zip#member/q1.zip#member/notes.txt`` for a part of a part), so the parts of an item are found by its
id alone. Names from inside a container are only labels: nothing is ever written to disk under them.

Archives are unpacked under limits (files, total expanded size, expansion ratio): an archive over any of
them, a zip bomb, is refused whole, before anything of it is indexed, with the limit it hit. An archive's
limits are checked on what it declares before any member is expanded, and no member is read past that.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from .formats import open_mail
from .parse import ParseError, kind_of

MB = 2**20
PART_MARKERS = ("#attachment/", "#member/")
MAIL_KINDS = {"email", "msg"}
CONTAINER_KINDS = MAIL_KINDS | {"zip"}
# Small members compress far beyond any sane ratio (a page of spaces) and cannot hurt; the size limits bound them.
RATIO_EXEMPT_BYTES = MB


@dataclass(frozen=True)
class Limits:
    """How far containers are unpacked (settings ``archive_max_*``)."""

    depth: int = 2
    files: int = 1000
    total_bytes: int = 500 * MB
    ratio: int = 100


@dataclass(frozen=True)
class Part:
    """A file inside a container, ready to index as a document of its own."""

    key: str  # where it sits, appended to the container's external id after '#'
    title: str
    filename: str
    content: bytes


class Refused(ParseError):
    """A container over a limit (a zip bomb): nothing of it is indexed. The message names the limit."""


@dataclass
class _Budget:
    """What is left of the limits while one top-level container is unpacked."""

    limits: Limits
    files: int = 0
    total_bytes: int = 0

    def take(self, files: int, size: int) -> None:
        self.files += files
        self.total_bytes += size
        if self.files > self.limits.files:
            raise Refused(f"refused: it holds more than {self.limits.files} files (setting archive_max_files)")
        if self.total_bytes > self.limits.total_bytes:
            raise Refused(
                f"refused: it expands to more than {self.limits.total_bytes // MB} MB "
                f"(setting archive_max_mb); a zip bomb?"
            )


def is_container(filename: str, mime_type: str | None = None) -> bool:
    return kind_of(filename, mime_type) in CONTAINER_KINDS


def holders(external_id: str) -> list[str]:
    """The ids of the containers ``external_id`` may be a part of, outermost first (none for a plain item)."""
    found, start = [], 0
    while True:
        positions = [p for p in (external_id.find(m, start) for m in PART_MARKERS) if p > 0]
        if not positions:
            return found
        found.append(external_id[: min(positions)])
        start = min(positions) + 1


def unpack(content: bytes, filename: str, mime_type: str | None, title: str, limits: Limits) -> list[Part]:
    """Every part inside this file, the parts of parts included; none when it is not a container.

    Raises Refused when an archive is over a limit, ParseError when a container cannot be read.
    """
    return _parts(content, kind_of(filename, mime_type), title, _Budget(limits), depth=1)


def _parts(content: bytes, kind: str | None, title: str, budget: _Budget, depth: int) -> list[Part]:
    if kind not in CONTAINER_KINDS or depth > budget.limits.depth:
        return []
    try:
        inside = _archive_members(content, title, budget) if kind == "zip" else _attachments(content, kind, title)
    except ParseError:
        raise
    except Exception as error:  # a broken mail or archive: the admin needs the gist
        raise ParseError(f"could not read the files inside: {error}") from error
    parts = []
    for part in inside:
        if kind != "zip":
            budget.take(1, len(part.content))
        parts.append(part)
        nested = _parts(part.content, kind_of(part.filename), part.title, budget, depth + 1)
        parts += [Part(f"{part.key}#{child.key}", child.title, child.filename, child.content) for child in nested]
    return parts


def _indexable(filename: str) -> bool:
    return kind_of(filename) is not None


# -- mail


def _attachments(content: bytes, kind: str, title: str) -> list[Part]:
    mail = open_mail(content, kind)
    subject = mail.subject or title
    return [
        Part(f"attachment/{n}-{name}", f"{name} (attachment of: {subject})", name, data)
        for n, (name, data) in enumerate(mail.attachments, start=1)
        if _indexable(name)
    ]


# -- archives


def _archive_members(content: bytes, title: str, budget: _Budget) -> list[Part]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        # All limits are checked on what the archive declares before a byte is expanded ...
        budget.take(len(members), sum(info.file_size for info in members))
        for info in members:
            _check_ratio(info, budget.limits)
        # ... and reading never goes past what it declared (zipfile stops there and checks the CRC).
        return [
            Part(f"member/{info.filename}", f"{info.filename} (in {title})", PurePosixPath(info.filename).name,
                 archive.read(info))  # fmt: skip
            for info in members
            if _indexable(PurePosixPath(info.filename).name) and not info.flag_bits & 0x1  # 0x1: encrypted
        ]


def _check_ratio(info: zipfile.ZipInfo, limits: Limits) -> None:
    if info.file_size <= RATIO_EXEMPT_BYTES:
        return
    ratio = info.file_size / max(info.compress_size, 1)
    if ratio > limits.ratio:
        raise Refused(
            f"refused: {info.filename} expands {ratio:.0f} times its compressed size, more than "
            f"{limits.ratio} (setting archive_max_ratio); a zip bomb?"
        )

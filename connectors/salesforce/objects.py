"""The objects Enclave indexes, and how each record becomes a document or a deletion."""

from __future__ import annotations

import mimetypes
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from assistant.access import Access
from connectors.salesforce.render import html_to_text, labelled
from connectors.salesforce.soql import parse_stamp
from ingest.documents import SourceDocument
from ingest.parse import SUPPORTED_EXTENSIONS

SYSTEM_FIELDS = ("Id", "SystemModstamp", "IsDeleted")


@dataclass(frozen=True)
class Site:
    """What every document of one org shares: where records open, who may see them, how files download."""

    lightning_url: str
    access: Access
    download: Callable[[str], bytes]

    def record_url(self, object_name: str, record_id: str) -> str:
        return f"{self.lightning_url}/lightning/r/{object_name}/{record_id}/view"


def lightning_url(instance_url: str) -> str:
    """Where people open records: acme.my.salesforce.com serves them at acme.lightning.force.com.

    Sandboxes and developer orgs keep their infix (acme--uat.sandbox.my.salesforce.com
    -> acme--uat.sandbox.lightning.force.com); any other host is kept as it is.
    """
    parts = urlsplit(instance_url)
    host = parts.hostname or ""
    if host.endswith(".my.salesforce.com"):
        return f"https://{host.removesuffix('.my.salesforce.com')}.lightning.force.com"
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class Children:
    """A child object whose changes alter the parent's document, so they re-render the parent."""

    object_name: str
    parent_field: str


class RecordKind(ABC):
    object_name: ClassVar[str]
    live: ClassVar[tuple[str, ...]] = ()  # SOQL conditions for the records to index
    changes: ClassVar[tuple[str, ...]] = ()  # conditions for an incremental run: live records and those leaving
    key_fields: ClassVar[tuple[str, ...]] = ()  # besides Id, what external_id() and wanted() read
    # An external id is "{id_prefix()}:{record[id_field]}": "Case:500...", "ContentDocument:069..." for a file.
    id_field: ClassVar[str] = "Id"
    children: ClassVar[Children | None] = None

    @classmethod
    def id_prefix(cls) -> str:
        return cls.object_name

    @property
    @abstractmethod
    def fields(self) -> tuple[str, ...]:
        """The fields to select besides SYSTEM_FIELDS (a subquery counts as one)."""

    @abstractmethod
    def document(self, record: dict, site: Site) -> SourceDocument: ...

    def without_children(self) -> RecordKind:
        """This kind with its children left out (only kinds that have children need say how)."""
        return self

    def select_fields(self) -> tuple[str, ...]:
        return SYSTEM_FIELDS + self.fields

    def external_id(self, record: dict) -> str:
        return f"{self.id_prefix()}:{record[self.id_field]}"

    def is_removed(self, record: dict) -> bool:
        return bool(record["IsDeleted"])

    def wanted(self, record: dict) -> bool:
        return True

    def _text_document(self, record: dict, site: Site, title: str, text: str) -> SourceDocument:
        return SourceDocument(
            external_id=self.external_id(record),
            title=title,
            uri=site.record_url(self.object_name, record["Id"]),
            content=text,
            # A rendered record is plain text: parsed as such by its name, served as such by its type.
            filename=f"{self.object_name}-{record['Id']}.txt",
            mime_type="text/plain",
            modified_at=parse_stamp(record["SystemModstamp"]),
            access=site.access,
        )


class LabelledRecords(RecordKind):
    """An object shown as "Label: value" lines of fixed fields; "Account.Name" reads a parent's field."""

    labels: ClassVar[tuple[tuple[str, str], ...]]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(field for _, field in self.labels)

    def _text(self, record: dict) -> str:
        return labelled((label, _value(record, field)) for label, field in self.labels)


def _value(record: dict, path: str) -> object:
    for name in path.split("."):
        record = (record or {}).get(name)
    return record


@dataclass(frozen=True)
class BodyField:
    name: str
    label: str
    html: bool


class KnowledgeArticles(RecordKind):
    object_name = "Knowledge__kav"
    live = ("PublishStatus = 'Online'",)
    # Publishing a new version archives the previous one: an Archived version is a removal.
    changes = ("PublishStatus IN ('Online', 'Archived')",)

    def __init__(self, body_fields: tuple[BodyField, ...] = ()):
        self.body_fields = body_fields

    @classmethod
    def from_describe(cls, description: dict) -> KnowledgeArticles:
        """The article type's own text fields, which hold the body: each org defines them, so ask."""
        return cls(
            tuple(
                BodyField(f["name"], f["label"], bool(f.get("htmlFormatted")))
                for f in description["fields"]
                if f.get("custom") and f["type"] in ("string", "textarea")
            )
        )

    @property
    def fields(self) -> tuple[str, ...]:
        return ("Title", "ArticleNumber", "Summary", "PublishStatus", *(f.name for f in self.body_fields))

    def is_removed(self, record: dict) -> bool:
        return super().is_removed(record) or record["PublishStatus"] != "Online"

    def document(self, record: dict, site: Site) -> SourceDocument:
        bodies = [(f.label, self._body(record.get(f.name), f)) for f in self.body_fields]
        standard = [("Title", record["Title"]), ("Article Number", record["ArticleNumber"]), ("Summary", record["Summary"])]
        text = labelled(standard + bodies)
        return self._text_document(record, site, record["Title"], text)

    @staticmethod
    def _body(value: str | None, field: BodyField) -> str | None:
        return html_to_text(value) if value and field.html else value


class Cases(LabelledRecords):
    object_name = "Case"
    labels = (
        ("Case Number", "CaseNumber"),
        ("Subject", "Subject"),
        ("Status", "Status"),
        ("Priority", "Priority"),
        ("Origin", "Origin"),
        ("Type", "Type"),
        ("Account", "Account.Name"),
        ("Description", "Description"),
    )
    comments_subquery = "(SELECT CreatedDate, IsPublished, CommentBody FROM CaseComments ORDER BY CreatedDate)"
    comments = Children("CaseComment", "ParentId")

    def __init__(self, with_comments: bool = True):
        # Whether a new comment touches the case's own SystemModstamp is not documented, so comments are
        # followed too; without them (the integration user may not read CaseComment) cases come alone.
        self.children = self.comments if with_comments else None

    def without_children(self) -> Cases:
        return Cases(with_comments=False)

    @property
    def fields(self) -> tuple[str, ...]:
        return (*super().fields, self.comments_subquery) if self.children else super().fields

    def document(self, record: dict, site: Site) -> SourceDocument:
        text = self._text(record)
        comments = (record.get("CaseComments") or {}).get("records", [])
        if comments:
            text += "\n\nComments:\n" + "\n".join(_comment_line(c) for c in comments)
        return self._text_document(record, site, record["Subject"] or f"Case {record['CaseNumber']}", text)


def _comment_line(comment: dict) -> str:
    posted = parse_stamp(comment["CreatedDate"]).strftime("%Y-%m-%d %H:%M UTC")
    audience = "" if comment["IsPublished"] else " (internal)"
    return f"- {posted}{audience}: {comment['CommentBody']}"


class Accounts(LabelledRecords):
    object_name = "Account"
    labels = (
        ("Account Name", "Name"),
        ("Type", "Type"),
        ("Industry", "Industry"),
        ("Website", "Website"),
        ("Phone", "Phone"),
        ("Billing City", "BillingCity"),
        ("Billing Country", "BillingCountry"),
        ("Description", "Description"),
    )

    def document(self, record: dict, site: Site) -> SourceDocument:
        return self._text_document(record, site, record["Name"], self._text(record))


class Files(RecordKind):
    """The latest version of each file, keyed by its ContentDocument so a new version replaces the old."""

    object_name = "ContentVersion"
    fields = ("ContentDocumentId", "Title", "FileExtension")
    live = changes = ("IsLatest = true",)
    key_fields = ("ContentDocumentId", "FileExtension")
    id_field = "ContentDocumentId"

    @classmethod
    def id_prefix(cls) -> str:
        return "ContentDocument"

    def wanted(self, record: dict) -> bool:
        # Orgs hold many images and archives that ingest/ cannot read; skip them before downloading.
        return f".{(record['FileExtension'] or '').lower()}" in SUPPORTED_EXTENSIONS

    def document(self, record: dict, site: Site) -> SourceDocument:
        filename = f"{record['Title']}.{record['FileExtension']}"
        version_id = record["Id"]
        return SourceDocument(
            external_id=self.external_id(record),
            title=record["Title"],
            uri=site.record_url(self.id_prefix(), record["ContentDocumentId"]),
            content=lambda: site.download(version_id),
            filename=filename,
            mime_type=mimetypes.guess_type(filename)[0],
            modified_at=parse_stamp(record["SystemModstamp"]),
            version=record["SystemModstamp"],
            access=site.access,
        )


KINDS: dict[str, type[RecordKind]] = {
    kind.object_name: kind for kind in (KnowledgeArticles, Cases, Accounts, Files)
}

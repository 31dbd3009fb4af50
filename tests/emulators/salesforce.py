"""An emulated Salesforce org behind the documented shapes of the REST API, for connector tests.

What it answers:

- ``POST /services/oauth2/token``: the ``password`` and ``client_credentials``
  grants; refusals as ``{"error", "error_description"}`` (invalid_client_id,
  invalid_client, invalid_grant, unsupported_grant_type).
- ``GET /services/data/``: the API versions offered.
- ``GET /services/data/vXX.X/query?q=`` and ``/queryAll?q=``: a small, strict
  SOQL interpreter (see ``parse_soql``), results ``BATCH_SIZE`` at a time through
  ``nextRecordsUrl``, subquery results too. queryAll also returns deleted rows.
- ``GET .../sobjects/{Object}/describe`` and ``.../sobjects/ContentVersion/{Id}/VersionData``.
- Errors as ``[{"message", "errorCode"}]``: 401 INVALID_SESSION_ID, 403
  REQUEST_LIMIT_EXCEEDED, 400 MALFORMED_QUERY / INVALID_FIELD / INVALID_TYPE /
  INVALID_QUERY_FILTER_OPERATOR (a malformed Id in a filter), 404 NOT_FOUND.

The org lives in memory. Tests add, change and delete records between syncs;
each change stamps SystemModstamp from a clock that moves one second per
change, or stamps many alike inside ``same_second()``, as a bulk update does.
Fault switches: ``expire_sessions()``, ``refuse_sessions``, ``exceed_request_limit()``, and
``hide(object)``: the integration user's profile cannot read an object, or the org has not enabled it
(Knowledge): Salesforce then answers as if it did not exist — INVALID_TYPE from a query, "Didn't understand
relationship" from a subquery reaching it, 404 NOT_FOUND from its describe.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

BATCH_SIZE = 2  # Salesforce pages by up to 2,000; two makes every test walk several pages
API_VERSIONS = {"58.0": "Summer '23", "59.0": "Winter '24", "60.0": "Spring '24"}
ORG_ID = "00D5g00000EnclAEAS"


# --- The schema -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectSchema:
    prefix: str  # the three characters every Id of the object starts with
    fields: tuple[str, ...]
    parents: dict[str, tuple[str, str]] = field(default_factory=dict)  # relationship -> (Id field, object)
    children: dict[str, tuple[str, str]] = field(default_factory=dict)  # relationship -> (object, parent Id field)


COMMON_FIELDS = ("Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp")
DATETIME_FIELDS = {"CreatedDate", "LastModifiedDate", "SystemModstamp"}
BOOLEAN_FIELDS = {"IsDeleted", "IsPublished", "IsLatest", "IsLatestVersion", "IsActive"}
INTEGER_FIELDS = {"ContentSize", "VersionNumber"}
# Fields that hold record Ids: a filter on one must name valid Ids (15 or 18 letters and digits).
ID_FIELDS = {"Id", "AccountId", "ParentId", "ContentDocumentId", "KnowledgeArticleId"}
_RECORD_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")

SCHEMA = {
    "User": ObjectSchema("005", ("Username", "Name", "IsActive")),
    "Account": ObjectSchema(
        "001", ("Name", "Type", "Industry", "Website", "Phone", "BillingCity", "BillingCountry", "Description")
    ),
    "Case": ObjectSchema(
        "500",
        ("CaseNumber", "Subject", "Status", "Priority", "Origin", "Type", "Description", "AccountId"),
        parents={"Account": ("AccountId", "Account")},
        children={"CaseComments": ("CaseComment", "ParentId")},
    ),
    "CaseComment": ObjectSchema("00a", ("ParentId", "CommentBody", "IsPublished")),
    "Knowledge__kav": ObjectSchema(
        "ka0",
        ("KnowledgeArticleId", "Title", "Summary", "UrlName", "ArticleNumber", "PublishStatus", "Language")
        + ("VersionNumber", "IsLatestVersion", "Question__c", "Answer__c"),
    ),
    "ContentVersion": ObjectSchema(
        "068",
        ("ContentDocumentId", "Title", "FileExtension", "PathOnClient", "IsLatest", "VersionNumber", "ContentSize"),
    ),
}
# How describe presents the article type's custom fields: (label, type, htmlFormatted).
CUSTOM_FIELDS = {"Question__c": ("Question", "textarea", False), "Answer__c": ("Answer", "textarea", True)}
# Querying article versions needs one of these filters (a documented implementation restriction).
KNOWLEDGE_FILTERS = {"PublishStatus", "Id", "KnowledgeArticleId"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class OAuthError(Exception):
    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error, self.description = error, description


def malformed(message: str) -> ApiError:
    return ApiError(400, "MALFORMED_QUERY", message)


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")


# --- SOQL -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str  # = != > < >= <= IN
    value: object


@dataclass(frozen=True)
class Soql:
    """SELECT fields FROM object [WHERE c AND c ...] [ORDER BY field [ASC|DESC]] [LIMIT n].

    A field is a name, a parent's field ("Account.Name") or a subquery of a
    child relationship; a condition compares a field with a literal ('text',
    true/false, null, an integer, a dateTime such as 2026-01-05T10:00:00Z) or
    tests it against a non-empty IN ('a', 'b'). Anything else is a
    MALFORMED_QUERY. An Id field (Id, AccountId ...) is compared only with Ids:
    'Id IN ('500...', 'bogus')' fails whole, as Salesforce fails it.
    """

    object_name: str
    fields: tuple[str | Soql, ...]
    where: tuple[Condition, ...] = ()
    order_by: str | None = None
    descending: bool = False
    limit: int | None = None


_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*')"
    r"|(?P<datetime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,3})?(?:Z|[+-]\d\d:\d\d))"
    r"|(?P<number>\d+)"
    r"|(?P<name>[A-Za-z_][\w.]*)"
    r"|(?P<symbol>>=|<=|!=|[(),=<>]))"
)
_OPERATORS = {"=", "!=", ">", "<", ">=", "<="}


def parse_soql(text: str) -> Soql:
    parser = _Parser(text)
    query = parser.query()
    if parser.position < len(parser.tokens):
        raise malformed(f"unexpected token: '{parser.tokens[parser.position][1]}'")
    return query


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokenize(text.strip())
        self.position = 0

    def query(self) -> Soql:
        self.expect("SELECT")
        fields = [self.select_item()]
        while self.accept(","):
            fields.append(self.select_item())
        self.expect("FROM")
        object_name = self.name()
        where = self.conditions() if self.accept("WHERE") else []
        order_by, descending = self.ordering() if self.accept("ORDER") else (None, False)
        limit = self.integer() if self.accept("LIMIT") else None
        return Soql(object_name, tuple(fields), tuple(where), order_by, descending, limit)

    def select_item(self) -> str | Soql:
        if self.accept("("):
            subquery = self.query()
            self.expect(")")
            return subquery
        return self.name()

    def conditions(self) -> list[Condition]:
        conditions = [self.condition()]
        while self.accept("AND"):
            conditions.append(self.condition())
        return conditions

    def condition(self) -> Condition:
        field_name = self.name()
        if self.accept("IN"):
            self.expect("(")
            values = [self.value()]
            while self.accept(","):
                values.append(self.value())
            self.expect(")")
            return Condition(field_name, "IN", tuple(values))
        kind, operator = self.take()
        if kind != "symbol" or operator not in _OPERATORS:
            raise malformed(f"unexpected token: '{operator}'")
        return Condition(field_name, operator, self.value())

    def ordering(self) -> tuple[str, bool]:
        self.expect("BY")
        order_by = self.name()
        descending = self.accept("DESC")
        if not descending:
            self.accept("ASC")
        return order_by, descending

    def value(self) -> object:
        kind, text = self.take()
        if kind == "string":
            return re.sub(r"\\(.)", r"\1", text[1:-1])
        if kind == "datetime":
            return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
        if kind == "number":
            return int(text)
        literals = {"TRUE": True, "FALSE": False, "NULL": None}
        if kind == "name" and text.upper() in literals:
            return literals[text.upper()]
        raise malformed(f"unexpected token: '{text}'")

    def integer(self) -> int:
        kind, text = self.take()
        if kind != "number":
            raise malformed(f"LIMIT needs a number, not '{text}'")
        return int(text)

    def name(self) -> str:
        kind, text = self.take()
        if kind != "name":
            raise malformed(f"unexpected token: '{text}'")
        return text

    def accept(self, word: str) -> bool:
        if self.position < len(self.tokens) and self.tokens[self.position][1].upper() == word:
            self.position += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.accept(word):
            found = self.tokens[self.position][1] if self.position < len(self.tokens) else "end of query"
            raise malformed(f"expecting '{word}', found '{found}'")

    def take(self) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise malformed("unexpected end of query")
        self.position += 1
        return self.tokens[self.position - 1]


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise malformed(f"unexpected text: '{text[position:position + 20]}'")
        tokens.append((match.lastgroup, match.group(match.lastgroup)))
        position = match.end()
    return tokens


def _check_query(query: Soql, object_name: str) -> None:
    schema = SCHEMA.get(object_name)
    if schema is None:
        raise ApiError(400, "INVALID_TYPE", f"sObject type '{object_name}' is not supported.")
    for item in query.fields:
        if isinstance(item, Soql):
            _check_subquery(item, object_name)
        elif "." in item:
            relationship, parent_field = item.split(".", 1)
            if relationship not in schema.parents:
                raise _no_such_column(item, object_name)
            _check_field(parent_field, schema.parents[relationship][1])
        else:
            _check_field(item, object_name)
    for condition in query.where:
        _check_field(condition.field, object_name)
        _check_literal(condition)
    if query.order_by:
        _check_field(query.order_by, object_name)
    if object_name == "Knowledge__kav" and not any(c.field in KNOWLEDGE_FILTERS for c in query.where):
        raise malformed("Implementation restriction: filter Knowledge__kav on PublishStatus, Id or KnowledgeArticleId.")


def _check_subquery(subquery: Soql, object_name: str) -> None:
    relationship = SCHEMA[object_name].children.get(subquery.object_name)
    if relationship is None:
        message = f"Didn't understand relationship '{subquery.object_name}' in FROM part of query call."
        raise ApiError(400, "INVALID_TYPE", message)
    if any(isinstance(item, Soql) for item in subquery.fields):
        raise malformed("nesting of semi join sub-selects is not supported")
    _check_query(subquery, relationship[0])


def _check_field(name: str, object_name: str) -> None:
    if name not in COMMON_FIELDS + SCHEMA[object_name].fields:
        raise _no_such_column(name, object_name)


def _no_such_column(name: str, object_name: str) -> ApiError:
    return ApiError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{object_name}'.")


def _check_literal(condition: Condition) -> None:
    values = condition.value if condition.operator == "IN" else (condition.value,)
    wanted = (
        datetime if condition.field in DATETIME_FIELDS
        else bool if condition.field in BOOLEAN_FIELDS
        else int if condition.field in INTEGER_FIELDS
        else str
    )
    if any(value is not None and type(value) is not wanted for value in values):
        raise ApiError(
            400,
            "INVALID_FIELD",
            f"value of filter criterion for field '{condition.field}' must be of type {wanted.__name__}",
        )
    if condition.field in ID_FIELDS:
        for value in values:
            if value is not None and not _RECORD_ID.fullmatch(value):
                raise ApiError(400, "INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {value}")


def _matches(record: dict, condition: Condition) -> bool:
    value, wanted = record[condition.field], condition.value
    if condition.operator == "IN":
        return value in wanted
    if condition.operator in ("=", "!="):
        return (value == wanted) == (condition.operator == "=")
    if value is None or wanted is None:
        return False
    return {">": value > wanted, "<": value < wanted, ">=": value >= wanted, "<=": value <= wanted}[condition.operator]


def _select(rows: list[dict], query: Soql) -> list[dict]:
    rows = [r for r in rows if all(_matches(r, c) for c in query.where)]
    if query.order_by:
        # Salesforce puts nulls first when ascending, last when descending.
        rows.sort(key=lambda r: _nulls_first(r[query.order_by]), reverse=query.descending)
    return rows[: query.limit] if query.limit is not None else rows


def _nulls_first(value: object) -> tuple:
    return (False, 0) if value is None else (True, value)


def _json(value: object) -> object:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return value


# --- The org ----------------------------------------------------------------------------------


class Org:
    """Records, users and sessions of one org, and the switches that make it misbehave."""

    client_id = "3MVG9enclave.test.connected.app"
    client_secret = "connected-app-secret"

    def __init__(self):
        self.tables: dict[str, list[dict]] = {name: [] for name in SCHEMA}
        self.blobs: dict[str, bytes] = {}  # ContentVersion Id -> VersionData
        self.passwords: dict[str, str] = {}  # username -> password followed by security token
        self.sessions: dict[str, str] = {}  # access token -> user Id
        self.calls: list[str] = []  # every data API request: "GET /services/data/v59.0/query"
        self.queries: list[str] = []  # the SOQL of each query and queryAll
        self.token_requests = 0
        self.refuse_sessions = False  # hand out tokens that no data call accepts
        self.hidden: set[str] = set()  # objects the integration user cannot see (see hide)
        self._limit_at: int | None = None
        self._clock = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self._frozen: datetime | None = None
        self._serial = itertools.count(1)
        self._cursors: dict[str, list[dict]] = {}
        self.run_as = self.add_user("integration@acme.com", "Integration User", "pa55word", "TOKEN123")

    # Fault switches.

    def hide(self, object_name: str) -> None:
        self.hidden.add(object_name)

    def expire_sessions(self) -> None:
        self.sessions.clear()

    def exceed_request_limit(self, after_calls: int = 0) -> None:
        """Answer REQUEST_LIMIT_EXCEEDED, once, to the data API call after the next ``after_calls``."""
        self._limit_at = len(self.calls) + after_calls

    # Changing records.

    @contextmanager
    def same_second(self) -> Iterator[None]:
        """Changes made inside get one SystemModstamp, as a bulk update's do."""
        self._frozen = self._now()
        try:
            yield
        finally:
            self._frozen = None

    def insert(self, object_name: str, **values) -> str:
        schema = SCHEMA[object_name]
        _check_values(object_name, values)
        now = self._now()
        record = dict.fromkeys(schema.fields) | values
        record |= {"Id": self._new_id(schema.prefix), "IsDeleted": False}
        record |= {"CreatedDate": now, "LastModifiedDate": now, "SystemModstamp": now}
        self.tables[object_name].append(record)
        return record["Id"]

    def update(self, object_name: str, record_id: str, **values) -> None:
        _check_values(object_name, values)
        now = self._now()
        self.get(object_name, record_id).update(values, LastModifiedDate=now, SystemModstamp=now)

    def delete(self, object_name: str, record_id: str) -> None:
        """Into the Recycle Bin: gone from query, still in queryAll with IsDeleted = true; its children too."""
        now = self._now()
        self.get(object_name, record_id).update(IsDeleted=True, SystemModstamp=now)
        for child_object, parent_field in SCHEMA[object_name].children.values():
            for child in self.tables[child_object]:
                if child[parent_field] == record_id and not child["IsDeleted"]:
                    child.update(IsDeleted=True, SystemModstamp=now)

    def get(self, object_name: str, record_id: str) -> dict:
        return next(r for r in self.tables[object_name] if r["Id"] == record_id)

    def add_user(self, username: str, name: str, password: str, security_token: str) -> str:
        self.passwords[username] = password + security_token
        return self.insert("User", Username=username, Name=name, IsActive=True)

    def add_case(self, subject: str, **values) -> str:
        number = f"{1001 + len(self.tables['Case']):08d}"
        return self.insert("Case", **({"CaseNumber": number, "Subject": subject, "Status": "New"} | values))

    def add_comment(self, case_id: str, body: str, public: bool = True) -> str:
        # The case itself is left as it is: the connector must not rely on its stamp moving.
        return self.insert("CaseComment", ParentId=case_id, CommentBody=body, IsPublished=public)

    def add_article(self, title: str, summary: str, question: str, answer_html: str, status: str = "Online") -> str:
        """A new Knowledge article; returns the Id of its first version."""
        number = f"{len({r['KnowledgeArticleId'] for r in self.tables['Knowledge__kav']}) + 1:09d}"
        return self.insert(
            "Knowledge__kav",
            KnowledgeArticleId=self._new_id("kA0"),
            ArticleNumber=number,
            Title=title,
            UrlName=re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-"),
            Summary=summary,
            Question__c=question,
            Answer__c=answer_html,
            PublishStatus=status,
            Language="en_US",
            VersionNumber=1,
            IsLatestVersion=True,
        )

    def publish_new_version(self, version_id: str, **changes) -> str:
        """Edit and republish an article: a new Online version; the one it replaces turns Archived."""
        old = self.get("Knowledge__kav", version_id)
        kept = {name: old[name] for name in SCHEMA["Knowledge__kav"].fields}
        with self.same_second():
            self.update("Knowledge__kav", version_id, PublishStatus="Archived", IsLatestVersion=False)
            return self.insert("Knowledge__kav", **(kept | {"VersionNumber": old["VersionNumber"] + 1} | changes))

    def add_file(self, title: str, extension: str, data: bytes) -> str:
        """A new file; returns its ContentDocument Id."""
        document_id = self._new_id("069")
        self._add_version(document_id, title, extension, data, number=1)
        return document_id

    def new_file_version(self, document_id: str, data: bytes) -> str:
        latest = self.latest_version(document_id)
        with self.same_second():
            self.update("ContentVersion", latest["Id"], IsLatest=False)
            number = latest["VersionNumber"] + 1
            return self._add_version(document_id, latest["Title"], latest["FileExtension"], data, number)

    def delete_file(self, document_id: str) -> None:
        with self.same_second():
            for version in self.tables["ContentVersion"]:
                if version["ContentDocumentId"] == document_id:
                    self.delete("ContentVersion", version["Id"])

    def latest_version(self, document_id: str) -> dict:
        return next(
            v for v in self.tables["ContentVersion"] if v["ContentDocumentId"] == document_id and v["IsLatest"]
        )

    def _add_version(self, document_id: str, title: str, extension: str, data: bytes, number: int) -> str:
        version_id = self.insert(
            "ContentVersion",
            ContentDocumentId=document_id,
            Title=title,
            FileExtension=extension,
            PathOnClient=f"{title}.{extension}",
            IsLatest=True,
            VersionNumber=number,
            ContentSize=len(data),
        )
        self.blobs[version_id] = data
        return version_id

    # What the HTTP face asks of the org.

    def authenticate(self, form: dict[str, str]) -> str:
        """The Id of the user a token request logs in, or an OAuthError as Salesforce words it."""
        grant = form.get("grant_type")
        if grant not in ("password", "client_credentials"):
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        if form.get("client_id") != self.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if form.get("client_secret") != self.client_secret:
            raise OAuthError("invalid_client", "invalid client credentials")
        if grant == "client_credentials":
            return self.run_as
        username = form.get("username", "")
        if username not in self.passwords or self.passwords[username] != form.get("password"):
            raise OAuthError("invalid_grant", "authentication failure")
        return next(u["Id"] for u in self.tables["User"] if u["Username"] == username)

    def admit(self, request: Request, version: str) -> None:
        """Count a data API call and refuse it as Salesforce would: session, then limits, then version."""
        self.calls.append(f"{request.method} {request.url.path}")
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if token not in self.sessions:
            raise ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if self._limit_at is not None and len(self.calls) > self._limit_at:
            self._limit_at = None
            raise ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        if version not in API_VERSIONS:
            raise not_found()

    def query(self, text: str, include_deleted: bool, version: str, endpoint: str) -> dict:
        self.queries.append(text)
        query = parse_soql(text)
        self._check_visible(query)
        _check_query(query, query.object_name)
        rows = [r for r in self.tables[query.object_name] if include_deleted or not r["IsDeleted"]]
        found = [self._render(r, query, query.object_name, version) for r in _select(rows, query)]
        return self._page(found, 0, version, endpoint)

    def _check_visible(self, query: Soql) -> None:
        if query.object_name in self.hidden:
            raise ApiError(400, "INVALID_TYPE", f"sObject type '{query.object_name}' is not supported.")
        schema = SCHEMA.get(query.object_name)
        for subquery in (item for item in query.fields if isinstance(item, Soql) and schema):
            if schema.children.get(subquery.object_name, ("",))[0] in self.hidden:
                message = f"Didn't understand relationship '{subquery.object_name}' in FROM part of query call."
                raise ApiError(400, "INVALID_TYPE", message)

    def more(self, locator: str, version: str, endpoint: str) -> dict:
        cursor, _, offset = locator.rpartition("-")
        if cursor not in self._cursors or not offset.isdigit():
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(self._cursors[cursor], int(offset), version, endpoint, cursor)

    def _render(self, record: dict, query: Soql, object_name: str, version: str) -> dict:
        rendered = {"attributes": _attributes(object_name, record["Id"], version)}
        for item in query.fields:
            if isinstance(item, Soql):
                rendered[item.object_name] = self._children(record, object_name, item, version)
            elif "." in item:
                relationship, parent_field = item.split(".", 1)
                parent_object = SCHEMA[object_name].parents[relationship][1]
                parent = self._parent(record, object_name, relationship)
                if parent is None:
                    rendered[relationship] = None
                else:
                    attributes = {"attributes": _attributes(parent_object, parent["Id"], version)}
                    rendered.setdefault(relationship, attributes)[parent_field] = _json(parent[parent_field])
            else:
                rendered[item] = _json(record[item])
        return rendered

    def _parent(self, record: dict, object_name: str, relationship: str) -> dict | None:
        id_field, parent_object = SCHEMA[object_name].parents[relationship]
        return next((p for p in self.tables[parent_object] if p["Id"] == record[id_field] and not p["IsDeleted"]), None)

    def _children(self, record: dict, object_name: str, subquery: Soql, version: str) -> dict | None:
        child_object, parent_field = SCHEMA[object_name].children[subquery.object_name]
        rows = [c for c in self.tables[child_object] if c[parent_field] == record["Id"] and not c["IsDeleted"]]
        found = [self._render(c, subquery, child_object, version) for c in _select(rows, subquery)]
        # No children is null, not an empty result.
        return self._page(found, 0, version, "query") if found else None

    def _page(self, rows: list[dict], start: int, version: str, endpoint: str, cursor: str | None = None) -> dict:
        end = start + BATCH_SIZE
        page = {"totalSize": len(rows), "done": end >= len(rows), "records": rows[start:end]}
        if not page["done"]:
            if cursor is None:
                cursor = self._new_id("01g")
                self._cursors[cursor] = rows
            page["nextRecordsUrl"] = f"/services/data/v{version}/{endpoint}/{cursor}-{end}"
        return page

    def _now(self) -> datetime:
        if self._frozen is not None:
            return self._frozen
        self._clock += timedelta(seconds=1)
        return self._clock

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}5g00000{next(self._serial):05d}AAA"


def _check_values(object_name: str, values: dict) -> None:
    unknown = set(values) - set(SCHEMA[object_name].fields)
    if unknown:
        raise KeyError(f"{object_name} has no field {', '.join(sorted(unknown))}")


def _attributes(object_name: str, record_id: str, version: str) -> dict:
    return {"type": object_name, "url": f"/services/data/v{version}/sobjects/{object_name}/{record_id}"}


# --- The HTTP face ----------------------------------------------------------------------------


class SalesforceEmulator:
    """The REST API in front of ``org``; a test may put a fresh org in place while the server runs."""

    def __init__(self, org: Org | None = None):
        self.org = org or Org()
        self.app = FastAPI()
        self.app.add_exception_handler(ApiError, _api_error)
        self.app.add_exception_handler(OAuthError, _oauth_error)
        self._oauth_routes()
        self._data_routes()

    def _oauth_routes(self) -> None:
        @self.app.post("/services/oauth2/token")
        async def token(request: Request) -> dict:
            form = {key: values[0] for key, values in parse_qs((await request.body()).decode()).items()}
            self.org.token_requests += 1
            user_id = self.org.authenticate(form)
            return self._grant(request, form["grant_type"], user_id)

    def _grant(self, request: Request, grant: str, user_id: str) -> dict:
        access_token = f"{ORG_ID[:15]}!{secrets.token_urlsafe(24)}"
        if not self.org.refuse_sessions:
            self.org.sessions[access_token] = user_id
        instance_url = str(request.base_url).rstrip("/")
        identity = f"{instance_url}/id/{ORG_ID}/{user_id}"
        issued_at = str(int(time.time() * 1000))
        # As documented: HMAC-SHA256 of the identity URL and issued_at, keyed with the client secret.
        digest = hmac.new(self.org.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
        body = {
            "access_token": access_token,
            "instance_url": instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": base64.b64encode(digest).decode(),
        }
        return body | ({"scope": "api"} if grant == "client_credentials" else {})

    def _data_routes(self) -> None:
        app = self.app

        @app.get("/services/data")
        @app.get("/services/data/")
        def versions() -> list[dict]:
            return [{"label": label, "url": f"/services/data/v{v}", "version": v} for v, label in API_VERSIONS.items()]

        @app.get("/services/data/v{version}/query")
        @app.get("/services/data/v{version}/query/")
        def query(version: str, request: Request, q: str = "") -> dict:
            self.org.admit(request, version)
            return self.org.query(q, include_deleted=False, version=version, endpoint="query")

        @app.get("/services/data/v{version}/queryAll")
        @app.get("/services/data/v{version}/queryAll/")
        def query_all(version: str, request: Request, q: str = "") -> dict:
            self.org.admit(request, version)
            return self.org.query(q, include_deleted=True, version=version, endpoint="queryAll")

        @app.get("/services/data/v{version}/query/{locator}")
        def query_more(version: str, locator: str, request: Request) -> dict:
            self.org.admit(request, version)
            return self.org.more(locator, version, "query")

        @app.get("/services/data/v{version}/queryAll/{locator}")
        def query_all_more(version: str, locator: str, request: Request) -> dict:
            self.org.admit(request, version)
            return self.org.more(locator, version, "queryAll")

        @app.get("/services/data/v{version}/sobjects/{object_name}/describe")
        @app.get("/services/data/v{version}/sobjects/{object_name}/describe/")
        def describe(version: str, object_name: str, request: Request) -> dict:
            self.org.admit(request, version)
            if object_name not in SCHEMA or object_name in self.org.hidden:
                raise not_found()
            names = COMMON_FIELDS + SCHEMA[object_name].fields
            return {"name": object_name, "label": object_name, "fields": [_describe_field(n) for n in names]}

        @app.get("/services/data/v{version}/sobjects/ContentVersion/{version_id}/VersionData")
        def version_data(version: str, version_id: str, request: Request) -> Response:
            self.org.admit(request, version)
            live = {v["Id"] for v in self.org.tables["ContentVersion"] if not v["IsDeleted"]}
            if version_id not in live:
                raise not_found()
            return Response(self.org.blobs[version_id], media_type="application/octet-stream")


def _describe_field(name: str) -> dict:
    standard_type = (
        "id" if name == "Id"
        else "reference" if name in ID_FIELDS
        else "datetime" if name in DATETIME_FIELDS
        else "boolean" if name in BOOLEAN_FIELDS
        else "int" if name in INTEGER_FIELDS
        else "string"
    )
    label, field_type, html = CUSTOM_FIELDS.get(name, (name, standard_type, False))
    return {"name": name, "label": label, "type": field_type, "custom": name.endswith("__c"), "htmlFormatted": html}


async def _api_error(request: Request, error: ApiError) -> JSONResponse:
    return JSONResponse([{"message": error.message, "errorCode": error.code}], status_code=error.status)


async def _oauth_error(request: Request, error: OAuthError) -> JSONResponse:
    return JSONResponse({"error": error.error, "error_description": error.description}, status_code=400)

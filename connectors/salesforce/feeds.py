"""Walking an object's changes in SystemModstamp order, a checkpoint after every page.

Everything a page needs (long comment lists, parents to re-render) is fetched
before any of it is yielded, so a run that Salesforce stops (SourceBusy) stops
right after a checkpoint.

The checkpoint keeps one watermark per object: {"objects": {"Case": "2026-01-05T10:00:00Z", ...}}.
A run asks for records stamped after it, through queryAll so that deleted
records come in the same ordered stream, flagged IsDeleted, and a deletion can
never slip behind the watermark.

Given items again (``refetch_events``, to retry earlier failures) are asked for
by key, ``Id IN (...)`` with the same live conditions as a full load, and become
the same events a changes-only run would yield for them; one not found is gone.
"""

from __future__ import annotations

from collections.abc import Iterator

from connectors.interfaces import Checkpoint, Deleted, SyncEvent
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.objects import Children, RecordKind, Site
from connectors.salesforce.soql import quote, select, stamp

# The watermark for a child object that has no records yet: any future one is newer.
EPOCH = "1970-01-01T00:00:00Z"
IDS_PER_QUERY = 200  # keeps "Id IN (...)" well inside the URL length Salesforce accepts


def object_events(client: SalesforceClient, kind: RecordKind, site: Site, state: dict) -> Iterator[SyncEvent]:
    """The records of ``kind`` changed since its watermark in ``state`` (all live ones if none); advances it."""
    since = state.get(kind.object_name)
    where = [*kind.changes, f"SystemModstamp > {since}"] if since else kind.live
    soql = select(kind.select_fields(), kind.object_name, where, order_by="SystemModstamp")
    for page in client.pages(soql, kind.object_name, include_deleted=since is not None):
        yield from [event for record in page["records"] if (event := _event(client, kind, site, record))]
        yield _advance(state, kind.object_name, page)


def child_events(client: SalesforceClient, kind: RecordKind, site: Site, state: dict) -> Iterator[SyncEvent]:
    """The parents of ``kind.children`` changed since their watermark, rendered again.

    The first time, there is nothing to re-render: the parents are about to be
    loaded whole, so only the watermark is set, before that load begins.
    """
    children: Children = kind.children
    since = state.get(children.object_name)
    if since is None:
        state[children.object_name] = _newest_stamp(client, children.object_name)
        return
    fields = ["SystemModstamp", children.parent_field]
    soql = select(fields, children.object_name, [f"SystemModstamp > {since}"], order_by="SystemModstamp")
    for page in client.pages(soql, children.object_name, include_deleted=True):
        parent_ids = list(dict.fromkeys(record[children.parent_field] for record in page["records"]))
        yield from list(_parents(client, kind, site, parent_ids))
        yield _advance(state, children.object_name, page)


def watermark_after(records: list[dict], previous: str | None, done: bool) -> str | None:
    """The newest stamp whose records have all been seen.

    Bulk changes give many records the same second; when a page ends inside
    such a run, its last stamp may go on in the next page, so a run resumed from
    it must ask again for that second.
    """
    stamps = [stamp(record["SystemModstamp"]) for record in records]
    if not stamps:
        return previous
    if done:
        return stamps[-1]
    complete = [s for s in stamps if s < stamps[-1]]
    return complete[-1] if complete else previous


def _event(client: SalesforceClient, kind: RecordKind, site: Site, record: dict) -> SyncEvent | None:
    if kind.is_removed(record):
        return Deleted(kind.external_id(record))
    if kind.wanted(record):
        return kind.document(client.with_all_children(record), site)
    return None


def _advance(state: dict, object_name: str, page: dict) -> Checkpoint:
    watermark = watermark_after(page["records"], state.get(object_name), page["done"])
    if watermark:
        state[object_name] = watermark
    return Checkpoint({"objects": dict(state)})


def _parents(client: SalesforceClient, kind: RecordKind, site: Site, ids: list[str]) -> Iterator[SyncEvent]:
    for _, records in _live_records(client, kind, ids):
        for record in records:
            if kind.wanted(record):
                yield kind.document(client.with_all_children(record), site)


def refetch_events(client: SalesforceClient, kind: RecordKind, site: Site, keys: list[str]) -> Iterator[SyncEvent]:
    """For each key (a value of ``kind.id_field``), in order: the document an incremental run would yield for
    it, or Deleted if it is gone, no longer live (an archived article) or not wanted (a file type not indexed).
    """
    for chunk, records in _live_records(client, kind, keys):
        found: dict[str, dict] = {}
        for record in records:
            found.setdefault(record[kind.id_field], record)
        for key in chunk:
            record = found.get(key)
            event = _event(client, kind, site, record) if record else None
            yield event or Deleted(f"{kind.id_prefix()}:{key}")


def _live_records(client: SalesforceClient, kind: RecordKind, keys: list[str]) -> Iterator[tuple[list[str], list]]:
    """Each chunk of ``keys`` (IDS_PER_QUERY to a query) with the live records of ``kind`` whose key is in it."""
    for start in range(0, len(keys), IDS_PER_QUERY):
        chunk = keys[start : start + IDS_PER_QUERY]
        chosen = ", ".join(quote(key) for key in chunk)
        soql = select(kind.select_fields(), kind.object_name, [*kind.live, f"{kind.id_field} IN ({chosen})"])
        yield chunk, [record for page in client.pages(soql, kind.object_name) for record in page["records"]]


def _newest_stamp(client: SalesforceClient, object_name: str) -> str:
    soql = select(["SystemModstamp"], object_name, order_by="SystemModstamp DESC", limit=1)
    records = next(client.pages(soql, object_name))["records"]
    return stamp(records[0]["SystemModstamp"]) if records else EPOCH

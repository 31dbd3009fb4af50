"""Writing SOQL: the few query shapes the connector sends, with values quoted safely."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime


def select(
    fields: Iterable[str],
    object_name: str,
    where: Iterable[str] = (),
    order_by: str | None = None,
    limit: int | None = None,
) -> str:
    query = f"SELECT {', '.join(fields)} FROM {object_name}"
    conditions = list(where)
    if conditions:
        query += " WHERE " + " AND ".join(conditions)
    if order_by:
        query += f" ORDER BY {order_by}"
    if limit is not None:
        query += f" LIMIT {limit}"
    return query


def quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def stamp(value: str) -> str:
    """A SystemModstamp as a SOQL dateTime literal: '2026-01-05T10:00:00.000+0000' -> '2026-01-05T10:00:00Z'.

    Salesforce keeps whole seconds, so nothing is lost; the fixed format also
    makes stamps compare correctly as strings.
    """
    return parse_stamp(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)

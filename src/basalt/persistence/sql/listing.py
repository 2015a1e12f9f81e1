"""Filtering, sorting and marker (keyset) pagination for list calls, in one place.

A page is "the rows that come after the marker row in the requested order". The
order always ends with ``id``, so it is total and a page boundary falls between
two distinct rows even when many rows share the sort values. "After" is the
standard OR-expansion over the sort keys::

    k1 > m1
    OR (k1 = m1 AND k2 > m2)
    OR (k1 = m1 AND k2 = m2 AND id > m_id)

with ``<`` for descending keys. Every sortable column is NOT NULL, so no NULL
ordering rules are needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from basalt.persistence.base import ListQuery, MarkerNotFoundError, SortDirection

SortSpec = tuple[tuple[str, SortDirection], ...]


def resolve_sort(sort: Sequence[tuple[str, str]], allowed: frozenset[str]) -> SortSpec:
    """Check the requested order and make it total by ending it with ``id``.

    Args:
        sort: (key, direction) pairs, most significant first.
        allowed: the keys the resource can be sorted by.

    Returns:
        The order with repeated keys dropped and ``id`` last, in the direction of
        the last requested key (ascending when none was requested).

    Raises:
        ValueError: a key is not in ``allowed`` or a direction is not asc/desc.
    """
    resolved: list[tuple[str, SortDirection]] = []
    seen: set[str] = set()
    for key, direction in sort:
        if key not in allowed:
            raise ValueError(f"cannot sort by {key!r}; sortable keys: {', '.join(sorted(allowed))}")
        if direction not in ("asc", "desc"):
            raise ValueError(f"sort direction must be 'asc' or 'desc', got {direction!r}")
        if key not in seen:
            seen.add(key)
            resolved.append((key, "asc" if direction == "asc" else "desc"))
    if "id" not in seen:
        resolved.append(("id", resolved[-1][1] if resolved else "asc"))
    return tuple(resolved)


def metadata_matches(
    column: sa.ColumnElement[Any], key: str, value: str, *, dialect: str
) -> ColumnElement[bool]:
    """True where the JSON object in ``column`` has ``key`` set to ``value``.

    SQLite's JSON paths cannot name every key (a ``"`` in a key, or non-ASCII
    keys stored escaped), so SQLite looks the key up through ``json_each``, which
    decodes keys; PostgreSQL's ``->>`` takes the key as a bound value.
    """
    if dialect == "sqlite":
        entries = sa.func.json_each(column).table_valued("key", "value")
        return (
            sa.select(sa.literal(1))
            .select_from(entries)
            .where(entries.c.key == key, entries.c.value == value)
            .exists()
        )
    stored: ColumnElement[str] = column[key].as_string()
    return stored == value


def filters(table: sa.Table, query: ListQuery, *, dialect: str) -> list[ColumnElement[bool]]:
    """The WHERE terms for ``query`` on ``table``.

    Raises:
        ValueError: the query filters on a column ``table`` does not have.
    """
    terms: list[ColumnElement[bool]] = []
    if query.project_id is not None:
        terms.append(table.c.project_id == query.project_id)
    if query.name is not None:
        terms.append(table.c.name == query.name)
    if query.status is not None:
        terms.append(table.c.status == str(query.status))
    for column, value in (
        ("volume_id", query.volume_id),
        ("bootable", query.bootable),
        ("availability_zone", query.availability_zone),
        ("group_id", query.group_id),
    ):
        if value is not None:
            if column not in table.c:
                raise ValueError(f"{table.name} cannot be filtered by {column}")
            terms.append(table.c[column] == value)
    for key, value in query.metadata.items():
        terms.append(metadata_matches(table.c["metadata"], key, value, dialect=dialect))
    for column, text in query.like.items():
        if column not in table.c:
            raise ValueError(f"{table.name} cannot be filtered by {column}")
        # Case-sensitive on both dialects (LIKE is not on SQLite), and no wildcards.
        find = sa.func.instr if dialect == "sqlite" else sa.func.strpos
        terms.append(find(table.c[column], text) > 0)
    return terms


def after(table: sa.Table, sort: SortSpec, marker: Row[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``marker`` in the order ``sort`` (the OR-expansion).

    The expansion is ANDed with the bound it implies on the first key (``k1 >= m1``,
    ``<=`` descending). It selects no other rows, but it is a range an index on the
    first key can seek to: without it SQLite walked the index from the first row to
    the marker on every page, so the last pages of a large listing cost the most.
    """
    branches: list[ColumnElement[bool]] = []
    for depth, (key, direction) in enumerate(sort):
        equal = [table.c[k] == marker._mapping[k] for k, _ in sort[:depth]]
        column = table.c[key]
        beyond = (
            column > marker._mapping[key] if direction == "asc" else column < marker._mapping[key]
        )
        branches.append(sa.and_(*equal, beyond))
    first, direction = sort[0]
    start = marker._mapping[first]
    bound = table.c[first] >= start if direction == "asc" else table.c[first] <= start
    return sa.and_(bound, sa.or_(*branches))


def order_by(table: sa.Table, sort: SortSpec) -> list[sa.UnaryExpression[Any]]:
    """ORDER BY terms for ``sort``."""
    return [table.c[k].asc() if d == "asc" else table.c[k].desc() for k, d in sort]


def find_rows(
    conn: Connection, table: sa.Table, query: ListQuery, *, sort_keys: frozenset[str]
) -> Sequence[Row[Any]]:
    """Run a list query: filters, order, marker and limit.

    The marker is looked up by id (within the query's project, when one is
    given) and need not match the other filters: it may have changed since the
    previous page was read.

    Args:
        conn: the transaction's connection.
        table: the resource's table (it needs ``id``, ``project_id``, ``name``,
            ``status`` and ``metadata`` columns).
        query: filters, order and page.
        sort_keys: the keys this resource may be sorted by.

    Returns:
        The page's rows, in order.

    Raises:
        ValueError: a bad sort key or direction, a negative limit, or an
            unsupported filter.
        MarkerNotFoundError: the marker names no row.
    """
    if query.limit is not None and query.limit < 0:
        raise ValueError(f"limit must not be negative, got {query.limit}")
    sort = resolve_sort(query.sort, sort_keys)
    statement = sa.select(table).where(*filters(table, query, dialect=conn.dialect.name))
    if query.marker is not None:
        statement = statement.where(after(table, sort, _marker_row(conn, table, query, sort)))
    statement = statement.order_by(*order_by(table, sort))
    if query.limit is not None:
        statement = statement.limit(query.limit)
    return conn.execute(statement).all()


def _marker_row(conn: Connection, table: sa.Table, query: ListQuery, sort: SortSpec) -> Row[Any]:
    lookup = sa.select(*(table.c[k] for k, _ in sort)).where(table.c.id == query.marker)
    if query.project_id is not None:
        lookup = lookup.where(table.c.project_id == query.project_id)
    row = conn.execute(lookup).first()
    if row is None:
        raise MarkerNotFoundError(f"marker {query.marker} not found")
    return row

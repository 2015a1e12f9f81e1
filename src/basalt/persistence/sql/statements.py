"""The hot statements: SQL text generated once per table and dialect, run on the DBAPI cursor.

Why: through SQLAlchemy Core even a prebuilt by-id select costs ~100 us on
SQLite (execution context, parameter and result processing), while the same
SQL on the sqlite3 cursor costs ~13 us, and the REST control plane runs ~28
such statements per volume create/delete cycle. So the statements the
repositories run on every request are plain SQL here:

- generated from the ``Table`` in tables.py (column names, order and types), so
  they cannot drift from the schema, and quoted by the dialect's own rules;
- with positional parameters in the DBAPI's style (sqlite3 ``?``, psycopg ``%s``);
- with every value converted by :mod:`basalt.persistence.sql.codec`, the one
  place that knows how a column is stored.

They run through :class:`basalt.persistence.sql.connection.UnitConnection`.
Listing, migrations and the rarely used methods stay on SQLAlchemy Core.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from basalt.persistence.sql.codec import Convert, codec

if TYPE_CHECKING:
    from basalt.persistence.sql.connection import UnitConnection

T = TypeVar("T")
RowValues = Mapping[Any, Any]
"""A row's values by column name: a fast-path dict, or a Core ``row._mapping``."""
_MARKS = {"sqlite": "?", "postgresql": "%s"}  # sqlite3 "qmark", psycopg "format"


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL text, with the converters of its parameters and result columns by position."""

    sql: str
    encoders: tuple[tuple[int, Convert], ...] = ()
    names: tuple[str, ...] = ()  # result columns
    decoders: tuple[tuple[int, Convert], ...] = ()

    def parameters(self, values: Sequence[Any]) -> Sequence[Any]:
        """``values`` (in parameter order) as the DBAPI takes them.

        Raises:
            ValueError, TypeError: a value its column cannot store (a naive datetime).
        """
        if not self.encoders:
            return values
        converted = list(values)
        for index, encode in self.encoders:
            converted[index] = encode(converted[index])
        return converted

    def mapping(self, row: Sequence[Any]) -> dict[str, Any]:
        """A result row as Python values by column name (what ``row._mapping`` gives on Core)."""
        values = list(row)
        for index, decode in self.decoders:
            values[index] = decode(values[index])
        return dict(zip(self.names, values, strict=True))


class SqlText:
    """Writes statements for one table in one dialect: quoted names, marks and converters."""

    def __init__(self, table: sa.Table, dialect: Dialect) -> None:
        self.table = table
        self.dialect = dialect.name
        self.mark = _MARKS[dialect.name]
        self._quote = dialect.identifier_preparer.quote
        self.name = self._quote(table.name)

    def column(self, name: str) -> str:
        """The quoted column name (KeyError for a column the table does not have)."""
        return self._quote(self.table.c[name].name)

    def equals(self, name: str) -> str:
        return f"{self.column(name)} = {self.mark}"

    def marks(self, count: int) -> str:
        return ", ".join([self.mark] * count)

    def statement(
        self, sql: str, *, params: Iterable[str] = (), result: Iterable[str] = ()
    ) -> Statement:
        """``sql`` with converters for ``params`` and ``result`` (column names, in order)."""
        params, result = tuple(params), tuple(result)
        codecs = [codec(self.table.c[name], self.dialect) for name in params]
        encoders = tuple((i, c.encode) for i, c in enumerate(codecs) if c.encode is not None)
        codecs = [codec(self.table.c[name], self.dialect) for name in result]
        decoders = tuple((i, c.decode) for i, c in enumerate(codecs) if c.decode is not None)
        return Statement(sql, encoders, result, decoders)

    def insert(self, columns: Sequence[str]) -> Statement:
        names = ", ".join(self.column(c) for c in columns)
        sql = f"INSERT INTO {self.name} ({names}) VALUES ({self.marks(len(columns))})"
        return self.statement(sql, params=columns)

    def select(
        self, where: str, params: Iterable[str], *, order_by: Sequence[str] = ()
    ) -> Statement:
        """Every column of the rows matching ``where``, in ``order_by`` (ascending) order."""
        names = [c.name for c in self.table.c]
        sql = f"SELECT {', '.join(map(self.column, names))} FROM {self.name} WHERE {where}"
        if order_by:
            sql += " ORDER BY " + ", ".join(f"{self.column(c)} ASC" for c in order_by)
        return self.statement(sql, params=params, result=names)

    def count(self, where: str, params: Iterable[str]) -> Statement:
        return self.statement(f"SELECT count(*) FROM {self.name} WHERE {where}", params=params)


class PerDialect(Generic[T]):
    """Something built from one table for each dialect on first use, then reused.

    The dialect is known only once a database is opened; building (text,
    quoting, converters) costs far more than a dict lookup, so it happens once
    per process and dialect, not per call.
    """

    def __init__(self, table: sa.Table, build: Callable[[SqlText], T]) -> None:
        self._table = table
        self._build = build
        self._built: dict[str, T] = {}

    def on(self, dialect: Dialect) -> T:
        built = self._built.get(dialect.name)
        if built is None:  # two threads may both build; either result is the same
            built = self._built[dialect.name] = self._build(SqlText(self._table, dialect))
        return built


def _picker(names: Sequence[str]) -> Callable[[Mapping[str, Any]], list[Any]]:
    """Values of ``names`` from a mapping, in that order (KeyError when one is missing)."""
    return lambda values: [values[name] for name in names]


@dataclass(frozen=True)
class RowStatements:
    """The by-id statements of one table whose primary key is ``id``, in one dialect.

    ``run_*`` take the repositories' column-name dicts and put the values in
    each statement's parameter order, so no caller depends on column order.
    """

    text: SqlText
    insert: Statement
    get: Statement
    save: Statement
    delete: Statement
    _pick_insert: Callable[[Mapping[str, Any]], list[Any]]
    _pick_saved: Callable[[Mapping[str, Any]], list[Any]]
    _set_status: dict[int, Statement] = field(default_factory=dict)

    @classmethod
    def build(cls, text: SqlText, saved: Sequence[str]) -> RowStatements:
        columns = [c.name for c in text.table.c]
        assignments = ", ".join(text.equals(name) for name in saved)
        return cls(
            text=text,
            insert=text.insert(columns),
            get=text.select(text.equals("id"), ["id"]),
            save=text.statement(
                f"UPDATE {text.name} SET {assignments} WHERE {text.equals('id')}",
                params=[*saved, "id"],
            ),
            delete=text.statement(
                f"DELETE FROM {text.name} WHERE {text.equals('id')}", params=["id"]
            ),
            _pick_insert=_picker(columns),
            _pick_saved=_picker(saved),
        )

    def set_status(self, expected: int) -> Statement:
        """The compare-and-set for ``expected`` allowed statuses (one text per count)."""
        statement = self._set_status.get(expected)
        if statement is None:
            text = self.text
            sql = (
                f"UPDATE {text.name} SET {text.equals('status')}, {text.equals('updated_at')}"
                f" WHERE {text.equals('id')} AND {text.column('status')}"
                f" IN ({text.marks(expected)})"
            )
            params = ["status", "updated_at", "id", *["status"] * expected]
            statement = self._set_status[expected] = text.statement(sql, params=params)
        return statement

    def run_insert(self, unit: UnitConnection, values: Mapping[str, Any]) -> None:
        unit.execute(self.insert, self._pick_insert(values))

    def run_get(self, unit: UnitConnection, row_id: str) -> dict[str, Any] | None:
        rows = unit.fetch(self.get, (row_id,))
        return self.get.mapping(rows[0]) if rows else None

    def run_save(self, unit: UnitConnection, row_id: str, values: Mapping[str, Any]) -> None:
        unit.execute(self.save, [*self._pick_saved(values), row_id])

    def run_delete(self, unit: UnitConnection, row_id: str) -> None:
        unit.execute(self.delete, (row_id,))

    def run_set_status(
        self,
        unit: UnitConnection,
        row_id: str,
        *,
        expected: Collection[str],
        new: str,
        updated_at: datetime,
    ) -> bool:
        """True when the row was in one of ``expected`` and now is in ``new``."""
        statement = self.set_status(len(expected))
        params = [new, updated_at, row_id, *expected]
        if not expected:  # nothing can match; still refuse a bad timestamp, as Core did
            unit.convert(statement, params)
            return False
        return unit.execute(statement, params) == 1


def row_statements(table: sa.Table, *, saved_columns: Collection[str]) -> PerDialect[RowStatements]:
    """The by-id statements of ``table``; ``save`` writes ``saved_columns``."""
    saved = [c.name for c in table.c if c.name in saved_columns]
    return PerDialect(table, lambda text: RowStatements.build(text, saved))

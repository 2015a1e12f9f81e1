"""How column values go to the DBAPI and come back, per dialect: the one place that knows.

The fast path (``statements.py`` and ``connection.py``) hands parameters straight
to the DBAPI cursor and reads raw rows back, skipping SQLAlchemy's type
processing, because that processing and the statement machinery around it cost
several times the SQL itself. This module does the conversions instead, and
they must store exactly what SQLAlchemy's types store for the same column,
because the Core path (listing, migrations, the rarely used methods) still goes
through those types: a row written by either path has to read back identically
through the other. The contract suite checks both directions on both databases,
and checks these converters against SQLAlchemy's own bind/result processors.

=============  ======================================  ==================================
column type    SQLite (sqlite3)                        PostgreSQL (psycopg 3)
=============  ======================================  ==================================
UTCDateTime    naive UTC text "YYYY-MM-DD HH:MM:SS.ff  aware UTC datetime (timestamptz);
               ffff" (SQLAlchemy's DATETIME format);   read back converted to UTC
               read back with tzinfo=UTC
JSON           ``json.dumps`` text; ``json.loads``     psycopg's ``Json`` adapter; psycopg
                                                       decodes on read
Boolean        1 / 0; ``bool`` on read                 native boolean
String, Text,  as is                                   as is
Integer, Float
=============  ======================================  ==================================

Enum members are stored as their value strings; the repositories pass ``str(status)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from psycopg.types.json import Json

from basalt.persistence.sql.tables import UTCDateTime, to_utc, utc_from_db

Convert = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Codec:
    """Both directions for one column type in one dialect; None means "passed as is"."""

    encode: Convert | None = None
    decode: Convert | None = None


_BOOLS = frozenset([None, True, False])  # 0 and 1 are in it too, as in SQLAlchemy


def _strict_bool(value: Any) -> bool | None:
    """Refuse what SQLAlchemy's Boolean refuses, with the same errors."""
    if value not in _BOOLS:
        if not isinstance(value, int):
            raise TypeError(f"Not a boolean value: {value!r}")
        raise ValueError(f"Value {value!r} is not None, True, or False")
    return None if value is None else bool(value)


def _sqlite_write_bool(value: Any) -> int | None:
    checked = _strict_bool(value)
    return None if checked is None else int(checked)


def _sqlite_read_bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _sqlite_write_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    # isoformat with timespec="microseconds" is SQLAlchemy's "%04d-%02d-%02d %02d:%02d:%02d.%06d".
    return to_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_read_datetime(value: str | None) -> datetime | None:
    return None if value is None else utc_from_db(datetime.fromisoformat(value))


def _sqlite_read_json(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def _pg_write_datetime(value: datetime | None) -> datetime | None:
    return None if value is None else to_utc(value)


def _pg_read_datetime(value: datetime | None) -> datetime | None:
    return None if value is None else utc_from_db(value)


# Checked in order: the first type the column's type is an instance of wins.
_CODECS: dict[str, tuple[tuple[type[sa.types.TypeEngine[Any]], Codec], ...]] = {
    "sqlite": (
        (UTCDateTime, Codec(_sqlite_write_datetime, _sqlite_read_datetime)),
        (sa.JSON, Codec(json.dumps, _sqlite_read_json)),
        (sa.Boolean, Codec(_sqlite_write_bool, _sqlite_read_bool)),
    ),
    "postgresql": (
        (UTCDateTime, Codec(_pg_write_datetime, _pg_read_datetime)),
        (sa.JSON, Codec(Json, None)),  # psycopg parses json itself, as under SQLAlchemy
        (sa.Boolean, Codec(_strict_bool, None)),
    ),
}
_AS_IS = Codec()
# Both DBAPIs take and return these as the Python value SQLAlchemy would (no processors).
_PLAIN = (sa.String, sa.Integer, sa.Float)


def codec(column: sa.Column[Any], dialect: str) -> Codec:
    """The converters for ``column`` in ``dialect`` ("sqlite" or "postgresql").

    Raises:
        TypeError: the column's type has no known conversion (add one here, and a
            case to the contract suite, before using the column on the fast path).
    """
    for kind, found in _CODECS[dialect]:
        if isinstance(column.type, kind):
            return found
    decimal = isinstance(column.type, sa.Numeric) and column.type.asdecimal
    if isinstance(column.type, _PLAIN) and not decimal:
        return _AS_IS
    raise TypeError(f"no {dialect} codec for {column.table}.{column.name} ({column.type!r})")

"""Statements built once per table and executed with parameters.

Building a Core statement (``insert(t).values(...)``) costs more Python than
running it on SQLite; the hot paths (add, get, save, set_status, delete) reuse
these prebuilt ones, which SQLAlchemy also compiles only once.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class RowStatements:
    """The by-id statements of one table whose primary key is ``id``."""

    table: sa.Table
    insert: sa.Insert
    get: sa.Select[Any]
    save: sa.Update
    delete: sa.Delete
    set_status: sa.Update | None

    def run_insert(self, conn: Connection, values: dict[str, Any]) -> None:
        conn.execute(self.insert, values)

    def run_get(self, conn: Connection, row_id: str) -> sa.Row[Any] | None:
        return conn.execute(self.get, {"_id": row_id}).first()

    def run_save(self, conn: Connection, row_id: str, values: dict[str, Any]) -> None:
        conn.execute(self.save, {**values, "_id": row_id})

    def run_delete(self, conn: Connection, row_id: str) -> None:
        conn.execute(self.delete, {"_id": row_id})

    def run_set_status(
        self,
        conn: Connection,
        row_id: str,
        *,
        expected: Collection[str],
        new: str,
        updated_at: datetime,
    ) -> bool:
        assert self.set_status is not None, f"{self.table.name} has no status column"
        result = conn.execute(
            self.set_status,
            {"_id": row_id, "_expected": list(expected), "_status": new, "_updated_at": updated_at},
        )
        return result.rowcount == 1


def row_statements(table: sa.Table, *, saved_columns: Collection[str]) -> RowStatements:
    """Prebuilt statements for ``table``; ``save`` writes ``saved_columns``."""
    by_id = table.c.id == sa.bindparam("_id")
    set_status = None
    if "status" in table.c:
        set_status = (
            sa.update(table)
            .where(by_id, table.c.status.in_(sa.bindparam("_expected", expanding=True)))
            .values(status=sa.bindparam("_status"), updated_at=sa.bindparam("_updated_at"))
        )
    return RowStatements(
        table=table,
        insert=sa.insert(table),
        get=sa.select(table).where(by_id),
        save=sa.update(table).where(by_id).values({c: sa.bindparam(c) for c in saved_columns}),
        delete=sa.delete(table).where(by_id),
        set_status=set_status,
    )

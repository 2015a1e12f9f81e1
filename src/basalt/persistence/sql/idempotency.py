"""Idempotency keys: the SQL implementation of IdempotencyRepository."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from basalt.errors import PersistenceError
from basalt.persistence.base import IdempotencyRecord
from basalt.persistence.sql.connection import UnitConnection
from basalt.persistence.sql.tables import idempotency_keys, insert_ignoring_conflict


def _record(row: Row[Any]) -> IdempotencyRecord:
    m = row._mapping
    return IdempotencyRecord(
        project_id=m["project_id"],
        key=m["key"],
        fingerprint=m["fingerprint"],
        operation_id=m["operation_id"],
        resource_id=m["resource_id"],
        created_at=m["created_at"],
    )


class SqlIdempotencyRepository:
    """Idempotency keys in one transaction's connection."""

    def __init__(self, unit: UnitConnection) -> None:
        self._unit = unit

    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord:
        """Store ``record`` unless its (project_id, key) is taken; return what is stored.

        The insert never fails on a taken key: a concurrent claim waits for the
        first one's transaction and then finds its row. The caller compares the
        result with ``record`` to tell a replay (same fingerprint) from a conflict.

        Returns:
            ``record`` when it was stored, else the record that holds the key.

        Raises:
            PersistenceError: the key is taken by a row this transaction cannot see.
        """
        values = {
            "project_id": record.project_id,
            "key": record.key,
            "fingerprint": record.fingerprint,
            "operation_id": record.operation_id,
            "resource_id": record.resource_id,
            "created_at": record.created_at,
        }
        conn = self._unit.core
        conn.execute(
            insert_ignoring_conflict(
                conn, idempotency_keys, values=values, conflict_on=("project_id", "key")
            )
        )
        stored = self.get(record.project_id, record.key)
        if stored is None:  # only a non-READ COMMITTED isolation level could hide the row
            raise PersistenceError(f"idempotency key {record.key!r} is taken but not visible")
        return stored

    def get(self, project_id: str, key: str) -> IdempotencyRecord | None:
        """The record holding (project_id, key), or None."""
        statement = sa.select(idempotency_keys).where(
            idempotency_keys.c.project_id == project_id, idempotency_keys.c.key == key
        )
        row = self._unit.core.execute(statement).first()
        return None if row is None else _record(row)

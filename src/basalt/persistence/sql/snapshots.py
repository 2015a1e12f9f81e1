"""Snapshot rows: the SQL implementation of SnapshotRepository."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from basalt.model import Snapshot, SnapshotStatus
from basalt.persistence.base import SNAPSHOT_SORT_KEYS, ListQuery
from basalt.persistence.sql.listing import find_rows
from basalt.persistence.sql.statements import row_statements
from basalt.persistence.sql.tables import snapshots

_ORDER = (snapshots.c.created_at.asc(), snapshots.c.id.asc())


def _values(snapshot: Snapshot) -> dict[str, Any]:
    """Every column but ``status`` (which only set_status changes after the insert)."""
    return {
        "id": snapshot.id,
        "volume_id": snapshot.volume_id,
        "project_id": snapshot.project_id,
        "user_id": snapshot.user_id,
        "name": snapshot.name,
        "description": snapshot.description,
        "size_gib": snapshot.size_gib,
        "created_at": snapshot.created_at,
        "updated_at": snapshot.updated_at,
        "metadata": dict(snapshot.metadata),
        "provider_location": snapshot.provider_location,
    }


_SAVED = [c.name for c in snapshots.c if c.name not in ("id", "status")]
_STATEMENTS = row_statements(snapshots, saved_columns=_SAVED)
_FOR_VOLUME = sa.select(snapshots).where(snapshots.c.volume_id == sa.bindparam("_volume_id"))


def _snapshot(row: Row[Any]) -> Snapshot:
    m = row._mapping
    return Snapshot(
        id=m["id"],
        volume_id=m["volume_id"],
        project_id=m["project_id"],
        user_id=m["user_id"],
        name=m["name"],
        description=m["description"],
        size_gib=m["size_gib"],
        status=SnapshotStatus(m["status"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        metadata=dict(m["metadata"]),
        provider_location=m["provider_location"],
    )


class SqlSnapshotRepository:
    """Snapshots in one transaction's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, snapshot: Snapshot) -> None:
        """Insert a new snapshot, status included; its volume's row must exist."""
        _STATEMENTS.run_insert(self._conn, {**_values(snapshot), "status": str(snapshot.status)})

    def get(self, snapshot_id: str) -> Snapshot | None:
        """The snapshot with that id, or None."""
        row = _STATEMENTS.run_get(self._conn, snapshot_id)
        return None if row is None else _snapshot(row)

    def find(self, query: ListQuery) -> list[Snapshot]:
        """One page of snapshots (see basalt.persistence.sql.listing).

        Raises:
            ValueError: a bad sort key or direction.
            MarkerNotFoundError: the marker names no snapshot.
        """
        rows = find_rows(self._conn, snapshots, query, sort_keys=SNAPSHOT_SORT_KEYS)
        return [_snapshot(r) for r in rows]

    def save(self, snapshot: Snapshot) -> None:
        """Write every field but ``status``."""
        values = _values(snapshot)
        del values["id"]
        _STATEMENTS.run_save(self._conn, snapshot.id, values)

    def set_status(
        self,
        snapshot_id: str,
        *,
        expected: Collection[SnapshotStatus],
        new: SnapshotStatus,
        updated_at: datetime,
    ) -> bool:
        """Compare-and-set the status; True when the row was in one of ``expected``."""
        return _STATEMENTS.run_set_status(
            self._conn,
            snapshot_id,
            expected=[str(s) for s in expected],
            new=str(new),
            updated_at=updated_at,
        )

    def delete(self, snapshot_id: str) -> None:
        """Remove the row (nothing happens when it is already gone)."""
        _STATEMENTS.run_delete(self._conn, snapshot_id)

    def ids(self) -> set[str]:
        """Every snapshot id."""
        return set(self._conn.execute(sa.select(snapshots.c.id)).scalars())

    def in_statuses(self, statuses: Collection[SnapshotStatus]) -> list[Snapshot]:
        """Snapshots in any of ``statuses``, oldest first."""
        statement = (
            sa.select(snapshots)
            .where(snapshots.c.status.in_([str(s) for s in statuses]))
            .order_by(*_ORDER)
        )
        return [_snapshot(r) for r in self._conn.execute(statement)]

    def for_volume(self, volume_id: str) -> list[Snapshot]:
        """The volume's snapshots, oldest first."""
        rows = self._conn.execute(_FOR_VOLUME.order_by(*_ORDER), {"_volume_id": volume_id})
        return [_snapshot(r) for r in rows]

    def count_for_volume(self, volume_id: str) -> int:
        """How many snapshots the volume has."""
        statement = (
            sa.select(sa.func.count())
            .select_from(snapshots)
            .where(snapshots.c.volume_id == volume_id)
        )
        return int(self._conn.execute(statement).scalar_one())

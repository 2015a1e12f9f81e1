"""Snapshot rows: the SQL implementation of SnapshotRepository.

The per-request methods (add, get, save, set_status, delete, for_volume,
count_for_volume) run on the fast path (statements.py); listing and the rest on
SQLAlchemy Core.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from basalt.model import Snapshot, SnapshotStatus
from basalt.persistence.base import SNAPSHOT_SORT_KEYS, ListQuery
from basalt.persistence.sql.connection import UnitConnection
from basalt.persistence.sql.listing import find_rows
from basalt.persistence.sql.statements import PerDialect, RowValues, row_statements
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
        "group_snapshot_id": snapshot.group_snapshot_id,
    }


_SAVED = [c.name for c in snapshots.c if c.name not in ("id", "status")]
_STATEMENTS = row_statements(snapshots, saved_columns=_SAVED)
_FOR_VOLUME = PerDialect(
    snapshots,
    lambda text: text.select(
        text.equals("volume_id"), ["volume_id"], order_by=["created_at", "id"]
    ),
)
_COUNT_FOR_VOLUME = PerDialect(
    snapshots, lambda text: text.count(text.equals("volume_id"), ["volume_id"])
)


def _snapshot(m: RowValues) -> Snapshot:
    """A snapshot from a row's values by column name (fast-path dict or Core RowMapping)."""
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
        group_snapshot_id=m["group_snapshot_id"],
    )


class SqlSnapshotRepository:
    """Snapshots in one transaction's connection."""

    def __init__(self, unit: UnitConnection) -> None:
        self._unit = unit
        self._rows = _STATEMENTS.on(unit.dialect)

    def add(self, snapshot: Snapshot) -> None:
        """Insert a new snapshot, status included; its volume's row must exist."""
        self._rows.run_insert(self._unit, {**_values(snapshot), "status": str(snapshot.status)})

    def get(self, snapshot_id: str) -> Snapshot | None:
        """The snapshot with that id, or None."""
        row = self._rows.run_get(self._unit, snapshot_id)
        return None if row is None else _snapshot(row)

    def find(self, query: ListQuery) -> list[Snapshot]:
        """One page of snapshots (see basalt.persistence.sql.listing).

        Raises:
            ValueError: a bad sort key or direction.
            MarkerNotFoundError: the marker names no snapshot.
        """
        rows = find_rows(self._unit.core, snapshots, query, sort_keys=SNAPSHOT_SORT_KEYS)
        return [_snapshot(r._mapping) for r in rows]

    def save(self, snapshot: Snapshot) -> None:
        """Write every field but ``status``."""
        values = _values(snapshot)
        del values["id"]
        self._rows.run_save(self._unit, snapshot.id, values)

    def set_status(
        self,
        snapshot_id: str,
        *,
        expected: Collection[SnapshotStatus],
        new: SnapshotStatus,
        updated_at: datetime,
    ) -> bool:
        """Compare-and-set the status; True when the row was in one of ``expected``."""
        return self._rows.run_set_status(
            self._unit,
            snapshot_id,
            expected=[str(s) for s in expected],
            new=str(new),
            updated_at=updated_at,
        )

    def delete(self, snapshot_id: str) -> None:
        """Remove the row (nothing happens when it is already gone)."""
        self._rows.run_delete(self._unit, snapshot_id)

    def ids(self) -> set[str]:
        """Every snapshot id."""
        return set(self._unit.core.execute(sa.select(snapshots.c.id)).scalars())

    def in_statuses(self, statuses: Collection[SnapshotStatus]) -> list[Snapshot]:
        """Snapshots in any of ``statuses``, oldest first."""
        statement = (
            sa.select(snapshots)
            .where(snapshots.c.status.in_([str(s) for s in statuses]))
            .order_by(*_ORDER)
        )
        return [_snapshot(r._mapping) for r in self._unit.core.execute(statement)]

    def for_volume(self, volume_id: str) -> list[Snapshot]:
        """The volume's snapshots, oldest first."""
        statement = _FOR_VOLUME.on(self._unit.dialect)
        return [_snapshot(statement.mapping(r)) for r in self._unit.fetch(statement, (volume_id,))]

    def count_for_volume(self, volume_id: str) -> int:
        """How many snapshots the volume has."""
        rows = self._unit.fetch(_COUNT_FOR_VOLUME.on(self._unit.dialect), (volume_id,))
        return int(rows[0][0])

    def in_group_snapshot(self, group_snapshot_id: str) -> list[Snapshot]:
        """The member snapshots of a group snapshot, oldest first."""
        statement = (
            sa.select(snapshots)
            .where(snapshots.c.group_snapshot_id == group_snapshot_id)
            .order_by(*_ORDER)
        )
        return [_snapshot(r._mapping) for r in self._unit.core.execute(statement)]

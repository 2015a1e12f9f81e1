"""Volume rows: the SQL implementation of VolumeRepository.

The per-request methods (add, get, save, set_status, delete, copies_in_progress)
run on the fast path (statements.py); listing and the rest on SQLAlchemy Core.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from basalt.model import Volume, VolumeStatus
from basalt.persistence.base import VOLUME_SORT_KEYS, ListQuery
from basalt.persistence.sql.connection import UnitConnection
from basalt.persistence.sql.listing import find_rows
from basalt.persistence.sql.statements import (
    PerDialect,
    RowValues,
    SqlText,
    Statement,
    row_statements,
)
from basalt.persistence.sql.tables import volumes

_ORDER = (volumes.c.created_at.asc(), volumes.c.id.asc())


def _values(volume: Volume) -> dict[str, Any]:
    """Every column but ``status`` (which only set_status changes after the insert)."""
    return {
        "id": volume.id,
        "project_id": volume.project_id,
        "user_id": volume.user_id,
        "name": volume.name,
        "description": volume.description,
        "size_gib": volume.size_gib,
        "backend": volume.backend,
        "pool": volume.pool,
        "created_at": volume.created_at,
        "updated_at": volume.updated_at,
        "metadata": dict(volume.metadata),
        "provider_location": volume.provider_location,
        "source_volume_id": volume.source_volume_id,
        "snapshot_id": volume.snapshot_id,
        "bootable": volume.bootable,
        "availability_zone": volume.availability_zone,
        "migration_status": volume.migration_status,
        "replication_status": volume.replication_status,
        "multiattach": volume.multiattach,
        "readonly": volume.readonly,
        "volume_type_id": volume.volume_type_id,
        "group_id": volume.group_id,
    }


_SAVED = [c.name for c in volumes.c if c.name not in ("id", "status")]
_STATEMENTS = row_statements(volumes, saved_columns=_SAVED)


def _copies_sql(text: SqlText) -> Statement:
    either = f"({text.equals('source_volume_id')} OR {text.equals('snapshot_id')})"
    return text.count(
        f"{text.equals('status')} AND {either}", ["status", "source_volume_id", "snapshot_id"]
    )


_COPIES = PerDialect(volumes, _copies_sql)


def _volume(m: RowValues) -> Volume:
    """A volume from a row's values by column name (fast-path dict or Core RowMapping)."""
    return Volume(
        id=m["id"],
        project_id=m["project_id"],
        user_id=m["user_id"],
        name=m["name"],
        description=m["description"],
        size_gib=m["size_gib"],
        status=VolumeStatus(m["status"]),
        backend=m["backend"],
        pool=m["pool"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        metadata=dict(m["metadata"]),
        provider_location=m["provider_location"],
        source_volume_id=m["source_volume_id"],
        snapshot_id=m["snapshot_id"],
        bootable=bool(m["bootable"]),
        availability_zone=m["availability_zone"],
        migration_status=m["migration_status"],
        replication_status=m["replication_status"],
        multiattach=bool(m["multiattach"]),
        readonly=bool(m["readonly"]),
        volume_type_id=m["volume_type_id"],
        group_id=m["group_id"],
    )


class SqlVolumeRepository:
    """Volumes in one transaction's connection."""

    def __init__(self, unit: UnitConnection) -> None:
        self._unit = unit
        self._rows = _STATEMENTS.on(unit.dialect)

    def add(self, volume: Volume) -> None:
        """Insert a new volume, status included."""
        self._rows.run_insert(self._unit, {**_values(volume), "status": str(volume.status)})

    def get(self, volume_id: str) -> Volume | None:
        """The volume with that id, or None."""
        row = self._rows.run_get(self._unit, volume_id)
        return None if row is None else _volume(row)

    def find(self, query: ListQuery) -> list[Volume]:
        """One page of volumes (see basalt.persistence.sql.listing).

        Raises:
            ValueError: a bad sort key or direction.
            MarkerNotFoundError: the marker names no volume.
        """
        rows = find_rows(self._unit.core, volumes, query, sort_keys=VOLUME_SORT_KEYS)
        return [_volume(r._mapping) for r in rows]

    def save(self, volume: Volume) -> None:
        """Write every field but ``status``."""
        values = _values(volume)
        del values["id"]
        self._rows.run_save(self._unit, volume.id, values)

    def set_status(
        self,
        volume_id: str,
        *,
        expected: Collection[VolumeStatus],
        new: VolumeStatus,
        updated_at: datetime,
    ) -> bool:
        """Compare-and-set the status; True when the row was in one of ``expected``."""
        return self._rows.run_set_status(
            self._unit,
            volume_id,
            expected=[str(s) for s in expected],
            new=str(new),
            updated_at=updated_at,
        )

    def delete(self, volume_id: str) -> None:
        """Remove the row (nothing happens when it is already gone)."""
        self._rows.run_delete(self._unit, volume_id)

    def ids(self) -> set[str]:
        """Every volume id."""
        return set(self._unit.core.execute(sa.select(volumes.c.id)).scalars())

    def in_statuses(self, statuses: Collection[VolumeStatus]) -> list[Volume]:
        """Volumes in any of ``statuses``, oldest first."""
        statement = (
            sa.select(volumes)
            .where(volumes.c.status.in_([str(s) for s in statuses]))
            .order_by(*_ORDER)
        )
        return [_volume(r._mapping) for r in self._unit.core.execute(statement)]

    def on_backend(self, backend: str) -> list[Volume]:
        """Every volume of one backend, oldest first."""
        statement = sa.select(volumes).where(volumes.c.backend == backend).order_by(*_ORDER)
        return [_volume(r._mapping) for r in self._unit.core.execute(statement)]

    def usage(self, project_id: str | None) -> tuple[int, int]:
        """(volume count, GiB) for the project (None: every project)."""
        statement = sa.select(
            sa.func.count(), sa.func.coalesce(sa.func.sum(volumes.c.size_gib), 0)
        ).select_from(volumes)
        if project_id is not None:
            statement = statement.where(volumes.c.project_id == project_id)
        row = self._unit.core.execute(statement).one()
        return int(row[0]), int(row[1])

    def metadata_of(self, project_id: str | None) -> list[dict[str, str]]:
        """The metadata of every volume of the project (None: every project) that has any."""
        statement = sa.select(volumes.c.metadata)
        if project_id is not None:
            statement = statement.where(volumes.c.project_id == project_id)
        return [dict(m) for m in self._unit.core.execute(statement).scalars() if m]

    def provisioned_gib(self, backend: str, pool: str) -> int:
        """GiB promised to the volumes in one pool."""
        total = self._unit.core.execute(
            sa.select(sa.func.coalesce(sa.func.sum(volumes.c.size_gib), 0)).where(
                volumes.c.backend == backend, volumes.c.pool == pool
            )
        ).scalar_one()
        return int(total)

    def count_by_pool(self) -> dict[tuple[str, str], int]:
        """How many volumes each (backend, pool) holds (pools with none are absent)."""
        rows = self._unit.core.execute(
            sa.select(volumes.c.backend, volumes.c.pool, sa.func.count()).group_by(
                volumes.c.backend, volumes.c.pool
            )
        ).all()
        return {(str(backend), str(pool)): int(count) for backend, pool, count in rows}

    def in_group(self, group_id: str) -> list[Volume]:
        """The group's volumes, oldest first."""
        statement = sa.select(volumes).where(volumes.c.group_id == group_id).order_by(*_ORDER)
        return [_volume(r._mapping) for r in self._unit.core.execute(statement)]

    def copies_in_progress(self, source_id: str) -> int:
        """Volumes in status creating whose source is this volume or snapshot."""
        params = (str(VolumeStatus.CREATING), source_id, source_id)
        return int(self._unit.fetch(_COPIES.on(self._unit.dialect), params)[0][0])

"""Replicated volumes' records (basalt.model.replication.VolumeReplica): the SQL repository."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa

from basalt.model.replication import VolumeReplica
from basalt.persistence.sql.connection import UnitConnection
from basalt.persistence.sql.tables import insert_ignoring_conflict, volume_replicas

_FIELDS = tuple(f.name for f in dataclasses.fields(VolumeReplica))


def _replica(m: Any) -> VolumeReplica:
    return VolumeReplica(**{name: m[name] for name in _FIELDS})


class SqlReplicaRepository:
    """Replica records in one transaction's connection (SQLAlchemy Core: one write per
    shipment, far from the hot path)."""

    def __init__(self, unit: UnitConnection) -> None:
        self._unit = unit

    def get(self, volume_id: str) -> VolumeReplica | None:
        """The volume's record, or None (not replicated)."""
        row = self._unit.core.execute(
            sa.select(volume_replicas).where(volume_replicas.c.volume_id == volume_id)
        ).first()
        return None if row is None else _replica(row._mapping)

    def for_backend(self, backend: str) -> list[VolumeReplica]:
        """Every record of a backend's volumes, by volume id."""
        rows = self._unit.core.execute(
            sa.select(volume_replicas)
            .where(volume_replicas.c.backend == backend)
            .order_by(volume_replicas.c.volume_id)
        )
        return [_replica(r._mapping) for r in rows]

    def put(self, replica: VolumeReplica) -> None:
        """Insert or replace the volume's record."""
        values = {name: getattr(replica, name) for name in _FIELDS}
        conn = self._unit.core
        conn.execute(
            insert_ignoring_conflict(
                conn, volume_replicas, values=values, conflict_on=("volume_id",)
            )
        )
        conn.execute(
            sa.update(volume_replicas)
            .where(volume_replicas.c.volume_id == replica.volume_id)
            .values(values)
        )

    def delete(self, volume_id: str) -> None:
        """Remove the volume's record (nothing if it has none)."""
        self._unit.core.execute(
            sa.delete(volume_replicas).where(volume_replicas.c.volume_id == volume_id)
        )

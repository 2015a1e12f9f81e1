"""Volume types, their project access, and QoS specs: the SQL repositories (Core; rare paths)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from basalt.model.volume_type import QosConsumer, QosSpecs, VolumeType
from basalt.persistence.sql.connection import UnitConnection
from basalt.persistence.sql.tables import (
    insert_ignoring_conflict,
    qos_specs,
    volume_type_access,
    volume_types,
    volumes,
)


def _type(m: Any) -> VolumeType:
    return VolumeType(
        id=m["id"],
        name=m["name"],
        description=m["description"],
        is_public=bool(m["is_public"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        extra_specs=dict(m["extra_specs"]),
        qos_specs_id=m["qos_specs_id"],
    )


def _type_values(t: VolumeType) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "description": t.description,
        "is_public": t.is_public,
        "extra_specs": dict(t.extra_specs),
        "qos_specs_id": t.qos_specs_id,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
    }


class SqlVolumeTypeRepository:
    """Volume types in one transaction's connection."""

    def __init__(self, unit: UnitConnection) -> None:
        self._unit = unit

    def add(self, volume_type: VolumeType) -> bool:
        """Insert unless the name is taken; True when inserted.

        (Read back by name: an ignored conflict's row count is not reported on every
        dialect.)
        """
        conn = self._unit.core
        conn.execute(
            insert_ignoring_conflict(
                conn, volume_types, values=_type_values(volume_type), conflict_on=("name",)
            )
        )
        stored = self.get_by_name(volume_type.name)
        return stored is not None and stored.id == volume_type.id

    def get(self, type_id: str) -> VolumeType | None:
        """The type with that id, or None."""
        return self._one(volume_types.c.id == type_id)

    def get_by_name(self, name: str) -> VolumeType | None:
        """The type with that name, or None."""
        return self._one(volume_types.c.name == name)

    def _one(self, where: sa.ColumnElement[bool]) -> VolumeType | None:
        row = self._unit.core.execute(sa.select(volume_types).where(where)).first()
        return None if row is None else _type(row._mapping)

    def find(self, *, project_id: str | None) -> list[VolumeType]:
        """Public types and the private ones the project may use (None: all), by name."""
        statement = sa.select(volume_types).order_by(volume_types.c.name)
        if project_id is not None:
            granted = sa.select(volume_type_access.c.volume_type_id).where(
                volume_type_access.c.project_id == project_id
            )
            statement = statement.where(
                sa.or_(volume_types.c.is_public.is_(True), volume_types.c.id.in_(granted))
            )
        return [_type(r._mapping) for r in self._unit.core.execute(statement)]

    def save(self, volume_type: VolumeType) -> bool:
        """Write every field; False when another type has the (new) name."""
        clash = self._unit.core.execute(
            sa.select(volume_types.c.id).where(
                volume_types.c.name == volume_type.name, volume_types.c.id != volume_type.id
            )
        ).first()
        if clash is not None:
            return False
        values = _type_values(volume_type)
        del values["id"]
        self._unit.core.execute(
            sa.update(volume_types).where(volume_types.c.id == volume_type.id).values(values)
        )
        return True

    def delete(self, type_id: str) -> None:
        """Remove the type and its access rows."""
        conn = self._unit.core
        conn.execute(
            sa.delete(volume_type_access).where(volume_type_access.c.volume_type_id == type_id)
        )
        conn.execute(sa.delete(volume_types).where(volume_types.c.id == type_id))

    def projects(self, type_id: str) -> list[str]:
        """The projects that may use the type, sorted."""
        statement = (
            sa.select(volume_type_access.c.project_id)
            .where(volume_type_access.c.volume_type_id == type_id)
            .order_by(volume_type_access.c.project_id)
        )
        return list(self._unit.core.execute(statement).scalars())

    def grant(self, type_id: str, project_id: str) -> bool:
        """Let the project use the type; False when it already could."""
        if project_id in self.projects(type_id):
            return False
        conn = self._unit.core
        conn.execute(
            insert_ignoring_conflict(
                conn,
                volume_type_access,
                values={"volume_type_id": type_id, "project_id": project_id},
                conflict_on=("volume_type_id", "project_id"),
            )
        )
        return True

    def revoke(self, type_id: str, project_id: str) -> bool:
        """Take the project's access away; False when it had none."""
        result = self._unit.core.execute(
            sa.delete(volume_type_access).where(
                volume_type_access.c.volume_type_id == type_id,
                volume_type_access.c.project_id == project_id,
            )
        )
        return bool(result.rowcount)

    def volume_count(self, type_id: str) -> int:
        """How many volumes have this type."""
        statement = sa.select(sa.func.count()).where(volumes.c.volume_type_id == type_id)
        return int(self._unit.core.execute(statement).scalar_one())

    def with_qos(self, qos_specs_id: str) -> list[VolumeType]:
        """The types associated with the QoS spec, by name."""
        statement = (
            sa.select(volume_types)
            .where(volume_types.c.qos_specs_id == qos_specs_id)
            .order_by(volume_types.c.name)
        )
        return [_type(r._mapping) for r in self._unit.core.execute(statement)]


def _qos(m: Any) -> QosSpecs:
    return QosSpecs(
        id=m["id"],
        name=m["name"],
        consumer=QosConsumer(m["consumer"]),
        specs=dict(m["specs"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


class SqlQosSpecsRepository:
    """QoS specs in one transaction's connection."""

    def __init__(self, unit: UnitConnection) -> None:
        self._unit = unit

    def add(self, qos: QosSpecs) -> bool:
        """Insert unless the name is taken; True when inserted."""
        conn = self._unit.core
        values = {
            "id": qos.id,
            "name": qos.name,
            "consumer": str(qos.consumer),
            "specs": dict(qos.specs),
            "created_at": qos.created_at,
            "updated_at": qos.updated_at,
        }
        conn.execute(
            insert_ignoring_conflict(conn, qos_specs, values=values, conflict_on=("name",))
        )
        stored = conn.execute(sa.select(qos_specs.c.id).where(qos_specs.c.name == qos.name)).first()
        return stored is not None and stored[0] == qos.id

    def get(self, qos_id: str) -> QosSpecs | None:
        """The QoS spec with that id, or None."""
        row = self._unit.core.execute(sa.select(qos_specs).where(qos_specs.c.id == qos_id)).first()
        return None if row is None else _qos(row._mapping)

    def find(self) -> list[QosSpecs]:
        """Every QoS spec, by name."""
        rows = self._unit.core.execute(sa.select(qos_specs).order_by(qos_specs.c.name))
        return [_qos(r._mapping) for r in rows]

    def save(self, qos: QosSpecs) -> None:
        """Write its consumer, specs and update time."""
        self._unit.core.execute(
            sa.update(qos_specs)
            .where(qos_specs.c.id == qos.id)
            .values(consumer=str(qos.consumer), specs=dict(qos.specs), updated_at=qos.updated_at)
        )

    def delete(self, qos_id: str) -> None:
        """Remove it (the caller has disassociated its types)."""
        self._unit.core.execute(sa.delete(qos_specs).where(qos_specs.c.id == qos_id))

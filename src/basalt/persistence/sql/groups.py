"""Group types, groups and group snapshots: the SQL repositories (SQLAlchemy Core; rare paths).

Statuses change only through ``set_status``, a compare-and-set, as for volumes.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from basalt.model.group import Group, GroupSnapshot, GroupType
from basalt.model.states import GroupSnapshotStatus, GroupStatus
from basalt.persistence.sql.connection import UnitConnection
from basalt.persistence.sql.tables import (
    group_snapshots,
    group_types,
    groups,
    insert_ignoring_conflict,
)

_NEWEST_FIRST = {t.name: (t.c.created_at.desc(), t.c.id.desc()) for t in (groups, group_snapshots)}


def _group_type(m: Any) -> GroupType:
    return GroupType(
        id=m["id"],
        name=m["name"],
        description=m["description"],
        is_public=bool(m["is_public"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        group_specs=dict(m["group_specs"]),
    )


def _group(m: Any) -> Group:
    return Group(
        id=m["id"],
        project_id=m["project_id"],
        user_id=m["user_id"],
        name=m["name"],
        description=m["description"],
        status=GroupStatus(m["status"]),
        group_type_id=m["group_type_id"],
        volume_type_ids=list(m["volume_type_ids"]),
        availability_zone=m["availability_zone"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        backend=m["backend"],
        group_snapshot_id=m["group_snapshot_id"],
        source_group_id=m["source_group_id"],
        replication_status=m["replication_status"],
        replication_target=m["replication_target"],
    )


def _group_snapshot(m: Any) -> GroupSnapshot:
    return GroupSnapshot(
        id=m["id"],
        project_id=m["project_id"],
        user_id=m["user_id"],
        group_id=m["group_id"],
        group_type_id=m["group_type_id"],
        name=m["name"],
        description=m["description"],
        status=GroupSnapshotStatus(m["status"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        cut=dict(m["cut"]),
    )


def _type_values(t: GroupType) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "description": t.description,
        "is_public": t.is_public,
        "group_specs": dict(t.group_specs),
        "created_at": t.created_at,
        "updated_at": t.updated_at,
    }


def _group_values(g: Group) -> dict[str, Any]:
    return {
        "id": g.id,
        "project_id": g.project_id,
        "user_id": g.user_id,
        "name": g.name,
        "description": g.description,
        "group_type_id": g.group_type_id,
        "volume_type_ids": list(g.volume_type_ids),
        "availability_zone": g.availability_zone,
        "backend": g.backend,
        "group_snapshot_id": g.group_snapshot_id,
        "source_group_id": g.source_group_id,
        "replication_status": g.replication_status,
        "replication_target": g.replication_target,
        "created_at": g.created_at,
        "updated_at": g.updated_at,
    }


def _snapshot_values(s: GroupSnapshot) -> dict[str, Any]:
    return {
        "id": s.id,
        "project_id": s.project_id,
        "user_id": s.user_id,
        "group_id": s.group_id,
        "group_type_id": s.group_type_id,
        "name": s.name,
        "description": s.description,
        "cut": dict(s.cut),
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    }


class SqlGroupTypeRepository:
    """Group types in one transaction's connection."""

    def __init__(self, unit: UnitConnection) -> None:
        self._unit = unit

    def add(self, group_type: GroupType) -> bool:
        """Insert unless the name is taken; True when inserted."""
        conn = self._unit.core
        conn.execute(
            insert_ignoring_conflict(
                conn, group_types, values=_type_values(group_type), conflict_on=["name"]
            )
        )
        stored = self.get_by_name(group_type.name)
        return stored is not None and stored.id == group_type.id

    def get(self, type_id: str) -> GroupType | None:
        """The group type with that id, or None."""
        row = self._unit.core.execute(
            sa.select(group_types).where(group_types.c.id == type_id)
        ).first()
        return None if row is None else _group_type(row._mapping)

    def get_by_name(self, name: str) -> GroupType | None:
        """The group type with that name, or None."""
        row = self._unit.core.execute(
            sa.select(group_types).where(group_types.c.name == name)
        ).first()
        return None if row is None else _group_type(row._mapping)

    def find(self, *, public_only: bool) -> list[GroupType]:
        """Every group type (only the public ones when ``public_only``), by name."""
        statement = sa.select(group_types).order_by(group_types.c.name)
        if public_only:
            statement = statement.where(group_types.c.is_public.is_(True))
        return [_group_type(r._mapping) for r in self._unit.core.execute(statement)]

    def save(self, group_type: GroupType) -> bool:
        """Write every field; False when another group type already has its (new) name."""
        other = self.get_by_name(group_type.name)
        if other is not None and other.id != group_type.id:
            return False
        values = _type_values(group_type)
        del values["id"]
        self._unit.core.execute(
            sa.update(group_types).where(group_types.c.id == group_type.id).values(values)
        )
        return True

    def delete(self, type_id: str) -> None:
        """Remove the group type."""
        self._unit.core.execute(sa.delete(group_types).where(group_types.c.id == type_id))

    def group_count(self, type_id: str) -> int:
        """How many groups have this type."""
        statement = sa.select(sa.func.count()).where(groups.c.group_type_id == type_id)
        return int(self._unit.core.execute(statement).scalar_one())


class _StatusRows:
    """What groups and group snapshots share: by-id rows with a compare-and-set status."""

    table: sa.Table

    def __init__(self, unit: UnitConnection) -> None:
        self._unit = unit

    def _get(self, row_id: str) -> Any:
        row = self._unit.core.execute(sa.select(self.table).where(self.table.c.id == row_id))
        found = row.first()
        return None if found is None else found._mapping

    def _save(self, row_id: str, values: dict[str, Any]) -> None:
        del values["id"]
        self._unit.core.execute(
            sa.update(self.table).where(self.table.c.id == row_id).values(values)
        )

    def _find(self, *conditions: sa.ColumnElement[bool]) -> list[Any]:
        statement = sa.select(self.table).where(*conditions)
        rows = self._unit.core.execute(statement.order_by(*_NEWEST_FIRST[self.table.name]))
        return [r._mapping for r in rows]

    def set_status(
        self, row_id: str, *, expected: Collection[StrEnum], new: StrEnum, updated_at: datetime
    ) -> bool:
        """Compare-and-set the status; True when the row was in one of ``expected``."""
        statement = (
            sa.update(self.table)
            .where(self.table.c.id == row_id, self.table.c.status.in_([str(s) for s in expected]))
            .values(status=str(new), updated_at=updated_at)
        )
        return bool(self._unit.core.execute(statement).rowcount)

    def delete(self, row_id: str) -> None:
        """Remove the row (nothing happens when it is already gone)."""
        self._unit.core.execute(sa.delete(self.table).where(self.table.c.id == row_id))

    def _in_statuses(self, statuses: Collection[StrEnum]) -> list[Any]:
        return self._find(self.table.c.status.in_([str(s) for s in statuses]))


class SqlGroupRepository(_StatusRows):
    """Groups in one transaction's connection."""

    table = groups

    def add(self, group: Group) -> None:
        """Insert a new group, status included."""
        values = {**_group_values(group), "status": str(group.status)}
        self._unit.core.execute(sa.insert(groups).values(values))

    def get(self, group_id: str) -> Group | None:
        """The group with that id, or None."""
        row = self._get(group_id)
        return None if row is None else _group(row)

    def find(self, *, project_id: str | None) -> list[Group]:
        """The project's groups (None: every project's), newest first."""
        conditions = [] if project_id is None else [groups.c.project_id == project_id]
        return [_group(r) for r in self._find(*conditions)]

    def served_elsewhere(self, *, backend: str | None = None) -> list[Group]:
        """The groups with a replication target recorded, of one backend if given."""
        conditions: list[sa.ColumnElement[bool]] = [groups.c.replication_target.is_not(None)]
        if backend is not None:
            conditions.append(groups.c.backend == backend)
        return [_group(r) for r in self._find(*conditions)]

    def save(self, group: Group) -> None:
        """Write every field but ``status``."""
        self._save(group.id, _group_values(group))

    def in_statuses(self, statuses: Collection[GroupStatus]) -> list[Group]:
        """Groups in any of ``statuses``, newest first."""
        return [_group(r) for r in self._in_statuses(statuses)]


class SqlGroupSnapshotRepository(_StatusRows):
    """Group snapshots in one transaction's connection."""

    table = group_snapshots

    def add(self, snapshot: GroupSnapshot) -> None:
        """Insert a new group snapshot, status included."""
        values = {**_snapshot_values(snapshot), "status": str(snapshot.status)}
        self._unit.core.execute(sa.insert(group_snapshots).values(values))

    def get(self, group_snapshot_id: str) -> GroupSnapshot | None:
        """The group snapshot with that id, or None."""
        row = self._get(group_snapshot_id)
        return None if row is None else _group_snapshot(row)

    def find(self, *, project_id: str | None, group_id: str | None = None) -> list[GroupSnapshot]:
        """The project's (None: every project's) group snapshots, of one group if given,
        newest first."""
        conditions = []
        if project_id is not None:
            conditions.append(group_snapshots.c.project_id == project_id)
        if group_id is not None:
            conditions.append(group_snapshots.c.group_id == group_id)
        return [_group_snapshot(r) for r in self._find(*conditions)]

    def save(self, snapshot: GroupSnapshot) -> None:
        """Write every field but ``status``."""
        self._save(snapshot.id, _snapshot_values(snapshot))

    def in_statuses(self, statuses: Collection[GroupSnapshotStatus]) -> list[GroupSnapshot]:
        """Group snapshots in any of ``statuses``, newest first."""
        return [_group_snapshot(r) for r in self._in_statuses(statuses)]

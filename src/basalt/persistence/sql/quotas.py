"""Quota limits, usage counted from the rows, and the per-project lock: the SQL QuotaRepository.

Every create, snapshot, extend and manage runs :meth:`SqlQuotaRepository.lock`,
``limits``/``class_limits`` and (when a limit is finite) ``usage`` in its write
transaction, so those run on the fast path (plain SQL on the DBAPI cursor). The
statements join volumes, snapshots and operations; their identifiers are plain
lower-case words that need no quoting in either dialect. Limits are written
rarely, through Core.

Serialisation: on SQLite a write transaction already excludes every other writer
(BEGIN IMMEDIATE), so counting and inserting cannot interleave. PostgreSQL runs
READ COMMITTED, where two transactions could both count 9 of 10 and both insert;
``lock`` takes ``pg_advisory_xact_lock`` on the project (two-key form, in a key
space of its own), held until commit or rollback. Each later statement of the
transaction sees what the previous holder committed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from basalt.model import OperationKind, OperationPhase, VolumeStatus
from basalt.model.quota import (
    UNCOUNTED_SNAPSHOT_STATUSES,
    UNCOUNTED_VOLUME_STATUSES,
    QuotaResource,
    QuotaUsage,
    count_usage,
)
from basalt.persistence.sql.codec import Convert, codec
from basalt.persistence.sql.connection import UnitConnection
from basalt.persistence.sql.statements import PerDialect, SqlText, Statement
from basalt.persistence.sql.tables import (
    QUOTA_FOR_EVERY_TYPE,
    insert_ignoring_conflict,
    operations,
    quota_classes,
    quotas,
)

_LOCK_SPACE = 0x71756F74  # "quot": the first key of every quota lock (fits an int4)
_VOLUME_STATUSES = sorted(str(s) for s in UNCOUNTED_VOLUME_STATUSES)
_SNAPSHOT_STATUSES = sorted(str(s) for s in UNCOUNTED_SNAPSHOT_STATUSES)
_OPEN = (str(OperationPhase.PENDING), str(OperationPhase.RUNNING))


@dataclass(frozen=True, slots=True)
class _Statements:
    lock: Statement
    limits: Statement
    class_limits: Statement
    volumes: Statement
    snapshots: Statement
    growth: Statement
    read_params: Convert


def _not_in(mark: str, count: int) -> str:
    return f"NOT IN ({', '.join([mark] * count)})"


def _build(text: SqlText) -> _Statements:
    m = text.mark
    limits = "SELECT resource, volume_type_id, hard_limit FROM {} WHERE {} = " + m
    params = codec(operations.c.params, text.dialect).decode
    return _Statements(
        lock=Statement(f"SELECT pg_advisory_xact_lock(CAST({m} AS integer), CAST({m} AS integer))"),
        limits=Statement(limits.format("quotas", "project_id")),
        class_limits=Statement(limits.format("quota_classes", "class_name")),
        volumes=Statement(
            "SELECT volume_type_id, count(*), coalesce(sum(size_gib), 0) FROM volumes"
            f" WHERE project_id = {m} AND status {_not_in(m, len(_VOLUME_STATUSES))}"
            " GROUP BY volume_type_id"
        ),
        snapshots=Statement(
            "SELECT v.volume_type_id, count(*), coalesce(sum(s.size_gib), 0)"
            " FROM snapshots s JOIN volumes v ON v.id = s.volume_id"
            f" WHERE s.project_id = {m} AND s.status {_not_in(m, len(_SNAPSHOT_STATUSES))}"
            " GROUP BY v.volume_type_id"
        ),
        # An extend changes the row's size only once the backend has grown the volume;
        # until then its open operation holds the growth.
        growth=Statement(
            "SELECT v.volume_type_id, o.params FROM operations o"
            " JOIN volumes v ON v.id = o.resource_id"
            f" WHERE v.project_id = {m} AND v.status = {m} AND o.kind = {m}"
            f" AND o.phase IN ({m}, {m})"
        ),
        read_params=params if params is not None else (lambda value: value),
    )


_STATEMENTS = PerDialect(quotas, _build)


def lock_key(project_id: str) -> int:
    """The second key of the project's advisory lock: 32 bits of a stable hash.

    Two projects that share a key only wait for each other; neither can pass its
    quota for it.
    """
    digest = hashlib.sha256(project_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def _type_id(stored: str) -> str | None:
    return None if stored == QUOTA_FOR_EVERY_TYPE else stored


def _limits(rows: Sequence[Any]) -> dict[QuotaResource, int]:
    return {QuotaResource(r[0], _type_id(r[1])): int(r[2]) for r in rows}


def _growth_gib(params: Any) -> int:
    """The growth an open extend operation promised (0 if its record lacks the sizes)."""
    if not isinstance(params, dict):
        return 0
    new, old = params.get("new_size_gib"), params.get("old_size_gib")
    return max(new - old, 0) if isinstance(new, int) and isinstance(old, int) else 0


class SqlQuotaRepository:
    """Quota rows and counts in one transaction's connection."""

    def __init__(self, unit: UnitConnection) -> None:
        self._unit = unit

    @property
    def _sql(self) -> _Statements:
        return _STATEMENTS.on(self._unit.dialect)

    def lock(self, project_id: str) -> None:
        """Serialise quota checks of the project until the transaction ends (see module)."""
        if self._unit.dialect.name == "postgresql":
            self._unit.fetch(self._sql.lock, (_LOCK_SPACE, lock_key(project_id)))

    def limits(self, project_id: str) -> dict[QuotaResource, int]:
        """The project's own limits."""
        return _limits(self._unit.fetch(self._sql.limits, (project_id,)))

    def class_limits(self, class_name: str) -> dict[QuotaResource, int]:
        """The quota class's limits."""
        return _limits(self._unit.fetch(self._sql.class_limits, (class_name,)))

    def set_limits(
        self, project_id: str, limits: Mapping[QuotaResource, int], *, at: datetime
    ) -> None:
        """Store the project's limit for each resource given."""
        self._put(quotas, "project_id", project_id, limits, at)

    def set_class_limits(
        self, class_name: str, limits: Mapping[QuotaResource, int], *, at: datetime
    ) -> None:
        """Store the class's limit for each resource given."""
        self._put(quota_classes, "class_name", class_name, limits, at)

    def clear(self, project_id: str) -> int:
        """Remove the project's limits; how many rows went."""
        result = self._unit.core.execute(sa.delete(quotas).where(quotas.c.project_id == project_id))
        return int(result.rowcount)

    def usage(self, project_id: str) -> QuotaUsage:
        """The project's usage, counted from its rows now."""
        sql = self._sql
        volumes = self._unit.fetch(sql.volumes, (project_id, *_VOLUME_STATUSES))
        snapshots = self._unit.fetch(sql.snapshots, (project_id, *_SNAPSHOT_STATUSES))
        growth = self._unit.fetch(
            sql.growth,
            (project_id, str(VolumeStatus.EXTENDING), str(OperationKind.EXTEND_VOLUME), *_OPEN),
        )
        return count_usage(
            volumes=[(r[0], int(r[1]), int(r[2])) for r in volumes],
            snapshots=[(r[0], int(r[1]), int(r[2])) for r in snapshots],
            growth=[(r[0], _growth_gib(sql.read_params(r[1]))) for r in growth],
        )

    def _put(
        self,
        table: sa.Table,
        owner_column: str,
        owner: str,
        limits: Mapping[QuotaResource, int],
        at: datetime,
    ) -> None:
        """Insert or replace one row per resource (an insert that ignores a conflict,
        then an update: portable, and concurrent writers end with one whole value)."""
        conn = self._unit.core
        keys = (owner_column, "resource", "volume_type_id")
        for resource, limit in limits.items():
            key = {
                owner_column: owner,
                "resource": resource.name,
                "volume_type_id": resource.volume_type_id or QUOTA_FOR_EVERY_TYPE,
            }
            values = {**key, "hard_limit": limit, "updated_at": at}
            conn.execute(insert_ignoring_conflict(conn, table, values=values, conflict_on=keys))
            conn.execute(
                sa.update(table)
                .where(*(table.c[name] == value for name, value in key.items()))
                .values(hard_limit=limit, updated_at=at)
            )

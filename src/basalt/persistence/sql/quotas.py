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
import json
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
from basalt.persistence.sql.connection import UnitConnection
from basalt.persistence.sql.statements import PerDialect, SqlText, Statement
from basalt.persistence.sql.tables import (
    QUOTA_FOR_EVERY_TYPE,
    insert_ignoring_conflict,
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
    both_limits: Statement
    usage: Statement


def _marks(mark: str, count: int) -> str:
    return ", ".join([mark] * count)


def _build(text: SqlText) -> _Statements:
    m = text.mark
    limits = "SELECT {}, resource, volume_type_id, hard_limit FROM {} WHERE {} = " + m
    return _Statements(
        lock=Statement(f"SELECT pg_advisory_xact_lock(CAST({m} AS integer), CAST({m} AS integer))"),
        limits=Statement(limits.format("'p'", "quotas", "project_id")),
        class_limits=Statement(limits.format("'c'", "quota_classes", "class_name")),
        both_limits=Statement(
            limits.format("'p'", "quotas", "project_id")
            + " UNION ALL "
            + limits.format("'c'", "quota_classes", "class_name")
        ),
        # One round trip: (kind, volume type, count, GiB, extend params as JSON text)
        # rows for the counted volumes ('v') and snapshots ('s') per type, and each
        # extend still running ('g'), whose growth the volume row does not show until
        # it is done (text: PostgreSQL cannot unite json with the other rows' NULL).
        usage=Statement(
            "SELECT 'v', volume_type_id, count(*), coalesce(sum(size_gib), 0), NULL"
            f" FROM volumes WHERE project_id = {m}"
            f" AND status NOT IN ({_marks(m, len(_VOLUME_STATUSES))})"
            " GROUP BY volume_type_id"
            " UNION ALL "
            "SELECT 's', v.volume_type_id, count(*), coalesce(sum(s.size_gib), 0), NULL"
            " FROM snapshots s JOIN volumes v ON v.id = s.volume_id"
            f" WHERE s.project_id = {m}"
            f" AND s.status NOT IN ({_marks(m, len(_SNAPSHOT_STATUSES))})"
            " GROUP BY v.volume_type_id"
            " UNION ALL "
            "SELECT 'g', v.volume_type_id, 1, 0, CAST(o.params AS TEXT) FROM operations o"
            " JOIN volumes v ON v.id = o.resource_id"
            f" WHERE v.project_id = {m} AND v.status = {m} AND o.kind = {m}"
            f" AND o.phase IN ({m}, {m})"
        ),
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


def _limits(rows: Sequence[Any], source: str) -> dict[QuotaResource, int]:
    return {QuotaResource(r[1], _type_id(r[2])): int(r[3]) for r in rows if r[0] == source}


def _growth_gib(text: str | None) -> int:
    """The growth an open extend operation promised (0 if its record lacks the sizes)."""
    try:
        params = json.loads(text or "null")
    except ValueError:
        return 0
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
        return _limits(self._unit.fetch(self._sql.limits, (project_id,)), "p")

    def class_limits(self, class_name: str) -> dict[QuotaResource, int]:
        """The quota class's limits."""
        return _limits(self._unit.fetch(self._sql.class_limits, (class_name,)), "c")

    def limits_and_class(
        self, project_id: str, class_name: str
    ) -> tuple[dict[QuotaResource, int], dict[QuotaResource, int]]:
        """The project's own limits and the class's, in one round trip."""
        rows = self._unit.fetch(self._sql.both_limits, (project_id, class_name))
        return _limits(rows, "p"), _limits(rows, "c")

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
        """The project's usage, counted from its rows now (one statement)."""
        sql = self._sql
        values = (
            project_id,
            *_VOLUME_STATUSES,
            project_id,
            *_SNAPSHOT_STATUSES,
            project_id,
            str(VolumeStatus.EXTENDING),
            str(OperationKind.EXTEND_VOLUME),
            *_OPEN,
        )
        rows = self._unit.fetch(sql.usage, values)
        return count_usage(
            volumes=[(r[1], int(r[2]), int(r[3])) for r in rows if r[0] == "v"],
            snapshots=[(r[1], int(r[2]), int(r[3])) for r in rows if r[0] == "s"],
            growth=[(r[1], _growth_gib(r[4])) for r in rows if r[0] == "g"],
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

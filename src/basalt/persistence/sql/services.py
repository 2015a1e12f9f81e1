"""Backend service records (os-services enable/disable): the SQL ServiceRepository."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from basalt.model.service import ServiceRecord
from basalt.persistence.sql.connection import UnitConnection
from basalt.persistence.sql.tables import insert_ignoring_conflict, services


def _record(m: Any) -> ServiceRecord:
    return ServiceRecord(
        backend=m["backend"],
        disabled=bool(m["disabled"]),
        disabled_reason=m["disabled_reason"],
        updated_at=m["updated_at"],
        frozen=bool(m["frozen"]),
        active_backend_id=m["active_backend_id"],
        replication_status=m["replication_status"],
    )


class SqlServiceRepository:
    """Service records in one transaction's connection (a rare path: SQLAlchemy Core)."""

    def __init__(self, unit: UnitConnection) -> None:
        self._unit = unit

    def get(self, backend: str) -> ServiceRecord | None:
        """The backend's record, or None (an enabled backend nobody changed)."""
        row = self._unit.core.execute(
            sa.select(services).where(services.c.backend == backend)
        ).first()
        return None if row is None else _record(row._mapping)

    def all(self) -> list[ServiceRecord]:
        """Every record, ordered by backend name."""
        rows = self._unit.core.execute(sa.select(services).order_by(services.c.backend))
        return [_record(r._mapping) for r in rows]

    def put(self, record: ServiceRecord) -> None:
        """Insert or replace the backend's record.

        An insert that ignores a conflict, then an update: portable to both
        dialects, and two concurrent puts end with one of them whole.
        """
        values = {
            "backend": record.backend,
            "disabled": record.disabled,
            "disabled_reason": record.disabled_reason,
            "updated_at": record.updated_at,
            "frozen": record.frozen,
            "active_backend_id": record.active_backend_id,
            "replication_status": record.replication_status,
        }
        conn = self._unit.core
        conn.execute(
            insert_ignoring_conflict(conn, services, values=values, conflict_on=("backend",))
        )
        conn.execute(sa.update(services).where(services.c.backend == record.backend).values(values))

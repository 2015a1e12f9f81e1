"""Operation rows: the SQL implementation of OperationRepository.

add, get and save run on the fast path (statements.py); the rest on SQLAlchemy Core.
``save`` writes every column but ``dismissed_at``, which only ``dismiss`` sets.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from basalt.model import Operation, OperationKind, OperationPhase
from basalt.model.states import OPERATION_OPEN
from basalt.persistence.sql.connection import UnitConnection
from basalt.persistence.sql.statements import RowValues, row_statements
from basalt.persistence.sql.tables import operations

_NEWEST_FIRST = (operations.c.created_at.desc(), operations.c.id.desc())


def _values(operation: Operation) -> dict[str, Any]:
    return {
        "id": operation.id,
        "kind": str(operation.kind),
        "resource_kind": operation.resource_kind,
        "resource_id": operation.resource_id,
        "project_id": operation.project_id,
        "phase": str(operation.phase),
        "created_at": operation.created_at,
        "updated_at": operation.updated_at,
        "request_id": operation.request_id,
        "bytes_done": operation.bytes_done,
        "bytes_total": operation.bytes_total,
        "started_at": operation.started_at,
        "finished_at": operation.finished_at,
        "error_code": operation.error_code,
        "message": operation.message,
        "hint": operation.hint,
        "params": dict(operation.params),
        "dismissed_at": operation.dismissed_at,
    }


_STATEMENTS = row_statements(
    operations,
    saved_columns=[c.name for c in operations.c if c.name not in ("id", "dismissed_at")],
)
_FAILED = (str(OperationPhase.FAILED), str(OperationPhase.ROLLED_BACK))


def _operation(m: RowValues) -> Operation:
    """An operation from a row's values by column name (fast-path dict or Core RowMapping)."""
    return Operation(
        id=m["id"],
        kind=OperationKind(m["kind"]),
        resource_kind=m["resource_kind"],
        resource_id=m["resource_id"],
        project_id=m["project_id"],
        phase=OperationPhase(m["phase"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        request_id=m["request_id"],
        bytes_done=m["bytes_done"],
        bytes_total=m["bytes_total"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        error_code=m["error_code"],
        message=m["message"],
        hint=m["hint"],
        params=dict(m["params"]),
        dismissed_at=m["dismissed_at"],
    )


class SqlOperationRepository:
    """Operations in one transaction's connection."""

    def __init__(self, unit: UnitConnection) -> None:
        self._unit = unit
        self._rows = _STATEMENTS.on(unit.dialect)

    def add(self, operation: Operation) -> None:
        """Insert a new operation record."""
        self._rows.run_insert(self._unit, _values(operation))

    def get(self, operation_id: str) -> Operation | None:
        """The operation with that id, or None."""
        row = self._rows.run_get(self._unit, operation_id)
        return None if row is None else _operation(row)

    def find(
        self,
        *,
        project_id: str | None,
        resource_id: str | None = None,
        limit: int = 100,
        open_only: bool = False,
    ) -> list[Operation]:
        """Operations newest first (created_at, then id, descending).

        Args:
            project_id: only this project's; None for every project.
            resource_id: only those acting on this resource.
            limit: at most this many.
            open_only: only those still pending or running.

        Returns:
            The operations, newest first.
        """
        statement = sa.select(operations).order_by(*_NEWEST_FIRST).limit(limit)
        if project_id is not None:
            statement = statement.where(operations.c.project_id == project_id)
        if resource_id is not None:
            statement = statement.where(operations.c.resource_id == resource_id)
        if open_only:
            statement = statement.where(operations.c.phase.in_([str(p) for p in OPERATION_OPEN]))
        return [_operation(r._mapping) for r in self._unit.core.execute(statement)]

    def save(self, operation: Operation) -> None:
        """Write every field of the record."""
        values = _values(operation)
        del values["id"], values["dismissed_at"]
        self._rows.run_save(self._unit, operation.id, values)

    def set_progress(
        self, operation_id: str, *, bytes_done: int, bytes_total: int | None, updated_at: datetime
    ) -> None:
        """Record how far a running operation got."""
        self._unit.core.execute(
            sa.update(operations)
            .where(operations.c.id == operation_id)
            .values(bytes_done=bytes_done, bytes_total=bytes_total, updated_at=updated_at)
        )

    def in_phases(self, phases: Collection[OperationPhase]) -> list[Operation]:
        """Operations in any of ``phases``, oldest first."""
        statement = (
            sa.select(operations)
            .where(operations.c.phase.in_([str(p) for p in phases]))
            .order_by(operations.c.created_at.asc(), operations.c.id.asc())
        )
        return [_operation(r._mapping) for r in self._unit.core.execute(statement)]

    def failures(
        self,
        *,
        project_id: str | None,
        finished_since: datetime,
        resource_id: str | None = None,
        kinds: Collection[OperationKind] | None = None,
    ) -> list[Operation]:
        """Failed or rolled-back operations whose message was not dismissed.

        Args:
            project_id: only this project's; None for every project.
            finished_since: only those that finished at or after this instant.
            resource_id: only those acting on this resource.
            kinds: only these kinds; None for any.

        Returns:
            The operations, newest first (finished_at, then id, descending).
        """
        c = operations.c
        statement = (
            sa.select(operations)
            .where(c.phase.in_(_FAILED), c.dismissed_at.is_(None), c.finished_at >= finished_since)
            .order_by(c.finished_at.desc(), c.id.desc())
        )
        if project_id is not None:
            statement = statement.where(c.project_id == project_id)
        if resource_id is not None:
            statement = statement.where(c.resource_id == resource_id)
        if kinds is not None:
            statement = statement.where(c.kind.in_([str(k) for k in kinds]))
        return [_operation(r._mapping) for r in self._unit.core.execute(statement)]

    def dismiss(self, operation_id: str, *, at: datetime) -> bool:
        """Record that the failed operation's user message was dismissed.

        Returns:
            True when it was failed or rolled back and not dismissed before.
        """
        c = operations.c
        result = self._unit.core.execute(
            sa.update(operations)
            .where(c.id == operation_id, c.phase.in_(_FAILED), c.dismissed_at.is_(None))
            .values(dismissed_at=at)
        )
        return result.rowcount == 1

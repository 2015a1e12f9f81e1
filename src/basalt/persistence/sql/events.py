"""Timeline rows: the SQL implementation of EventRepository.

``add`` runs on the fast path (statements.py); ``timeline`` on SQLAlchemy Core.
"""

from __future__ import annotations

import sqlalchemy as sa

from basalt.model import Event, EventKind
from basalt.persistence.sql.connection import UnitConnection
from basalt.persistence.sql.statements import PerDialect, RowValues
from basalt.persistence.sql.tables import events

_COLUMNS = [c.name for c in events.c if c.name != "id"]  # the database numbers the id
_INSERT = PerDialect(events, lambda text: text.insert(_COLUMNS))


def _event(m: RowValues) -> Event:
    return Event(
        id=m["id"],
        resource_kind=m["resource_kind"],
        resource_id=m["resource_id"],
        kind=EventKind(m["kind"]),
        message=m["message"],
        at=m["at"],
        operation_id=m["operation_id"],
        duration_ms=m["duration_ms"],
        detail=dict(m["detail"]),
    )


class SqlEventRepository:
    """Events in one transaction's connection."""

    def __init__(self, unit: UnitConnection) -> None:
        self._unit = unit

    def add(self, event: Event) -> None:
        """Append an event; the database numbers it (``event.id`` is left as it was)."""
        values = {
            "resource_kind": event.resource_kind,
            "resource_id": event.resource_id,
            "kind": str(event.kind),
            "message": event.message,
            "at": event.at,
            "operation_id": event.operation_id,
            "duration_ms": event.duration_ms,
            "detail": dict(event.detail),
        }
        self._unit.execute(_INSERT.on(self._unit.dialect), [values[c] for c in _COLUMNS])

    def timeline(self, *, resource_kind: str, resource_id: str, limit: int = 1000) -> list[Event]:
        """A resource's events, oldest first.

        Args:
            resource_kind: e.g. ``"volume"``.
            resource_id: the resource's id.
            limit: at most this many; when there are more, the newest are kept.

        Returns:
            The events in the order they were written.
        """
        statement = (
            sa.select(events)
            .where(events.c.resource_kind == resource_kind, events.c.resource_id == resource_id)
            .order_by(events.c.id.desc())
            .limit(limit)
        )
        newest_first = [_event(r._mapping) for r in self._unit.core.execute(statement)]
        newest_first.reverse()
        return newest_first

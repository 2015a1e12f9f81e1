"""Per-resource event timeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class EventKind(StrEnum):
    STATUS_CHANGE = "status_change"
    DRIVER_CALL = "driver_call"
    ERROR = "error"
    NOTE = "note"


@dataclass(slots=True)
class Event:
    """One entry in a resource's timeline."""

    resource_kind: str
    resource_id: str
    kind: EventKind
    message: str
    at: datetime
    operation_id: str | None = None
    duration_ms: float | None = None
    detail: dict[str, object] = field(default_factory=dict)
    id: int | None = None

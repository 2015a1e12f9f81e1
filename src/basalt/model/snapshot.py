"""The snapshot aggregate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from basalt.model.states import SnapshotStatus


@dataclass(slots=True)
class Snapshot:
    """A point-in-time copy of a volume."""

    id: str
    volume_id: str
    project_id: str
    user_id: str
    name: str
    description: str
    size_gib: int
    status: SnapshotStatus
    created_at: datetime
    updated_at: datetime
    metadata: dict[str, str] = field(default_factory=dict)
    provider_location: str | None = None
    group_snapshot_id: str | None = None
    """The group snapshot it is a member of; it is deleted only with it."""

"""The volume aggregate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from basalt.model.states import VolumeStatus


@dataclass(slots=True)
class Volume:
    """A block volume as Basalt records it.

    ``provider_location`` is the driver's own handle (opaque to the service).
    """

    id: str
    project_id: str
    user_id: str
    name: str
    description: str
    size_gib: int
    status: VolumeStatus
    backend: str
    pool: str
    created_at: datetime
    updated_at: datetime
    metadata: dict[str, str] = field(default_factory=dict)
    provider_location: str | None = None
    source_volume_id: str | None = None
    snapshot_id: str | None = None
    bootable: bool = False
    availability_zone: str = "nova"
    migration_status: str | None = None
    replication_status: str | None = None
    multiattach: bool = False
    """Whether several attachments (hosts) may use the volume at once."""
    readonly: bool = False
    """Every host gets it read-only (os-update_readonly_flag)."""
    volume_type_id: str | None = None
    """Its volume type (the default type when it named none)."""
    group_id: str | None = None
    """The group it belongs to (a volume is in at most one)."""

    @property
    def host(self) -> str:
        """Cinder-style ``host@backend#pool`` string."""
        return f"basalt@{self.backend}#{self.pool}"

"""Groups of volumes, their types, and group snapshots (Block Storage generic groups).

A *group type* carries ``group_specs`` (``consistent_group_snapshot_enabled``...)
the way a volume type carries extra specs. A *group* has one group type and the
volume types its volumes may have; a volume is in at most one group
(``Volume.group_id``), and every volume of a group lives on one backend, the
first member's (``Group.backend``). A *group snapshot* is one snapshot of every
member, taken as one cut: its member snapshots are ordinary snapshots whose
``group_snapshot_id`` names it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from basalt.model.states import GroupSnapshotStatus, GroupStatus
from basalt.model.volume_type import spec_is_true

CONSISTENT_SNAPSHOT_SPEC = "consistent_group_snapshot_enabled"
"""The group spec Cinder uses for consistency groups; Basalt's file backend makes every
group snapshot a consistent cut whatever it says."""
GROUP_REPLICATION_SPEC = "consistent_group_replication_enabled"
"""The group spec (``<is> True``) of a group type whose groups replicate as one: their
replication can be enabled, disabled and failed over per group."""
MAX_GROUP_VOLUME_TYPES = 32


@dataclass(slots=True)
class GroupType:
    """A kind of group, with its group specs."""

    id: str
    name: str
    description: str
    is_public: bool
    created_at: datetime
    updated_at: datetime
    group_specs: dict[str, str] = field(default_factory=dict)

    @property
    def replication_enabled(self) -> bool:
        """Whether its groups replicate as one (``consistent_group_replication_enabled
        <is> True``)."""
        return spec_is_true(self.group_specs.get(GROUP_REPLICATION_SPEC))


@dataclass(slots=True)
class Group:
    """Volumes that are snapshotted together."""

    id: str
    project_id: str
    user_id: str
    name: str
    description: str
    status: GroupStatus
    group_type_id: str
    volume_type_ids: list[str]
    availability_zone: str
    created_at: datetime
    updated_at: datetime
    backend: str | None = None
    """The backend every member lives on (set when the first volume joins)."""
    group_snapshot_id: str | None = None
    """The group snapshot it was created from, if any."""
    source_group_id: str | None = None
    """The group it was cloned from, if any."""
    replication_status: str | None = None
    """disabled, enabled, failing-over, failed-over or error for a group whose type
    has ``consistent_group_replication_enabled <is> True``; None for the others."""
    replication_target: str | None = None
    """The target its volumes are served from while failed over (or failing over)."""


@dataclass(slots=True)
class GroupSnapshot:
    """A snapshot of every volume of a group, taken as one cut."""

    id: str
    project_id: str
    user_id: str
    group_id: str
    group_type_id: str
    name: str
    description: str
    status: GroupSnapshotStatus
    created_at: datetime
    updated_at: datetime
    cut: dict[str, object] = field(default_factory=dict)
    """How the cut was taken: ``quiesced`` (whether any I/O was paused), ``pause_ms``
    (how long), ``started_at``/``finished_at`` and ``members`` (volume id -> the time
    its copy was taken), as the driver reported them."""

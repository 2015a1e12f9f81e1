"""Typed values that cross the driver boundary.

Drivers never see database rows: the service hands them these references and
records what they return.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

GIB = 1024**3

ProgressCallback = Callable[[int, int], None]
"""Called by long driver work with (bytes_done, bytes_total)."""


def no_progress(done: int, total: int) -> None:
    """A progress callback that ignores progress."""


@dataclass(frozen=True, slots=True)
class VolumeRef:
    """What a driver needs to know about a volume."""

    id: str
    size_gib: int
    pool: str
    project_id: str = ""
    provider_location: str | None = None
    qos: Mapping[str, str] = field(default_factory=dict)
    """Back-end QoS specs of its type (a QoS spec with consumer back-end or both)."""

    @property
    def size_bytes(self) -> int:
        return self.size_gib * GIB


@dataclass(frozen=True, slots=True)
class SnapshotRef:
    """What a driver needs to know about a snapshot."""

    id: str
    volume_id: str
    size_gib: int
    pool: str
    project_id: str = ""
    provider_location: str | None = None


@dataclass(frozen=True, slots=True)
class GroupRef:
    """What a driver needs to know about a group."""

    id: str
    project_id: str = ""
    group_specs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MemberCopy:
    """One member's copy in a cut: the new snapshot (or volume) and when it was taken."""

    volume_id: str
    """The member volume copied."""
    copy_id: str
    """The new snapshot's (group snapshot) or volume's (group from a source group) id."""
    provider_location: str | None
    captured_at: datetime


@dataclass(frozen=True, slots=True)
class GroupCut:
    """How a driver copied several volumes as one point in time."""

    members: tuple[MemberCopy, ...]
    quiesced: bool
    """Whether I/O was paused (some member was exported); False: no member could change."""
    pause_ms: float
    """How long I/O was paused (0 when it was not)."""
    started_at: datetime
    finished_at: datetime

    def as_record(self) -> dict[str, object]:
        """The cut as stored with a group snapshot (JSON values)."""
        return {
            "quiesced": self.quiesced,
            "pause_ms": round(self.pause_ms, 3),
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "members": {m.volume_id: m.captured_at.isoformat() for m in self.members},
        }


@dataclass(frozen=True, slots=True)
class DriverUpdate:
    """What a driver reports back after making or adopting an object."""

    provider_location: str | None = None
    size_gib: int | None = None


@dataclass(frozen=True, slots=True)
class PoolStats:
    """Capacity of one pool, in GiB, as the backend reports it."""

    name: str
    total_capacity_gib: float
    free_capacity_gib: float
    provisioned_capacity_gib: float
    thin_provisioning: bool
    reflink: bool
    location: str
    allocated_capacity_gib: float | None = None
    """What the pool's own objects occupy, when the backend can tell."""
    capabilities: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BackendStats:
    """What ``get_stats`` returns: the backend and each of its pools."""

    backend_name: str
    vendor_name: str
    driver_version: str
    storage_protocol: str
    pools: tuple[PoolStats, ...]


@dataclass(frozen=True, slots=True)
class ManageableObject:
    """An object on a backend that Basalt could adopt (or already manages)."""

    reference: Mapping[str, str]
    size_gib: int
    safe_to_manage: bool
    reason_not_safe: str | None = None
    basalt_id: str | None = None
    extra_info: str | None = None


@dataclass(frozen=True, slots=True)
class StoredObjects:
    """The objects a backend holds under Basalt's own naming, by id."""

    volume_ids: frozenset[str]
    snapshot_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class ChapCredentials:
    """One project's CHAP user name and secret. The secret never appears in a repr."""

    username: str
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ExportSpec:
    """How one volume should be exported: who may log in, with which CHAP, read-only or not."""

    initiators: frozenset[str]
    chap: ChapCredentials
    read_only: bool = False
    local: bool = False
    """Whether a consumer on Basalt's own host holds a local device of the volume."""

    @property
    def empty(self) -> bool:
        """Nobody needs the export any more."""
        return not self.initiators and not self.local


@dataclass(frozen=True, slots=True)
class Connector:
    """What a host tells Basalt about itself when it connects (os-brick's connector).

    ``initiator`` is the host's iSCSI IQN; ``do_local_attach`` asks for a device on
    Basalt's own host instead of an iSCSI target.
    """

    host: str
    initiator: str | None = None
    ip: str | None = None
    multipath: bool = False
    platform: str | None = None
    os_type: str | None = None
    do_local_attach: bool = False
    extra: Mapping[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """The connector in os-brick's shape, as stored and shown."""
        values: dict[str, object] = {**self.extra, "host": self.host, "multipath": self.multipath}
        optional = {
            "initiator": self.initiator,
            "ip": self.ip,
            "platform": self.platform,
            "os_type": self.os_type,
        }
        values.update({k: v for k, v in optional.items() if v is not None})
        if self.do_local_attach:
            values["do_local_attach"] = True
        return values


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """What a host needs to reach a volume, in Cinder's shape.

    ``data`` may hold the CHAP secret: show it only to the caller that connected.
    """

    driver_volume_type: str
    data: Mapping[str, object]

    def as_dict(self) -> dict[str, object]:
        return {"driver_volume_type": self.driver_volume_type, "data": dict(self.data)}

    def __repr__(self) -> str:  # never print auth_password
        shown = {k: ("***" if "password" in k else v) for k, v in self.data.items()}
        return f"ConnectionInfo({self.driver_volume_type!r}, {shown!r})"


@dataclass(frozen=True, slots=True)
class ReplicationTarget:
    """Where a backend keeps secondary copies of its replicated volumes."""

    backend_id: str
    """The name failover asks for (Cinder's replication_device backend_id)."""
    interval_seconds: float
    """How often a replicated volume is shipped (the recovery point objective)."""


@dataclass(frozen=True, slots=True)
class Shipment:
    """What one replication of one volume did."""

    bytes_shipped: int
    """Data bytes written to the secondary (holes punched count nothing)."""
    ranges: int
    """Changed ranges found."""
    full: bool
    """Whether it was the volume's initial (full) copy."""
    method: str
    """How the changes were found: ``fiemap`` (shared extents of reflinked points),
    ``checksum`` (per-chunk digests) or ``full``."""

"""The objects an emulated Element cluster holds (state only; the wire shape is in views)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

GIB = 1024**3
NO_GROUP_UUID = "00000000-0000-0000-0000-000000000000"


def now_iso() -> str:
    """The current time as the Element API writes it ("2024-05-01T12:00:00Z")."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class VolumeStatus(StrEnum):
    """A volume's lifecycle state (purged volumes are gone)."""

    ACTIVE = "active"
    DELETED = "deleted"


class Access(StrEnum):
    """A volume's access mode."""

    READ_WRITE = "readWrite"
    READ_ONLY = "readOnly"
    LOCKED = "locked"
    REPLICATION_TARGET = "replicationTarget"


class PairingMode(StrEnum):
    """How a volume pair replicates."""

    ASYNC = "Async"
    SYNC = "Sync"
    SNAPSHOTS_ONLY = "SnapshotsOnly"


@dataclass(frozen=True)
class Limits:
    """Cluster limits the emulator enforces (lower them in tests to reach them quickly)."""

    secret_length_min: int = 12
    secret_length_max: int = 16
    volume_size_min_bytes: int = 1_000_000_000
    volume_size_max_bytes: int = 16 * 1024 * GIB
    snapshots_per_volume_max: int = 32
    volumes_per_group_snapshot_max: int = 32
    access_group_count_max: int = 1000
    initiators_per_access_group_max: int = 64
    volumes_per_access_group_max: int = 2000
    access_groups_per_initiator_max: int = 1
    min_iops_min: int = 50
    min_iops_max: int = 15000
    max_iops_min: int = 100
    max_iops_max: int = 200000
    burst_iops_max: int = 200000
    name_length_max: int = 64


@dataclass
class QoS:
    """A volume's IOPS settings (the cluster defaults unless given)."""

    min_iops: int = 50
    max_iops: int = 15000
    burst_iops: int = 15000
    burst_time: int = 60


@dataclass
class Account:
    """A tenant account: owns volumes, carries the CHAP secrets."""

    account_id: int
    username: str
    initiator_secret: str
    target_secret: str
    attributes: dict[str, Any] = field(default_factory=dict)
    status: str = "active"


@dataclass
class Volume:
    """A volume; its bytes live in `SolidFireBackend.volume_path(volume_id)`."""

    volume_id: int
    name: str
    account_id: int
    total_size_bytes: int
    enable512e: bool
    qos: QoS
    attributes: dict[str, Any]
    access: Access
    iqn: str
    volume_uuid: str
    create_time: str = field(default_factory=now_iso)
    status: VolumeStatus = VolumeStatus.ACTIVE
    delete_time: str = ""
    purge_time: str = ""


@dataclass
class Snapshot:
    """A point-in-time copy of one volume; its bytes live in `snapshot_path(snapshot_id)`."""

    snapshot_id: int
    volume_id: int
    name: str
    total_size_bytes: int
    snapshot_uuid: str
    attributes: dict[str, Any] = field(default_factory=dict)
    enable_remote_replication: bool = False
    create_time: str = field(default_factory=now_iso)
    group_id: int = 0
    group_snapshot_uuid: str = NO_GROUP_UUID
    checksum: str = "0x0"


@dataclass
class GroupSnapshot:
    """Snapshots of several volumes taken at one instant; members are ordinary snapshots."""

    group_snapshot_id: int
    name: str
    group_snapshot_uuid: str
    member_ids: list[int]
    attributes: dict[str, Any] = field(default_factory=dict)
    enable_remote_replication: bool = False
    create_time: str = field(default_factory=now_iso)


@dataclass
class AccessGroup:
    """A volume access group: which initiators may see which volumes."""

    access_group_id: int
    name: str
    initiators: list[str] = field(default_factory=list)
    volume_ids: list[int] = field(default_factory=list)
    deleted_volume_ids: list[int] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class AsyncResult:
    """The outcome of an asynchronous call (clones finish at once in the emulator)."""

    handle: int
    result_type: str
    result: dict[str, Any]
    create_time: str = field(default_factory=now_iso)
    status: str = "complete"

"""Typed values that cross the driver boundary.

Drivers never see database rows: the service hands them these references and
records what they return.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

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

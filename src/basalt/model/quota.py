"""Quotas: what a project may hold, what it holds, and the rule that compares them.

Resources keep Cinder's names:

- ``volumes``: how many volumes; ``snapshots``: how many snapshots;
- ``gigabytes``: the sizes of the volumes plus the sizes of the snapshots (GiB);
- ``per_volume_gigabytes``: the largest size one volume may be created or grown to;
- per volume type ``volumes_<type>``, ``snapshots_<type>``, ``gigabytes_<type>``:
  the same counted over the volumes of that type (a snapshot counts for its
  volume's type).

A limit is :data:`UNLIMITED` (-1) or a whole number from 0 to :data:`MAX_LIMIT`.
A project's limit for a resource is, first found: the project's own, the
``default`` quota class's, the settings' (``[quotas]``).

Usage is never a stored counter: it is counted from the volume and snapshot rows
(and the growth of extends still running) in the transaction that adds the new
resource. Every row counts except those being deleted (:data:`UNCOUNTED_VOLUME_STATUSES`,
:data:`UNCOUNTED_SNAPSHOT_STATUSES`): a volume in ``error`` still holds its space.
Stored per-type limits name the type by id, so renaming a type keeps them; the API
shows them by the type's name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from basalt.model.snapshot import Snapshot
from basalt.model.states import SnapshotStatus, VolumeStatus
from basalt.model.volume import Volume

VOLUMES = "volumes"
SNAPSHOTS = "snapshots"
GIGABYTES = "gigabytes"
PER_VOLUME_GIGABYTES = "per_volume_gigabytes"
BASE_RESOURCES = (VOLUMES, SNAPSHOTS, GIGABYTES, PER_VOLUME_GIGABYTES)
PER_TYPE_RESOURCES = (VOLUMES, SNAPSHOTS, GIGABYTES)
UNLIMITED = -1
MAX_LIMIT = 2**31 - 1
"""The largest limit (Cinder's too): it fits a 32-bit integer column."""
DEFAULT_QUOTA_CLASS = "default"
"""The one quota class: its limits apply to every project without its own."""
UNCOUNTED_VOLUME_STATUSES = frozenset({VolumeStatus.DELETING})
"""Volumes on their way out (deleted or unmanaged) hold no quota; a failed delete
(``error_deleting``) holds it again."""
UNCOUNTED_SNAPSHOT_STATUSES = frozenset({SnapshotStatus.DELETING, SnapshotStatus.UNMANAGING})


@dataclass(frozen=True, slots=True)
class QuotaResource:
    """One limited resource: a base name, for every type (None) or for one volume type."""

    name: str
    volume_type_id: str | None = None

    def label(self, type_names: Mapping[str, str]) -> str:
        """The name clients use: ``volumes``, or ``volumes_<type name>``.

        Args:
            type_names: volume type names by id.

        Returns:
            The label (the type's id in place of a name it no longer has).
        """
        if self.volume_type_id is None:
            return self.name
        return f"{self.name}_{type_names.get(self.volume_type_id, self.volume_type_id)}"

    @property
    def is_gigabytes(self) -> bool:
        return self.name in (GIGABYTES, PER_VOLUME_GIGABYTES)


def base_resources() -> list[QuotaResource]:
    """The four resources every project has, in Cinder's order."""
    return [QuotaResource(name) for name in BASE_RESOURCES]


def type_resources(volume_type_id: str) -> list[QuotaResource]:
    """The three resources of one volume type."""
    return [QuotaResource(name, volume_type_id) for name in PER_TYPE_RESOURCES]


def resources_by_label(type_ids: Mapping[str, str]) -> dict[str, QuotaResource]:
    """Every resource a quota set may name, by label.

    Args:
        type_ids: volume type ids by name (the types that may have limits).

    Returns:
        ``{"volumes": ..., "volumes_gold": ..., ...}``.
    """
    found = {r.name: r for r in base_resources()}
    for type_name, type_id in type_ids.items():
        for resource in type_resources(type_id):
            found[f"{resource.name}_{type_name}"] = resource
    return found


@dataclass(slots=True)
class QuotaUsage:
    """What a project holds, counted from its rows.

    ``in_use`` is what its volumes and snapshots hold; ``reserved`` is the growth of
    its extends still running (the volume rows keep their old size until the
    backend has grown them).
    """

    in_use: dict[QuotaResource, int] = field(default_factory=dict)
    reserved: dict[QuotaResource, int] = field(default_factory=dict)

    def used(self, resource: QuotaResource) -> int:
        """In use plus reserved: what a new request is added to."""
        return self.in_use.get(resource, 0) + self.reserved.get(resource, 0)


def count_usage(
    *,
    volumes: Iterable[tuple[str | None, int, int]],
    snapshots: Iterable[tuple[str | None, int, int]],
    growth: Iterable[tuple[str | None, int]],
) -> QuotaUsage:
    """Add up counted rows into usage.

    Args:
        volumes: (volume type id, count, GiB) per type of the counted volumes.
        snapshots: the same for the counted snapshots (by their volume's type).
        growth: (volume type id, GiB) of each extend still running.

    Returns:
        The usage, per base resource and per type.
    """
    usage = QuotaUsage()
    for kind, rows in ((VOLUMES, volumes), (SNAPSHOTS, snapshots)):
        for type_id, count, gib in rows:
            _add(usage.in_use, kind, type_id, count)
            _add(usage.in_use, GIGABYTES, type_id, gib)
    for type_id, gib in growth:
        _add(usage.reserved, GIGABYTES, type_id, gib)
    return usage


def _add(into: dict[QuotaResource, int], name: str, type_id: str | None, amount: int) -> None:
    keys = [QuotaResource(name)]
    if type_id is not None:
        keys.append(QuotaResource(name, type_id))
    for key in keys:
        into[key] = into.get(key, 0) + amount


@dataclass(frozen=True, slots=True)
class QuotaDeltas:
    """What one request adds to a project (the argument of the quota check).

    ``volume_size_gib`` is the size of a volume being created or grown, checked
    against ``per_volume_gigabytes``; ``volume_type_id`` puts the amounts on that
    type's resources as well.
    """

    volumes: int = 0
    snapshots: int = 0
    gigabytes: int = 0
    volume_type_id: str | None = None
    volume_size_gib: int | None = None
    type_only: bool = False
    """Only the type's resources grow (a retype: the project's totals stay the same)."""

    @classmethod
    def for_volume(cls, volume: Volume) -> QuotaDeltas:
        """A new volume (created, cloned, managed) of its size and type."""
        return cls(
            volumes=1,
            gigabytes=volume.size_gib,
            volume_type_id=volume.volume_type_id,
            volume_size_gib=volume.size_gib,
        )

    @classmethod
    def for_snapshot(cls, snapshot: Snapshot, *, volume_type_id: str | None) -> QuotaDeltas:
        """A new snapshot (created or managed) of a volume of ``volume_type_id``."""
        return cls(snapshots=1, gigabytes=snapshot.size_gib, volume_type_id=volume_type_id)

    @classmethod
    def for_growth(cls, volume: Volume, new_size_gib: int) -> QuotaDeltas:
        """An extend of ``volume`` to ``new_size_gib``."""
        return cls(
            gigabytes=new_size_gib - volume.size_gib,
            volume_type_id=volume.volume_type_id,
            volume_size_gib=new_size_gib,
        )

    @classmethod
    def for_transfer(cls, volume: Volume, snapshots: Sequence[Snapshot] = ()) -> QuotaDeltas:
        """A volume (and the snapshots that move with it) arriving in another project."""
        return cls(
            volumes=1,
            snapshots=len(snapshots),
            gigabytes=volume.size_gib + sum(s.size_gib for s in snapshots),
            volume_type_id=volume.volume_type_id,
            volume_size_gib=volume.size_gib,
        )

    @classmethod
    def for_retype(
        cls, volume: Volume, new_type_id: str, snapshots: Sequence[Snapshot] = ()
    ) -> QuotaDeltas:
        """``volume`` (with its snapshots) changing to type ``new_type_id``."""
        return cls(
            volumes=1,
            snapshots=len(snapshots),
            gigabytes=volume.size_gib + sum(s.size_gib for s in snapshots),
            volume_type_id=new_type_id,
            type_only=True,
        )

    def amounts(self) -> dict[QuotaResource, int]:
        """The positive amounts per resource (base, then the type's; with ``type_only``,
        the type's alone)."""
        found: dict[QuotaResource, int] = {}
        for name, amount in ((VOLUMES, self.volumes), (SNAPSHOTS, self.snapshots)):
            if amount > 0:
                found[QuotaResource(name)] = amount
        if self.gigabytes > 0:
            found[QuotaResource(GIGABYTES)] = self.gigabytes
        if self.volume_type_id is not None:
            for resource in list(found):
                found[QuotaResource(resource.name, self.volume_type_id)] = found[resource]
                if self.type_only:
                    del found[resource]
        return found


@dataclass(frozen=True, slots=True)
class QuotaExcess:
    """The first resource a request would take past its limit."""

    resource: QuotaResource
    limit: int
    in_use: int
    requested: int


def per_volume_excess(deltas: QuotaDeltas, limit: int) -> QuotaExcess | None:
    """Whether the volume being created or grown is larger than ``per_volume_gigabytes``."""
    size = deltas.volume_size_gib
    if size is None or limit == UNLIMITED or size <= limit:
        return None
    return QuotaExcess(QuotaResource(PER_VOLUME_GIGABYTES), limit, 0, size)


def first_excess(
    amounts: Mapping[QuotaResource, int],
    limits: Mapping[QuotaResource, int],
    usage: QuotaUsage,
) -> QuotaExcess | None:
    """The first resource (in ``amounts`` order) whose usage plus the amount passes its limit.

    Args:
        amounts: what the request adds (QuotaDeltas.amounts).
        limits: the project's limit for each of them.
        usage: what the project holds now.

    Returns:
        The excess, or None when everything fits.
    """
    for resource, amount in amounts.items():
        limit = limits[resource]
        used = usage.used(resource)
        if limit != UNLIMITED and used + amount > limit:
            return QuotaExcess(resource, limit, used, amount)
    return None


def effective_limit(
    resource: QuotaResource,
    *,
    project: Mapping[QuotaResource, int],
    quota_class: Mapping[QuotaResource, int],
    default: int,
) -> int:
    """The project's own limit, else the default quota class's, else ``default``."""
    if resource in project:
        return project[resource]
    return quota_class.get(resource, default)

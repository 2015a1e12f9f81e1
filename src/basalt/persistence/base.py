"""Repository contracts: what the service needs from a store.

The SQL implementation is in ``basalt.persistence.sql``; the contract suite in
tests/contract/test_persistence.py runs against SQLite and PostgreSQL.

Rules every implementation keeps:
- ``save`` writes every field but ``status``; status changes only through
  ``set_status``, an atomic compare-and-set, so concurrent requests cannot both
  win a transition.
- Lists are ordered deterministically (the sort keys, then id) so that
  marker pagination never skips or repeats a row.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from basalt.drivers.types import ChapCredentials
from basalt.model import (
    Attachment,
    AttachStatus,
    Event,
    Operation,
    OperationKind,
    OperationPhase,
    Snapshot,
    SnapshotStatus,
    Volume,
    VolumeStatus,
)
from basalt.model.group import Group, GroupSnapshot, GroupType
from basalt.model.quota import QuotaResource, QuotaUsage
from basalt.model.replication import VolumeReplica
from basalt.model.service import ServiceRecord
from basalt.model.states import GroupSnapshotStatus, GroupStatus
from basalt.model.transfer import Transfer
from basalt.model.volume_type import QosSpecs, VolumeType

SortDirection = Literal["asc", "desc"]
VOLUME_SORT_KEYS = frozenset({"id", "name", "size_gib", "status", "created_at", "updated_at"})
SNAPSHOT_SORT_KEYS = frozenset(
    {"id", "name", "size_gib", "status", "created_at", "updated_at", "volume_id"}
)


@dataclass(frozen=True, slots=True)
class ListQuery:
    """Filters, order and page for a list call.

    ``project_id`` None means every project. ``metadata`` matches resources that
    have every given key with that value. ``marker`` is the id of the last item
    of the previous page; an unknown marker is an error (MarkerNotFoundError).
    """

    project_id: str | None = None
    name: str | None = None
    status: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    volume_id: str | None = None  # snapshots only
    bootable: bool | None = None  # volumes only
    availability_zone: str | None = None  # volumes only
    group_id: str | None = None  # volumes only
    like: dict[str, str] = field(default_factory=dict)
    """Column -> text it must contain (case-sensitive)."""
    limit: int | None = None
    marker: str | None = None
    sort: tuple[tuple[str, SortDirection], ...] = (("created_at", "desc"),)


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """A claimed idempotency key and what it produced."""

    project_id: str
    key: str
    fingerprint: str
    operation_id: str
    resource_id: str
    created_at: datetime


class MarkerNotFoundError(LookupError):
    """The pagination marker names no row; the service turns it into InvalidInputError."""


class VolumeRepository(Protocol):
    def add(self, volume: Volume) -> None: ...
    def get(self, volume_id: str) -> Volume | None: ...
    def find(self, query: ListQuery) -> list[Volume]: ...
    def save(self, volume: Volume) -> None: ...
    def set_status(
        self,
        volume_id: str,
        *,
        expected: Collection[VolumeStatus],
        new: VolumeStatus,
        updated_at: datetime,
    ) -> bool: ...
    def delete(self, volume_id: str) -> None: ...
    def ids(self) -> set[str]: ...
    def in_statuses(self, statuses: Collection[VolumeStatus]) -> list[Volume]: ...
    def on_backend(self, backend: str) -> list[Volume]:
        """Every volume of one backend, oldest first."""
        ...

    def usage(self, project_id: str | None) -> tuple[int, int]:
        """(volume count, GiB) for the project (None: every project)."""
        ...

    def metadata_of(self, project_id: str | None) -> list[dict[str, str]]:
        """The metadata of every volume of the project (None: all) that has any."""
        ...

    def provisioned_gib(self, backend: str, pool: str) -> int: ...
    def count_by_pool(self) -> dict[tuple[str, str], int]:
        """How many volumes each (backend, pool) holds (pools with none are absent)."""
        ...

    def copies_in_progress(self, source_id: str) -> int:
        """Volumes still being created from this volume or snapshot."""
        ...

    def in_group(self, group_id: str) -> list[Volume]:
        """The group's volumes, oldest first."""
        ...


class SnapshotRepository(Protocol):
    def add(self, snapshot: Snapshot) -> None: ...
    def get(self, snapshot_id: str) -> Snapshot | None: ...
    def find(self, query: ListQuery) -> list[Snapshot]: ...
    def save(self, snapshot: Snapshot) -> None: ...
    def set_status(
        self,
        snapshot_id: str,
        *,
        expected: Collection[SnapshotStatus],
        new: SnapshotStatus,
        updated_at: datetime,
    ) -> bool: ...
    def delete(self, snapshot_id: str) -> None: ...
    def ids(self) -> set[str]: ...
    def in_statuses(self, statuses: Collection[SnapshotStatus]) -> list[Snapshot]: ...
    def for_volume(self, volume_id: str) -> list[Snapshot]: ...
    def count_for_volume(self, volume_id: str) -> int: ...
    def in_group_snapshot(self, group_snapshot_id: str) -> list[Snapshot]:
        """The member snapshots of a group snapshot, oldest first."""
        ...


class OperationRepository(Protocol):
    def add(self, operation: Operation) -> None: ...
    def get(self, operation_id: str) -> Operation | None: ...
    def find(
        self,
        *,
        project_id: str | None,
        resource_id: str | None = None,
        limit: int = 100,
        open_only: bool = False,
    ) -> list[Operation]:
        """Newest first."""
        ...

    def save(self, operation: Operation) -> None: ...
    def set_progress(
        self, operation_id: str, *, bytes_done: int, bytes_total: int | None, updated_at: datetime
    ) -> None: ...
    def in_phases(self, phases: Collection[OperationPhase]) -> list[Operation]: ...
    def failures(
        self,
        *,
        project_id: str | None,
        finished_since: datetime,
        resource_id: str | None = None,
        kinds: Collection[OperationKind] | None = None,
    ) -> list[Operation]:
        """Failed or rolled-back operations not dismissed, finished at or after
        ``finished_since``, newest first (finished_at, then id). ``kinds`` None: any."""
        ...

    def dismiss(self, operation_id: str, *, at: datetime) -> bool:
        """Mark a failed or rolled-back operation's message dismissed; False when the
        operation is not one, or was dismissed before."""
        ...


class ServiceRepository(Protocol):
    def get(self, backend: str) -> ServiceRecord | None: ...
    def all(self) -> list[ServiceRecord]:
        """Every record, by backend name."""
        ...

    def put(self, record: ServiceRecord) -> None:
        """Store ``record``, replacing the backend's previous one."""
        ...


class ReplicaRepository(Protocol):
    """Replicated volumes' records (basalt.model.replication.VolumeReplica)."""

    def get(self, volume_id: str) -> VolumeReplica | None: ...
    def for_backend(self, backend: str) -> list[VolumeReplica]:
        """Every record of the backend's volumes, by volume id."""
        ...

    def put(self, replica: VolumeReplica) -> None:
        """Store ``replica``, replacing the volume's previous record."""
        ...

    def delete(self, volume_id: str) -> None:
        """Remove the volume's record (nothing if it has none)."""
        ...


class VolumeTypeRepository(Protocol):
    def add(self, volume_type: VolumeType) -> bool:
        """Insert it unless a type of that name exists; True when inserted."""
        ...

    def get(self, type_id: str) -> VolumeType | None: ...
    def get_by_name(self, name: str) -> VolumeType | None: ...
    def find(self, *, project_id: str | None) -> list[VolumeType]:
        """By name: the public types and the private ones ``project_id`` may use
        (None: every type)."""
        ...

    def save(self, volume_type: VolumeType) -> bool:
        """Write every field; False when another type already has its (new) name."""
        ...

    def delete(self, type_id: str) -> None:
        """Remove the type and its access rows."""
        ...

    def projects(self, type_id: str) -> list[str]:
        """The projects that may use a private type, sorted."""
        ...

    def grant(self, type_id: str, project_id: str) -> bool:
        """Let the project use the type; False when it already could."""
        ...

    def revoke(self, type_id: str, project_id: str) -> bool:
        """Take the project's access away; False when it had none."""
        ...

    def volume_count(self, type_id: str) -> int:
        """How many volumes have this type."""
        ...

    def with_qos(self, qos_specs_id: str) -> list[VolumeType]:
        """The types associated with a QoS spec."""
        ...


class QosSpecsRepository(Protocol):
    def add(self, qos: QosSpecs) -> bool:
        """Insert it unless a QoS spec of that name exists; True when inserted."""
        ...

    def get(self, qos_id: str) -> QosSpecs | None: ...
    def find(self) -> list[QosSpecs]:
        """Every QoS spec, by name."""
        ...

    def save(self, qos: QosSpecs) -> None: ...
    def delete(self, qos_id: str) -> None: ...


class TransferRepository(Protocol):
    """Transfers. Changes of who holds one are compare-and-sets on its row, so two
    accepts (or an accept and a cancel) cannot both win."""

    def add(self, transfer: Transfer) -> None: ...
    def get(self, transfer_id: str) -> Transfer | None: ...
    def find(
        self, *, project_id: str | None, volume_id: str | None = None, accepted: bool = False
    ) -> list[Transfer]:
        """Transfers offered by the project (None: every project), newest first (created_at,
        then id); ``accepted`` False: the ones not accepted, True: the accepted ones."""
        ...

    def claim(self, transfer_id: str, *, destination_project_id: str) -> bool:
        """Mark an open transfer as being accepted by the project; False when it is not open."""
        ...

    def release(self, transfer_id: str, *, destination_project_id: str) -> bool:
        """Undo a claim by that project (the transfer is open again); False when it held none."""
        ...

    def mark_accepted(self, transfer_id: str, *, destination_project_id: str) -> bool:
        """Record that the project holding the claim accepted it; False when it held none."""
        ...

    def withdraw(self, transfer_id: str, *, claimed_by: str | None = None) -> bool:
        """Remove a transfer that is not accepted and is claimed by ``claimed_by`` (None: not
        claimed at all); False when it is not so."""
        ...

    def claimed(self) -> list[Transfer]:
        """Transfers claimed by an accept that has not finished, oldest first."""
        ...


class GroupTypeRepository(Protocol):
    def add(self, group_type: GroupType) -> bool:
        """Insert it unless a group type of that name exists; True when inserted."""
        ...

    def get(self, type_id: str) -> GroupType | None: ...
    def get_by_name(self, name: str) -> GroupType | None: ...
    def find(self, *, public_only: bool) -> list[GroupType]:
        """Every group type (only the public ones when ``public_only``), by name."""
        ...

    def save(self, group_type: GroupType) -> bool:
        """Write every field; False when another group type already has its (new) name."""
        ...

    def delete(self, type_id: str) -> None: ...
    def group_count(self, type_id: str) -> int:
        """How many groups have this type."""
        ...


class GroupRepository(Protocol):
    def add(self, group: Group) -> None: ...
    def get(self, group_id: str) -> Group | None: ...
    def find(self, *, project_id: str | None) -> list[Group]:
        """The project's groups (None: every project's), newest first (created_at, then id)."""
        ...

    def served_elsewhere(self, *, backend: str | None = None) -> list[Group]:
        """The groups with a replication target recorded (failed over, failing over, or
        half-way), of one backend if given, newest first."""
        ...

    def save(self, group: Group) -> None:
        """Write every field but ``status``."""
        ...

    def set_status(
        self,
        group_id: str,
        *,
        expected: Collection[GroupStatus],
        new: GroupStatus,
        updated_at: datetime,
    ) -> bool: ...
    def delete(self, group_id: str) -> None: ...
    def in_statuses(self, statuses: Collection[GroupStatus]) -> list[Group]: ...


class GroupSnapshotRepository(Protocol):
    def add(self, snapshot: GroupSnapshot) -> None: ...
    def get(self, group_snapshot_id: str) -> GroupSnapshot | None: ...
    def find(self, *, project_id: str | None, group_id: str | None = None) -> list[GroupSnapshot]:
        """The project's (None: every project's) group snapshots, of one group if given,
        newest first (created_at, then id)."""
        ...

    def save(self, snapshot: GroupSnapshot) -> None:
        """Write every field but ``status``."""
        ...

    def set_status(
        self,
        group_snapshot_id: str,
        *,
        expected: Collection[GroupSnapshotStatus],
        new: GroupSnapshotStatus,
        updated_at: datetime,
    ) -> bool: ...
    def delete(self, group_snapshot_id: str) -> None: ...
    def in_statuses(self, statuses: Collection[GroupSnapshotStatus]) -> list[GroupSnapshot]: ...


class EventRepository(Protocol):
    def add(self, event: Event) -> None: ...
    def timeline(self, *, resource_kind: str, resource_id: str, limit: int = 1000) -> list[Event]:
        """Oldest first."""
        ...


class IdempotencyRepository(Protocol):
    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord:
        """Store ``record`` unless (project_id, key) exists; return what is stored."""
        ...

    def get(self, project_id: str, key: str) -> IdempotencyRecord | None: ...


class AttachmentRepository(Protocol):
    def add(self, attachment: Attachment) -> None: ...
    def get(self, attachment_id: str) -> Attachment | None: ...
    def save(self, attachment: Attachment) -> None: ...
    def set_status(
        self,
        attachment_id: str,
        *,
        expected: Collection[AttachStatus],
        new: AttachStatus,
        updated_at: datetime,
    ) -> bool: ...
    def delete(self, attachment_id: str) -> None: ...
    def for_volume(self, volume_id: str) -> list[Attachment]: ...
    def for_volumes(self, volume_ids: Collection[str]) -> dict[str, list[Attachment]]:
        """Each volume's attachments, oldest first, read in one query (per IN_CHUNK ids);
        every id asked for is a key, with an empty list when it has none."""
        ...

    def find(
        self, *, project_id: str | None, volume_id: str | None = None, limit: int | None = None
    ) -> list[Attachment]: ...
    def in_statuses(self, statuses: Collection[AttachStatus]) -> list[Attachment]: ...


class CredentialRepository(Protocol):
    def get(self, project_id: str) -> ChapCredentials | None: ...
    def claim(
        self, project_id: str, credentials: ChapCredentials, *, created_at: datetime
    ) -> ChapCredentials:
        """Store ``credentials`` unless the project has some; return what is stored."""
        ...


class QuotaRepository(Protocol):
    """Stored limits, the usage counted from the rows, and the per-project lock that
    makes count-then-insert atomic."""

    def lock(self, project_id: str) -> None:
        """Serialise quota checks of ``project_id`` until this transaction ends.

        Call it inside a write transaction, before counting. SQLite's write
        transactions already run one at a time (BEGIN IMMEDIATE); PostgreSQL takes a
        transaction-scoped advisory lock on the project.
        """
        ...

    def limits(self, project_id: str) -> dict[QuotaResource, int]:
        """The project's own limits (only those set)."""
        ...

    def set_limits(
        self, project_id: str, limits: Mapping[QuotaResource, int], *, at: datetime
    ) -> None:
        """Store the project's limit for each resource given (the others stay)."""
        ...

    def clear(self, project_id: str) -> int:
        """Remove every limit of the project; how many there were."""
        ...

    def class_limits(self, class_name: str) -> dict[QuotaResource, int]:
        """The quota class's limits (only those set)."""
        ...

    def limits_and_class(
        self, project_id: str, class_name: str
    ) -> tuple[dict[QuotaResource, int], dict[QuotaResource, int]]:
        """``limits(project_id)`` and ``class_limits(class_name)`` at once."""
        ...

    def set_class_limits(
        self, class_name: str, limits: Mapping[QuotaResource, int], *, at: datetime
    ) -> None:
        """Store the class's limit for each resource given (the others stay)."""
        ...

    def usage(self, project_id: str) -> QuotaUsage:
        """What the project holds, counted from its volume and snapshot rows (all but
        those being deleted), with the growth of its running extends as reserved."""
        ...


class Transaction(Protocol):
    """One atomic unit of work; commits on clean exit, rolls back on error."""

    volumes: VolumeRepository
    snapshots: SnapshotRepository
    operations: OperationRepository
    events: EventRepository
    idempotency: IdempotencyRepository
    attachments: AttachmentRepository
    credentials: CredentialRepository
    services: ServiceRepository
    replicas: ReplicaRepository
    volume_types: VolumeTypeRepository
    qos_specs: QosSpecsRepository
    transfers: TransferRepository
    quotas: QuotaRepository
    group_types: GroupTypeRepository
    groups: GroupRepository
    group_snapshots: GroupSnapshotRepository


class Database(Protocol):
    """A store opened by URL."""

    url: str

    def transaction(self, *, write: bool = True) -> AbstractContextManager[Transaction]:
        """Open a unit of work.

        ``write=True`` takes the write lock at the start (SQLite: BEGIN IMMEDIATE),
        so a read-then-write sequence never fails half-way on a lock upgrade.
        ``write=False`` is for reads only.
        """
        ...

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        ...

    def close(self) -> None: ...


IN_CHUNK = 500
"""Ids per IN clause: far below SQLite's and PostgreSQL's limits on bound parameters."""


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """Split a sequence for IN clauses that databases limit in length."""
    for start in range(0, len(items), size):
        yield items[start : start + size]

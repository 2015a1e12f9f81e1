"""The driver interface: one abstract base plus a Protocol per optional feature.

The service checks ``isinstance(driver, SupportsManage)`` and answers a clear
NotSupportedError instead of calling a stub. Every method may raise
:class:`basalt.errors.DriverError` (or a subclass); vendor errors are translated
inside the driver.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from basalt.drivers.types import (
    BackendStats,
    ConnectionInfo,
    Connector,
    DriverUpdate,
    ExportSpec,
    GroupCut,
    GroupRef,
    ManageableObject,
    ProgressCallback,
    ReplicationTarget,
    Shipment,
    SnapshotRef,
    StoredObjects,
    VolumeRef,
)


class VolumeDriver(ABC):
    """What every backend does.

    Deletes are idempotent: deleting what is already gone succeeds. Creates are
    atomic from the outside: after a crash, an object either exists whole
    (``volume_exists`` is true) or not at all, once ``cleanup_incomplete`` ran.
    """

    driver_name: str = "abstract"

    def __init__(self, *, backend_name: str) -> None:
        self.backend_name = backend_name

    @abstractmethod
    def setup(self) -> None:
        """Prepare the backend for use (create directories, log in, ...).

        Raises:
            DriverError: the backend cannot be used.
        """

    @abstractmethod
    def check_setup(self) -> None:
        """Verify that the backend is usable without changing it.

        Raises:
            DriverError: it is not, with the reason.
        """

    @abstractmethod
    def get_stats(self) -> BackendStats:
        """Report capacity and capabilities of every pool."""

    @abstractmethod
    def create_volume(self, volume: VolumeRef) -> DriverUpdate:
        """Create an empty volume of ``volume.size_gib``."""

    @abstractmethod
    def delete_volume(self, volume: VolumeRef) -> None:
        """Delete a volume; succeeds if it does not exist."""

    @abstractmethod
    def extend_volume(self, volume: VolumeRef, new_size_gib: int) -> None:
        """Grow a volume to ``new_size_gib``; succeeds if it is already that size."""

    @abstractmethod
    def create_snapshot(self, snapshot: SnapshotRef, volume: VolumeRef) -> DriverUpdate:
        """Capture the volume's current bytes as ``snapshot``."""

    @abstractmethod
    def delete_snapshot(self, snapshot: SnapshotRef) -> None:
        """Delete a snapshot; succeeds if it does not exist."""

    @abstractmethod
    def create_volume_from_snapshot(
        self, volume: VolumeRef, snapshot: SnapshotRef, *, progress: ProgressCallback
    ) -> DriverUpdate:
        """Create ``volume`` holding the snapshot's bytes (grown to volume.size_gib)."""

    @abstractmethod
    def clone_volume(
        self, volume: VolumeRef, source: VolumeRef, *, progress: ProgressCallback
    ) -> DriverUpdate:
        """Create ``volume`` holding the source's bytes (grown to volume.size_gib)."""

    @abstractmethod
    def connect(
        self, volume: VolumeRef, connector: Connector, export: ExportSpec
    ) -> ConnectionInfo:
        """Export ``volume`` as ``export`` says and return what ``connector``'s host needs.

        ``export`` is the whole export after this connect: every initiator that may
        log in (this connector's among them), the project's CHAP credentials, and
        whether it is read-only. Connecting again with the same arguments changes
        nothing and returns the same information.

        Raises:
            InvalidInputError: the connector cannot be served (e.g. local attach from
                another host).
            DriverError, ExportError: the backend could not export it.
        """

    @abstractmethod
    def disconnect(
        self, volume: VolumeRef, connector: Connector | None, remaining: ExportSpec
    ) -> None:
        """Stop serving ``connector``'s host (every host when None).

        ``remaining`` is the export that other attachments still need; when it is
        empty the export is removed. Succeeds when nothing was exported.

        Raises:
            DriverError, ExportError: the backend could not change the export.
        """

    @abstractmethod
    def ensure_exports(self, exports: Mapping[str, tuple[VolumeRef, ExportSpec]]) -> Sequence[str]:
        """Make the backend export exactly these volumes (by id), as at start after a restart.

        Exports of Basalt volumes not listed are removed. Returns what was changed,
        one line each, for the log.

        Raises:
            DriverError, ExportError: an export could not be re-created.
        """

    @abstractmethod
    def volume_exists(self, volume: VolumeRef) -> bool:
        """Whether the volume exists whole on the backend (used after a crash)."""

    @abstractmethod
    def snapshot_exists(self, snapshot: SnapshotRef) -> bool:
        """Whether the snapshot exists whole on the backend (used after a crash)."""

    @abstractmethod
    def cleanup_incomplete(self) -> Sequence[str]:
        """Remove partial objects a crash left behind; return what was removed."""

    @abstractmethod
    def list_stored_objects(self) -> StoredObjects:
        """Every volume and snapshot present under Basalt's naming."""

    def close(self) -> None:  # noqa: B027 - optional hook; most drivers hold nothing
        """Release what the driver holds (sessions, threads). Called once, at shutdown."""


@runtime_checkable
class SupportsManage(Protocol):
    """Adopt existing backend objects (manage) and release them (unmanage)."""

    def manage_volume_get_size(self, pool: str, reference: Mapping[str, str]) -> int:
        """Size in GiB (rounded up) of the object ``reference`` names.

        Raises:
            ManageExistingInvalidReferenceError: the reference names nothing usable.
        """
        ...

    def manage_volume(self, volume: VolumeRef, reference: Mapping[str, str]) -> DriverUpdate:
        """Make the referenced object ``volume``; return its rounded size."""
        ...

    def unmanage_volume(self, volume: VolumeRef) -> None:
        """Stop managing ``volume``; its data stays on the backend."""
        ...

    def list_manageable_volumes(self, pool: str) -> Sequence[ManageableObject]:
        """Volumes on the backend, with whether each could be managed."""
        ...

    def manage_snapshot_get_size(self, pool: str, reference: Mapping[str, str]) -> int:
        """Size in GiB (rounded up) of the snapshot ``reference`` names."""
        ...

    def manage_snapshot(
        self, snapshot: SnapshotRef, volume: VolumeRef, reference: Mapping[str, str]
    ) -> DriverUpdate:
        """Make the referenced object ``snapshot`` of ``volume``."""
        ...

    def unmanage_snapshot(self, snapshot: SnapshotRef) -> None:
        """Stop managing ``snapshot``; its data stays on the backend."""
        ...

    def list_manageable_snapshots(self, pool: str) -> Sequence[ManageableObject]:
        """Snapshots on the backend, with whether each could be managed."""
        ...


@runtime_checkable
class SupportsQoS(Protocol):
    """Enforce back-end QoS specs (``VolumeRef.qos``) on the volumes it makes and grows."""

    def check_qos(self, specs: Mapping[str, str], *, size_gib: int) -> None:
        """Check the specs mean something to this backend, before any volume is made.

        Raises:
            InvalidInputError: a key or value the backend cannot apply, named.
        """
        ...


@runtime_checkable
class SupportsRevert(Protocol):
    """Revert a volume in place to one of its snapshots."""

    def revert_volume_to_snapshot(
        self, volume: VolumeRef, snapshot: SnapshotRef, *, progress: ProgressCallback
    ) -> None:
        """Make the volume's data that of ``snapshot``, keeping the volume's size.

        Atomic from the outside: when it raises, the volume holds what it held
        before; running it again after a crash gives the same result. Bytes past
        the snapshot's size (the volume was extended since) read as zeros.

        Raises:
            DriverError: the volume or snapshot is missing, or the backend failed.
        """
        ...


@runtime_checkable
class SupportsDataAccess(Protocol):
    """Give Basalt itself the volume's bytes as a local path (generic migration copies
    between two such paths)."""

    def data_path(self, volume: VolumeRef) -> Path:
        """A path on this host to read and write the volume's bytes (it is not attached
        anywhere while Basalt copies).

        Raises:
            DriverError: the volume is missing.
        """
        ...


@runtime_checkable
class SupportsMigration(Protocol):
    """Move a volume to another pool of the same backend without copying through Basalt."""

    def migrate_volume(self, volume: VolumeRef, dest_pool: str) -> DriverUpdate | None:
        """Move the volume's object to ``dest_pool``, atomically; None when this pair of
        pools cannot (Basalt then copies the data itself).

        Raises:
            DriverError: the move was possible but failed (the volume is still where it was).
        """
        ...


@runtime_checkable
class SupportsProviderInfo(Protocol):
    """Tell Basalt, at start, which stored provider locations the backend now names
    differently (Cinder's update_provider_info)."""

    def update_provider_info(
        self, volumes: Sequence[VolumeRef], snapshots: Sequence[SnapshotRef]
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The provider locations that changed.

        Args:
            volumes, snapshots: the backend's objects with the locations Basalt stored.

        Returns:
            (volume id -> new location, snapshot id -> new location), changed ones only.

        Raises:
            DriverError: the backend could not be listed.
        """
        ...


@runtime_checkable
class SupportsTransfer(Protocol):
    """Hand a volume (with its snapshots) to another project on the backend, for backends
    that keep objects per project. Backends that do not (the file driver) need no hook:
    a transfer then only changes Basalt's records."""

    def accept_transfer(self, volume: VolumeRef, new_project_id: str) -> DriverUpdate | None:
        """Make the backend hold ``volume`` for ``new_project_id`` instead of
        ``volume.project_id``.

        Idempotent: when the volume is the new project's already (a re-run after a
        crash), nothing changes. Calling it again with the projects swapped (the ref
        with the new project, the old project as ``new_project_id``) undoes it.

        Returns:
            What changed in the volume's record (its provider_location), or None.

        Raises:
            DriverError: the volume is missing or the backend refused.
        """
        ...


@runtime_checkable
class SupportsRetype(Protocol):
    """Change a volume's type in place (the volume stays where it is)."""

    def retype(
        self, volume: VolumeRef, *, new_specs: Mapping[str, str], new_qos: Mapping[str, str]
    ) -> bool:
        """Make the volume what its new type asks for; False when this backend cannot in
        place (Basalt then migrates it, if the caller allowed that).

        Args:
            volume: the volume, with its current type's QoS in ``volume.qos``.
            new_specs: the new type's extra specs.
            new_qos: the new type's back-end QoS specs (empty: none).

        Raises:
            DriverError: the backend refused (the volume keeps its old settings).
        """
        ...


@runtime_checkable
class SupportsGroups(Protocol):
    """Groups of volumes and group snapshots taken as one cut.

    Every volume of a group is on this backend. A backend that keeps nothing per group
    (the file driver) makes create/update/delete of a group no-ops; the group
    snapshot is what needs the backend.
    """

    def create_group(self, group: GroupRef) -> None:
        """Make whatever the backend keeps for a group (idempotent).

        Raises:
            DriverError: the backend refused.
        """
        ...

    def update_group(
        self, group: GroupRef, *, add: Sequence[VolumeRef], remove: Sequence[VolumeRef]
    ) -> None:
        """Add volumes to the group and remove others (idempotent).

        Raises:
            DriverError: the backend refused (nothing changed).
        """
        ...

    def delete_group(self, group: GroupRef) -> None:
        """Remove what the backend keeps for the group (not its volumes); succeeds when
        it is gone."""
        ...

    def create_group_snapshot(
        self, group: GroupRef, members: Sequence[tuple[SnapshotRef, VolumeRef]]
    ) -> GroupCut:
        """Snapshot every member as one point in time: no write that completes after
        the cut began on one member is in its snapshot while a write that completed
        earlier on another member is missing from that one's.

        Atomic from the outside: when it raises, no member snapshot exists.

        Raises:
            DriverError, ExportError: a copy failed or I/O could not be paused.
        """
        ...

    def delete_group_snapshot(self, group: GroupRef, snapshots: Sequence[SnapshotRef]) -> None:
        """Delete every member snapshot; succeeds for those already gone."""
        ...

    def create_group_from_src(
        self,
        group: GroupRef,
        members: Sequence[tuple[VolumeRef, VolumeRef | SnapshotRef]],
        *,
        progress: ProgressCallback,
    ) -> GroupCut:
        """Create each new volume from its source: a member snapshot of a group snapshot,
        or a volume of a source group, copied as one cut like a group snapshot. Each new
        volume gets its own size (at least its source's).

        Atomic from the outside: when it raises, no new volume exists.

        Raises:
            DriverError, ExportError: a copy failed or I/O could not be paused.
        """
        ...


@runtime_checkable
class SupportsReplication(Protocol):
    """Keep secondary copies of replicated volumes and serve from them on failover
    (Cinder's replication_device, failover_host, freeze_backend/thaw_backend).

    Replication is asynchronous: Basalt calls :meth:`replicate_volume` every
    target's interval, so a failover loses what was written since the last
    completed shipment.
    """

    def replication_targets(self) -> tuple[ReplicationTarget, ...]:
        """The configured targets; empty when the backend does not replicate."""
        ...

    def active_backend_id(self) -> str | None:
        """The target it serves from now; None for its own (primary) storage."""
        ...

    def replicate_volume(self, volume: VolumeRef, backend_id: str) -> Shipment:
        """Ship what changed since the last shipment (everything, the first time).

        Atomic at the secondary: after a failure or a crash it holds the last
        completed shipment, never a mix.

        Raises:
            NotSupportedError: no such target. DriverError: the shipment failed.
        """
        ...

    def delete_replica(self, volume: VolumeRef, backend_id: str) -> None:
        """Remove the volume's secondary copy (idempotent)."""
        ...

    def failover(self, backend_id: str, volumes: Sequence[VolumeRef]) -> Sequence[str]:
        """Serve ``volumes`` (the replicated ones) from ``backend_id``; idempotent.

        Returns:
            What recovery did, one line each.

        Raises:
            NotSupportedError: no such target. DriverError: the copies cannot be used.
        """
        ...

    def failback(
        self, backend_id: str, volumes: Sequence[VolumeRef], *, progress: ProgressCallback
    ) -> int:
        """Copy ``volumes`` back from ``backend_id`` and serve from the primary again.

        Returns:
            The bytes copied back.

        Raises:
            DriverError: a copy failed; the backend still serves from ``backend_id``.
        """
        ...

    def serve_from(self, backend_id: str | None) -> None:
        """Serve from ``backend_id`` (None: primary) without moving data (at start)."""
        ...

    def freeze(self) -> None:
        """The backend is frozen: hold what the backend itself must hold (often nothing)."""
        ...

    def thaw(self) -> None:
        """The backend is thawed."""
        ...


@runtime_checkable
class SupportsGroupReplication(Protocol):
    """Fail some volumes over (a group's) while the rest of the backend stays on its
    primary storage (Cinder's failover_replication of a replicated group).

    A driver with this also has :class:`SupportsReplication`; Basalt pauses the
    backend's shipments while these run.
    """

    def failover_volumes(self, backend_id: str, volumes: Sequence[VolumeRef]) -> Sequence[str]:
        """Serve ``volumes`` from their copies at ``backend_id``; idempotent.

        Returns:
            What recovery did, one line each.

        Raises:
            NotSupportedError: no such target. DriverError: a copy cannot be used
                (the volumes switched before it stay switched: see :meth:`serving_target`).
        """
        ...

    def failback_volumes(
        self, backend_id: str, volumes: Sequence[VolumeRef], *, progress: ProgressCallback
    ) -> int:
        """Copy the ``volumes`` served from ``backend_id`` back and serve them from the
        primary again; volumes already served from the primary are left alone.

        Returns:
            The bytes copied back.

        Raises:
            DriverError: a copy failed; that volume still serves from ``backend_id``.
        """
        ...

    def serve_volumes_from(self, backend_id: str | None, volumes: Sequence[VolumeRef]) -> None:
        """Serve ``volumes`` from ``backend_id`` (None: primary) without moving data (at start)."""
        ...

    def serving_target(self, volume: VolumeRef) -> str | None:
        """The target the volume is served from now; None: the primary."""
        ...

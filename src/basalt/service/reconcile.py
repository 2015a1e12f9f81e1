"""Start-up reconciliation: resolve work that a crash interrupted.

For every operation still pending or running, ask the driver what exists and
either finish the work or roll it back. Deletes, extends, reverts and transfer
accepts are re-driven (drivers make them idempotent); creates are finished when the object exists
whole and rolled back (partial objects removed, the resource set to an error
status that says why) when it does not. Afterwards no volume or snapshot is in
a transitional status, and each backend's partial files are gone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from basalt.errors import BasaltError
from basalt.model import (
    EventKind,
    Operation,
    OperationKind,
    OperationPhase,
    Snapshot,
    SnapshotStatus,
    Volume,
    VolumeStatus,
)
from basalt.model.states import (
    GROUP_SNAPSHOT_STRANDED,
    GROUP_STRANDED,
    OPERATION_OPEN,
    SNAPSHOT_BUSY,
    SNAPSHOT_STRANDED,
    VOLUME_BUSY,
    VOLUME_STRANDED,
)
from basalt.service.attachments import ATTACH_OWNED, AttachmentService
from basalt.service.group_recovery import redrive_group
from basalt.service.group_replication import GroupReplicationService
from basalt.service.group_snapshots import GroupSnapshotService
from basalt.service.groups import GroupService
from basalt.service.journal import (
    move_group,
    move_group_snapshot,
    move_snapshot,
    move_volume,
    record,
)
from basalt.service.manage import ManageService
from basalt.service.provider_info import refresh_provider_info
from basalt.service.refs import snapshot_ref, volume_ref
from basalt.service.replication import ReplicationService
from basalt.service.runner import OperationScope, mark_phase
from basalt.service.snapshots import SnapshotService
from basalt.service.transfer_accept import TransferAccept
from basalt.service.types import backend_qos
from basalt.service.volumes import VolumeService, status_after_extend

log = logging.getLogger(__name__)
V = VolumeStatus
S = SnapshotStatus
K = OperationKind
INTERRUPTED = "interrupted by a service restart"
LOST = "the backend no longer holds this object (lost in a power failure or removed by hand)"
CREATES = {K.CREATE_VOLUME, K.CLONE_VOLUME, K.CREATE_VOLUME_FROM_SNAPSHOT}
GROUP_KINDS = {
    K.CREATE_GROUP,
    K.CREATE_GROUP_FROM_SRC,
    K.UPDATE_GROUP,
    K.DELETE_GROUP,
    K.CREATE_GROUP_SNAPSHOT,
    K.DELETE_GROUP_SNAPSHOT,
}


@dataclass
class ReconcileReport:
    """What reconciliation did, for the log and for tests."""

    finished: list[str] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    removed_partials: list[str] = field(default_factory=list)
    unknown_objects: list[str] = field(default_factory=list)
    stuck_resources: list[str] = field(default_factory=list)
    lost_objects: list[str] = field(default_factory=list)
    exports: list[str] = field(default_factory=list)
    """Targets re-created (or removed) so the backends export what the database says."""
    provider_locations: list[str] = field(default_factory=list)
    """Volumes and snapshots whose stored provider location a backend corrected."""


class Reconciler:
    """Resolves interrupted operations against what the backends hold."""

    def __init__(
        self,
        *,
        volumes: VolumeService,
        snapshots: SnapshotService,
        manage: ManageService,
        attachments: AttachmentService,
        transfers: TransferAccept,
        groups: GroupService | None = None,
        group_snapshots: GroupSnapshotService | None = None,
        replication: ReplicationService | None = None,
        group_replication: GroupReplicationService | None = None,
    ) -> None:
        self.volumes = volumes
        self.groups = groups
        self.group_snapshots = group_snapshots
        self.replication = replication
        self.group_replication = group_replication
        self.transfers = transfers
        self.snapshots = snapshots
        self.manage = manage
        self.attachments = attachments
        self.db = volumes.db
        self.pools = volumes.pools

    def run(self) -> ReconcileReport:
        """Resolve everything; safe to run on every start."""
        report = ReconcileReport()
        for backend in self.pools.backend_names:
            report.removed_partials += self.pools.driver(backend).cleanup_incomplete()
        with self.db.transaction(write=False) as tx:
            open_ops = sorted(tx.operations.in_phases(OPERATION_OPEN), key=lambda o: o.created_at)
        for operation in open_ops:
            self._resolve(operation, report)
        report.stuck_resources += self.transfers.release_orphan_claims()
        self._settle_leftovers(report)
        self._find_unknown_objects(report)
        report.provider_locations = refresh_provider_info(self.db, self.pools)
        noteworthy = (
            report.finished,
            report.rolled_back,
            report.unknown_objects,
            report.lost_objects,
            report.provider_locations,
        )
        if any(noteworthy):
            log.warning("reconciled after restart: %s", report)
        return report

    def _resolve(self, operation: Operation, report: ReconcileReport) -> None:
        scope = OperationScope(operation=operation, db=self.db)
        if operation.phase == OperationPhase.PENDING:
            mark_phase(operation, OperationPhase.RUNNING)
        try:
            finished = self._redrive(operation, scope)
        except BasaltError as exc:
            log.error("could not resolve operation %s: %s", operation.id, exc)
            self._close(scope, OperationPhase.FAILED, f"{INTERRUPTED}; then: {exc}")
            report.rolled_back.append(operation.id)
            return
        phase = OperationPhase.SUCCEEDED if finished else OperationPhase.ROLLED_BACK
        self._close(scope, phase, f"{INTERRUPTED}; " + ("finished" if finished else "rolled back"))
        (report.finished if finished else report.rolled_back).append(operation.id)

    def _redrive(self, operation: Operation, scope: OperationScope) -> bool:
        """Finish or undo one operation; True when it was finished."""
        if operation.kind in (K.FAILOVER_GROUP, K.FAILBACK_GROUP):
            assert self.group_replication is not None
            return self.group_replication.recover(operation, scope)
        if operation.kind in GROUP_KINDS:
            assert self.groups is not None and self.group_snapshots is not None
            return redrive_group(self.groups, self.group_snapshots, operation, scope)
        with self.db.transaction(write=False) as tx:
            volume = tx.volumes.get(operation.resource_id)
            snapshot = tx.snapshots.get(operation.resource_id)
        kind = operation.kind
        if kind in CREATES or kind == K.MANAGE_VOLUME:
            return volume is None or self._settle_created_volume(scope, volume)
        if kind == K.DELETE_VOLUME:
            if volume is not None:
                with self.db.transaction(write=False) as tx:
                    snaps = [
                        s for s in tx.snapshots.for_volume(volume.id) if s.status == S.DELETING
                    ]
                self.volumes.run_delete(scope, volume, snaps)
            return True
        if kind == K.EXTEND_VOLUME:
            return volume is None or self._redrive_extend(scope, volume, operation)
        if kind == K.UNMANAGE_VOLUME:
            return volume is None or self._settle_unmanaged_volume(scope, volume)
        if kind == K.MIGRATE_VOLUME:
            return volume is None or self.volumes.recover_migration(scope, volume)
        if kind == K.RETYPE_VOLUME:
            return volume is None or self.volumes.recover_retype(scope, volume)
        if kind == K.REVERT_VOLUME:
            return volume is None or self._redrive_revert(scope, volume, operation)
        if kind in (K.CREATE_SNAPSHOT, K.MANAGE_SNAPSHOT):
            return snapshot is None or self._settle_created_snapshot(scope, snapshot)
        if kind == K.DELETE_SNAPSHOT:
            if snapshot is not None:
                self.snapshots.run_delete(scope, snapshot, self._volume_of(snapshot))
            return True
        if kind == K.UNMANAGE_SNAPSHOT:
            return snapshot is None or self._settle_unmanaged_snapshot(scope, snapshot)
        if kind in (K.ATTACH_VOLUME, K.DETACH_VOLUME):
            return self.attachments.recover(operation, scope)
        if kind == K.ACCEPT_TRANSFER:
            return self.transfers.recover_accept(operation, scope)
        if kind in (K.FAILOVER_BACKEND, K.FAILBACK_BACKEND) and self.replication is not None:
            return self.replication.recover(operation, scope)
        return True

    def _settle_created_volume(self, scope: OperationScope, volume: Volume) -> bool:
        if volume.status not in (V.CREATING, V.MANAGING):
            return volume.status == V.AVAILABLE
        driver = self.pools.driver(volume.backend)
        if driver.volume_exists(volume_ref(volume)):
            with self.db.transaction() as tx:
                move_volume(
                    tx,
                    volume,
                    V.AVAILABLE,
                    action="finish after restart",
                    operation_id=scope.operation.id,
                    reason=INTERRUPTED,
                )
            return True
        if volume.status == V.CREATING:
            driver.delete_volume(volume_ref(volume))
            with self.db.transaction() as tx:
                move_volume(
                    tx,
                    volume,
                    V.ERROR,
                    action="roll back after restart",
                    operation_id=scope.operation.id,
                    reason=f"{INTERRUPTED} before the backend finished; delete it",
                )
            return False
        with self.db.transaction() as tx:  # managing: the object was never renamed
            tx.volumes.delete(volume.id)
            record(
                tx,
                resource_kind="volume",
                resource_id=volume.id,
                kind=EventKind.NOTE,
                message=f"manage {INTERRUPTED}; nothing was adopted",
                operation_id=scope.operation.id,
            )
        return False

    def _redrive_revert(self, scope: OperationScope, volume: Volume, operation: Operation) -> bool:
        """A revert is idempotent: run it again to the snapshot it named."""
        if volume.status != V.REVERTING:
            return volume.status == V.AVAILABLE
        with self.db.transaction(write=False) as tx:
            snapshot = tx.snapshots.get(str(operation.params.get("snapshot_id")))
        if snapshot is None:  # cannot happen: a restoring snapshot cannot be deleted
            raise BasaltError(f"the snapshot volume {volume.id} was reverting to is gone")
        self.volumes.run_revert(scope, volume, snapshot)
        return True

    def _redrive_extend(self, scope: OperationScope, volume: Volume, operation: Operation) -> bool:
        if volume.status != V.EXTENDING:
            return volume.status in (V.AVAILABLE, V.IN_USE)
        new_size = int(str(operation.params.get("new_size_gib", volume.size_gib)))
        driver = self.pools.driver(volume.backend)
        with self.db.transaction(write=False) as tx:
            qos = backend_qos(tx, volume)
        driver.extend_volume(volume_ref(volume, qos=qos), new_size)
        with self.db.transaction() as tx:
            volume.size_gib = new_size
            tx.volumes.save(volume)
            move_volume(
                tx,
                volume,
                status_after_extend(tx, volume),
                action="finish extending after restart",
                operation_id=scope.operation.id,
                reason=INTERRUPTED,
            )
        return True

    def _settle_unmanaged_volume(self, scope: OperationScope, volume: Volume) -> bool:
        if volume.status != V.DELETING:
            return False
        if self.pools.driver(volume.backend).volume_exists(volume_ref(volume)):
            self.manage.run_unmanage_volume(scope, volume)
        else:
            with self.db.transaction() as tx:
                tx.volumes.delete(volume.id)
        return True

    def _settle_created_snapshot(self, scope: OperationScope, snapshot: Snapshot) -> bool:
        if snapshot.status not in (S.CREATING, S.MANAGING):
            return snapshot.status == S.AVAILABLE
        volume = self._volume_of(snapshot)
        driver = self.pools.driver(volume.backend)
        ref = snapshot_ref(snapshot, volume.pool)
        if driver.snapshot_exists(ref):
            with self.db.transaction() as tx:
                move_snapshot(
                    tx,
                    snapshot,
                    S.AVAILABLE,
                    action="finish after restart",
                    operation_id=scope.operation.id,
                    reason=INTERRUPTED,
                )
            return True
        with self.db.transaction() as tx:
            if snapshot.status == S.CREATING:
                driver.delete_snapshot(ref)
                move_snapshot(
                    tx,
                    snapshot,
                    S.ERROR,
                    action="roll back after restart",
                    operation_id=scope.operation.id,
                    reason=f"{INTERRUPTED} before the backend finished; delete it",
                )
            else:
                tx.snapshots.delete(snapshot.id)
        return False

    def _settle_unmanaged_snapshot(self, scope: OperationScope, snapshot: Snapshot) -> bool:
        volume = self._volume_of(snapshot)
        if self.pools.driver(volume.backend).snapshot_exists(snapshot_ref(snapshot, volume.pool)):
            self.manage.run_unmanage_snapshot(scope, snapshot, volume)
        else:
            with self.db.transaction() as tx:
                tx.snapshots.delete(snapshot.id)
        return True

    def _volume_of(self, snapshot: Snapshot) -> Volume:
        with self.db.transaction(write=False) as tx:
            volume = tx.volumes.get(snapshot.volume_id)
        if volume is None:
            raise BasaltError(f"snapshot {snapshot.id} has no volume {snapshot.volume_id}")
        return volume

    def _close(self, scope: OperationScope, phase: OperationPhase, message: str) -> None:
        operation = scope.operation
        if operation.finished:  # a re-driven body already recorded the outcome
            phase = operation.phase
        else:
            mark_phase(operation, phase)
        operation.message = message
        if phase != OperationPhase.SUCCEEDED:
            operation.error_code = "interrupted"
        with self.db.transaction() as tx:
            scope.flush(tx)

    def _settle_leftovers(self, report: ReconcileReport) -> None:
        """Busy resources that no open operation owns (should not exist) leave their status."""
        report.stuck_resources += self.attachments.settle_all()
        with self.db.transaction() as tx:
            for volume in tx.volumes.in_statuses(VOLUME_BUSY - ATTACH_OWNED):
                move_volume(
                    tx,
                    volume,
                    VOLUME_STRANDED[volume.status],
                    action="settle after restart",
                    reason=INTERRUPTED,
                )
                report.stuck_resources.append(volume.id)
            for group in tx.groups.in_statuses(GROUP_STRANDED):
                move_group(
                    tx, group, GROUP_STRANDED[group.status], action="settle after restart",
                    reason=INTERRUPTED,
                )  # fmt: skip
                report.stuck_resources.append(group.id)
            for group_snapshot in tx.group_snapshots.in_statuses(GROUP_SNAPSHOT_STRANDED):
                move_group_snapshot(
                    tx, group_snapshot, GROUP_SNAPSHOT_STRANDED[group_snapshot.status],
                    action="settle after restart", reason=INTERRUPTED,
                )  # fmt: skip
                report.stuck_resources.append(group_snapshot.id)
            for snap in tx.snapshots.in_statuses(SNAPSHOT_BUSY):
                move_snapshot(
                    tx,
                    snap,
                    SNAPSHOT_STRANDED[snap.status],
                    action="settle after restart",
                    reason=INTERRUPTED,
                )
                report.stuck_resources.append(snap.id)

    def _find_unknown_objects(self, report: ReconcileReport) -> None:
        """Compare each backend with the database, both ways.

        Objects the database does not know are reported and left for an operator.
        Available volumes and snapshots whose object is gone (a power loss can undo
        an unsynced create) are set to error with an event saying why.
        """
        with self.db.transaction(write=False) as tx:
            volumes = tx.volumes.in_statuses([V.AVAILABLE])
            snapshots = tx.snapshots.in_statuses([S.AVAILABLE])
            volume_ids, snapshot_ids = tx.volumes.ids(), tx.snapshots.ids()
        pool_of = {v.id: v for v in volumes}
        for backend in self.pools.backend_names:
            stored = self.pools.driver(backend).list_stored_objects()
            for object_id in sorted(stored.volume_ids - volume_ids):
                report.unknown_objects.append(f"{backend}: volume {object_id}")
            for object_id in sorted(stored.snapshot_ids - snapshot_ids):
                report.unknown_objects.append(f"{backend}: snapshot {object_id}")
            with self.db.transaction() as tx:
                for volume in volumes:
                    if volume.backend == backend and volume.id not in stored.volume_ids:
                        move_volume(tx, volume, V.ERROR, action="mark lost", reason=LOST)
                        report.lost_objects.append(volume.id)
                for snap in snapshots:
                    origin = pool_of.get(snap.volume_id)
                    if (
                        origin is not None
                        and origin.backend == backend
                        and (snap.id not in stored.snapshot_ids)
                    ):
                        move_snapshot(tx, snap, S.ERROR, action="mark lost", reason=LOST)
                        report.lost_objects.append(snap.id)
        for item in report.unknown_objects:
            log.error(
                "backend holds %s, which the database does not know; left in place for an operator",
                item,
            )

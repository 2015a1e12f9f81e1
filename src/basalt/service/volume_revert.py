"""Reverting a volume in place to its latest snapshot (Block Storage microversion 3.40).

The volume must be available and the snapshot must be its newest one, available:
reverting to an older snapshot would silently make the newer ones describe data
the volume no longer had. While the driver works the volume is ``reverting`` and
the snapshot ``restoring`` (so neither can be deleted or attached). A failed
revert leaves the volume in ``error``, as Cinder does, since a backend may have
changed part of it; a crash mid-revert is re-driven at the next start (a revert
is idempotent).
"""

from __future__ import annotations

from basalt.drivers.base import SupportsRevert, VolumeDriver
from basalt.errors import InvalidInputError, InvalidStateError, NotSupportedError
from basalt.model import OperationKind, Snapshot, SnapshotStatus, Volume, VolumeStatus
from basalt.persistence.base import Transaction
from basalt.service.base import UseCases
from basalt.service.context import RequestContext
from basalt.service.journal import move_snapshot, move_volume
from basalt.service.refs import snapshot_ref, volume_ref
from basalt.service.runner import OperationHandle, OperationScope

V = VolumeStatus
S = SnapshotStatus


class VolumeRevert(UseCases):
    """The revert use case of VolumeService."""

    def revert_to_snapshot(
        self, volume_id: str, snapshot_id: str, *, ctx: RequestContext | None = None
    ) -> OperationHandle[Volume]:
        """Make the volume's data that of its latest snapshot; the volume keeps its size.

        Returns:
            A handle; ``wait()`` returns the available volume.

        Raises:
            VolumeNotFoundError, SnapshotNotFoundError: either is unknown to the caller.
            InvalidInputError: the snapshot is not of this volume, or not its latest.
            InvalidStateError: the volume or the snapshot is not available.
            NotSupportedError: the volume's backend cannot revert.
        """
        context = self._ctx(ctx, "volume:revert")
        with self.db.transaction() as tx:
            volume = self._volume(tx, volume_id, context)
            self.pools.require_not_frozen(volume.backend, "revert a volume")
            snapshot = self._snapshot(tx, snapshot_id, context)
            self._reverter(volume.backend)
            _require_latest(tx, volume, snapshot)
            if volume.status != V.AVAILABLE:
                raise InvalidStateError(
                    kind="volume", resource_id=volume.id, status=str(volume.status), action="revert"
                )
            if snapshot.status != S.AVAILABLE:
                raise InvalidStateError(
                    kind="snapshot",
                    resource_id=snapshot.id,
                    status=str(snapshot.status),
                    action="revert to",
                )
            move_volume(tx, volume, V.REVERTING, action="revert")
            operation = self._new_operation(
                tx,
                kind=OperationKind.REVERT_VOLUME,
                resource_kind="volume",
                resource_id=volume.id,
                ctx=context,
                params={"snapshot_id": snapshot.id},
            )
            move_snapshot(tx, snapshot, S.RESTORING, action="restore", operation_id=operation.id)
        return self._start(
            operation,
            lambda scope: self.run_revert(scope, volume, snapshot),
            lambda: self._load_volume(volume.id, context),
        )

    def run_revert(self, scope: OperationScope, volume: Volume, snapshot: Snapshot) -> None:
        """Drive the backend, then free the snapshot and settle the volume (also after a
        restart, with the rows as the database holds them)."""
        reverter = self._reverter(volume.backend)
        try:
            scope.driver_call(
                "revert_volume_to_snapshot",
                lambda: reverter.revert_volume_to_snapshot(
                    volume_ref(volume), snapshot_ref(snapshot, volume.pool), progress=scope.progress
                ),
            )
        except Exception as exc:
            with self.db.transaction() as tx:
                scope.flush(tx)
                self._release_snapshot(tx, snapshot, scope)
                move_volume(
                    tx,
                    volume,
                    V.ERROR,
                    action="fail reverting",
                    operation_id=scope.operation.id,
                    reason=f"{exc}; the volume may hold part of the snapshot's data",
                )
            raise
        with self.db.transaction() as tx:
            self._release_snapshot(tx, snapshot, scope)
            move_volume(
                tx,
                volume,
                V.AVAILABLE,
                action="finish reverting",
                operation_id=scope.operation.id,
                reason=f"reverted to snapshot {snapshot.id}",
            )
            scope.finish(tx, result=volume)

    def _release_snapshot(self, tx: Transaction, snapshot: Snapshot, scope: OperationScope) -> None:
        if snapshot.status == S.RESTORING:
            move_snapshot(
                tx,
                snapshot,
                S.AVAILABLE,
                action="finish restoring",
                operation_id=scope.operation.id,
            )

    def _reverter(self, backend: str) -> SupportsRevert:
        driver: VolumeDriver = self.pools.driver(backend)
        if not isinstance(driver, SupportsRevert):
            raise NotSupportedError(backend, "reverting a volume to a snapshot")
        return driver


def _require_latest(tx: Transaction, volume: Volume, snapshot: Snapshot) -> None:
    if snapshot.volume_id != volume.id:
        raise InvalidInputError(
            "snapshot_id", f"snapshot {snapshot.id} is a snapshot of volume {snapshot.volume_id}"
        )
    newest = max(tx.snapshots.for_volume(volume.id), key=lambda s: (s.created_at, s.id))
    if newest.id != snapshot.id:
        raise InvalidInputError(
            "snapshot_id",
            f"snapshot {snapshot.id} is not the latest snapshot of volume {volume.id}",
            hint=f"revert to {newest.id}, or delete the snapshots taken after it",
        )

"""Volume use cases: create (empty, from snapshot, clone), show, list, update, extend, delete."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial

from basalt.errors import (
    InvalidInputError,
    MetadataChangedError,
    ResourceBusyError,
    VolumeAttachedError,
    VolumeHasSnapshotsError,
    VolumeNotFoundError,
)
from basalt.model import (
    Event,
    EventKind,
    OperationKind,
    Snapshot,
    SnapshotStatus,
    Volume,
    VolumeStatus,
    volume_status_for,
)
from basalt.model.attachment import HOLDS_ATTACHMENTS
from basalt.model.quota import QuotaDeltas
from basalt.model.states import VOLUME_TRANSITIONS
from basalt.model.validation import (
    validate_description,
    validate_flag,
    validate_metadata,
    validate_name,
    validate_size_gib,
)
from basalt.persistence.base import ListQuery, Transaction
from basalt.service.base import metadata_etag
from basalt.service.clock import utcnow
from basalt.service.context import RequestContext
from basalt.service.group_rules import refuse_alone, refuse_member_snapshot
from basalt.service.journal import move_snapshot, move_volume, override_status
from basalt.service.refs import snapshot_ref, volume_ref
from basalt.service.runner import OperationHandle, OperationScope
from basalt.service.transfers import withdraw_transfers
from basalt.service.types import backend_qos
from basalt.service.volume_admin import VolumeAdmin
from basalt.service.volume_create import VolumeCreation
from basalt.service.volume_retype import VolumeRetype
from basalt.service.volume_revert import VolumeRevert

V = VolumeStatus


class VolumeService(VolumeCreation, VolumeRevert, VolumeRetype, VolumeAdmin):
    """Everything a caller can do to volumes."""

    def get(self, volume_id: str, *, ctx: RequestContext | None = None) -> Volume:
        """One volume.

        Raises:
            VolumeNotFoundError: it does not exist or belongs to another project.
        """
        with self.db.transaction(write=False) as tx:
            return self._volume(tx, volume_id, self._ctx(ctx, "volume:get"))

    def list(
        self,
        query: ListQuery | None = None,
        *,
        ctx: RequestContext | None = None,
        all_projects: bool = False,
    ) -> builtins.list[Volume]:
        """Volumes visible to the caller, filtered, sorted and paged by ``query``.

        Raises:
            InvalidInputError: an unknown sort key or marker.
        """
        return self._find(
            query,
            ctx,
            all_projects=all_projects,
            what="volume",
            action="volume:get",
            find=lambda tx, q: tx.volumes.find(q),
        )

    def events(self, volume_id: str, *, ctx: RequestContext | None = None) -> builtins.list[Event]:
        """The volume's timeline, oldest first (also after it was deleted, for admins)."""
        context = self._ctx(ctx, "volume:get")
        with self.db.transaction(write=False) as tx:
            if tx.volumes.get(volume_id) is not None or not context.is_admin:
                self._volume(tx, volume_id, context)
            events = tx.events.timeline(resource_kind="volume", resource_id=volume_id)
        if not events:  # an admin asking about an id that never existed
            raise VolumeNotFoundError(volume_id)
        return events

    def update(
        self,
        volume_id: str,
        *,
        name: object | None = None,
        description: object | None = None,
        metadata: Mapping[str, object] | None = None,
        ctx: RequestContext | None = None,
    ) -> Volume:
        """Change name, description or (replace) metadata. Works in any status.

        Raises:
            InvalidInputError, VolumeNotFoundError.
        """
        context = self._ctx(ctx, "volume:update")
        new_name = None if name is None else validate_name(name)
        new_description = None if description is None else validate_description(description)
        new_metadata = None if metadata is None else validate_metadata(metadata)
        with self.db.transaction() as tx:
            volume = self._volume(tx, volume_id, context)
            changed: builtins.list[str] = []
            if new_name is not None:
                volume.name, changed = new_name, [*changed, "name"]
            if new_description is not None:
                volume.description, changed = new_description, [*changed, "description"]
            if new_metadata is not None:
                volume.metadata, changed = new_metadata, [*changed, "metadata"]
            volume.updated_at = utcnow()
            tx.volumes.save(volume)
            tx.events.add(
                Event(
                    resource_kind="volume",
                    resource_id=volume.id,
                    kind=EventKind.NOTE,
                    at=volume.updated_at,
                    message=f"updated {', '.join(changed) or 'nothing'}",
                )
            )
            return volume

    def set_metadata(
        self,
        volume_id: str,
        items: Mapping[str, object],
        *,
        replace: bool = False,
        if_match: Sequence[str] | None = None,
        ctx: RequestContext | None = None,
    ) -> dict[str, str]:
        """Add or change metadata items (all of it with ``replace``); return the result.

        Args:
            if_match: the ETags (:func:`metadata_etag`) the metadata may have now, or
                ``*``; None: whatever it is (the lost-update check of microversion 3.15).

        Raises:
            InvalidInputError: a bad key or value, or too many items in the end.
            VolumeNotFoundError.
            MetadataChangedError: the metadata's ETag is none of ``if_match``.
        """
        given = validate_metadata(items)
        with self.db.transaction() as tx:
            volume = self._volume(tx, volume_id, self._ctx(ctx, "volume:update"))
            current = metadata_etag(volume.metadata)
            if if_match is not None and "*" not in if_match and current not in if_match:
                raise MetadataChangedError(volume.id, current)
            return self._merge_metadata(tx, volume, given, replace=replace)

    def delete_metadata_key(
        self, volume_id: str, key: str, *, ctx: RequestContext | None = None
    ) -> None:
        """Remove one metadata item.

        Raises:
            MetadataKeyNotFoundError: the volume has no such key. VolumeNotFoundError.
        """
        with self.db.transaction() as tx:
            volume = self._volume(tx, volume_id, self._ctx(ctx, "volume:update"))
            self._drop_metadata_key(tx, volume, key)

    def set_bootable(
        self, volume_id: str, bootable: object, *, ctx: RequestContext | None = None
    ) -> Volume:
        """Mark the volume bootable (or not); any status.

        Raises:
            InvalidInputError: not true or false. VolumeNotFoundError.
        """
        flag = validate_flag(bootable, field="bootable")
        with self.db.transaction() as tx:
            volume = self._volume(tx, volume_id, self._ctx(ctx, "volume:update"))
            volume.bootable = flag
            self._save_note(tx, volume, f"bootable set to {flag}")
            return volume

    def set_readonly(
        self, volume_id: str, readonly: object, *, ctx: RequestContext | None = None
    ) -> Volume:
        """Make every later attachment read-only (or not).

        Raises:
            InvalidInputError: not true or false.
            VolumeAttachedError: it has attachments (their exports would disagree).
            VolumeNotFoundError.
        """
        flag = validate_flag(readonly, field="readonly")
        with self.db.transaction() as tx:
            volume = self._volume(tx, volume_id, self._ctx(ctx, "volume:update_readonly_flag"))
            held = volume.status in HOLDS_ATTACHMENTS
            if held and tx.attachments.for_volume(volume.id):
                raise VolumeAttachedError(
                    volume.id,
                    "is attached; its hosts keep the access they connected with",
                    hint="detach it, change the flag, attach again",
                )
            volume.readonly = flag
            self._save_note(tx, volume, f"readonly set to {flag}")
            return volume

    def extend(
        self, volume_id: str, new_size_gib: object, *, ctx: RequestContext | None = None
    ) -> OperationHandle[Volume]:
        """Grow a volume, available or attached (hosts see the new size after a rescan).

        Raises:
            InvalidInputError: the new size is not larger.
            InvalidStateError: the volume is neither available nor in use.
            InsufficientCapacityError: the pool cannot take the growth.
            QuotaExceededError: the project's quota refuses the growth (nothing changes).
        """
        context = self._ctx(ctx, "volume:extend")
        size = validate_size_gib(new_size_gib, field="new_size")
        seen = self._load_volume(volume_id, context)
        _require_growth(seen, size)
        # Outside the write transaction: capacity may ask the driver for fresh stats.
        self.pools.placement.claim(seen.backend, seen.pool, size - seen.size_gib)
        with self.db.transaction() as tx:
            volume = self._volume(tx, volume_id, context)
            self.pools.require_not_frozen(volume.backend, "extend a volume")
            _require_growth(volume, size)
            self.quotas.check(tx, volume.project_id, QuotaDeltas.for_growth(volume, size))
            move_volume(tx, volume, V.EXTENDING, action="extend")
            qos = backend_qos(tx, volume)
            operation = self._new_operation(
                tx,
                kind=OperationKind.EXTEND_VOLUME,
                resource_kind="volume",
                resource_id=volume.id,
                ctx=context,
                params={"new_size_gib": size, "old_size_gib": volume.size_gib},
            )
        return self._start(
            operation,
            lambda scope: self._run_extend(scope, volume, size, qos),
            lambda: self.get(volume.id, ctx=context),
        )

    def _run_extend(
        self, scope: OperationScope, volume: Volume, size: int, qos: dict[str, str]
    ) -> None:
        driver = self.pools.driver(volume.backend)

        def done(tx: Transaction, _: None) -> Volume:
            volume.size_gib = size
            tx.volumes.save(volume)
            move_volume(
                tx,
                volume,
                status_after_extend(tx, volume),
                action="finish extending",
                operation_id=scope.operation.id,
            )
            return volume

        self._drive(
            scope,
            "extend_volume",
            lambda: driver.extend_volume(volume_ref(volume, qos=qos), size),
            resource=volume,
            on_failure=V.ERROR_EXTENDING,
            done=done,
        )

    def delete(
        self,
        volume_id: str,
        *,
        cascade: bool = False,
        force: bool = False,
        ctx: RequestContext | None = None,
    ) -> OperationHandle[Volume]:
        """Delete a volume; with ``cascade`` its snapshots first.

        ``force`` (administrators) also deletes a volume whose status would refuse it
        (e.g. stuck in maintenance or reverting) as long as no operation works on it.

        Raises:
            GroupMembershipError: it is in a group, or a snapshot of it is a member of a
                group snapshot.
            VolumeHasSnapshotsError: it has snapshots and cascade is off.
            VolumeAttachedError: it is attached (or reserved) to a host.
            InvalidStateError: it (or a snapshot) is busy, or a copy is being made from it.
            ResourceBusyError: force, and an operation still works on it.
        """
        context = self._ctx(ctx, "volume:force_delete" if force else "volume:delete")
        with self.db.transaction() as tx:
            volume = self._volume(tx, volume_id, context)
            refuse_alone(volume, "be deleted")
            self.pools.require_not_frozen(volume.backend, "delete a volume")
            held = volume.status in HOLDS_ATTACHMENTS
            attached = tx.attachments.for_volume(volume.id) if held else []
            if attached:
                raise VolumeAttachedError(
                    volume.id,
                    f"has {len(attached)} attachment(s)",
                    hint="detach it first (basalt volume detach)",
                )
            snapshots = tx.snapshots.for_volume(volume.id)
            if snapshots and not cascade:
                raise VolumeHasSnapshotsError(volume.id, len(snapshots))
            for snap in snapshots:
                refuse_member_snapshot(snap)
            self._refuse_if_copy_source(tx, volume)
            if force and (volume.status, V.DELETING) not in VOLUME_TRANSITIONS:
                self._refuse_if_busy(tx, volume, "force-delete")
                withdraw_transfers(tx, volume, reason="the volume is being force-deleted")
                override_status(tx, volume, V.ERROR, actor=context.user_id, action="force-delete")
            move_volume(tx, volume, V.DELETING, action="delete")
            operation = self._new_operation(
                tx,
                kind=OperationKind.DELETE_VOLUME,
                resource_kind="volume",
                resource_id=volume.id,
                ctx=context,
                params={"cascade": cascade, "snapshot_ids": [s.id for s in snapshots]},
            )
            for snap in snapshots:
                move_snapshot(
                    tx,
                    snap,
                    SnapshotStatus.DELETING,
                    action="delete (cascade)",
                    operation_id=operation.id,
                )
        last_seen = replace(volume)
        return self._start(
            operation, lambda scope: self.run_delete(scope, volume, snapshots), lambda: last_seen
        )

    def _refuse_if_copy_source(self, tx: Transaction, volume: Volume) -> None:
        if tx.volumes.copies_in_progress(volume.id):
            raise ResourceBusyError(
                f"volume {volume.id} is being cloned", hint="delete it when the clone is available"
            )

    def run_delete(
        self, scope: OperationScope, volume: Volume, snapshots: builtins.list[Snapshot]
    ) -> None:
        """Delete snapshots, then the volume, then their rows (also used after a restart)."""
        driver = self.pools.driver(volume.backend)
        try:
            for snap in snapshots:
                ref = snapshot_ref(snap, volume.pool)
                scope.driver_call(
                    "delete_snapshot", partial(driver.delete_snapshot, ref), resource_id=snap.id
                )
                with self.db.transaction() as tx:
                    tx.snapshots.delete(snap.id)
                    scope.flush(tx)
            scope.driver_call("delete_volume", lambda: driver.delete_volume(volume_ref(volume)))
            if volume.replication_status not in (None, "disabled"):
                scope.driver_call("delete_replica", lambda: self.replicator.drop(volume))
        except Exception as exc:
            self._fail_delete(scope, volume, exc)
            raise
        with self.db.transaction() as tx:
            tx.volumes.delete(volume.id)
            scope.note(EventKind.STATUS_CHANGE, "deleted")
            scope.finish(tx)

    def _fail_delete(self, scope: OperationScope, volume: Volume, error: Exception) -> None:
        with self.db.transaction() as tx:
            for snap in tx.snapshots.for_volume(volume.id):
                if snap.status == SnapshotStatus.DELETING:
                    move_snapshot(
                        tx,
                        snap,
                        SnapshotStatus.ERROR_DELETING,
                        action="fail deleting",
                        operation_id=scope.operation.id,
                    )
            move_volume(
                tx,
                volume,
                V.ERROR_DELETING,
                action="fail deleting",
                operation_id=scope.operation.id,
                reason=str(error),
            )
            scope.flush(tx)


def _require_growth(volume: Volume, size: int) -> None:
    if size <= volume.size_gib:
        raise InvalidInputError(
            "new_size", f"{size} GiB is not larger than the current {volume.size_gib} GiB"
        )


def status_after_extend(tx: Transaction, volume: Volume) -> VolumeStatus:
    """Where an extended volume goes: back to in-use when hosts have it attached."""
    return volume_status_for(a.status for a in tx.attachments.for_volume(volume.id))

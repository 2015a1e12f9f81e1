"""Snapshot use cases: create, show, list, update, delete."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import replace

from basalt.drivers.types import DriverUpdate
from basalt.errors import (
    InvalidInputError,
    InvalidStateError,
    ResourceBusyError,
    SnapshotNotFoundError,
)
from basalt.model import (
    Event,
    EventKind,
    Operation,
    OperationKind,
    Snapshot,
    SnapshotStatus,
    Volume,
    VolumeStatus,
)
from basalt.model.quota import QuotaDeltas
from basalt.model.states import SNAPSHOT_TRANSITIONS
from basalt.model.validation import validate_description, validate_metadata, validate_name
from basalt.persistence.base import ListQuery, Transaction
from basalt.service.base import Replay, UseCases
from basalt.service.clock import new_id, utcnow
from basalt.service.context import RequestContext
from basalt.service.group_rules import refuse_member_snapshot
from basalt.service.journal import move_snapshot, override_status
from basalt.service.refs import snapshot_ref, volume_ref
from basalt.service.runner import OperationHandle, OperationScope

S = SnapshotStatus
RESETTABLE_SNAPSHOT_STATUSES = frozenset({S.AVAILABLE, S.ERROR, S.ERROR_DELETING})
"""What reset-status may set: settled statuses only."""
SNAPSHOTTABLE = frozenset({VolumeStatus.AVAILABLE, VolumeStatus.IN_USE})
"""Attached volumes too (crash-consistent, as Cinder allows from microversion 3.66)."""


class SnapshotService(UseCases):
    """Everything a caller can do to snapshots."""

    def get(self, snapshot_id: str, *, ctx: RequestContext | None = None) -> Snapshot:
        """One snapshot.

        Raises:
            SnapshotNotFoundError: it does not exist or belongs to another project.
        """
        with self.db.transaction(write=False) as tx:
            return self._snapshot(tx, snapshot_id, self._ctx(ctx, "snapshot:get"))

    def list(
        self,
        query: ListQuery | None = None,
        *,
        ctx: RequestContext | None = None,
        all_projects: bool = False,
    ) -> builtins.list[Snapshot]:
        """Snapshots visible to the caller.

        Raises:
            InvalidInputError: an unknown sort key or marker.
        """
        return self._find(
            query,
            ctx,
            all_projects=all_projects,
            what="snapshot",
            action="snapshot:get",
            find=lambda tx, q: tx.snapshots.find(q),
        )

    def events(
        self, snapshot_id: str, *, ctx: RequestContext | None = None
    ) -> builtins.list[Event]:
        """The snapshot's timeline, oldest first."""
        context = self._ctx(ctx, "snapshot:get")
        with self.db.transaction(write=False) as tx:
            if tx.snapshots.get(snapshot_id) is not None or not context.is_admin:
                self._snapshot(tx, snapshot_id, context)
            events = tx.events.timeline(resource_kind="snapshot", resource_id=snapshot_id)
        if not events:  # an admin asking about an id that never existed
            raise SnapshotNotFoundError(snapshot_id)
        return events

    def create(
        self,
        volume_id: str,
        *,
        name: object = "",
        description: object = "",
        metadata: Mapping[str, object] | None = None,
        allow_in_use: bool = True,
        ctx: RequestContext | None = None,
        request_id: str | None = None,
    ) -> OperationHandle[Snapshot]:
        """Snapshot a volume, available or (unless ``allow_in_use`` is off) attached; a
        snapshot of an attached volume is crash-consistent.

        Returns:
            A handle; ``wait()`` returns the available snapshot.

        Raises:
            InvalidInputError, VolumeNotFoundError, InvalidStateError,
            IdempotencyConflictError, QuotaExceededError (nothing is created).
        """
        context = self._ctx(ctx, "snapshot:create")
        name_ = validate_name(name)
        description_ = validate_description(description)
        metadata_ = validate_metadata(metadata or {})
        request_id = self._checked_request_id(request_id)
        params: dict[str, object] = {
            "volume_id": volume_id,
            "name": name_,
            "description": description_,
            "metadata": metadata_,
        }
        try:
            with self.db.transaction() as tx:
                volume = self._volume(tx, volume_id, context)
                self.pools.require_not_frozen(volume.backend, "snapshot a volume")
                if volume.status not in SNAPSHOTTABLE or (
                    not allow_in_use and volume.status != VolumeStatus.AVAILABLE
                ):
                    raise InvalidStateError(
                        kind="volume",
                        resource_id=volume.id,
                        status=str(volume.status),
                        action="snapshot",
                        hint=None if allow_in_use else "force it to snapshot an attached volume",
                    )
                snapshot, operation = self._insert(
                    tx, context, volume, name_, description_, metadata_, request_id, params
                )
        except Replay as replay:
            record = replay.record
            return self._replayed(record, lambda: self._load_snapshot(record.resource_id, context))
        return self._start(
            operation,
            lambda scope: self._run_create(scope, snapshot, volume),
            lambda: self._load_snapshot(snapshot.id, context),
        )

    def _insert(
        self,
        tx: Transaction,
        ctx: RequestContext,
        volume: Volume,
        name: str,
        description: str,
        metadata: dict[str, str],
        request_id: str | None,
        params: dict[str, object],
    ) -> tuple[Snapshot, Operation]:
        now = utcnow()
        snapshot = Snapshot(
            id=new_id(),
            volume_id=volume.id,
            project_id=ctx.project_id,
            user_id=ctx.user_id,
            name=name,
            description=description,
            size_gib=volume.size_gib,
            status=S.CREATING,
            created_at=now,
            updated_at=now,
            metadata=metadata,
        )
        operation = self._open_for_new(
            tx,
            kind=OperationKind.CREATE_SNAPSHOT,
            resource=snapshot,
            ctx=ctx,
            request_id=request_id,
            params=params,
            message="created",
            quota=QuotaDeltas.for_snapshot(snapshot, volume_type_id=volume.volume_type_id),
        )
        tx.events.add(
            Event(
                resource_kind="snapshot",
                resource_id=snapshot.id,
                kind=EventKind.STATUS_CHANGE,
                message="created",
                at=now,
                operation_id=operation.id,
                detail={"to": str(S.CREATING)},
            )
        )
        tx.events.add(
            Event(
                resource_kind="volume",
                resource_id=volume.id,
                kind=EventKind.NOTE,
                message=f"snapshot {snapshot.id} requested",
                at=now,
                operation_id=operation.id,
            )
        )
        return snapshot, operation

    def _run_create(self, scope: OperationScope, snapshot: Snapshot, volume: Volume) -> None:
        driver = self.pools.driver(volume.backend)
        ref = snapshot_ref(snapshot, volume.pool)

        def done(tx: Transaction, update: DriverUpdate) -> Snapshot:
            snapshot.provider_location = update.provider_location
            tx.snapshots.save(snapshot)
            move_snapshot(
                tx, snapshot, S.AVAILABLE, action="finish creating", operation_id=scope.operation.id
            )
            return snapshot

        self._drive(
            scope,
            "create_snapshot",
            lambda: driver.create_snapshot(ref, volume_ref(volume)),
            resource=snapshot,
            on_failure=S.ERROR,
            done=done,
            undo=lambda: driver.delete_snapshot(ref),
        )

    def update(
        self,
        snapshot_id: str,
        *,
        name: object | None = None,
        description: object | None = None,
        metadata: Mapping[str, object] | None = None,
        ctx: RequestContext | None = None,
    ) -> Snapshot:
        """Change name, description or (replace) metadata.

        Raises:
            InvalidInputError, SnapshotNotFoundError.
        """
        context = self._ctx(ctx, "snapshot:update")
        new_name = None if name is None else validate_name(name)
        new_description = None if description is None else validate_description(description)
        new_metadata = None if metadata is None else validate_metadata(metadata)
        with self.db.transaction() as tx:
            snapshot = self._snapshot(tx, snapshot_id, context)
            if new_name is not None:
                snapshot.name = new_name
            if new_description is not None:
                snapshot.description = new_description
            if new_metadata is not None:
                snapshot.metadata = new_metadata
            snapshot.updated_at = utcnow()
            tx.snapshots.save(snapshot)
            tx.events.add(
                Event(
                    resource_kind="snapshot",
                    resource_id=snapshot.id,
                    kind=EventKind.NOTE,
                    message="updated",
                    at=snapshot.updated_at,
                )
            )
            return snapshot

    def set_metadata(
        self,
        snapshot_id: str,
        items: Mapping[str, object],
        *,
        replace: bool = False,
        ctx: RequestContext | None = None,
    ) -> dict[str, str]:
        """Add or change metadata items (all of it with ``replace``); return the result.

        Raises:
            InvalidInputError: a bad key or value, or too many items in the end.
            SnapshotNotFoundError.
        """
        given = validate_metadata(items)
        with self.db.transaction() as tx:
            snapshot = self._snapshot(tx, snapshot_id, self._ctx(ctx, "snapshot:update"))
            return self._merge_metadata(tx, snapshot, given, replace=replace)

    def delete_metadata_key(
        self, snapshot_id: str, key: str, *, ctx: RequestContext | None = None
    ) -> None:
        """Remove one metadata item.

        Raises:
            MetadataKeyNotFoundError: the snapshot has no such key. SnapshotNotFoundError.
        """
        with self.db.transaction() as tx:
            snapshot = self._snapshot(tx, snapshot_id, self._ctx(ctx, "snapshot:update"))
            self._drop_metadata_key(tx, snapshot, key)

    def reset_status(
        self, snapshot_id: str, status: object, *, ctx: RequestContext | None = None
    ) -> Snapshot:
        """Set a snapshot's status to one of RESETTABLE_SNAPSHOT_STATUSES (administrators).

        Raises:
            PermissionDeniedError: not an administrator.
            InvalidInputError: another status.
            ResourceBusyError: an operation still works on the snapshot.
            SnapshotNotFoundError.
        """
        context = self._ctx(ctx, "snapshot:reset_status")
        allowed = {str(s): s for s in RESETTABLE_SNAPSHOT_STATUSES}
        if not isinstance(status, str) or status.lower() not in allowed:
            raise InvalidInputError(
                "status", f"{str(status)[:64]!r} is not one of {', '.join(sorted(allowed))}"
            )
        with self.db.transaction() as tx:
            snapshot = self._snapshot(tx, snapshot_id, context)
            self._refuse_if_busy(tx, snapshot, "reset the status of")
            if snapshot.status != allowed[status.lower()]:
                override_status(
                    tx, snapshot, allowed[status.lower()], actor=context.user_id, action="reset"
                )
            return snapshot

    def delete(
        self, snapshot_id: str, *, force: bool = False, ctx: RequestContext | None = None
    ) -> OperationHandle[Snapshot]:
        """Delete a snapshot; ``force`` (administrators) whatever its status, as long as no
        operation works on it.

        Raises:
            SnapshotNotFoundError, InvalidStateError, ResourceBusyError (a volume is being
            created from it, or force and an operation works on it), GroupMembershipError
            (it is a member of a group snapshot: it goes only with it).
        """
        context = self._ctx(ctx, "snapshot:force_delete" if force else "snapshot:delete")
        with self.db.transaction() as tx:
            snapshot = self._snapshot(tx, snapshot_id, context)
            refuse_member_snapshot(snapshot)
            origin = tx.volumes.get(snapshot.volume_id)
            if origin is not None:
                self.pools.require_not_frozen(origin.backend, "delete a snapshot")
            if tx.volumes.copies_in_progress(snapshot.id):
                raise ResourceBusyError(
                    f"a volume is being created from snapshot {snapshot.id}",
                    hint="delete it when that volume is available",
                )
            if force and (snapshot.status, S.DELETING) not in SNAPSHOT_TRANSITIONS:
                self._refuse_if_busy(tx, snapshot, "force-delete")
                override_status(tx, snapshot, S.ERROR, actor=context.user_id, action="force-delete")
            move_snapshot(tx, snapshot, S.DELETING, action="delete")
            volume = tx.volumes.get(snapshot.volume_id)
            assert volume is not None, "a snapshot row outlived its volume"
            operation = self._new_operation(
                tx,
                kind=OperationKind.DELETE_SNAPSHOT,
                resource_kind="snapshot",
                resource_id=snapshot.id,
                ctx=context,
                params={"volume_id": volume.id},
            )
        last_seen = replace(snapshot)
        return self._start(
            operation, lambda scope: self.run_delete(scope, snapshot, volume), lambda: last_seen
        )

    def run_delete(self, scope: OperationScope, snapshot: Snapshot, volume: Volume) -> None:
        """Delete the snapshot on the backend, then its row (also used after a restart)."""
        driver = self.pools.driver(volume.backend)

        def done(tx: Transaction, _: None) -> None:
            tx.snapshots.delete(snapshot.id)
            scope.note(EventKind.STATUS_CHANGE, "deleted")

        self._drive(
            scope,
            "delete_snapshot",
            lambda: driver.delete_snapshot(snapshot_ref(snapshot, volume.pool)),
            resource=snapshot,
            on_failure=S.ERROR_DELETING,
            done=done,
        )

"""Adopting existing backend objects (manage) and releasing them (unmanage)."""

from __future__ import annotations

from collections.abc import Mapping

from basalt.drivers.base import SupportsManage, VolumeDriver
from basalt.drivers.types import DriverUpdate, ManageableObject
from basalt.errors import (
    InvalidStateError,
    ManageExistingInvalidReferenceError,
    NotSupportedError,
    VolumeHasSnapshotsError,
)
from basalt.model import (
    EventKind,
    OperationKind,
    Snapshot,
    SnapshotStatus,
    Volume,
    VolumeStatus,
)
from basalt.model.quota import QuotaDeltas
from basalt.model.validation import (
    validate_description,
    validate_flag,
    validate_metadata,
    validate_name,
)
from basalt.persistence.base import Transaction
from basalt.service.base import Replay, UseCases
from basalt.service.clock import new_id, utcnow
from basalt.service.context import RequestContext
from basalt.service.journal import move_snapshot, move_volume
from basalt.service.refs import snapshot_ref, volume_ref
from basalt.service.replicator import refuse_failed_over
from basalt.service.runner import OperationHandle, OperationScope
from basalt.service.types import VolumeTypeService

V = VolumeStatus
S = SnapshotStatus


class ManageService(UseCases):
    """Manage and unmanage volumes and snapshots (administrators only)."""

    types: VolumeTypeService

    def manageable_volumes(
        self, pool: str | None = None, *, ctx: RequestContext | None = None
    ) -> list[ManageableObject]:
        """Volumes on the backend, each saying whether it could be managed."""
        backend, pool_name = self._admin_pool(ctx, pool, "volume:list_manageable")
        return list(self._manager(backend).list_manageable_volumes(pool_name))

    def manageable_snapshots(
        self, pool: str | None = None, *, ctx: RequestContext | None = None
    ) -> list[ManageableObject]:
        """Snapshots on the backend, each saying whether it could be managed."""
        backend, pool_name = self._admin_pool(ctx, pool, "snapshot:list_manageable")
        return list(self._manager(backend).list_manageable_snapshots(pool_name))

    def manage_volume(
        self,
        reference: Mapping[str, str],
        *,
        pool: str | None = None,
        name: object = "",
        description: object = "",
        metadata: Mapping[str, object] | None = None,
        bootable: object = False,
        volume_type: str | None = None,
        ctx: RequestContext | None = None,
        request_id: str | None = None,
    ) -> OperationHandle[Volume]:
        """Adopt an object on the backend as a new volume (size rounded up to whole GiB),
        of ``volume_type`` (id or name; None: the default type).

        Raises:
            PermissionDeniedError: the caller is not an administrator.
            ManageExistingInvalidReferenceError: the reference names nothing usable.
            NotSupportedError: the backend cannot manage.
            QuotaExceededError: the project's quota refuses it (nothing is adopted).
        """
        context = self._ctx(ctx, "volume:manage")
        backend, pool_name = self.pools.resolve(pool)
        self.pools.require_not_frozen(backend, "manage a volume")
        ref = _checked_reference(reference)
        fields = (
            validate_name(name),
            validate_description(description),
            validate_metadata(metadata or {}),
        )
        bootable_ = validate_flag(bootable, field="bootable")
        request_id = self._checked_request_id(request_id)
        manager = self._manager(backend)
        size = manager.manage_volume_get_size(pool_name, ref)
        params: dict[str, object] = {
            "reference": ref,
            "pool": f"{backend}#{pool_name}",
            "name": fields[0],
        }
        now = utcnow()
        volume = Volume(
            id=new_id(),
            project_id=context.project_id,
            user_id=context.user_id,
            name=fields[0],
            description=fields[1],
            size_gib=size,
            status=V.MANAGING,
            backend=backend,
            pool=pool_name,
            created_at=now,
            updated_at=now,
            metadata=fields[2],
            bootable=bootable_,
            availability_zone=self.pools.availability_zone(backend),
        )
        if volume_type is not None:
            params["volume_type"] = volume_type
        try:
            with self.db.transaction() as tx:
                chosen = (
                    self.types.visible_type(tx, volume_type, context)
                    if volume_type is not None
                    else self.types.default_type(tx)
                )
                volume.volume_type_id = chosen.id
                volume.multiattach = chosen.multiattach
                operation = self._open_for_new(
                    tx,
                    kind=OperationKind.MANAGE_VOLUME,
                    resource=volume,
                    ctx=context,
                    request_id=request_id,
                    params=params,
                    message=f"managing {ref}",
                    quota=QuotaDeltas.for_volume(volume),
                )
        except Replay as replay:
            record = replay.record
            return self._replayed(record, lambda: self._load_volume(record.resource_id, context))
        return self._start(
            operation,
            lambda scope: self._run_manage_volume(scope, volume, ref),
            lambda: self._load_volume(volume.id, context),
        )

    def _run_manage_volume(
        self, scope: OperationScope, volume: Volume, ref: dict[str, str]
    ) -> None:
        manager = self._manager(volume.backend)

        def done(tx: Transaction, update: DriverUpdate) -> Volume:
            volume.provider_location = update.provider_location
            volume.size_gib = update.size_gib or volume.size_gib
            tx.volumes.save(volume)
            move_volume(
                tx, volume, V.AVAILABLE, action="finish managing", operation_id=scope.operation.id
            )
            return volume

        self._drive(
            scope,
            "manage_volume",
            lambda: manager.manage_volume(volume_ref(volume), ref),
            resource=volume,
            on_failure=V.ERROR_MANAGING,
            done=done,
        )

    def unmanage_volume(
        self, volume_id: str, *, ctx: RequestContext | None = None
    ) -> OperationHandle[Volume]:
        """Stop managing a volume; its data stays on the backend.

        Raises:
            PermissionDeniedError, VolumeNotFoundError, VolumeHasSnapshotsError,
            InvalidStateError.
        """
        context = self._ctx(ctx, "volume:unmanage")
        with self.db.transaction() as tx:
            volume = self._volume(tx, volume_id, context)
            self._manager(volume.backend)
            self.pools.require_not_frozen(volume.backend, "unmanage a volume")
            refuse_failed_over(volume, "unmanage")
            count = tx.snapshots.count_for_volume(volume.id)
            if count:
                raise VolumeHasSnapshotsError(volume.id, count)
            move_volume(tx, volume, V.DELETING, action="unmanage")
            operation = self._new_operation(
                tx,
                kind=OperationKind.UNMANAGE_VOLUME,
                resource_kind="volume",
                resource_id=volume.id,
                ctx=context,
            )
        return self._start(
            operation, lambda scope: self.run_unmanage_volume(scope, volume), lambda: volume
        )

    def run_unmanage_volume(self, scope: OperationScope, volume: Volume) -> None:
        """Release the volume on the backend, then drop its row."""
        manager = self._manager(volume.backend)

        def done(tx: Transaction, _: None) -> None:
            tx.volumes.delete(volume.id)
            scope.note(EventKind.STATUS_CHANGE, "unmanaged (data left on the backend)")

        self._drive(
            scope,
            "unmanage_volume",
            lambda: manager.unmanage_volume(volume_ref(volume)),
            resource=volume,
            on_failure=V.AVAILABLE,
            done=done,
        )

    def manage_snapshot(
        self,
        reference: Mapping[str, str],
        *,
        volume_id: str,
        name: object = "",
        description: object = "",
        metadata: Mapping[str, object] | None = None,
        ctx: RequestContext | None = None,
        request_id: str | None = None,
    ) -> OperationHandle[Snapshot]:
        """Adopt a backend object as a snapshot of ``volume_id``.

        Raises:
            PermissionDeniedError, VolumeNotFoundError, ManageExistingInvalidReferenceError,
            NotSupportedError, QuotaExceededError (nothing is adopted).
        """
        context = self._ctx(ctx, "snapshot:manage")
        ref = _checked_reference(reference)
        fields = (
            validate_name(name),
            validate_description(description),
            validate_metadata(metadata or {}),
        )
        request_id = self._checked_request_id(request_id)
        volume = self._load_volume(volume_id, context)
        if volume.status not in (V.AVAILABLE, V.IN_USE):
            raise InvalidStateError(
                kind="volume",
                resource_id=volume.id,
                status=str(volume.status),
                action="manage a snapshot of",
            )
        manager = self._manager(volume.backend)
        self.pools.require_not_frozen(volume.backend, "manage a snapshot")
        size = manager.manage_snapshot_get_size(volume.pool, ref)
        params: dict[str, object] = {"reference": ref, "volume_id": volume.id, "name": fields[0]}
        now = utcnow()
        snapshot = Snapshot(
            id=new_id(),
            volume_id=volume.id,
            project_id=volume.project_id,
            user_id=context.user_id,
            name=fields[0],
            description=fields[1],
            size_gib=size,
            status=S.MANAGING,
            created_at=now,
            updated_at=now,
            metadata=fields[2],
        )
        try:
            with self.db.transaction() as tx:
                operation = self._open_for_new(
                    tx,
                    kind=OperationKind.MANAGE_SNAPSHOT,
                    resource=snapshot,
                    ctx=context,
                    request_id=request_id,
                    params=params,
                    message=f"managing {ref}",
                    quota=QuotaDeltas.for_snapshot(snapshot, volume_type_id=volume.volume_type_id),
                )
        except Replay as replay:
            record = replay.record
            return self._replayed(record, lambda: self._load_snapshot(record.resource_id, context))
        return self._start(
            operation,
            lambda scope: self._run_manage_snapshot(scope, snapshot, volume, ref),
            lambda: self._load_snapshot(snapshot.id, context),
        )

    def _run_manage_snapshot(
        self, scope: OperationScope, snapshot: Snapshot, volume: Volume, ref: dict[str, str]
    ) -> None:
        manager = self._manager(volume.backend)

        def done(tx: Transaction, update: DriverUpdate) -> Snapshot:
            snapshot.provider_location = update.provider_location
            snapshot.size_gib = update.size_gib or snapshot.size_gib
            tx.snapshots.save(snapshot)
            move_snapshot(
                tx, snapshot, S.AVAILABLE, action="finish managing", operation_id=scope.operation.id
            )
            return snapshot

        self._drive(
            scope,
            "manage_snapshot",
            lambda: manager.manage_snapshot(
                snapshot_ref(snapshot, volume.pool), volume_ref(volume), ref
            ),
            resource=snapshot,
            on_failure=S.ERROR_MANAGING,
            done=done,
        )

    def unmanage_snapshot(
        self, snapshot_id: str, *, ctx: RequestContext | None = None
    ) -> OperationHandle[Snapshot]:
        """Stop managing a snapshot; its data stays on the backend."""
        context = self._ctx(ctx, "snapshot:unmanage")
        with self.db.transaction() as tx:
            snapshot = self._snapshot(tx, snapshot_id, context)
            volume = self._volume(tx, snapshot.volume_id, context)
            self._manager(volume.backend)
            self.pools.require_not_frozen(volume.backend, "unmanage a snapshot")
            move_snapshot(tx, snapshot, S.UNMANAGING, action="unmanage")
            operation = self._new_operation(
                tx,
                kind=OperationKind.UNMANAGE_SNAPSHOT,
                resource_kind="snapshot",
                resource_id=snapshot.id,
                ctx=context,
                params={"volume_id": volume.id},
            )
        return self._start(
            operation,
            lambda scope: self.run_unmanage_snapshot(scope, snapshot, volume),
            lambda: snapshot,
        )

    def run_unmanage_snapshot(
        self, scope: OperationScope, snapshot: Snapshot, volume: Volume
    ) -> None:
        """Release the snapshot on the backend, then drop its row."""
        manager = self._manager(volume.backend)

        def done(tx: Transaction, _: None) -> None:
            tx.snapshots.delete(snapshot.id)
            scope.note(EventKind.STATUS_CHANGE, "unmanaged (data left on the backend)")

        self._drive(
            scope,
            "unmanage_snapshot",
            lambda: manager.unmanage_snapshot(snapshot_ref(snapshot, volume.pool)),
            resource=snapshot,
            on_failure=S.AVAILABLE,
            done=done,
        )

    def _admin_pool(
        self, ctx: RequestContext | None, pool: str | None, action: str
    ) -> tuple[str, str]:
        self._ctx(ctx, action)
        return self.pools.resolve(pool)

    def _manager(self, backend: str) -> SupportsManage:
        driver: VolumeDriver = self.pools.driver(backend)
        if not isinstance(driver, SupportsManage):
            raise NotSupportedError(backend, "manage/unmanage")
        return driver


def _checked_reference(reference: object) -> dict[str, str]:
    if not isinstance(reference, Mapping) or not reference:
        raise ManageExistingInvalidReferenceError(
            reference, "must be a non-empty mapping, e.g. {'source-name': 'disk.raw'}"
        )
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in reference.items()):
        raise ManageExistingInvalidReferenceError(reference, "keys and values must be strings")
    return dict(reference)

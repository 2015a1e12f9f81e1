"""Creating volumes: empty, from a snapshot, or as a clone of another volume."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import partial

from basalt.drivers.base import SupportsQoS
from basalt.drivers.types import DriverUpdate, SnapshotRef, VolumeRef
from basalt.errors import (
    BackendDisabledError,
    InvalidInputError,
    InvalidStateError,
    NotSupportedError,
)
from basalt.model import (
    Operation,
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
    validate_size_gib,
)
from basalt.model.volume_type import VolumeType
from basalt.persistence.base import Transaction
from basalt.service.base import Replay, UseCases
from basalt.service.clock import new_id, utcnow
from basalt.service.context import RequestContext
from basalt.service.group_rules import group_for_new_volume, visible_group
from basalt.service.journal import move_volume
from basalt.service.refs import snapshot_ref, volume_ref
from basalt.service.replicator import Replicator
from basalt.service.runner import OperationHandle, OperationScope
from basalt.service.schedule_requests import schedule_request
from basalt.service.scheduler import Explanation, ScheduleRequest
from basalt.service.types import VolumeTypeService, qos_of_type

V = VolumeStatus


class VolumeCreation(UseCases):
    """The create use cases of VolumeService."""

    types: VolumeTypeService
    replicator: Replicator
    """Set by the Basalt facade: records new replicated volumes, drops deleted ones."""

    def create(
        self,
        *,
        size_gib: object,
        name: object = "",
        description: object = "",
        metadata: Mapping[str, object] | None = None,
        pool: str | None = None,
        snapshot_id: str | None = None,
        source_volume_id: str | None = None,
        multiattach: object = False,
        availability_zone: str | None = None,
        volume_type: str | None = None,
        scheduler_hints: Mapping[str, object] | None = None,
        group_id: str | None = None,
        ctx: RequestContext | None = None,
        request_id: str | None = None,
    ) -> OperationHandle[Volume]:
        """Create a volume: empty, from a snapshot, or as a clone of another volume.

        Args:
            size_gib: whole GiB; at least the source's size.
            name, description, metadata: checked by basalt.model.validation.
            pool: ``backend#pool``; None picks one (sources decide for copies).
            snapshot_id: create from this snapshot.
            source_volume_id: clone this volume.
            multiattach: whether several hosts may attach it at once.
            availability_zone: the zone it must be in; None: wherever it is placed.
            volume_type: a type's id or name; None: the source's type for copies, else
                the default type. A type's ``multiattach <is> True`` makes it multiattach.
            scheduler_hints: ``same_host`` / ``different_host``: volume ids whose
                backend the new volume must share / avoid.
            group_id: a group to create it in: its type must be one the group allows, and
                it is placed on the group's backend.
            ctx: the caller; the default context when None.
            request_id: an idempotency key; a retry with it returns the same volume.

        Returns:
            A handle; ``wait()`` returns the available volume.

        Raises:
            InvalidInputError, NotFoundError, InvalidStateError,
            NoValidBackendError (no pool passes the scheduler's filters; the error
            carries each pool's reasons),
            BackendDisabledError (an empty volume, and no enabled backend may take it),
            IdempotencyConflictError, QuotaExceededError (nothing is created).
        """
        context = self._ctx(ctx, "volume:create")
        size = validate_size_gib(size_gib)
        fields = (
            validate_name(name),
            validate_description(description),
            validate_metadata(metadata or {}),
        )
        request_id = self._checked_request_id(request_id)
        shared = validate_flag(multiattach, field="multiattach")
        if snapshot_id is not None and source_volume_id is not None:
            raise InvalidInputError("source", "give a snapshot or a source volume, not both")
        kind, params = _create_kind(size, fields, pool, snapshot_id, source_volume_id)
        if shared:
            params["multiattach"] = True
        if volume_type is not None:
            params["volume_type"] = volume_type
        if group_id is not None:
            params["group_id"] = group_id
        try:
            volume, operation, source, qos = self._insert_new(
                context,
                size=size,
                fields=fields,
                pool=pool,
                snapshot_id=snapshot_id,
                source_volume_id=source_volume_id,
                kind=kind,
                params=params,
                request_id=request_id,
                multiattach=shared,
                zone=availability_zone,
                type_ref=volume_type,
                hints=scheduler_hints,
                group_id=group_id,
            )
        except Replay as replay:
            record = replay.record
            return self._replayed(record, lambda: self._load_volume(record.resource_id, context))
        return self._start(
            operation,
            lambda scope: self._run_create(scope, volume, source, qos),
            lambda: self._load_volume(volume.id, context),
        )

    def clone(
        self,
        volume_id: str,
        *,
        size_gib: object | None = None,
        name: object = "",
        description: object = "",
        metadata: Mapping[str, object] | None = None,
        multiattach: object = False,
        volume_type: str | None = None,
        ctx: RequestContext | None = None,
        request_id: str | None = None,
    ) -> OperationHandle[Volume]:
        """Clone a volume (same size unless ``size_gib`` is larger). See ``create``."""
        size = (
            size_gib
            if size_gib is not None
            else self._load_volume(volume_id, self._ctx(ctx, "volume:create")).size_gib
        )
        return self.create(
            size_gib=size,
            name=name,
            description=description,
            metadata=metadata,
            source_volume_id=volume_id,
            multiattach=multiattach,
            volume_type=volume_type,
            ctx=ctx,
            request_id=request_id,
        )

    def _insert_new(
        self,
        ctx: RequestContext,
        *,
        size: int,
        fields: tuple[str, str, dict[str, str]],
        pool: str | None,
        snapshot_id: str | None,
        source_volume_id: str | None,
        kind: OperationKind,
        params: dict[str, object],
        request_id: str | None,
        multiattach: bool = False,
        zone: str | None = None,
        type_ref: str | None = None,
        hints: Mapping[str, object] | None = None,
        group_id: str | None = None,
    ) -> tuple[Volume, Operation, VolumeRef | SnapshotRef | None, dict[str, str]]:
        copy = snapshot_id is not None or source_volume_id is not None
        with self.db.transaction(write=False) as tx:
            if copy:
                backend, pool_name, _ = self._placement(
                    tx, ctx, size, pool, snapshot_id, source_volume_id
                )
            volume_type = self._volume_type(tx, ctx, type_ref, snapshot_id, source_volume_id)
            request = schedule_request(
                tx, ctx, size_gib=size, volume_type=volume_type, availability_zone=zone, hints=hints
            )
            if group_id is not None and not copy:  # on the group's backend
                backend_of_group = visible_group(tx, group_id, ctx).backend
                if backend_of_group is not None:
                    same = request.same_backend_as | {backend_of_group}
                    request = replace(request, same_backend_as=same)
        # Outside any transaction: the scheduler may ask drivers for fresh stats.
        if copy:
            self.pools.require_zone(backend, zone)
            # A copy is made in its source's pool, even on a disabled backend; the
            # pool must still meet the copy's type and have room for it.
            self.pools.placement.place_on(backend, pool_name, request, enabled=True)
        else:
            backend, pool_name = self._choose_pool(pool, request)
        self.pools.require_not_frozen(backend, "create a volume")
        with self.db.transaction() as tx:
            # Again under the write lock: the source may have changed meanwhile.
            backend, pool_name, source = self._placement(
                tx, ctx, size, f"{backend}#{pool_name}", snapshot_id, source_volume_id
            )
            volume_type = self._volume_type(tx, ctx, type_ref, snapshot_id, source_volume_id)
            qos = self._checked_qos(tx, backend, volume_type, size)
            now = utcnow()
            name, description, metadata = fields
            volume = Volume(
                id=new_id(),
                project_id=ctx.project_id,
                user_id=ctx.user_id,
                name=name,
                description=description,
                size_gib=size,
                status=V.CREATING,
                backend=backend,
                pool=pool_name,
                created_at=now,
                updated_at=now,
                metadata=metadata,
                snapshot_id=snapshot_id,
                source_volume_id=source_volume_id,
                multiattach=multiattach or volume_type.multiattach,
                availability_zone=self.pools.availability_zone(backend),
                volume_type_id=volume_type.id,
            )
            group = None
            if group_id is not None:
                group = group_for_new_volume(
                    tx, ctx, group_id, volume_type_id=volume_type.id, backend=backend
                )
                volume.group_id = group.id
            if volume_type.replication_enabled:
                self.replicator.record_new(tx, volume, group=group)
            operation = self._open_for_new(
                tx,
                kind=kind,
                resource=volume,
                ctx=ctx,
                request_id=request_id,
                params=params,
                message=f"created as {kind}",
                quota=QuotaDeltas.for_volume(volume),
            )
        return volume, operation, source, qos

    def explain_placement(
        self,
        *,
        size_gib: object,
        volume_type: str | None = None,
        availability_zone: str | None = None,
        scheduler_hints: Mapping[str, object] | None = None,
        ctx: RequestContext | None = None,
    ) -> Explanation:
        """Where a new volume would go, and why: every pool with each filter's verdict
        and each weigher's score. Nothing is created or counted.

        Args:
            size_gib, volume_type, availability_zone, scheduler_hints: as ``create``.
            ctx: the caller; the default context when None.

        Returns:
            The explanation (``as_text()`` / ``as_dict()`` render it).

        Raises:
            PermissionDeniedError: not an administrator.
            InvalidInputError: a bad size, zone or hint.
            VolumeTypeNotFoundError, VolumeNotFoundError: an unknown type or hinted volume.
        """
        context = self._ctx(ctx, "scheduler:explain")
        size = validate_size_gib(size_gib)
        with self.db.transaction(write=False) as tx:
            request = schedule_request(
                tx,
                context,
                size_gib=size,
                volume_type=self._volume_type(tx, context, volume_type, None, None),
                availability_zone=availability_zone,
                hints=scheduler_hints,
            )
        self.pools.require_known_zone(availability_zone)
        return self.pools.placement.explain(request)

    def _choose_pool(self, pool: str | None, request: ScheduleRequest) -> tuple[str, str]:
        """The pool a new empty volume goes to: the one named, once it passes every
        scheduler filter, else the scheduler's choice.

        Raises:
            BackendDisabledError: the named pool's backend, or every backend, is disabled.
            InvalidInputError: an unknown zone, or a named pool outside the zone asked for.
            NoValidBackendError: no pool (or not the named one) passes every filter.
        """
        if pool is not None:
            backend, pool_name = self.pools.resolve(pool, new_volume=True)
            self.pools.require_zone(backend, request.availability_zone)
            self.pools.placement.place_on(backend, pool_name, request)
            return backend, pool_name
        disabled = self.pools.disabled_backends()
        if all(name in disabled for name in self.pools.backend_names):
            raise BackendDisabledError(disabled)
        self.pools.require_known_zone(request.availability_zone)
        chosen = self.pools.placement.place(request).pool
        return chosen.backend, chosen.pool

    def _checked_qos(
        self, tx: Transaction, backend: str, volume_type: VolumeType, size: int
    ) -> dict[str, str]:
        """The type's back-end QoS specs, once the backend has said it can apply them.

        Raises:
            NotSupportedError: the type has back-end QoS and the backend enforces none.
            InvalidInputError: the backend cannot apply these specs.
        """
        spec = qos_of_type(tx, volume_type)
        if spec is None or not spec.for_backend or not spec.specs:
            return {}
        driver = self.pools.driver(backend)
        if not isinstance(driver, SupportsQoS):
            raise NotSupportedError(
                backend, f"back-end QoS (QoS spec {spec.name} of volume type {volume_type.name})"
            )
        driver.check_qos(spec.specs, size_gib=size)
        return dict(spec.specs)

    def _volume_type(
        self,
        tx: Transaction,
        ctx: RequestContext,
        type_ref: str | None,
        snapshot_id: str | None,
        source_volume_id: str | None,
    ) -> VolumeType:
        """The type named, else the copied source's type, else the default type.

        Raises:
            VolumeTypeNotFoundError: the type is unknown or not shared with the caller.
        """
        if type_ref is not None:
            return self.types.visible_type(tx, type_ref, ctx)
        origin_id = source_volume_id
        if snapshot_id is not None:
            snapshot = tx.snapshots.get(snapshot_id)
            origin_id = None if snapshot is None else snapshot.volume_id
        origin = None if origin_id is None else tx.volumes.get(origin_id)
        inherited = None
        if origin is not None and origin.volume_type_id is not None:
            inherited = tx.volume_types.get(origin.volume_type_id)
        return inherited or self.types.default_type(tx)

    def _placement(
        self,
        tx: Transaction,
        ctx: RequestContext,
        size: int,
        pool: str | None,
        snapshot_id: str | None,
        source_volume_id: str | None,
    ) -> tuple[str, str, VolumeRef | SnapshotRef | None]:
        """Where the new volume goes, and the source it copies (checked for state and size)."""
        if snapshot_id is not None:
            snap = self._snapshot(tx, snapshot_id, ctx)
            origin = self._source_of_snapshot(tx, snap)
            _require_at_least(size, snap.size_gib, "snapshot")
            self._require_source_pool(pool, origin)
            return origin.backend, origin.pool, snapshot_ref(snap, origin.pool)
        if source_volume_id is not None:
            src = self._volume(tx, source_volume_id, ctx)
            if src.status not in (V.AVAILABLE, V.IN_USE):
                raise InvalidStateError(
                    kind="volume", resource_id=src.id, status=str(src.status), action="clone"
                )
            _require_at_least(size, src.size_gib, "source volume")
            self._require_source_pool(pool, src)
            return src.backend, src.pool, volume_ref(src)
        backend, pool_name = self.pools.resolve(pool)
        return backend, pool_name, None

    def _require_source_pool(self, pool: str | None, source: Volume) -> None:
        """Copies are made in their source's pool; refuse a request for another one."""
        if pool is not None and self.pools.resolve(pool) != (source.backend, source.pool):
            raise InvalidInputError(
                "pool",
                f"a copy is made in its source's pool {source.backend}#{source.pool}, "
                f"not {pool[:100]!r}",
                hint="leave the pool out, or migrate the copy afterwards",
            )

    def _source_of_snapshot(self, tx: Transaction, snap: Snapshot) -> Volume:
        if snap.status != SnapshotStatus.AVAILABLE:
            raise InvalidStateError(
                kind="snapshot",
                resource_id=snap.id,
                status=str(snap.status),
                action="create a volume from",
            )
        origin = tx.volumes.get(snap.volume_id)
        if origin is None:  # cannot happen while the snapshot row exists; be explicit anyway
            raise InvalidStateError(
                kind="volume",
                resource_id=snap.volume_id,
                status="deleted",
                action="use a snapshot of",
            )
        return origin

    def _run_create(
        self,
        scope: OperationScope,
        volume: Volume,
        source: VolumeRef | SnapshotRef | None,
        qos: dict[str, str],
    ) -> None:
        driver = self.pools.driver(volume.backend)
        ref = volume_ref(volume, qos=qos)
        name, call = "create_volume", partial(driver.create_volume, ref)
        if isinstance(source, SnapshotRef):
            name = "create_volume_from_snapshot"
            call = partial(driver.create_volume_from_snapshot, ref, source, progress=scope.progress)
        elif isinstance(source, VolumeRef):
            name = "clone_volume"
            call = partial(driver.clone_volume, ref, source, progress=scope.progress)

        def done(tx: Transaction, update: DriverUpdate) -> Volume:
            volume.provider_location = update.provider_location
            tx.volumes.save(volume)
            move_volume(
                tx, volume, V.AVAILABLE, action="finish creating", operation_id=scope.operation.id
            )
            return volume

        self._drive(
            scope,
            name,
            call,
            resource=volume,
            on_failure=V.ERROR,
            done=done,
            undo=partial(driver.delete_volume, ref),
        )


def _create_kind(
    size: int,
    fields: tuple[str, str, dict[str, str]],
    pool: str | None,
    snapshot_id: str | None,
    source_volume_id: str | None,
) -> tuple[OperationKind, dict[str, object]]:
    name, description, metadata = fields
    params: dict[str, object] = {
        "size_gib": size,
        "name": name,
        "description": description,
        "metadata": metadata,
        "pool": pool,
    }
    if snapshot_id is not None:
        return OperationKind.CREATE_VOLUME_FROM_SNAPSHOT, {**params, "snapshot_id": snapshot_id}
    if source_volume_id is not None:
        return OperationKind.CLONE_VOLUME, {**params, "source_volume_id": source_volume_id}
    return OperationKind.CREATE_VOLUME, params


def _require_at_least(size: int, source_size: int, what: str) -> None:
    if size < source_size:
        raise InvalidInputError(
            "size", f"{size} GiB is smaller than the {what}'s {source_size} GiB"
        )

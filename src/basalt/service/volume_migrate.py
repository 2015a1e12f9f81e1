"""Migrating a volume to another pool or backend; the volume keeps its id.

Driver-assisted when the volume's own driver can move it to the other pool
(SupportsMigration: the file driver renames across pools of one filesystem, in
constant time). Otherwise generic: the destination driver makes a new object for
the same volume id, Basalt copies the bytes (both drivers give it a local path,
SupportsDataAccess) with progress in the operation record, one transaction
switches the volume to the destination, and the source object is deleted.

The steps are recorded in the operation's ``params["step"]`` so that a restart
knows which side holds the volume: before ``switched`` the source does (the
destination object, if any, is removed and the volume stays where it was; the
step ``creating`` is recorded before the destination object is asked for, so a
crash right after the driver made it still leaves a record that it may exist);
from ``switched`` on the destination does (the source object is removed). A
failure at any step before the switch leaves the source intact and usable, with
``migration_status`` ``error``.
"""

from __future__ import annotations

from dataclasses import replace

from basalt.drivers.base import SupportsDataAccess, SupportsMigration, VolumeDriver
from basalt.drivers.data import copy_volume_data
from basalt.drivers.types import GIB, VolumeRef
from basalt.errors import InvalidInputError, InvalidStateError, NotSupportedError
from basalt.model import EventKind, OperationKind, Volume, VolumeStatus
from basalt.model.quota import QuotaDeltas
from basalt.model.volume_type import VolumeType
from basalt.persistence.base import Transaction
from basalt.service.base import UseCases
from basalt.service.context import RequestContext
from basalt.service.journal import move_volume
from basalt.service.refs import volume_ref
from basalt.service.replicator import Replicator, refuse_failed_over
from basalt.service.runner import OperationHandle, OperationScope
from basalt.service.schedule_requests import schedule_request
from basalt.service.types import backend_qos, type_of

V = VolumeStatus
STEP = "step"
OLD_TYPE, NEW_TYPE = "old_type_id", "new_type_id"
"""A retype by migration: the type the volume had, and the one it takes."""
CREATING, CREATED, COPIED, SWITCHED = "creating", "created", "copied", "switched"


class VolumeMigration(UseCases):
    """The migrate use case of VolumeService (administrators)."""

    replicator: Replicator
    """Set by the Basalt facade: a moved volume's secondary copy follows it."""

    def migrate(
        self,
        volume_id: str,
        host: str,
        *,
        force_host_copy: bool = False,
        ctx: RequestContext | None = None,
    ) -> OperationHandle[Volume]:
        """Move an available volume to the pool ``host`` names (``backend#pool`` or
        ``basalt@backend#pool``).

        Args:
            force_host_copy: copy through Basalt even when the driver could move it.

        Raises:
            PermissionDeniedError: not an administrator.
            PoolNotFoundError, BackendNotFoundError: ``host`` names no pool.
            InvalidInputError: it is the volume's own pool, or the volume has snapshots.
            InvalidStateError: the volume is not available.
            NotSupportedError: neither the driver can move it nor Basalt copy it.
            NoValidBackendError: the destination fails a scheduler filter for the
                volume's type (capacity, capabilities, enabled...); it says which.
        """
        context = self._ctx(ctx, "volume:migrate")
        dest_backend, dest_pool = self.pools.resolve(host)
        seen = self._load_volume(volume_id, context)
        self.pools.require_not_frozen(seen.backend, "migrate a volume")
        self.pools.require_not_frozen(dest_backend, "migrate a volume to it")
        self._check_migration(seen, dest_backend, dest_pool, force_host_copy)
        with self.db.transaction(write=False) as tx:
            request = schedule_request(
                tx, context, size_gib=seen.size_gib, volume_type=type_of(tx, seen)
            )
        # The destination must meet the volume's type and have room (counted until the
        # next stats report, so concurrent migrations cannot all pass on one figure).
        self.pools.placement.place_on(dest_backend, dest_pool, request)
        return self._start_migration(
            context, volume_id, dest_backend, dest_pool, force_host_copy=force_host_copy
        )

    def _start_migration(
        self,
        context: RequestContext,
        volume_id: str,
        dest_backend: str,
        dest_pool: str,
        *,
        force_host_copy: bool,
        new_type: VolumeType | None = None,
    ) -> OperationHandle[Volume]:
        """Open the migration's operation and start it (the destination was checked).

        Args:
            new_type: a retype by migration: the volume takes this type at once (its
                quota checked here, status ``retyping``) and gives it back if the
                migration rolls back.
        """
        with self.db.transaction() as tx:
            volume = self._volume(tx, volume_id, context)
            self.pools.require_not_frozen(volume.backend, "migrate a volume")
            self._check_migration(volume, dest_backend, dest_pool, force_host_copy)
            if tx.snapshots.count_for_volume(volume.id):
                raise InvalidInputError(
                    "volume",
                    f"volume {volume.id} has snapshots, which would stay behind",
                    hint="delete its snapshots first",
                )
            params: dict[str, object] = {
                "source": f"{volume.backend}#{volume.pool}",
                "dest": f"{dest_backend}#{dest_pool}",
                "force_host_copy": force_host_copy,
                STEP: "start",
            }
            if new_type is None:
                move_volume(tx, volume, V.MAINTENANCE, action="migrate")
            else:
                params.update(self._begin_retype(tx, volume, new_type))
            volume.migration_status = "migrating"
            tx.volumes.save(volume)
            qos = backend_qos(tx, volume)  # the new type's, for a retype
            operation = self._new_operation(
                tx,
                kind=OperationKind.MIGRATE_VOLUME,
                resource_kind="volume",
                resource_id=volume.id,
                ctx=context,
                params=params,
            )
        return self._start(
            operation,
            lambda scope: self.run_migration(scope, volume, qos),
            lambda: self._load_volume(volume.id, context),
        )

    def _begin_retype(
        self, tx: Transaction, volume: Volume, new_type: VolumeType
    ) -> dict[str, object]:
        """Give the volume its new type now, under the type's quota; return the params
        that let a rollback give the old one back.

        Raises:
            InvalidInputError: the volume is of that type already.
            QuotaExceededError: the new type's quota cannot take the volume.
        """
        old_type_id = volume.volume_type_id
        if old_type_id == new_type.id:
            raise InvalidInputError(
                "new_type", f"volume {volume.id} is of type {new_type.name} already"
            )
        snapshots = tx.snapshots.for_volume(volume.id)
        self.quotas.check(
            tx, volume.project_id, QuotaDeltas.for_retype(volume, new_type.id, snapshots)
        )
        move_volume(tx, volume, V.RETYPING, action="retype")
        volume.volume_type_id = new_type.id
        tx.volumes.save(volume)
        return {OLD_TYPE: old_type_id, NEW_TYPE: new_type.id}

    def _check_migration(
        self, volume: Volume, dest_backend: str, dest_pool: str, force_host_copy: bool
    ) -> None:
        if volume.status != V.AVAILABLE:
            raise InvalidStateError(
                kind="volume",
                resource_id=volume.id,
                status=str(volume.status),
                action="migrate",
                hint="only available volumes move; detach it first",
            )
        if (volume.backend, volume.pool) == (dest_backend, dest_pool):
            raise InvalidInputError(
                "host", f"volume {volume.id} is in pool {dest_backend}#{dest_pool} already"
            )
        refuse_failed_over(volume, "migrate")
        same_backend = volume.backend == dest_backend
        source, dest = self.pools.driver(volume.backend), self.pools.driver(dest_backend)
        assisted = same_backend and not force_host_copy and isinstance(source, SupportsMigration)
        copies = isinstance(source, SupportsDataAccess) and isinstance(dest, SupportsDataAccess)
        if not (assisted or copies):
            raise NotSupportedError(
                volume.backend if not isinstance(source, SupportsDataAccess) else dest_backend,
                f"moving volume data between {volume.backend}#{volume.pool} and "
                f"{dest_backend}#{dest_pool} (Basalt has no local data path to this backend)",
            )

    def run_migration(self, scope: OperationScope, volume: Volume, qos: dict[str, str]) -> None:
        """Move the volume (also re-run after a restart); on failure roll back to the source."""
        dest_backend, dest_pool = str(scope.operation.params["dest"]).split("#", 1)
        force = bool(scope.operation.params.get("force_host_copy"))
        source_driver = self.pools.driver(volume.backend)
        try:
            if (
                volume.backend == dest_backend
                and not force
                and isinstance(source_driver, SupportsMigration)
            ):
                update = scope.driver_call(
                    "migrate_volume",
                    lambda: source_driver.migrate_volume(volume_ref(volume), dest_pool),
                )
                if update is not None:
                    self._switch(scope, volume, dest_backend, dest_pool, update.provider_location)
                    self._finish_migration(scope, volume)
                    return
            self._copy_across(scope, volume, dest_backend, dest_pool, qos)
        except Exception as exc:
            self._roll_back_migration(scope, volume, reason=str(exc))
            raise

    def _copy_across(
        self,
        scope: OperationScope,
        volume: Volume,
        dest_backend: str,
        dest_pool: str,
        qos: dict[str, str],
    ) -> None:
        source_driver, dest_driver = (
            self.pools.driver(volume.backend),
            self.pools.driver(dest_backend),
        )
        source_ref = volume_ref(volume)
        dest_ref = _at(volume_ref(volume, qos=qos), dest_pool)
        self._record_step(scope, CREATING)  # before: a crash after the create must undo it
        created = scope.driver_call("create_volume", lambda: dest_driver.create_volume(dest_ref))
        self._record_step(scope, CREATED)
        assert isinstance(source_driver, SupportsDataAccess)
        assert isinstance(dest_driver, SupportsDataAccess)
        source_path, dest_path = (
            source_driver.data_path(source_ref),
            dest_driver.data_path(dest_ref),
        )
        scope.driver_call(
            "copy_volume_data",
            lambda: copy_volume_data(
                source_path, dest_path, size_bytes=volume.size_gib * GIB, progress=scope.progress
            ),
        )
        self._record_step(scope, COPIED)
        self._switch(scope, volume, dest_backend, dest_pool, created.provider_location)
        self._remove_source(scope, source_driver, source_ref)
        self._finish_migration(scope, volume)

    def recover_migration(self, scope: OperationScope, volume: Volume) -> bool:
        """Resolve a migration a restart interrupted; True when it was finished.

        From ``switched`` on the volume is at the destination: remove the source
        object and finish. Before, it is at the source, unless a driver's move went
        through and the switch did not (then the object is only at the destination and
        the switch is made now); otherwise the destination object goes.
        """
        params = scope.operation.params
        if params.get(STEP) == SWITCHED:
            self._finish_after_switch(scope, volume)
            return True
        dest_backend, dest_pool = str(params["dest"]).split("#", 1)
        driver = self.pools.driver(volume.backend)
        moved = (
            params.get(STEP) == "start"
            and volume.backend == dest_backend
            and not driver.volume_exists(volume_ref(volume))
            and driver.volume_exists(_at(volume_ref(volume), dest_pool))
        )
        if moved:
            self._switch(scope, volume, dest_backend, dest_pool, volume.provider_location)
            self._finish_migration(scope, volume)
            return True
        self._roll_back_migration(scope, volume, reason="Basalt stopped before the switch")
        return False

    def _record_step(self, scope: OperationScope, step: str) -> None:
        scope.operation.params[STEP] = step
        with self.db.transaction() as tx:
            scope.flush(tx)

    def _switch(
        self,
        scope: OperationScope,
        volume: Volume,
        backend: str,
        pool: str,
        provider_location: str | None,
    ) -> None:
        """The one transaction after which the volume is at the destination."""
        source = f"{volume.backend}#{volume.pool}"
        with self.db.transaction() as tx:
            volume.backend, volume.pool = backend, pool
            volume.provider_location = provider_location
            volume.availability_zone = self.pools.availability_zone(backend)
            volume.migration_status = "completing"
            tx.volumes.save(volume)
            scope.operation.params[STEP] = SWITCHED
            scope.note(EventKind.NOTE, f"moved from {source} to {backend}#{pool}")
            scope.flush(tx)

    def _remove_source(
        self, scope: OperationScope, driver: VolumeDriver, source_ref: VolumeRef
    ) -> None:
        """Delete the source object; the volume is safe at the destination, so a failure
        is noted (reconciliation reports the leftover) rather than undoing the move."""
        try:
            scope.driver_call("delete_volume", lambda: driver.delete_volume(source_ref))
        except Exception as exc:  # noqa: BLE001 - the move itself succeeded
            scope.note(EventKind.ERROR, f"the source object stayed behind: {exc}")

    def _finish_migration(self, scope: OperationScope, volume: Volume) -> None:
        moved_from = str(scope.operation.params["source"])
        lines = self.replicator.follow_type(volume.id, moved_from=moved_from)
        with self.db.transaction() as tx:
            current = tx.volumes.get(volume.id)  # with the replication follow_type gave it
            assert current is not None
            current.migration_status = "success"
            tx.volumes.save(current)
            for line in lines:
                scope.note(EventKind.NOTE, line)
            move_volume(
                tx, current, V.AVAILABLE, action="finish migrating", operation_id=scope.operation.id
            )
            scope.finish(tx, result=current)

    def _roll_back_migration(self, scope: OperationScope, volume: Volume, *, reason: str) -> None:
        """Before the switch: remove the destination object, the volume stays at the source."""
        if scope.operation.params.get(STEP) == SWITCHED:
            self._finish_after_switch(scope, volume)
            return
        dest_backend, dest_pool = str(scope.operation.params["dest"]).split("#", 1)
        if scope.operation.params.get(STEP) in (CREATING, CREATED, COPIED):
            try:
                self.pools.driver(dest_backend).delete_volume(_at(volume_ref(volume), dest_pool))
            except Exception as exc:  # noqa: BLE001 - reported, the source is what matters
                scope.note(EventKind.ERROR, f"the destination object stayed behind: {exc}")
        with self.db.transaction() as tx:
            current = tx.volumes.get(volume.id)
            assert current is not None
            current.migration_status = "error"
            if OLD_TYPE in scope.operation.params:  # a retype by migration gives it back
                old_type = scope.operation.params[OLD_TYPE]
                current.volume_type_id = None if old_type is None else str(old_type)
            tx.volumes.save(current)
            scope.flush(tx)
            move_volume(
                tx,
                current,
                V.AVAILABLE,
                action="roll back migrating",
                operation_id=scope.operation.id,
                reason=f"the volume stays in {current.backend}#{current.pool}: {reason}",
            )

    def _finish_after_switch(self, scope: OperationScope, volume: Volume) -> None:
        with self.db.transaction(write=False) as tx:
            current = tx.volumes.get(volume.id)
        assert current is not None
        source_backend, source_pool = str(scope.operation.params["source"]).split("#", 1)
        source_ref = _at(volume_ref(current), source_pool)
        self._remove_source(scope, self.pools.driver(source_backend), source_ref)
        if current.status in (V.MAINTENANCE, V.RETYPING):
            self._finish_migration(scope, current)


def _at(ref: VolumeRef, pool: str) -> VolumeRef:
    """The same volume's object in another pool (a migration's other side)."""
    return replace(ref, pool=pool, provider_location=None)

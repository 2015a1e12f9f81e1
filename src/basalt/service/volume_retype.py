"""Retype: give a volume another volume type, in place or by migrating it.

In place when the volume's pool meets the new type (every scheduler filter but
capacity: the volume is there already) and the driver changes the volume itself
(SupportsRetype.retype returns True: SolidFire applies the new QoS, a file pool
has nothing a type changes). Otherwise, with ``migration_policy`` ``on-demand``,
the scheduler picks a pool that meets the new type and the volume migrates there
(volume_migrate.py) taking the type on the way; with ``never`` (the default, as
Cinder's) the retype is refused and says why.

The volume takes the new type at once, in the transaction that checks the new
type's quota (so two retypes cannot both pass a limit of one) and moves it to
``retyping``; a failure gives the old type back.
"""

from __future__ import annotations

from typing import Literal

from basalt.drivers.base import SupportsRetype
from basalt.errors import InvalidInputError, InvalidStateError, NotSupportedError
from basalt.model import EventKind, OperationKind, Volume, VolumeStatus
from basalt.model.volume_type import VolumeType
from basalt.service.clock import utcnow
from basalt.service.context import RequestContext
from basalt.service.journal import move_volume
from basalt.service.refs import volume_ref
from basalt.service.replicator import refuse_failed_over
from basalt.service.runner import OperationHandle, OperationScope
from basalt.service.schedule_requests import schedule_request
from basalt.service.types import VolumeTypeService, backend_qos, qos_of_type, type_of
from basalt.service.volume_migrate import NEW_TYPE, OLD_TYPE, VolumeMigration

V = VolumeStatus
MigrationPolicy = Literal["never", "on-demand"]
POLICIES: tuple[MigrationPolicy, ...] = ("never", "on-demand")


class VolumeRetype(VolumeMigration):
    """The retype use case of VolumeService."""

    types: VolumeTypeService

    def retype(
        self,
        volume_id: str,
        new_type: str,
        *,
        migration_policy: str = "never",
        ctx: RequestContext | None = None,
    ) -> OperationHandle[Volume]:
        """Change an available volume's type.

        Args:
            volume_id: the volume.
            new_type: the type's id or name (visible to the caller).
            migration_policy: ``never`` (refuse when the volume's pool or driver
                cannot take the type in place) or ``on-demand`` (then migrate it to a
                pool the scheduler chooses for the new type).

        Returns:
            A handle; ``wait()`` returns the volume of its new type.

        Raises:
            InvalidInputError: an unknown policy, the type it has already, or (policy
                ``never``) a pool that does not meet the new type; the reason is named.
            InvalidStateError: the volume is not available.
            VolumeTypeNotFoundError: no such type for the caller.
            NoValidBackendError: migration needed and no pool meets the new type.
            QuotaExceededError: the new type's quota cannot take the volume.
            NotSupportedError: migration needed and no data path reaches the pool.
        """
        context = self._ctx(ctx, "volume:retype")
        policy = _policy(migration_policy)
        seen = self._load_volume(volume_id, context)
        _require_available(seen)
        with self.db.transaction(write=False) as tx:
            target = self.types.visible_type(tx, new_type, context)
            if seen.volume_type_id == target.id:
                raise InvalidInputError(
                    "new_type", f"volume {seen.id} is of type {target.name} already"
                )
            request = schedule_request(tx, context, size_gib=seen.size_gib, volume_type=target)
        unmet = self.pools.placement.unmet_in_place(seen.backend, seen.pool, request)
        driver = self.pools.driver(seen.backend)
        if not unmet and isinstance(driver, SupportsRetype):
            return self._start_retype_in_place(context, volume_id, target, policy)
        why = "; ".join(unmet) or f"backend {seen.backend} cannot change a volume's type"
        if policy == "never":
            raise InvalidInputError(
                "new_type",
                f"volume {seen.id} cannot take type {target.name} where it is "
                f"({seen.backend}#{seen.pool}): {why}",
                hint="retype with migration_policy on-demand to move it to a pool that can",
            )
        chosen = self.pools.placement.place(request).pool
        if (chosen.backend, chosen.pool) == (seen.backend, seen.pool):
            raise NotSupportedError(seen.backend, f"retyping volume {seen.id} in place ({why})")
        return self._start_migration(
            context, volume_id, chosen.backend, chosen.pool, force_host_copy=False, new_type=target
        )

    def _start_retype_in_place(
        self,
        context: RequestContext,
        volume_id: str,
        target: VolumeType,
        policy: MigrationPolicy,
    ) -> OperationHandle[Volume]:
        with self.db.transaction() as tx:
            volume = self._volume(tx, volume_id, context)
            self.pools.require_not_frozen(volume.backend, "retype a volume")
            _require_available(volume)
            refuse_failed_over(volume, "retype")
            params = self._begin_retype(tx, volume, target)
            operation = self._new_operation(
                tx,
                kind=OperationKind.RETYPE_VOLUME,
                resource_kind="volume",
                resource_id=volume.id,
                ctx=context,
                params={**params, "migration_policy": policy},
            )
        return self._start(
            operation,
            lambda scope: self.run_retype(scope, volume),
            lambda: self._load_volume(volume.id, context),
        )

    def run_retype(self, scope: OperationScope, volume: Volume) -> None:
        """Ask the driver to change the volume (also re-run after a restart: the
        drivers' retype is idempotent); on failure give the old type back."""
        params = scope.operation.params
        with self.db.transaction(write=False) as tx:
            old = tx.volume_types.get(str(params[OLD_TYPE])) if params[OLD_TYPE] else None
            new = type_of(tx, volume)
            old_qos = qos_of_type(tx, old)
            new_qos = backend_qos(tx, volume)
        assert new is not None and new.id == params[NEW_TYPE]
        ref = volume_ref(
            volume, qos=dict(old_qos.specs) if old_qos is not None and old_qos.for_backend else {}
        )
        driver = self.pools.driver(volume.backend)
        assert isinstance(driver, SupportsRetype)
        try:
            changed = scope.driver_call(
                "retype",
                lambda: driver.retype(ref, new_specs=dict(new.extra_specs), new_qos=new_qos),
            )
            if not changed:
                raise NotSupportedError(
                    volume.backend, f"changing volume {volume.id} to type {new.name} in place"
                )
        except Exception as exc:
            self._give_old_type_back(scope, volume, reason=str(exc))
            raise
        lines = self.replicator.follow_type(volume.id)
        with self.db.transaction() as tx:
            for line in lines:
                scope.note(EventKind.NOTE, line)
            current = tx.volumes.get(volume.id)
            assert current is not None
            move_volume(
                tx, current, V.AVAILABLE, action="finish retyping", operation_id=scope.operation.id
            )
            scope.finish(tx, result=current)

    def recover_retype(self, scope: OperationScope, volume: Volume) -> bool:
        """Finish an in-place retype a restart interrupted; True when it was finished."""
        if volume.status != V.RETYPING:
            return volume.volume_type_id == scope.operation.params[NEW_TYPE]
        try:
            self.run_retype(scope, volume)
        except Exception:  # noqa: BLE001 - rolled back: the volume has its old type
            return False
        return True

    def _give_old_type_back(self, scope: OperationScope, volume: Volume, *, reason: str) -> None:
        with self.db.transaction() as tx:
            current = tx.volumes.get(volume.id)
            assert current is not None
            old = scope.operation.params[OLD_TYPE]
            current.volume_type_id = None if old is None else str(old)
            current.updated_at = utcnow()
            tx.volumes.save(current)
            scope.note(EventKind.NOTE, f"kept its old type: {reason}")
            scope.flush(tx)
            move_volume(
                tx,
                current,
                V.AVAILABLE,
                action="roll back retyping",
                operation_id=scope.operation.id,
                reason=reason,
            )


def _policy(value: str) -> MigrationPolicy:
    for policy in POLICIES:
        if value == policy:
            return policy
    raise InvalidInputError(
        "migration_policy", f"{str(value)[:32]!r} is not one of: {', '.join(POLICIES)}"
    )


def _require_available(volume: Volume) -> None:
    if volume.status != V.AVAILABLE:
        raise InvalidStateError(
            kind="volume",
            resource_id=volume.id,
            status=str(volume.status),
            action="retype",
            hint="only available volumes are retyped; detach it first",
        )

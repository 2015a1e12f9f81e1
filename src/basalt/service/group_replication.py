"""One group's replication: enable, disable, fail over and back, list its targets.

A group whose group type has ``consistent_group_replication_enabled <is> True``
replicates as one (Cinder's replicated groups, microversion 3.38). Its volumes are
of replicated volume types; the group's ``replication_status`` gates them:

- **disabled** (a new group): its volumes are not shipped (their replication_status
  is ``disabled``); a volume that joins takes it, one that leaves follows its own
  type again (``enabled``).
- **enable** / **disable**: one transaction changes the group and every volume.
  Shipping resumes from the last shipped point (the next shipment is a delta).
- **failover** to a target (the backend's only one when none is named): an
  operation that pauses the backend's shipments, has the driver serve just these
  volumes from their secondary copies (:class:`SupportsGroupReplication`), and
  marks them and the group ``failed-over``. The rest of the backend stays on its
  primary storage. What was written after a volume's last completed shipment is
  lost: that is the recovery point.
- **failback** (``secondary_backend_id`` ``default``) copies what changed back,
  serves the volumes from the primary again and resumes shipping.

While it fails over or back the group is ``updating``: no volume joins or leaves
and no group snapshot is taken. A failover that switched some volumes and then
failed leaves the group ``error`` with its target recorded; failing over again
(the same target) or back finishes the job. Refusals come before anything changes.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass

from basalt.drivers.base import SupportsGroupReplication, SupportsReplication
from basalt.drivers.types import ReplicationTarget
from basalt.errors import (
    GroupNotFoundError,
    GroupReplicationStateError,
    InvalidStateError,
    NotSupportedError,
)
from basalt.model import EventKind, Operation, OperationKind, Volume, VolumeStatus
from basalt.model.group import GROUP_REPLICATION_SPEC, Group
from basalt.model.replication import DEFAULT_BACKEND_ID, ReplicationStatus
from basalt.model.states import (
    GROUP_REPLICATION_TRANSITIONS,
    VOLUME_BUSY,
    GroupStatus,
    check_transition,
)
from basalt.model.validation import validate_flag
from basalt.persistence.base import Transaction
from basalt.service.base import UseCases
from basalt.service.clock import utcnow
from basalt.service.context import RequestContext
from basalt.service.group_rules import visible_group
from basalt.service.journal import move_group, record
from basalt.service.refs import volume_ref
from basalt.service.replication import checked_target, replicating_driver
from basalt.service.replicator import SHIPPING, Replicator, set_volume_replication
from basalt.service.runner import OperationHandle, OperationScope

R = ReplicationStatus
K = OperationKind
SWITCHABLE_MEMBER = frozenset({VolumeStatus.AVAILABLE, VolumeStatus.IN_USE})


@dataclass(frozen=True, slots=True)
class GroupFailover:
    """What a group failover or failback was asked for, checked."""

    group: Group
    kind: OperationKind
    target: str


class GroupReplicationService(UseCases):
    """enable, disable, failover (and failback) of one group; its targets."""

    replicator: Replicator
    """Set by the Basalt facade."""

    # -- enable and disable ----------------------------------------------------------

    def enable(self, group_id: str, *, ctx: RequestContext | None = None) -> Group:
        """Ship the group's volumes again (replication_status ``enabled``).

        Raises:
            GroupNotFoundError, InvalidStateError (the group or a volume is busy),
            GroupReplicationStateError (the group type does not replicate groups, a
            volume is not replicated, or the group is failed over), NotSupportedError,
            ReplicationNotConfiguredError, BackendFrozenError.
        """
        return self._switch_shipping(group_id, R.ENABLED, "group:enable_replication", ctx)

    def disable(self, group_id: str, *, ctx: RequestContext | None = None) -> Group:
        """Stop shipping the group's volumes (replication_status ``disabled``); their
        secondary copies stay at the last shipped point.

        Raises:
            As :meth:`enable`.
        """
        return self._switch_shipping(group_id, R.DISABLED, "group:disable_replication", ctx)

    def _switch_shipping(
        self, group_id: str, wanted: ReplicationStatus, action: str, ctx: RequestContext | None
    ) -> Group:
        context = self._ctx(ctx, action)
        verb = "enable" if wanted == R.ENABLED else "disable"
        with self.db.transaction() as tx:
            group = visible_group(tx, group_id, context)
            backend = self._checked_group(tx, group, f"{verb} replication of group {group.id}")
            refuse_while_failed_over(group, f"{verb} its replication")
            members = tx.volumes.in_group(group.id)
            self._check_members(tx, group, members, allow_attached=True)
            current = group.replication_status or R.DISABLED
            if current != wanted:
                _check_group_move(group, current, wanted)
            for volume in members:
                if wanted == R.ENABLED and volume.replication_status == R.DISABLED:
                    set_volume_replication(tx, volume, R.ENABLED, reason=f"group {group.id}")
                elif wanted == R.DISABLED and volume.replication_status in SHIPPING:
                    set_volume_replication(tx, volume, R.DISABLED, reason=f"group {group.id}")
            group.replication_status = str(wanted)
            group.replication_target = None
            group.updated_at = utcnow()
            tx.groups.save(group)
            record(
                tx,
                resource_kind="group",
                resource_id=group.id,
                kind=EventKind.STATUS_CHANGE,
                message=f"replication {current} -> {wanted} ({len(members)} volume(s) on "
                f"backend {backend})",
            )
        return group

    # -- failover and failback -----------------------------------------------------

    def failover(
        self,
        group_id: str,
        secondary_backend_id: str | None = None,
        *,
        allow_attached_volume: object = False,
        ctx: RequestContext | None = None,
    ) -> OperationHandle[Group]:
        """Serve the group's volumes from replication target ``secondary_backend_id``
        (None: the backend's first), or from the primary again (``default``: failback).

        Args:
            group_id: the group.
            secondary_backend_id: a target of the group's backend, ``default``, or None.
            allow_attached_volume: fail over even if a volume is attached (its LUN is
                re-pointed; the host sees the data of the last completed shipment).
            ctx: the caller (the default context when None).

        Returns:
            A handle; ``wait()`` returns the group, ``failed-over`` (or ``enabled``).

        Raises:
            GroupNotFoundError, InvalidInputError, InvalidStateError,
            ReplicationTargetNotFoundError, BackendFrozenError, NotSupportedError,
            ReplicationNotConfiguredError, GroupReplicationStateError (not replicated,
            disabled, already failed over or not, a volume attached without
            ``allow_attached_volume``, or the backend failed over as a whole).
        """
        context = self._ctx(ctx, "group:failover_replication")
        attached_ok = validate_flag(allow_attached_volume, field="allow_attached_volume")
        with self.db.transaction() as tx:
            asked = self._checked_failover(tx, group_id, secondary_backend_id, context)
            group = asked.group
            members = tx.volumes.in_group(group.id)
            self._check_members(
                tx,
                group,
                members,
                allow_attached=attached_ok,
                require_shipped=asked.kind == K.FAILOVER_GROUP,
            )
            before = group.replication_status or R.DISABLED
            _check_group_move(group, before, R.FAILING_OVER)
            move_group(tx, group, GroupStatus.UPDATING, action="fail over")
            group.replication_status = str(R.FAILING_OVER)
            group.replication_target = asked.target
            group.updated_at = utcnow()
            tx.groups.save(group)
            operation = self._new_operation(
                tx,
                kind=asked.kind,
                resource_kind="group",
                resource_id=group.id,
                ctx=context,
                params={"target": asked.target, "from": str(before)},
            )
        return self._start(
            operation,
            lambda scope: self.run_failover(scope, operation),
            lambda: self._group(group.id),
        )

    def _checked_failover(
        self, tx: Transaction, group_id: str, backend_id: str | None, ctx: RequestContext
    ) -> GroupFailover:
        group = visible_group(tx, group_id, ctx)
        backend = self._checked_group(tx, group, f"fail over group {group.id}")
        driver = self._driver(backend, "failover_replication")  # _checked_group: per group
        wanted = checked_target(
            backend_id, [t.backend_id for t in driver.replication_targets()], backend
        )
        status = group.replication_status or R.DISABLED
        if wanted == DEFAULT_BACKEND_ID:
            if status not in (R.FAILED_OVER, R.ERROR) or group.replication_target is None:
                raise GroupReplicationStateError(
                    group.id,
                    f"is not failed over (replication {status}): its volumes serve from "
                    "their primary storage already",
                    hint="failback (secondary_backend_id default) follows a failover",
                )
            return GroupFailover(group, K.FAILBACK_GROUP, group.replication_target)
        if status == R.FAILED_OVER or (status == R.ERROR and group.replication_target):
            if group.replication_target != wanted or status == R.FAILED_OVER:
                raise GroupReplicationStateError(
                    group.id,
                    f"is {status} to {group.replication_target} already",
                    hint="fail back first (secondary_backend_id default)",
                )
        elif status == R.DISABLED:
            raise GroupReplicationStateError(
                group.id,
                "its replication is disabled: its secondary copies are not kept current",
                hint="enable_replication first, and let a shipment complete",
            )
        return GroupFailover(group, K.FAILOVER_GROUP, wanted)

    def run_failover(self, scope: OperationScope, operation: Operation) -> None:
        """The body of a group failover or failback (also re-driven after a restart)."""
        group = self._group(operation.resource_id)
        target = str(operation.params["target"])
        assert group.backend is not None
        driver = self.pools.driver(group.backend)
        if not isinstance(driver, SupportsGroupReplication):  # the configuration changed
            self._give_back(scope, group.id, str(operation.params.get("from", R.ENABLED)))
            raise NotSupportedError(group.backend, "replication per group")
        with self.db.transaction(write=False) as tx:
            members = tx.volumes.in_group(group.id)
        refs = [volume_ref(v) for v in members]
        scope.progress(0, len(members) + 1)
        try:
            with self.replicator.paused(group.backend):
                if operation.kind == K.FAILBACK_GROUP:
                    copied = scope.driver_call(
                        "failback_volumes",
                        lambda: driver.failback_volumes(target, refs, progress=scope.progress),
                    )
                    scope.note(EventKind.NOTE, f"copied {copied} bytes back from {target}")
                else:
                    lines = scope.driver_call(
                        "failover_volumes", lambda: driver.failover_volumes(target, refs)
                    )
                    for line in lines:
                        scope.note(EventKind.NOTE, line)
        except Exception:
            self._settle(scope, group.id, driver, target, failed=True)
            raise
        self._settle(scope, group.id, driver, target, failed=False)

    def _settle(
        self,
        scope: OperationScope,
        group_id: str,
        driver: SupportsGroupReplication,
        target: str,
        *,
        failed: bool,
    ) -> None:
        """Record where each volume serves from now, and the group's state from that."""
        with self.db.transaction() as tx:
            group = self._group_in(tx, group_id)
            members = tx.volumes.in_group(group.id)
            moved = {v.id for v in members if driver.serving_target(volume_ref(v)) == target}
            for volume in members:
                wanted = R.FAILED_OVER if volume.id in moved else R.ENABLED
                if volume.replication_status in (*SHIPPING, R.FAILED_OVER):
                    set_volume_replication(tx, volume, wanted, operation_id=scope.operation.id)
            failback = scope.operation.kind == K.FAILBACK_GROUP
            if not members:
                status = R.ENABLED if failback or failed else R.FAILED_OVER
            elif not moved:
                status = R.ENABLED  # all on the primary: failed back, or nothing switched
            elif len(moved) == len(members) and (failback or not failed):
                status = R.FAILED_OVER  # all on the target: failed over, or nothing came back
            else:
                status = R.ERROR  # some here, some there: fail over or back again
            _check_group_move(group, R.FAILING_OVER, status)
            _settle_group(tx, scope, group, status, None if status == R.ENABLED else target)
            if not failed:
                scope.finish(tx, result=group)

    def _give_back(self, scope: OperationScope, group_id: str, before: str) -> None:
        """Nothing was switched: the group's replication is as before the request."""
        with self.db.transaction() as tx:
            group = self._group_in(tx, group_id)
            kept = group.replication_target if before in (R.FAILED_OVER, R.ERROR) else None
            _settle_group(tx, scope, group, before, kept)

    def recover(self, operation: Operation, scope: OperationScope) -> bool:
        """Re-drive a group failover or failback a restart interrupted (idempotent)."""
        self.run_failover(scope, operation)
        return True

    # -- targets -------------------------------------------------------------------

    def targets(
        self, group_id: str, *, ctx: RequestContext | None = None
    ) -> builtins.list[ReplicationTarget]:
        """The replication targets the group can fail over to.

        Raises:
            GroupNotFoundError, GroupReplicationStateError (its type does not replicate
            groups), NotSupportedError, ReplicationNotConfiguredError.
        """
        context = self._ctx(ctx, "group:get")
        with self.db.transaction(write=False) as tx:
            group = visible_group(tx, group_id, context)
            backend = self._replicating_backend(tx, group)
        return list(self._driver(backend, "list_replication_targets").replication_targets())

    # -- rules ---------------------------------------------------------------------

    def _replicating_backend(self, tx: Transaction, group: Group) -> str:
        type_ = tx.group_types.get(group.group_type_id)
        if type_ is None or not type_.replication_enabled:
            raise GroupReplicationStateError(
                group.id,
                f"its group type does not replicate groups ({GROUP_REPLICATION_SPEC} is not "
                "'<is> True')",
                hint=f"create it with a group type whose {GROUP_REPLICATION_SPEC} is '<is> True'",
            )
        assert group.backend is not None
        return group.backend

    def _checked_group(self, tx: Transaction, group: Group, action: str) -> str:
        """The group's backend, once the group may change its replication now."""
        backend = self._replicating_backend(tx, group)
        if group.status != GroupStatus.AVAILABLE:
            raise InvalidStateError(
                kind="group", resource_id=group.id, status=str(group.status), action=action
            )
        driver = self._driver(backend, action)
        if not isinstance(driver, SupportsGroupReplication):
            raise NotSupportedError(
                backend, "replication per group (its driver fails over the whole backend only)"
            )
        self.pools.require_not_frozen(backend, action)
        record_ = tx.services.get(backend)
        if record_ is not None and (record_.active_backend_id or record_.replication_status):
            raise GroupReplicationStateError(
                group.id,
                f"backend {backend} is {record_.replication_status} to "
                f"{record_.active_backend_id} as a whole",
                hint="fail the backend back first (os-services failover, backend_id default)",
            )
        return backend

    def _check_members(
        self,
        tx: Transaction,
        group: Group,
        members: Sequence[Volume],
        *,
        allow_attached: bool,
        require_shipped: bool = False,
    ) -> None:
        """Every member may change its replication now (``require_shipped``: and has a
        copy to serve from, one shipment of it completed)."""
        for volume in members:
            replica = tx.replicas.get(volume.id)
            if replica is None:
                raise GroupReplicationStateError(
                    group.id,
                    f"volume {volume.id} is not replicated (its type lacks "
                    "replication_enabled <is> True)",
                    hint="remove it from the group, or retype it to a replicated type",
                )
            if volume.status in VOLUME_BUSY or volume.status not in SWITCHABLE_MEMBER:
                raise InvalidStateError(
                    kind="volume",
                    resource_id=volume.id,
                    status=str(volume.status),
                    action=f"change the replication of group {group.id} with",
                    hint="wait for its operation to finish",
                )
            if volume.status == VolumeStatus.IN_USE and not allow_attached:
                raise GroupReplicationStateError(
                    group.id,
                    f"volume {volume.id} is attached",
                    hint="detach it, or pass allow_attached_volume (its host then reads "
                    "the data of the last completed shipment)",
                )
            if require_shipped and replica.last_sync_at is None:
                raise GroupReplicationStateError(
                    group.id,
                    f"volume {volume.id} has no copy yet: its first shipment has not completed",
                    hint="wait for it (basalt volume replication shows last_sync_at)",
                )

    def _driver(self, backend: str, action: str) -> SupportsReplication:
        return replicating_driver(self.pools, backend, action, feature="replication")

    def _group(self, group_id: str) -> Group:
        with self.db.transaction(write=False) as tx:
            return self._group_in(tx, group_id)

    @staticmethod
    def _group_in(tx: Transaction, group_id: str) -> Group:
        group = tx.groups.get(group_id)
        if group is None:
            raise GroupNotFoundError(group_id)
        return group


def _settle_group(
    tx: Transaction, scope: OperationScope, group: Group, status: str, target: str | None
) -> None:
    """The end of a failover or failback: the group's replication as it now is, and the
    group available again."""
    group.replication_status = str(status)
    group.replication_target = target
    group.updated_at = utcnow()
    tx.groups.save(group)
    move_group(
        tx,
        group,
        GroupStatus.AVAILABLE,
        action="finish failing over",
        operation_id=scope.operation.id,
        reason=f"replication {status}" + (f" to {target}" if target else ""),
    )


def _check_group_move(group: Group, current: str, wanted: str) -> None:
    try:
        check_transition(
            GROUP_REPLICATION_TRANSITIONS,
            kind="group replication",
            resource_id=group.id,
            current=current,
            wanted=wanted,
            action=f"set replication {wanted} of",
        )
    except InvalidStateError as exc:
        raise GroupReplicationStateError(
            group.id,
            f"its replication is {current}: it cannot become {wanted}",
            hint=_HINTS.get(current),
        ) from exc


_HINTS = {
    str(R.FAILED_OVER): "fail it back first (failover_replication, secondary_backend_id default)",
    str(R.FAILING_OVER): "wait for the failover under way (basalt operation show)",
}


def follow_group(tx: Transaction, volume: Volume, group: Group | None) -> None:
    """A replicated volume joining ``group`` (None: leaving its group) takes the group's
    replication gate: off in a group whose replication is disabled, on otherwise."""
    if tx.replicas.get(volume.id) is None:
        return
    if group is not None and group.replication_status == R.DISABLED:
        if volume.replication_status in SHIPPING:
            reason = f"joined group {group.id}, whose replication is disabled"
            set_volume_replication(tx, volume, R.DISABLED, reason=reason)
    elif volume.replication_status == R.DISABLED:
        reason = "left its group" if group is None else f"joined group {group.id}"
        set_volume_replication(tx, volume, R.ENABLED, reason=reason)


def refuse_while_failed_over(group: Group, action: str) -> None:
    """Volumes join or leave a group only while it serves from its primary storage.

    Raises:
        GroupReplicationStateError: it is failing over, failed over, or half-way.
    """
    if group.replication_target is not None:
        raise GroupReplicationStateError(
            group.id,
            f"cannot {action}: its replication is {group.replication_status} to "
            f"{group.replication_target}",
            hint="fail the group back first (failover_replication, secondary_backend_id default)",
        )

"""Group snapshots: one snapshot of every volume of a group, taken as one cut.

Create (one operation, kind ``create_group_snapshot``, on the group snapshot):

1. one transaction touches the group's row (a compare-and-set from available to
   available, so a concurrent add or remove of volumes, which checks for group
   snapshots after its own compare-and-set, cannot interleave), checks every member
   is available or in use, writes the group snapshot and a member snapshot per
   volume (``creating``; the quota is checked per snapshot) and the operation;
2. the driver copies every member as one cut (the file backend pauses tgtd's I/O
   while it reflinks the members: basalt.drivers.file.groups) and reports each
   member's capture time and the length of the pause;
3. the last transaction stores the cut with the group snapshot and makes it and its
   members available.

On failure the member snapshots and the group snapshot go to ``error`` (the driver
left no member behind); a crash is rolled back the same way at the next start.
Delete removes every member snapshot, then the group snapshot.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import replace

from basalt.errors import InvalidInputError, InvalidStateError, ResourceBusyError
from basalt.model import EventKind, Snapshot, SnapshotStatus, Volume
from basalt.model.group import Group, GroupSnapshot
from basalt.model.operation import OperationKind
from basalt.model.quota import QuotaDeltas
from basalt.model.states import GroupSnapshotStatus, GroupStatus
from basalt.model.validation import validate_description, validate_name
from basalt.persistence.base import Transaction
from basalt.service.clock import new_id, utcnow
from basalt.service.context import RequestContext
from basalt.service.group_rules import (
    group_driver,
    refuse_open_operation,
    require_settled,
    visible_group,
    visible_group_snapshot,
)
from basalt.service.group_sources import GroupSources, group_ref_of
from basalt.service.journal import (
    move_group_snapshot,
    move_snapshot,
    override_group_status,
    record,
)
from basalt.service.refs import snapshot_ref, volume_ref
from basalt.service.runner import OperationHandle, OperationScope

GS = GroupSnapshotStatus
S = SnapshotStatus
RESETTABLE = frozenset({GS.AVAILABLE, GS.ERROR})
_FAILURES = ((S.CREATING, S.ERROR), (S.DELETING, S.ERROR_DELETING))
"""(member status, where a failure sends it): a create's members, a delete's members."""


class GroupSnapshotService(GroupSources):
    """Everything a caller can do to group snapshots."""

    def get(self, group_snapshot_id: str, *, ctx: RequestContext | None = None) -> GroupSnapshot:
        """One group snapshot.

        Raises:
            GroupSnapshotNotFoundError: unknown or another project's.
        """
        context = self._ctx(ctx, "group_snapshot:get")
        with self.db.transaction(write=False) as tx:
            return visible_group_snapshot(tx, group_snapshot_id, context)

    def list(
        self,
        *,
        group_id: str | None = None,
        all_projects: bool = False,
        ctx: RequestContext | None = None,
    ) -> builtins.list[GroupSnapshot]:
        """The caller's project's group snapshots (of one group if given; every project's
        for an administrator asking for all), newest first."""
        context = self._ctx(ctx, "group_snapshot:get")
        project = None if (all_projects and context.is_admin) else context.project_id
        with self.db.transaction(write=False) as tx:
            return tx.group_snapshots.find(project_id=project, group_id=group_id)

    def members(
        self, group_snapshot_id: str, *, ctx: RequestContext | None = None
    ) -> builtins.list[Snapshot]:
        """The member snapshots, oldest first.

        Raises:
            GroupSnapshotNotFoundError.
        """
        context = self._ctx(ctx, "group_snapshot:get")
        with self.db.transaction(write=False) as tx:
            found = visible_group_snapshot(tx, group_snapshot_id, context)
            return tx.snapshots.in_group_snapshot(found.id)

    def create(
        self,
        group_id: str,
        *,
        name: object = "",
        description: object = "",
        ctx: RequestContext | None = None,
    ) -> OperationHandle[GroupSnapshot]:
        """Snapshot every volume of the group as one point in time (module docstring).

        Returns:
            A handle; ``wait()`` returns the available group snapshot, whose ``cut`` says
            how long I/O was paused and when each member was copied.

        Raises:
            GroupNotFoundError, InvalidStateError (the group or a volume is not settled,
            or the group is empty), ResourceBusyError, QuotaExceededError,
            NotSupportedError (the backend does not support groups). Nothing is created
            when one of them is raised.
        """
        context = self._ctx(ctx, "group_snapshot:create")
        name_, description_ = validate_name(name or ""), validate_description(description or "")
        with self.db.transaction() as tx:
            group = visible_group(tx, group_id, context)
            self._hold(tx, group)
            group_driver(self.pools.driver(str(group.backend)), str(group.backend))
            members = tx.volumes.in_group(group.id)
            if not members:
                raise InvalidStateError(
                    kind="group", resource_id=group.id, status="empty", action="snapshot",
                    hint="add volumes to it first",
                )  # fmt: skip
            for volume in members:
                require_settled(volume, "snapshot with its group")
            now = utcnow()
            snapshot = GroupSnapshot(
                id=new_id(), project_id=group.project_id, user_id=context.user_id,
                group_id=group.id, group_type_id=group.group_type_id, name=name_,
                description=description_, status=GS.CREATING, created_at=now, updated_at=now,
            )  # fmt: skip
            tx.group_snapshots.add(snapshot)
            operation = self._new_operation(
                tx,
                kind=OperationKind.CREATE_GROUP_SNAPSHOT,
                resource_kind="group_snapshot",
                resource_id=snapshot.id,
                ctx=context,
                params={"group_id": group.id, "name": name_, "volume_ids": [v.id for v in members]},
            )
            pairs = [(self._member(tx, snapshot, v, operation.id), v) for v in members]
        return self._start(
            operation,
            lambda scope: self.run_create(scope, group, snapshot, pairs),
            lambda: self.get(snapshot.id, ctx=context),
        )

    def _hold(self, tx: Transaction, group: Group) -> None:
        """Touch the group's row (see the module docstring) once it is available."""
        if group.status != GroupStatus.AVAILABLE or not tx.groups.set_status(
            group.id, expected=[GroupStatus.AVAILABLE], new=GroupStatus.AVAILABLE,
            updated_at=utcnow(),
        ):  # fmt: skip
            current = tx.groups.get(group.id)
            raise InvalidStateError(
                kind="group",
                resource_id=group.id,
                status=str(current.status if current else "deleted"),
                action="snapshot",
            )

    def _member(
        self, tx: Transaction, snapshot: GroupSnapshot, volume: Volume, operation_id: str
    ) -> Snapshot:
        now = utcnow()
        member = Snapshot(
            id=new_id(), volume_id=volume.id, project_id=volume.project_id,
            user_id=snapshot.user_id, name=snapshot.name, description=snapshot.description,
            size_gib=volume.size_gib, status=S.CREATING, created_at=now, updated_at=now,
            group_snapshot_id=snapshot.id,
        )  # fmt: skip
        self.quotas.check(
            tx,
            volume.project_id,
            QuotaDeltas.for_snapshot(member, volume_type_id=volume.volume_type_id),
        )
        tx.snapshots.add(member)
        record(
            tx,
            resource_kind="snapshot",
            resource_id=member.id,
            kind=EventKind.STATUS_CHANGE,
            message=f"created as a member of group snapshot {snapshot.id}",
            operation_id=operation_id,
        )
        return member

    def run_create(
        self,
        scope: OperationScope,
        group: Group,
        snapshot: GroupSnapshot,
        pairs: Sequence[tuple[Snapshot, Volume]],
    ) -> None:
        """Take the cut, then make the group snapshot and its members available."""
        refs = [(snapshot_ref(s, v.pool), volume_ref(v)) for s, v in pairs]
        try:
            driver = self._group_driver(group)
            cut = scope.driver_call(
                "create_group_snapshot",
                lambda: driver.create_group_snapshot(group_ref_of(group), refs),
            )
            locations = {m.copy_id: m.provider_location for m in cut.members}
            with self.db.transaction() as tx:
                for member, _ in pairs:
                    member.provider_location = locations.get(member.id)
                    tx.snapshots.save(member)
                    move_snapshot(
                        tx, member, S.AVAILABLE, action="finish creating",
                        operation_id=scope.operation.id,
                    )  # fmt: skip
                snapshot.cut = cut.as_record()
                tx.group_snapshots.save(snapshot)
                scope.note(
                    EventKind.NOTE,
                    f"cut of {len(pairs)} member(s); I/O paused {cut.pause_ms:.1f} ms"
                    if cut.quiesced
                    else f"cut of {len(pairs)} member(s); no member exported, no pause",
                    detail=snapshot.cut,
                )
                move_group_snapshot(
                    tx, snapshot, GS.AVAILABLE, action="finish creating",
                    operation_id=scope.operation.id,
                )  # fmt: skip
                scope.finish(tx, result=snapshot)
        except Exception as exc:
            self._fail(scope, snapshot, GS.ERROR, S.ERROR, exc)
            raise

    def _fail(
        self,
        scope: OperationScope,
        snapshot: GroupSnapshot,
        status: GroupSnapshotStatus,
        member_status: SnapshotStatus,
        error: BaseException,
    ) -> None:
        with self.db.transaction() as tx:
            scope.flush(tx)
            for member in tx.snapshots.in_group_snapshot(snapshot.id):
                if (member.status, member_status) in (
                    (S.CREATING, S.ERROR),
                    (S.DELETING, S.ERROR_DELETING),
                ):
                    move_snapshot(
                        tx, member, member_status, action="fail", operation_id=scope.operation.id
                    )
            current = tx.group_snapshots.get(snapshot.id)
            if current is not None and current.status == snapshot.status:
                move_group_snapshot(
                    tx, current, status, action="fail", operation_id=scope.operation.id,
                    reason=str(error),
                )  # fmt: skip

    def recover_create(self, scope: OperationScope, snapshot: GroupSnapshot) -> bool:
        """Roll back a group snapshot a crash interrupted (its members' objects removed);
        True when it had finished."""
        if snapshot.status != GS.CREATING:
            return snapshot.status == GS.AVAILABLE
        with self.db.transaction(write=False) as tx:
            group = tx.groups.get(snapshot.group_id)
            members = tx.snapshots.in_group_snapshot(snapshot.id)
            pools = {m.id: v.pool for m in members if (v := tx.volumes.get(m.volume_id))}
        if group is not None:
            refs = [snapshot_ref(m, pools.get(m.id, "")) for m in members if m.id in pools]
            self._group_driver(group).delete_group_snapshot(group_ref_of(group), refs)
        self._fail(scope, snapshot, GS.ERROR, S.ERROR, RuntimeError("interrupted by a restart"))
        return False

    def delete(
        self, group_snapshot_id: str, *, ctx: RequestContext | None = None
    ) -> OperationHandle[GroupSnapshot]:
        """Delete a group snapshot with its member snapshots.

        Raises:
            GroupSnapshotNotFoundError, InvalidStateError, ResourceBusyError (a volume is
            being created from a member).
        """
        context = self._ctx(ctx, "group_snapshot:delete")
        with self.db.transaction() as tx:
            snapshot = visible_group_snapshot(tx, group_snapshot_id, context)
            members = tx.snapshots.in_group_snapshot(snapshot.id)
            for member in members:
                if tx.volumes.copies_in_progress(member.id):
                    raise ResourceBusyError(
                        f"a volume is being created from snapshot {member.id} of group "
                        f"snapshot {snapshot.id}",
                        hint="delete it when that volume is available",
                    )
            move_group_snapshot(tx, snapshot, GS.DELETING, action="delete")
            operation = self._new_operation(
                tx,
                kind=OperationKind.DELETE_GROUP_SNAPSHOT,
                resource_kind="group_snapshot",
                resource_id=snapshot.id,
                ctx=context,
                params={"group_id": snapshot.group_id},
            )
            for member in members:
                if member.status != S.DELETING:
                    move_snapshot(
                        tx, member, S.DELETING, action="delete with its group snapshot",
                        operation_id=operation.id,
                    )  # fmt: skip
        last_seen = replace(snapshot)
        return self._start(
            operation, lambda scope: self.run_delete(scope, snapshot), lambda: last_seen
        )

    def run_delete(self, scope: OperationScope, snapshot: GroupSnapshot) -> None:
        """Delete the members on the backend, then every row (also after a restart)."""
        try:
            with self.db.transaction(write=False) as tx:
                group = tx.groups.get(snapshot.group_id)
                members = tx.snapshots.in_group_snapshot(snapshot.id)
                pools = {m.id: v.pool for m in members if (v := tx.volumes.get(m.volume_id))}
            if group is not None and members:
                refs = [snapshot_ref(m, pools[m.id]) for m in members]
                driver = self._group_driver(group)
                scope.driver_call(
                    "delete_group_snapshot",
                    lambda: driver.delete_group_snapshot(group_ref_of(group), refs),
                )
            with self.db.transaction() as tx:
                for member in members:
                    tx.snapshots.delete(member.id)
                tx.group_snapshots.delete(snapshot.id)
                scope.note(EventKind.STATUS_CHANGE, "deleted")
                scope.finish(tx)
        except Exception as exc:
            self._fail(scope, snapshot, GS.ERROR_DELETING, S.ERROR_DELETING, exc)
            raise

    def reset_status(
        self, group_snapshot_id: str, status: object, *, ctx: RequestContext | None = None
    ) -> GroupSnapshot:
        """Set a group snapshot's status to available or error (administrators).

        Raises:
            PermissionDeniedError, InvalidInputError, ResourceBusyError,
            GroupSnapshotNotFoundError.
        """
        context = self._ctx(ctx, "group_snapshot:reset_status")
        allowed = {str(s): s for s in RESETTABLE}
        if not isinstance(status, str) or status.lower() not in allowed:
            raise InvalidInputError(
                "status", f"{str(status)[:64]!r} is not one of {', '.join(sorted(allowed))}"
            )
        with self.db.transaction() as tx:
            snapshot = visible_group_snapshot(tx, group_snapshot_id, context)
            refuse_open_operation(tx, snapshot.id, "group snapshot")
            if snapshot.status != allowed[status.lower()]:
                override_group_status(tx, snapshot, allowed[status.lower()], actor=context.user_id)
            return snapshot

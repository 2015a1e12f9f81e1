"""Changing groups: rename, add and remove volumes, delete (with or without the volumes).

Adding and removing is an operation run in the caller's thread: every rule of
group_rules.py is checked, the group goes ``updating`` (a compare-and-set), the
driver's ``update_group`` runs, and one transaction moves the volumes and makes the
group available again; a refusal or a failure changes nothing. Deleting runs on a
worker, with progress in bytes of the volumes it deletes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from basalt.drivers.base import SupportsGroups
from basalt.errors import (
    GroupHasSnapshotsError,
    GroupMembershipError,
    InvalidInputError,
    InvalidStateError,
    ResourceBusyError,
    VolumeAttachedError,
    VolumeHasSnapshotsError,
)
from basalt.model import EventKind, OperationKind, Volume, VolumeStatus
from basalt.model.group import Group
from basalt.model.states import GroupSnapshotStatus, GroupStatus
from basalt.model.validation import validate_description, validate_flag, validate_name
from basalt.persistence.base import Transaction
from basalt.service.clock import utcnow
from basalt.service.context import RequestContext
from basalt.service.group_replication import follow_group, refuse_while_failed_over
from basalt.service.group_rules import (
    require_joinable,
    require_leavable,
    visible_group,
    volume_ids,
)
from basalt.service.group_sources import GroupSources, group_ref_of
from basalt.service.journal import move_group, move_volume, record
from basalt.service.refs import volume_ref
from basalt.service.runner import OperationHandle, OperationScope

G = GroupStatus
V = VolumeStatus
DELETABLE_MEMBER = frozenset({V.AVAILABLE, V.ERROR})
BUSY_GROUP_SNAPSHOT = (GroupSnapshotStatus.CREATING, GroupSnapshotStatus.DELETING)


class GroupChanges(GroupSources):
    """update and delete of GroupService."""

    def update(
        self,
        group_id: str,
        *,
        name: object | None = None,
        description: object | None = None,
        add_volumes: object = None,
        remove_volumes: object = None,
        ctx: RequestContext | None = None,
    ) -> Group:
        """Rename the group, or add and remove volumes (all of them, or none: every rule of
        group_rules.py is checked before anything changes).

        Args:
            group_id: the group.
            name, description: new values (None: unchanged).
            add_volumes, remove_volumes: volume ids, comma-separated or as a list.
            ctx: the caller (the default context when None).

        Returns:
            The group as it now is.

        Raises:
            GroupNotFoundError, VolumeNotFoundError, InvalidInputError, InvalidStateError,
            GroupMembershipError, ResourceBusyError (a group snapshot is being taken or
            deleted), NotSupportedError, DriverError (the backend refused; nothing changed).
        """
        context = self._ctx(ctx, "group:update")
        new_name = None if name is None else validate_name(name)
        new_description = None if description is None else validate_description(description)
        adding = volume_ids(add_volumes, field="add_volumes")
        removing = volume_ids(remove_volumes, field="remove_volumes")
        if set(adding) & set(removing):
            raise InvalidInputError("add_volumes", "a volume cannot be added and removed at once")
        with self.db.transaction() as tx:
            group = visible_group(tx, group_id, context)
            self._rename(tx, group, new_name, new_description)
            if not adding and not removing:
                return group
            refuse_while_failed_over(group, "add or remove volumes")
            move_group(tx, group, G.UPDATING, action="add or remove volumes of")
            self._refuse_busy_snapshots(tx, group)
            added = [require_joinable(tx, group, v, context) for v in adding]
            removed = [require_leavable(tx, group, v, context) for v in removing]
            operation = self._new_operation(
                tx,
                kind=OperationKind.UPDATE_GROUP,
                resource_kind="group",
                resource_id=group.id,
                ctx=context,
                params={"add_volumes": adding, "remove_volumes": removing},
            )
        self.runner.run_inline(
            operation, lambda scope: self._run_update(scope, group, added, removed)
        )
        with self.db.transaction(write=False) as tx:
            return visible_group(tx, group.id, context)

    def _rename(
        self, tx: Transaction, group: Group, name: str | None, description: str | None
    ) -> None:
        if name is None and description is None:
            return
        group.name = group.name if name is None else name
        group.description = group.description if description is None else description
        group.updated_at = utcnow()
        tx.groups.save(group)
        record(
            tx, resource_kind="group", resource_id=group.id, kind=EventKind.NOTE, message="updated"
        )

    def _run_update(
        self, scope: OperationScope, group: Group, added: list[Volume], removed: list[Volume]
    ) -> None:
        try:
            driver = self._group_driver(group)
            scope.driver_call(
                "update_group",
                lambda: driver.update_group(
                    group_ref_of(group),
                    add=[volume_ref(v) for v in added],
                    remove=[volume_ref(v) for v in removed],
                ),
            )
            with self.db.transaction() as tx:
                for volume, joining in [
                    *((v, True) for v in added),
                    *((v, False) for v in removed),
                ]:
                    self._move_member(tx, scope, group, volume.id, joining=joining)
                move_group(
                    tx,
                    group,
                    G.AVAILABLE,
                    action="finish updating",
                    operation_id=scope.operation.id,
                )
                scope.finish(tx, result=group)
        except Exception as exc:
            self._fail_group(scope, group, G.AVAILABLE, exc)
            raise

    def _move_member(
        self, tx: Transaction, scope: OperationScope, group: Group, volume_id: str, *, joining: bool
    ) -> None:
        volume = tx.volumes.get(volume_id)
        expected = None if joining else group.id
        if volume is None or volume.group_id != expected:
            raise ResourceBusyError(
                f"volume {volume_id} changed while group {group.id} was being updated",
                hint="look at it again, then retry",
            )
        volume.group_id = group.id if joining else None
        volume.updated_at = utcnow()
        tx.volumes.save(volume)
        follow_group(tx, volume, group if joining else None)
        what = "joined" if joining else "left"
        scope.note(
            EventKind.NOTE,
            f"{what} group {group.id}",
            resource_kind="volume",
            resource_id=volume.id,
        )
        scope.note(EventKind.NOTE, f"volume {volume.id} {what}")

    def delete(
        self, group_id: str, *, delete_volumes: object = False, ctx: RequestContext | None = None
    ) -> OperationHandle[Group]:
        """Delete a group; with ``delete_volumes`` its volumes too, else it must have none.

        Raises:
            GroupNotFoundError, InvalidStateError, GroupHasSnapshotsError,
            GroupMembershipError (it has volumes and ``delete_volumes`` is off),
            VolumeAttachedError, VolumeHasSnapshotsError, ResourceBusyError (a volume of
            it is busy or being copied). Nothing changes when one of them is raised.
        """
        context = self._ctx(ctx, "group:delete")
        with_volumes = validate_flag(delete_volumes, field="delete-volumes")
        with self.db.transaction() as tx:
            group = visible_group(tx, group_id, context)
            snapshots = tx.group_snapshots.find(project_id=None, group_id=group.id)
            if snapshots:
                raise GroupHasSnapshotsError(group.id, len(snapshots))
            members = tx.volumes.in_group(group.id)
            if members and not with_volumes:
                raise GroupMembershipError(
                    members[0].id,
                    f"and {len(members) - 1} more are in group {group.id}",
                    hint="delete the group with its volumes (delete-volumes), or remove them",
                )
            for volume in members:
                _require_deletable(tx, volume)
            move_group(tx, group, G.DELETING, action="delete")
            operation = self._new_operation(
                tx,
                kind=OperationKind.DELETE_GROUP,
                resource_kind="group",
                resource_id=group.id,
                ctx=context,
                params={"delete_volumes": with_volumes, "volume_ids": [v.id for v in members]},
            )
            for volume in members:
                move_volume(
                    tx,
                    volume,
                    V.DELETING,
                    action="delete with its group",
                    operation_id=operation.id,
                )
        last_seen = replace(group)
        return self._start(
            operation, lambda scope: self.run_delete(scope, group, members), lambda: last_seen
        )

    def run_delete(self, scope: OperationScope, group: Group, members: Sequence[Volume]) -> None:
        """Delete the volumes, then the group (also after a restart)."""
        total = sum(v.size_gib for v in members) * 1024**3
        done = 0
        try:
            driver = self.pools.driver(group.backend) if group.backend else None
            for volume in members:
                if driver is not None:
                    scope.driver_call(
                        "delete_volume",
                        lambda v=volume: driver.delete_volume(volume_ref(v)),  # type: ignore[misc]
                        resource_id=volume.id,
                    )
                with self.db.transaction() as tx:
                    tx.volumes.delete(volume.id)
                    scope.note(
                        EventKind.STATUS_CHANGE,
                        "deleted with its group",
                        resource_kind="volume",
                        resource_id=volume.id,
                    )
                    scope.flush(tx)
                done += volume.size_gib * 1024**3
                scope.progress(done, total)
            if driver is not None and isinstance(driver, SupportsGroups):
                scope.driver_call("delete_group", lambda: driver.delete_group(group_ref_of(group)))
        except Exception as exc:
            self._fail_delete(scope, group, exc)
            raise
        with self.db.transaction() as tx:
            tx.groups.delete(group.id)
            scope.note(EventKind.STATUS_CHANGE, "deleted")
            scope.finish(tx)

    def _fail_delete(self, scope: OperationScope, group: Group, error: Exception) -> None:
        with self.db.transaction() as tx:
            scope.flush(tx)
            for volume in tx.volumes.in_group(group.id):
                if volume.status == V.DELETING:
                    move_volume(
                        tx,
                        volume,
                        V.ERROR_DELETING,
                        action="fail deleting",
                        operation_id=scope.operation.id,
                    )
            current = tx.groups.get(group.id)
            if current is not None and current.status == G.DELETING:
                move_group(
                    tx,
                    current,
                    G.ERROR_DELETING,
                    action="fail deleting",
                    operation_id=scope.operation.id,
                    reason=str(error),
                )

    def _refuse_busy_snapshots(self, tx: Transaction, group: Group) -> None:
        """Checked after the group's compare-and-set, so a group snapshot committed
        meanwhile is seen (group_snapshots.py touches the group's row the same way)."""
        for snapshot in tx.group_snapshots.find(project_id=None, group_id=group.id):
            if snapshot.status in BUSY_GROUP_SNAPSHOT:
                raise ResourceBusyError(
                    f"group snapshot {snapshot.id} of group {group.id} is {snapshot.status}",
                    hint="change the group's volumes when it has finished",
                )


def _require_deletable(tx: Transaction, volume: Volume) -> None:
    if tx.attachments.for_volume(volume.id):
        raise VolumeAttachedError(
            volume.id, "is attached", hint="detach it before deleting its group"
        )
    count = tx.snapshots.count_for_volume(volume.id)
    if count:
        raise VolumeHasSnapshotsError(volume.id, count)
    if volume.status not in DELETABLE_MEMBER:
        raise InvalidStateError(
            kind="volume",
            resource_id=volume.id,
            status=str(volume.status),
            action="delete with its group",
        )
    if tx.volumes.copies_in_progress(volume.id):
        raise ResourceBusyError(
            f"volume {volume.id} is being copied", hint="delete the group later"
        )

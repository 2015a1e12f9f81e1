"""Start-up reconciliation of group work (called by basalt.service.reconcile)."""

from __future__ import annotations

from basalt.model import Operation, OperationKind, VolumeStatus
from basalt.model.states import GroupStatus
from basalt.service.group_snapshots import GroupSnapshotService
from basalt.service.groups import GroupService
from basalt.service.journal import move_group
from basalt.service.runner import OperationScope

K = OperationKind
V = VolumeStatus
INTERRUPTED = "interrupted by a service restart"


def redrive_group(
    groups: GroupService,
    snapshots: GroupSnapshotService,
    operation: Operation,
    scope: OperationScope,
) -> bool:
    """Group work: creates of a group are finished (the driver call is idempotent),
    membership changes rolled back (nothing changed before their last transaction),
    deletes re-driven, copies (group snapshots, groups from a source) rolled back."""
    with groups.db.transaction(write=False) as tx:
        group = tx.groups.get(operation.resource_id)
        group_snapshot = tx.group_snapshots.get(operation.resource_id)
        members = [] if group is None else tx.volumes.in_group(group.id)
    kind = operation.kind
    if group is not None and kind == K.CREATE_GROUP:
        if group.status != GroupStatus.CREATING:
            return group.status == GroupStatus.AVAILABLE
        groups.run_create(scope, group)
        return True
    if group is not None and kind == K.CREATE_GROUP_FROM_SRC:
        return groups.recover_create_from_src(scope, group)
    if group is not None and kind == K.UPDATE_GROUP:
        if group.status == GroupStatus.UPDATING:
            with groups.db.transaction() as tx:
                move_group(
                    tx, group, GroupStatus.AVAILABLE, action="roll back after restart",
                    operation_id=operation.id, reason=INTERRUPTED,
                )  # fmt: skip
        return False
    if group is not None and kind == K.DELETE_GROUP:
        groups.run_delete(scope, group, [v for v in members if v.status == V.DELETING])
        return True
    if group_snapshot is not None and kind == K.CREATE_GROUP_SNAPSHOT:
        return snapshots.recover_create(scope, group_snapshot)
    if group_snapshot is not None and kind == K.DELETE_GROUP_SNAPSHOT:
        snapshots.run_delete(scope, group_snapshot)
    return True

"""The rules of group membership, in one place.

- A volume is in at most one group, of its own project.
- Its volume type must be one the group allows, and it must live on the group's
  backend (every member of a group is on one backend: the group snapshot is one
  driver call).
- It joins or leaves while available or in use, never while work is under way.
- While in a group it is not deleted alone (delete the group with its volumes, or
  remove it first), and a member snapshot of a group snapshot is deleted only with
  its group snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence

from basalt.drivers.base import SupportsGroups, VolumeDriver
from basalt.errors import (
    GroupMembershipError,
    GroupNotFoundError,
    GroupSnapshotNotFoundError,
    InvalidInputError,
    InvalidStateError,
    NotSupportedError,
    ResourceBusyError,
    VolumeNotFoundError,
)
from basalt.model import Snapshot, Volume, VolumeStatus
from basalt.model.group import Group, GroupSnapshot
from basalt.model.states import GroupStatus
from basalt.persistence.base import Transaction
from basalt.service.context import RequestContext

MEMBER_STATUSES = frozenset({VolumeStatus.AVAILABLE, VolumeStatus.IN_USE})
"""Statuses in which a volume may join or leave a group, or be snapshotted with it."""
MAX_CHANGED_VOLUMES = 1000


def visible_group(tx: Transaction, group_id: str, ctx: RequestContext) -> Group:
    """The group, if the caller may see it.

    Raises:
        GroupNotFoundError: unknown or another project's.
    """
    group = tx.groups.get(group_id)
    if group is None or not ctx.can_see(group.project_id):
        raise GroupNotFoundError(group_id[:64])
    return group


def visible_group_snapshot(tx: Transaction, snapshot_id: str, ctx: RequestContext) -> GroupSnapshot:
    """The group snapshot, if the caller may see it.

    Raises:
        GroupSnapshotNotFoundError: unknown or another project's.
    """
    found = tx.group_snapshots.get(snapshot_id)
    if found is None or not ctx.can_see(found.project_id):
        raise GroupSnapshotNotFoundError(snapshot_id[:64])
    return found


def group_driver(driver: VolumeDriver, backend: str) -> SupportsGroups:
    """The backend's driver as a group driver.

    Raises:
        NotSupportedError: the backend's driver does not support groups.
    """
    if not isinstance(driver, SupportsGroups):
        raise NotSupportedError(backend, "groups")
    return driver


def volume_ids(value: object, *, field: str) -> list[str]:
    """Cinder's ``add_volumes``/``remove_volumes``: ids separated by commas (or a list).

    Raises:
        InvalidInputError: not text or a list of text, or too many ids.
    """
    if value is None or value == "":
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise InvalidInputError(field, "must be volume ids separated by commas")
    ids = list(dict.fromkeys(i.strip() for i in items if i.strip()))
    if len(ids) > MAX_CHANGED_VOLUMES:
        raise InvalidInputError(field, f"names {len(ids)} volumes; at most {MAX_CHANGED_VOLUMES}")
    return ids


def require_joinable(tx: Transaction, group: Group, volume_id: str, ctx: RequestContext) -> Volume:
    """The volume, once it may join ``group`` (module docstring).

    Raises:
        VolumeNotFoundError: the caller cannot see it.
        GroupMembershipError: another project's, in a group already, a type the group
            does not allow, or on another backend.
        InvalidStateError: neither available nor in use.
    """
    volume = tx.volumes.get(volume_id)
    if volume is None or not ctx.can_see(volume.project_id):
        raise VolumeNotFoundError(volume_id[:64])
    if volume.project_id != group.project_id:
        raise GroupMembershipError(
            volume.id,
            f"belongs to project {volume.project_id}, not to group {group.id}'s project "
            f"{group.project_id}",
        )
    if volume.group_id is not None:
        raise GroupMembershipError(
            volume.id,
            f"is already in group {volume.group_id}",
            hint="a volume is in at most one group; remove it from that group first",
        )
    require_member_type(group, volume.id, volume.volume_type_id)
    if group.backend is not None and volume.backend != group.backend:
        raise GroupMembershipError(
            volume.id,
            f"is on backend {volume.backend}; group {group.id}'s volumes are on {group.backend}",
            hint="migrate it to that backend first",
        )
    require_settled(volume, "add to a group")
    return volume


def require_member_type(group: Group, volume_id: str, volume_type_id: str | None) -> None:
    """Refuse a volume type the group does not allow.

    Raises:
        GroupMembershipError: naming the type and the group.
    """
    if volume_type_id not in group.volume_type_ids:
        raise GroupMembershipError(
            volume_id,
            f"has volume type {volume_type_id}, which group {group.id} does not allow "
            f"({', '.join(group.volume_type_ids)})",
            hint="retype it to one of the group's volume types first",
        )


def require_leavable(tx: Transaction, group: Group, volume_id: str, ctx: RequestContext) -> Volume:
    """The volume, once it may leave ``group``.

    Raises:
        VolumeNotFoundError, GroupMembershipError (not in this group), InvalidStateError.
    """
    volume = tx.volumes.get(volume_id)
    if volume is None or not ctx.can_see(volume.project_id):
        raise VolumeNotFoundError(volume_id[:64])
    if volume.group_id != group.id:
        raise GroupMembershipError(volume.id, f"is not in group {group.id}")
    require_settled(volume, "remove from a group")
    return volume


def require_settled(volume: Volume, action: str) -> None:
    """Refuse a volume with work under way (only available and in-use volumes pass).

    Raises:
        InvalidStateError: naming its status.
    """
    if volume.status not in MEMBER_STATUSES:
        raise InvalidStateError(
            kind="volume", resource_id=volume.id, status=str(volume.status), action=action
        )


def refuse_alone(volume: Volume, action: str) -> None:
    """A group's volume is not deleted (or transferred...) on its own.

    Raises:
        GroupMembershipError: naming its group.
    """
    if volume.group_id is not None:
        raise GroupMembershipError(
            volume.id,
            f"is in group {volume.group_id}; it cannot {action} alone",
            hint="remove it from the group first, or delete the group with its volumes",
        )


def refuse_member_snapshot(snapshot: Snapshot) -> None:
    """A member snapshot of a group snapshot is deleted only with it.

    Raises:
        GroupMembershipError: naming the group snapshot.
    """
    if snapshot.group_snapshot_id is not None:
        raise GroupMembershipError(
            snapshot.volume_id,
            f"has snapshot {snapshot.id} in group snapshot {snapshot.group_snapshot_id}; "
            "it is deleted only with its group snapshot",
            hint="delete the group snapshot",
        )


def members_of(tx: Transaction, group: Group) -> Sequence[Volume]:
    """The group's volumes, oldest first."""
    return tx.volumes.in_group(group.id)


def refuse_open_operation(tx: Transaction, resource_id: str, kind: str) -> None:
    """Refuse an administrator's reset while an operation still works on the resource.

    Raises:
        ResourceBusyError: naming the operation.
    """
    running = tx.operations.find(project_id=None, resource_id=resource_id, open_only=True, limit=1)
    if running:
        raise ResourceBusyError(
            f"operation {running[0].id} ({running[0].kind}) still works on {kind} {resource_id}",
            hint="wait for it to finish (basalt operation show)",
        )


def group_for_new_volume(
    tx: Transaction, ctx: RequestContext, group_id: str, *, volume_type_id: str, backend: str
) -> Group:
    """The group a new volume is created in, once it may be (create's ``group_id``).

    Raises:
        GroupNotFoundError: the caller cannot see it.
        InvalidStateError: the group is not available.
        GroupMembershipError: its type is not one the group allows, or it would not be on
            the group's backend.
    """
    group = visible_group(tx, group_id, ctx)
    if group.status != GroupStatus.AVAILABLE:
        raise InvalidStateError(
            kind="group", resource_id=group.id, status=str(group.status), action="add a volume to"
        )
    require_member_type(group, "(new)", volume_type_id)
    if group.replication_target is not None:
        raise GroupMembershipError(
            "(new)",
            f"cannot join group {group.id}: its replication is {group.replication_status} to "
            f"{group.replication_target}",
            hint="fail the group back first (failover_replication, secondary_backend_id default)",
        )
    if group.backend is not None and backend != group.backend:
        raise GroupMembershipError(
            "(new)",
            f"would be on backend {backend}; group {group.id}'s volumes are on {group.backend}",
        )
    return group

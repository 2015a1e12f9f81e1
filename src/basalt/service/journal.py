"""Status changes: checked against the tables, applied atomically, written to the timeline."""

from __future__ import annotations

from datetime import datetime

from basalt.errors import (
    AttachmentNotFoundError,
    GroupNotFoundError,
    GroupSnapshotNotFoundError,
    ResourceBusyError,
    SnapshotNotFoundError,
    VolumeNotFoundError,
)
from basalt.model import (
    Attachment,
    AttachStatus,
    Event,
    EventKind,
    Snapshot,
    SnapshotStatus,
    Volume,
    VolumeStatus,
)
from basalt.model.group import Group, GroupSnapshot
from basalt.model.states import (
    ATTACHMENT_TRANSITIONS,
    GROUP_SNAPSHOT_TRANSITIONS,
    GROUP_TRANSITIONS,
    SNAPSHOT_TRANSITIONS,
    VOLUME_TRANSITIONS,
    GroupSnapshotStatus,
    GroupStatus,
    check_transition,
)
from basalt.persistence.base import Transaction
from basalt.service.clock import utcnow


def move_volume(
    tx: Transaction,
    volume: Volume,
    new: VolumeStatus,
    *,
    action: str,
    operation_id: str | None = None,
    reason: str | None = None,
) -> None:
    """Change a volume's status if the table allows it and nobody changed it meanwhile.

    Raises:
        InvalidStateError: the transition is not allowed.
        ResourceBusyError: another request changed the status first.
        VolumeNotFoundError: the volume is gone.
    """
    check_transition(
        VOLUME_TRANSITIONS,
        kind="volume",
        resource_id=volume.id,
        current=volume.status,
        wanted=new,
        action=action,
    )
    now = utcnow()
    if not tx.volumes.set_status(volume.id, expected=(volume.status,), new=new, updated_at=now):
        current = tx.volumes.get(volume.id)
        if current is None:
            raise VolumeNotFoundError(volume.id)
        raise ResourceBusyError(
            f"cannot {action} volume {volume.id}: its status changed to {current.status!r}",
            hint="retry when the other request has finished",
        )
    tx.events.add(
        _status_event("volume", volume.id, str(volume.status), str(new), now, operation_id, reason)
    )
    volume.status = new
    volume.updated_at = now


def move_snapshot(
    tx: Transaction,
    snapshot: Snapshot,
    new: SnapshotStatus,
    *,
    action: str,
    operation_id: str | None = None,
    reason: str | None = None,
) -> None:
    """Change a snapshot's status if the table allows it and nobody changed it meanwhile.

    Raises:
        InvalidStateError, ResourceBusyError, SnapshotNotFoundError: as for volumes.
    """
    check_transition(
        SNAPSHOT_TRANSITIONS,
        kind="snapshot",
        resource_id=snapshot.id,
        current=snapshot.status,
        wanted=new,
        action=action,
    )
    now = utcnow()
    if not tx.snapshots.set_status(
        snapshot.id, expected=(snapshot.status,), new=new, updated_at=now
    ):
        current = tx.snapshots.get(snapshot.id)
        if current is None:
            raise SnapshotNotFoundError(snapshot.id)
        raise ResourceBusyError(
            f"cannot {action} snapshot {snapshot.id}: its status changed to {current.status!r}",
            hint="retry when the other request has finished",
        )
    tx.events.add(
        _status_event(
            "snapshot", snapshot.id, str(snapshot.status), str(new), now, operation_id, reason
        )
    )
    snapshot.status = new
    snapshot.updated_at = now


def move_attachment(
    tx: Transaction,
    attachment: Attachment,
    new: AttachStatus,
    *,
    action: str,
    operation_id: str | None = None,
    reason: str | None = None,
) -> None:
    """Change an attachment's status if the table allows it and nobody changed it meanwhile.

    The event goes on the volume's timeline (attachments have none of their own).

    Raises:
        InvalidStateError: the transition is not allowed.
        ResourceBusyError: another request changed the status first.
        AttachmentNotFoundError: the attachment is gone.
    """
    check_transition(
        ATTACHMENT_TRANSITIONS,
        kind="attachment",
        resource_id=attachment.id,
        current=attachment.status,
        wanted=new,
        action=action,
    )
    now = utcnow()
    if not tx.attachments.set_status(
        attachment.id, expected=(attachment.status,), new=new, updated_at=now
    ):
        current = tx.attachments.get(attachment.id)
        if current is None:
            raise AttachmentNotFoundError(attachment.id)
        raise ResourceBusyError(
            f"cannot {action} attachment {attachment.id}: its status changed to {current.status!r}",
            hint="retry when the other request has finished",
        )
    event = _status_event(
        "volume", attachment.volume_id, str(attachment.status), str(new), now, operation_id, reason
    )
    event.message = f"attachment {attachment.id}: {event.message}"
    event.detail["attachment_id"] = attachment.id
    tx.events.add(event)
    attachment.status = new
    attachment.updated_at = now


def move(
    tx: Transaction,
    resource: Volume | Snapshot,
    new: VolumeStatus | SnapshotStatus,
    *,
    action: str,
    operation_id: str | None = None,
    reason: str | None = None,
) -> None:
    """move_volume or move_snapshot, by the resource's kind."""
    if isinstance(resource, Volume):
        move_volume(
            tx, resource, VolumeStatus(new), action=action, operation_id=operation_id, reason=reason
        )
    else:
        move_snapshot(
            tx,
            resource,
            SnapshotStatus(new),
            action=action,
            operation_id=operation_id,
            reason=reason,
        )


def override_status(
    tx: Transaction,
    resource: Volume | Snapshot,
    new: VolumeStatus | SnapshotStatus,
    *,
    actor: str,
    action: str,
) -> None:
    """An administrator's override (reset-status, force-delete): set the status without
    the transition table, still as a compare-and-set, and say so on the timeline.

    Raises:
        ResourceBusyError: another request changed the status first.
        VolumeNotFoundError, SnapshotNotFoundError: the resource is gone.
    """
    now = utcnow()
    kind = "volume" if isinstance(resource, Volume) else "snapshot"
    if isinstance(resource, Volume):
        changed = tx.volumes.set_status(
            resource.id, expected=(resource.status,), new=VolumeStatus(new), updated_at=now
        )
        gone: bool = not changed and tx.volumes.get(resource.id) is None
    else:
        changed = tx.snapshots.set_status(
            resource.id, expected=(resource.status,), new=SnapshotStatus(new), updated_at=now
        )
        gone = not changed and tx.snapshots.get(resource.id) is None
    if gone:
        raise (VolumeNotFoundError if kind == "volume" else SnapshotNotFoundError)(resource.id)
    if not changed:
        raise ResourceBusyError(
            f"cannot {action} {kind} {resource.id}: its status changed meanwhile",
            hint="look at it again, then retry",
        )
    event = _status_event(kind, resource.id, str(resource.status), str(new), now, None, None)
    event.message += f" ({action} by {actor})"
    event.detail["override"] = True
    tx.events.add(event)
    resource.status = new
    resource.updated_at = now


def record(
    tx: Transaction,
    *,
    resource_kind: str,
    resource_id: str,
    kind: EventKind,
    message: str,
    operation_id: str | None = None,
) -> None:
    """Write one timeline event now."""
    tx.events.add(
        Event(
            resource_kind=resource_kind,
            resource_id=resource_id,
            kind=kind,
            message=message,
            at=utcnow(),
            operation_id=operation_id,
        )
    )


def _status_event(
    kind: str,
    resource_id: str,
    old: str,
    new: str,
    at: datetime,
    operation_id: str | None,
    reason: str | None,
) -> Event:
    message = f"status {old} -> {new}" + (f": {reason}" if reason else "")
    return Event(
        resource_kind=kind,
        resource_id=resource_id,
        kind=EventKind.STATUS_CHANGE,
        message=message,
        at=at,
        operation_id=operation_id,
        detail={"from": old, "to": new},
    )


def move_group(
    tx: Transaction,
    group: Group,
    new: GroupStatus,
    *,
    action: str,
    operation_id: str | None = None,
    reason: str | None = None,
) -> None:
    """Change a group's status if the table allows it and nobody changed it meanwhile.

    Raises:
        InvalidStateError, ResourceBusyError, GroupNotFoundError: as for volumes.
    """
    check_transition(
        GROUP_TRANSITIONS,
        kind="group",
        resource_id=group.id,
        current=group.status,
        wanted=new,
        action=action,
    )
    now = utcnow()
    if not tx.groups.set_status(group.id, expected=(group.status,), new=new, updated_at=now):
        current = tx.groups.get(group.id)
        if current is None:
            raise GroupNotFoundError(group.id)
        raise ResourceBusyError(
            f"cannot {action} group {group.id}: its status changed to {current.status!r}",
            hint="retry when the other request has finished",
        )
    tx.events.add(
        _status_event("group", group.id, str(group.status), str(new), now, operation_id, reason)
    )
    group.status, group.updated_at = new, now


def move_group_snapshot(
    tx: Transaction,
    snapshot: GroupSnapshot,
    new: GroupSnapshotStatus,
    *,
    action: str,
    operation_id: str | None = None,
    reason: str | None = None,
) -> None:
    """Change a group snapshot's status if the table allows it and nobody changed it
    meanwhile.

    Raises:
        InvalidStateError, ResourceBusyError, GroupSnapshotNotFoundError: as for volumes.
    """
    check_transition(
        GROUP_SNAPSHOT_TRANSITIONS,
        kind="group snapshot",
        resource_id=snapshot.id,
        current=snapshot.status,
        wanted=new,
        action=action,
    )
    now = utcnow()
    repo = tx.group_snapshots
    if not repo.set_status(snapshot.id, expected=(snapshot.status,), new=new, updated_at=now):
        current = repo.get(snapshot.id)
        if current is None:
            raise GroupSnapshotNotFoundError(snapshot.id)
        raise ResourceBusyError(
            f"cannot {action} group snapshot {snapshot.id}: its status changed to "
            f"{current.status!r}",
            hint="retry when the other request has finished",
        )
    event = _status_event(
        "group_snapshot", snapshot.id, str(snapshot.status), str(new), now, operation_id, reason
    )
    tx.events.add(event)
    snapshot.status, snapshot.updated_at = new, now


def override_group_status(
    tx: Transaction,
    resource: Group | GroupSnapshot,
    new: GroupStatus | GroupSnapshotStatus,
    *,
    actor: str,
) -> None:
    """An administrator's reset-status of a group or group snapshot: no transition table,
    still a compare-and-set, written to the timeline.

    Raises:
        ResourceBusyError: another request changed the status first.
    """
    now = utcnow()
    if isinstance(resource, Group):
        kind = "group"
        changed = tx.groups.set_status(
            resource.id, expected=(resource.status,), new=GroupStatus(new), updated_at=now
        )
    else:
        kind = "group_snapshot"
        changed = tx.group_snapshots.set_status(
            resource.id, expected=(resource.status,), new=GroupSnapshotStatus(new), updated_at=now
        )
    if not changed:
        raise ResourceBusyError(
            f"cannot reset the status of {kind} {resource.id}: it changed meanwhile",
            hint="look at it again, then retry",
        )
    event = _status_event(kind, resource.id, str(resource.status), str(new), now, None, None)
    event.message += f" (reset by {actor})"
    event.detail["override"] = True
    tx.events.add(event)
    resource.status, resource.updated_at = new, now

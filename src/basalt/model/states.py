"""Allowed state transitions for every aggregate, as tables.

Every status change in Basalt goes through :func:`check_transition`; the tables
below are the only place that says which changes are legal. Each pair carries a
comment saying why it exists.
"""

from __future__ import annotations

from enum import StrEnum

from basalt.errors import InvalidStateError


class VolumeStatus(StrEnum):
    CREATING = "creating"
    AVAILABLE = "available"
    RESERVED = "reserved"
    ATTACHING = "attaching"
    IN_USE = "in-use"
    DETACHING = "detaching"
    EXTENDING = "extending"
    RETYPING = "retyping"
    MAINTENANCE = "maintenance"
    DELETING = "deleting"
    ERROR = "error"
    ERROR_DELETING = "error_deleting"
    ERROR_EXTENDING = "error_extending"
    AWAITING_TRANSFER = "awaiting-transfer"
    MANAGING = "managing"
    ERROR_MANAGING = "error_managing"
    REVERTING = "reverting"


class SnapshotStatus(StrEnum):
    CREATING = "creating"
    AVAILABLE = "available"
    DELETING = "deleting"
    ERROR = "error"
    ERROR_DELETING = "error_deleting"
    MANAGING = "managing"
    ERROR_MANAGING = "error_managing"
    UNMANAGING = "unmanaging"
    RESTORING = "restoring"


class AttachStatus(StrEnum):
    RESERVED = "reserved"
    ATTACHING = "attaching"
    ATTACHED = "attached"
    DETACHING = "detaching"
    ERROR_DETACHING = "error_detaching"


class GroupStatus(StrEnum):
    CREATING = "creating"
    AVAILABLE = "available"
    UPDATING = "updating"
    DELETING = "deleting"
    ERROR = "error"
    ERROR_DELETING = "error_deleting"


class GroupSnapshotStatus(StrEnum):
    CREATING = "creating"
    AVAILABLE = "available"
    DELETING = "deleting"
    ERROR = "error"
    ERROR_DELETING = "error_deleting"


class OperationPhase(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"


V = VolumeStatus
S = SnapshotStatus
A = AttachStatus
P = OperationPhase
G = GroupStatus
GS = GroupSnapshotStatus

VOLUME_TRANSITIONS: frozenset[tuple[VolumeStatus, VolumeStatus]] = frozenset(
    {
        (V.CREATING, V.AVAILABLE),  # the backend made it
        (V.CREATING, V.ERROR),  # the backend failed, or a crash interrupted it
        (V.MANAGING, V.AVAILABLE),  # an existing object was adopted
        (V.MANAGING, V.ERROR_MANAGING),  # adoption failed after the row existed
        (V.AVAILABLE, V.EXTENDING),  # grow
        (V.EXTENDING, V.AVAILABLE),  # grown
        (V.EXTENDING, V.ERROR_EXTENDING),  # the backend could not grow it
        (V.ERROR_EXTENDING, V.EXTENDING),  # try the extend again
        (V.AVAILABLE, V.DELETING),  # delete (or unmanage, which releases it)
        (V.ERROR, V.DELETING),  # clean up a failed create
        (V.ERROR_DELETING, V.DELETING),  # try the delete again
        (V.ERROR_EXTENDING, V.DELETING),  # give up on a failed extend
        (V.ERROR_MANAGING, V.DELETING),  # give up on a failed manage
        (V.DELETING, V.ERROR_DELETING),  # the backend could not delete it
        (V.DELETING, V.AVAILABLE),  # unmanage or delete rolled back, data untouched
        # While a volume has attachments its status follows theirs
        # (basalt.model.attachment.volume_status_for); these are the moves that can make.
        (V.AVAILABLE, V.RESERVED),  # an attachment was reserved
        (V.AVAILABLE, V.ATTACHING),  # an attachment was created with a connector
        (V.RESERVED, V.ATTACHING),  # the host is connecting
        (V.RESERVED, V.AVAILABLE),  # the reservation was dropped
        (V.ATTACHING, V.IN_USE),  # attach completed
        (V.ATTACHING, V.AVAILABLE),  # attach failed or was dropped, nothing exported
        (V.ATTACHING, V.RESERVED),  # a connect failed; another reservation remains
        (V.ATTACHING, V.DETACHING),  # the host disconnects before it completed
        (V.IN_USE, V.DETACHING),  # the host is disconnecting
        (V.DETACHING, V.AVAILABLE),  # the last attachment is gone
        (V.DETACHING, V.IN_USE),  # other attachments remain, or detach failed
        (V.DETACHING, V.ATTACHING),  # detached while another host is connecting
        (V.DETACHING, V.RESERVED),  # detached while another reservation remains
        (V.IN_USE, V.AVAILABLE),  # a forced detach dropped every attachment at once
        (V.IN_USE, V.EXTENDING),  # grow an attached volume
        (V.EXTENDING, V.IN_USE),  # grown, still attached
        (V.AVAILABLE, V.RETYPING),  # change of volume type
        (V.RETYPING, V.AVAILABLE),  # retype done or rolled back
        (V.AVAILABLE, V.MAINTENANCE),  # migration in progress
        (V.MAINTENANCE, V.AVAILABLE),  # migration done or rolled back
        (V.AVAILABLE, V.AWAITING_TRANSFER),  # a transfer was offered
        (V.AWAITING_TRANSFER, V.AVAILABLE),  # accepted, cancelled, or the accept failed
        (V.AWAITING_TRANSFER, V.ERROR),  # an accept failed and its backend move stuck
        (V.AVAILABLE, V.REVERTING),  # revert to a snapshot
        (V.REVERTING, V.AVAILABLE),  # reverted
        (V.REVERTING, V.ERROR),  # the revert failed half-way
        (V.AVAILABLE, V.ERROR),  # reconciliation found the backend object gone,
        # or its backend failed over and it has no secondary copy (not replicated)
        (V.IN_USE, V.ERROR),  # its backend failed over and it has no secondary copy
        (V.ERROR, V.AVAILABLE),  # failback: the primary copy serves again
        (V.ERROR, V.IN_USE),  # failback, still attached
    }
)

SNAPSHOT_TRANSITIONS: frozenset[tuple[SnapshotStatus, SnapshotStatus]] = frozenset(
    {
        (S.CREATING, S.AVAILABLE),  # the backend made it
        (S.CREATING, S.ERROR),  # the backend failed, or a crash interrupted it
        (S.MANAGING, S.AVAILABLE),  # an existing snapshot was adopted
        (S.MANAGING, S.ERROR_MANAGING),  # adoption failed
        (S.AVAILABLE, S.DELETING),  # delete
        (S.ERROR, S.DELETING),  # clean up a failed create
        (S.ERROR_MANAGING, S.DELETING),  # give up on a failed manage
        (S.ERROR_DELETING, S.DELETING),  # try the delete again
        (S.DELETING, S.ERROR_DELETING),  # the backend could not delete it
        (S.AVAILABLE, S.UNMANAGING),  # release it, the data stays
        (S.UNMANAGING, S.AVAILABLE),  # the backend refused to release it
        (S.AVAILABLE, S.RESTORING),  # its volume is being reverted to it
        (S.RESTORING, S.AVAILABLE),  # the revert ended, well or not
        (S.AVAILABLE, S.ERROR),  # reconciliation found the backend object gone
    }
)

ATTACHMENT_TRANSITIONS: frozenset[tuple[AttachStatus, AttachStatus]] = frozenset(
    {
        (A.RESERVED, A.ATTACHING),  # the host gave its connector; the volume is exported to it
        (A.ATTACHING, A.RESERVED),  # the export failed, or a restart found the connect unfinished
        (A.ATTACHING, A.ATTACHED),  # the host says it is done (os-attach / complete)
        (A.ATTACHED, A.DETACHING),  # the host is disconnecting (os-begin_detaching / delete)
        (A.ATTACHING, A.DETACHING),  # disconnect before the host completed
        (A.DETACHING, A.ATTACHED),  # the detach was rolled back (os-roll_detaching)
        (A.DETACHING, A.ERROR_DETACHING),  # the backend could not remove the export
        (A.ERROR_DETACHING, A.DETACHING),  # try the detach again
    }
)

GROUP_TRANSITIONS: frozenset[tuple[GroupStatus, GroupStatus]] = frozenset(
    {
        (G.CREATING, G.AVAILABLE),  # the backend made it (and its volumes, from a source)
        (G.CREATING, G.ERROR),  # the backend failed, or a crash interrupted it
        (G.AVAILABLE, G.UPDATING),  # volumes are being added or removed
        (G.UPDATING, G.AVAILABLE),  # the change is done, or was undone
        (G.AVAILABLE, G.DELETING),  # delete (with or without its volumes)
        (G.ERROR, G.DELETING),  # clean up a failed create
        (G.ERROR_DELETING, G.DELETING),  # try the delete again
        (G.DELETING, G.ERROR_DELETING),  # a volume or the backend could not be deleted
    }
)

GROUP_SNAPSHOT_TRANSITIONS: frozenset[tuple[GroupSnapshotStatus, GroupSnapshotStatus]] = frozenset(
    {
        (GS.CREATING, GS.AVAILABLE),  # every member was captured in one cut
        (GS.CREATING, GS.ERROR),  # the cut failed, or a crash interrupted it
        (GS.AVAILABLE, GS.DELETING),  # delete it with its member snapshots
        (GS.ERROR, GS.DELETING),  # clean up a failed create
        (GS.ERROR_DELETING, GS.DELETING),  # try the delete again
        (GS.DELETING, GS.ERROR_DELETING),  # a member could not be deleted
    }
)

OPERATION_TRANSITIONS: frozenset[tuple[OperationPhase, OperationPhase]] = frozenset(
    {
        (P.PENDING, P.RUNNING),  # a worker picked it up
        (P.PENDING, P.FAILED),  # refused before any work started
        (P.RUNNING, P.SUCCEEDED),  # all steps done
        (P.RUNNING, P.FAILED),  # a step failed and nothing needed undoing
        (P.RUNNING, P.ROLLED_BACK),  # a step failed and earlier steps were undone
        (P.PENDING, P.ROLLED_BACK),  # a restart found it queued and undid it
    }
)

# Replication (basalt.model.replication.ReplicationStatus, values shared with Cinder).
VOLUME_REPLICATION_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        ("enabled", "error"),  # a shipment failed; the secondary keeps the last good point
        ("error", "enabled"),  # a later shipment completed
        ("enabled", "failed-over"),  # the backend failed over: served from its secondary copy
        ("error", "failed-over"),  # failed over with the last good point
        ("failed-over", "enabled"),  # failed back: served from the primary, shipped again
        ("enabled", "disabled"),  # its group's replication was disabled: no more shipments
        ("error", "disabled"),  # the same, after a failed shipment
        ("disabled", "enabled"),  # its group's replication was enabled again (or it left
        # a group whose replication is disabled): shipped from where it stopped
    }
)

GROUP_REPLICATION_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        ("disabled", "enabled"),  # enable_replication: its volumes are shipped again
        ("enabled", "disabled"),  # disable_replication: its volumes are not shipped
        ("enabled", "failing-over"),  # failover_replication to a target began
        ("failed-over", "failing-over"),  # failback (secondary_backend_id default) began
        ("error", "failing-over"),  # try a failover or failback again
        ("failing-over", "failed-over"),  # every volume serves from the target
        ("failing-over", "enabled"),  # failed back, or the failover switched nothing
        ("failing-over", "error"),  # some volumes were switched and some not
    }
)

BACKEND_REPLICATION_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        ("enabled", "failing-over"),  # failover to a target began
        ("failing-over", "failed-over"),  # served from the target now
        ("failing-over", "enabled"),  # the failover (or failback) failed before the switch,
        # or a failback finished: served from the primary again
        ("failed-over", "failing-over"),  # failback to default began
        ("failing-over", "failover-error"),  # the switch happened half-way (see reconcile)
        ("failover-error", "failing-over"),  # try again
    }
)

VOLUME_STRANDED: dict[VolumeStatus, VolumeStatus] = {
    V.CREATING: V.ERROR,
    V.MANAGING: V.ERROR_MANAGING,
    V.EXTENDING: V.ERROR_EXTENDING,
    V.DELETING: V.ERROR_DELETING,
    V.RESERVED: V.AVAILABLE,
    V.ATTACHING: V.AVAILABLE,
    V.DETACHING: V.IN_USE,
    V.RETYPING: V.AVAILABLE,
    V.MAINTENANCE: V.AVAILABLE,
    V.REVERTING: V.ERROR,
}
"""Where a busy volume goes when a restart finds no operation that owns it."""

SNAPSHOT_STRANDED: dict[SnapshotStatus, SnapshotStatus] = {
    S.CREATING: S.ERROR,
    S.MANAGING: S.ERROR_MANAGING,
    S.DELETING: S.ERROR_DELETING,
    S.UNMANAGING: S.AVAILABLE,
    S.RESTORING: S.AVAILABLE,
}
"""Where a busy snapshot goes when a restart finds no operation that owns it."""

GROUP_STRANDED: dict[GroupStatus, GroupStatus] = {
    G.CREATING: G.ERROR,
    G.UPDATING: G.AVAILABLE,
    G.DELETING: G.ERROR_DELETING,
}
"""Where a busy group goes when a restart finds no operation that owns it."""

GROUP_SNAPSHOT_STRANDED: dict[GroupSnapshotStatus, GroupSnapshotStatus] = {
    GS.CREATING: GS.ERROR,
    GS.DELETING: GS.ERROR_DELETING,
}
"""Where a busy group snapshot goes when a restart finds no operation that owns it."""

VOLUME_BUSY: frozenset[VolumeStatus] = frozenset(
    {
        V.CREATING,
        V.MANAGING,
        V.EXTENDING,
        V.DELETING,
        V.RESERVED,
        V.ATTACHING,
        V.DETACHING,
        V.RETYPING,
        V.MAINTENANCE,
        V.REVERTING,
    }
)
"""States that a restart must resolve: work was under way."""

SNAPSHOT_BUSY: frozenset[SnapshotStatus] = frozenset(
    {S.CREATING, S.MANAGING, S.DELETING, S.UNMANAGING, S.RESTORING}
)

OPERATION_OPEN: frozenset[OperationPhase] = frozenset({P.PENDING, P.RUNNING})


def check_transition(
    table: frozenset[tuple[StrEnum, StrEnum]]
    | frozenset[tuple[str, str]]
    | frozenset[tuple[VolumeStatus, VolumeStatus]]
    | frozenset[tuple[SnapshotStatus, SnapshotStatus]]
    | frozenset[tuple[AttachStatus, AttachStatus]]
    | frozenset[tuple[GroupStatus, GroupStatus]]
    | frozenset[tuple[GroupSnapshotStatus, GroupSnapshotStatus]]
    | frozenset[tuple[OperationPhase, OperationPhase]],
    *,
    kind: str,
    resource_id: str,
    current: StrEnum | str,
    wanted: StrEnum | str,
    action: str,
) -> None:
    """Refuse a status change that the table does not allow.

    Args:
        table: the aggregate's allowed (old, new) pairs.
        kind: the aggregate's name, for the message.
        resource_id: the resource's id, for the message.
        current: the status it has now.
        wanted: the status the action would give it.
        action: what the caller tried, e.g. ``"extend"``.

    Raises:
        InvalidStateError: the pair is not in the table.
    """
    if (current, wanted) not in table:
        raise InvalidStateError(
            kind=kind, resource_id=resource_id, status=str(current), action=action
        )

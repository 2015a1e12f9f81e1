"""User messages: why asynchronous work failed, as the Block Storage ``messages`` API shows it.

Basalt keeps no second record at failure time: a message *is* an operation that
ended ``failed`` or ``rolled_back``, seen through :func:`message_from`. Its id is
the operation's id; dismissing it (``DELETE /messages/{id}``) marks the operation,
which itself stays.

``event_id`` follows the Block Storage pattern ``VOLUME_<RESOURCE TYPE>_<ACTION>_<DETAIL>``.
The numbers are Basalt's own, fixed in :data:`EVENTS` (the action: one per
operation kind) and :data:`OUTCOMES` (the detail: failed, or failed and undone);
docs/api.md lists them. A new operation kind needs a row here (a unit test says so);
until it has one, its failures still show, with action ``000``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from basalt.model.operation import Operation, OperationKind
from basalt.model.states import OperationPhase

MESSAGE_LEVEL = "ERROR"
EVENT_PREFIX = "VOLUME"
VOLUME = "VOLUME"
VOLUME_SNAPSHOT = "VOLUME_SNAPSHOT"
GROUP = "GROUP"
GROUP_SNAPSHOT = "GROUP_SNAPSHOT"
SERVICE = "SERVICE"
K = OperationKind


@dataclass(frozen=True, slots=True)
class EventSpec:
    """What one operation kind means to a user: the resource type and the action."""

    resource_type: str
    action_id: str
    subject: str
    """What was being done, with ``{id}`` for the resource, e.g. ``Extending volume {id}``."""


EVENTS: dict[OperationKind, EventSpec] = {
    K.CREATE_VOLUME: EventSpec(VOLUME, "001", "Creating volume {id}"),
    K.CLONE_VOLUME: EventSpec(VOLUME, "002", "Creating volume {id} as a clone"),
    K.CREATE_VOLUME_FROM_SNAPSHOT: EventSpec(VOLUME, "003", "Creating volume {id} from a snapshot"),
    K.DELETE_VOLUME: EventSpec(VOLUME, "004", "Deleting volume {id}"),
    K.EXTEND_VOLUME: EventSpec(VOLUME, "005", "Extending volume {id}"),
    K.UPDATE_VOLUME: EventSpec(VOLUME, "006", "Updating volume {id}"),
    K.MANAGE_VOLUME: EventSpec(VOLUME, "007", "Managing volume {id}"),
    K.UNMANAGE_VOLUME: EventSpec(VOLUME, "008", "Unmanaging volume {id}"),
    K.RESERVE_VOLUME: EventSpec(VOLUME, "009", "Reserving volume {id}"),
    K.ATTACH_VOLUME: EventSpec(VOLUME, "010", "Attaching volume {id}"),
    K.DETACH_VOLUME: EventSpec(VOLUME, "011", "Detaching volume {id}"),
    K.CREATE_SNAPSHOT: EventSpec(VOLUME_SNAPSHOT, "012", "Creating snapshot {id}"),
    K.DELETE_SNAPSHOT: EventSpec(VOLUME_SNAPSHOT, "013", "Deleting snapshot {id}"),
    K.UPDATE_SNAPSHOT: EventSpec(VOLUME_SNAPSHOT, "014", "Updating snapshot {id}"),
    K.MANAGE_SNAPSHOT: EventSpec(VOLUME_SNAPSHOT, "015", "Managing snapshot {id}"),
    K.UNMANAGE_SNAPSHOT: EventSpec(VOLUME_SNAPSHOT, "016", "Unmanaging snapshot {id}"),
    K.REVERT_VOLUME: EventSpec(VOLUME, "017", "Reverting volume {id} to its latest snapshot"),
    K.ACCEPT_TRANSFER: EventSpec(VOLUME, "018", "Accepting the transfer of volume {id}"),
    K.MIGRATE_VOLUME: EventSpec(VOLUME, "019", "Migrating volume {id}"),
    K.RETYPE_VOLUME: EventSpec(VOLUME, "020", "Retyping volume {id}"),
    K.CREATE_GROUP: EventSpec(GROUP, "021", "Creating group {id}"),
    K.CREATE_GROUP_FROM_SRC: EventSpec(GROUP, "022", "Creating group {id} from a source"),
    K.UPDATE_GROUP: EventSpec(GROUP, "023", "Adding or removing volumes of group {id}"),
    K.DELETE_GROUP: EventSpec(GROUP, "024", "Deleting group {id}"),
    K.CREATE_GROUP_SNAPSHOT: EventSpec(GROUP_SNAPSHOT, "025", "Creating group snapshot {id}"),
    K.DELETE_GROUP_SNAPSHOT: EventSpec(GROUP_SNAPSHOT, "026", "Deleting group snapshot {id}"),
    K.FAILOVER_BACKEND: EventSpec(SERVICE, "027", "Failing over backend {id}"),
    K.FAILBACK_BACKEND: EventSpec(SERVICE, "028", "Failing back backend {id}"),
    K.FAILOVER_GROUP: EventSpec(GROUP, "029", "Failing over the volumes of group {id}"),
    K.FAILBACK_GROUP: EventSpec(GROUP, "030", "Failing back the volumes of group {id}"),
}

OUTCOMES: dict[OperationPhase, tuple[str, str]] = {
    # phase -> (detail id, how the work ended)
    OperationPhase.FAILED: ("001", "failed"),
    OperationPhase.ROLLED_BACK: ("002", "failed and what it had done was undone"),
}


@dataclass(frozen=True, slots=True)
class Message:
    """One user message (the view of a failed operation)."""

    id: str
    project_id: str
    event_id: str
    user_message: str
    request_id: str
    resource_type: str
    resource_uuid: str
    created_at: datetime
    """When the work failed."""
    guaranteed_until: datetime
    """Until when the message is kept (failed at + the configured TTL)."""
    message_level: str = MESSAGE_LEVEL


def spec_of(kind: OperationKind) -> EventSpec:
    """The kind's row of EVENTS (every kind has one; a unit test keeps it so)."""
    return EVENTS[kind]


def event_id(kind: OperationKind, phase: OperationPhase) -> str:
    """The event id of a failed operation of ``kind`` that ended in ``phase``.

    Raises:
        KeyError: ``phase`` is not a failure.
    """
    spec = spec_of(kind)
    detail, _ = OUTCOMES[phase]
    return f"{EVENT_PREFIX}_{spec.resource_type}_{spec.action_id}_{detail}"


def events_with_id(wanted: str) -> list[tuple[OperationKind, OperationPhase]]:
    """The (kind, phase) pairs whose event id is ``wanted`` (one, or none if unknown)."""
    pairs = [(kind, phase) for kind in EVENTS for phase in OUTCOMES]
    return [(kind, phase) for kind, phase in pairs if event_id(kind, phase) == wanted]


def kinds_of_type(resource_type: str) -> list[OperationKind]:
    """The operation kinds whose messages have ``resource_type``."""
    return [kind for kind, spec in EVENTS.items() if spec.resource_type == resource_type]


def is_message(operation: Operation) -> bool:
    """Whether the operation is shown as a message at all (failed, finished, not dismissed)."""
    return (
        operation.phase in OUTCOMES
        and operation.finished_at is not None
        and operation.dismissed_at is None
    )


def message_from(operation: Operation, *, ttl: timedelta) -> Message:
    """The user message of a failed operation.

    Args:
        operation: an operation for which :func:`is_message` holds.
        ttl: how long messages are kept after the failure.

    Returns:
        The message: what failed (kind and resource), why (the operation's message
        and hint), when, and until when it is kept.

    Raises:
        ValueError: the operation did not fail, or has not finished.
    """
    if operation.phase not in OUTCOMES or operation.finished_at is None:
        raise ValueError(f"operation {operation.id} is {operation.phase}, not a finished failure")
    spec = spec_of(operation.kind)
    _, outcome = OUTCOMES[operation.phase]
    reason = operation.message or "no reason was recorded"
    text = f"{spec.subject.format(id=operation.resource_id)} {outcome}: {reason}"
    if operation.hint:
        text += f" ({operation.hint})"
    return Message(
        id=operation.id,
        project_id=operation.project_id,
        event_id=event_id(operation.kind, operation.phase),
        user_message=text,
        request_id=operation.request_id or f"req-{operation.id}",
        resource_type=spec.resource_type,
        resource_uuid=operation.resource_id,
        created_at=operation.finished_at,
        guaranteed_until=operation.finished_at + ttl,
    )

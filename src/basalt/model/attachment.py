"""The attachment aggregate: one host's use of one volume.

A volume's status while it has attachments is derived from theirs, by
:func:`volume_status_for`, the one place that says how.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from basalt.model.states import AttachStatus, VolumeStatus


class AttachMode(StrEnum):
    READ_WRITE = "rw"
    READ_ONLY = "ro"


EXPORTING: frozenset[AttachStatus] = frozenset(
    {
        AttachStatus.ATTACHING,
        AttachStatus.ATTACHED,
        AttachStatus.DETACHING,
        AttachStatus.ERROR_DETACHING,
    }
)
"""Attachments whose connector the backend export must admit."""


@dataclass(slots=True)
class Attachment:
    """A reservation or connection of a volume by a host (and optionally a server on it).

    ``connector`` is the host's os-brick connector (None while only reserved). The
    connection info is never stored: it holds the CHAP secret and is built again
    for the caller who connects.
    """

    id: str
    volume_id: str
    project_id: str
    user_id: str
    status: AttachStatus
    mode: AttachMode
    created_at: datetime
    updated_at: datetime
    instance_id: str | None = None
    connector: dict[str, object] | None = None
    attached_host: str | None = None
    mountpoint: str | None = None
    attached_at: datetime | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def initiator(self) -> str | None:
        """The connector's iSCSI initiator IQN, if it gave one."""
        value = (self.connector or {}).get("initiator")
        return value if isinstance(value, str) else None

    @property
    def exporting(self) -> bool:
        """Whether the backend export must admit this attachment's host."""
        return self.status in EXPORTING and self.connector is not None


HOLDS_ATTACHMENTS: frozenset[VolumeStatus] = frozenset(
    {
        VolumeStatus.RESERVED,
        VolumeStatus.ATTACHING,
        VolumeStatus.IN_USE,
        VolumeStatus.DETACHING,
        VolumeStatus.EXTENDING,  # an attached volume being grown
        VolumeStatus.ERROR_EXTENDING,  # ... whose extend failed
    }
)
"""The statuses a volume that has attachments can be in; in any other it has none
(attach needs an attachment-owned status, and only extend leaves those while attached).
Lets hot paths skip the attachment query for the common available volume."""


# Most telling first: a volume any host has attached is in use, whatever else is going on.
_PRECEDENCE: tuple[tuple[frozenset[AttachStatus], VolumeStatus], ...] = (
    (frozenset({AttachStatus.ATTACHED, AttachStatus.ERROR_DETACHING}), VolumeStatus.IN_USE),
    (frozenset({AttachStatus.DETACHING}), VolumeStatus.DETACHING),
    (frozenset({AttachStatus.ATTACHING}), VolumeStatus.ATTACHING),
    (frozenset({AttachStatus.RESERVED}), VolumeStatus.RESERVED),
)


def volume_status_for(statuses: Iterable[AttachStatus]) -> VolumeStatus:
    """The status a volume has given its attachments' statuses (available with none)."""
    present = set(statuses)
    for group, volume_status in _PRECEDENCE:
        if present & group:
            return volume_status
    return VolumeStatus.AVAILABLE

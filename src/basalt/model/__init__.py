"""Basalt's domain model: plain dataclasses and the state tables."""

from basalt.model.attachment import Attachment, AttachMode, volume_status_for
from basalt.model.event import Event, EventKind
from basalt.model.operation import Operation, OperationKind
from basalt.model.pool import Pool
from basalt.model.snapshot import Snapshot
from basalt.model.states import AttachStatus, OperationPhase, SnapshotStatus, VolumeStatus
from basalt.model.volume import Volume

__all__ = [
    "AttachMode",
    "AttachStatus",
    "Attachment",
    "Event",
    "EventKind",
    "Operation",
    "OperationKind",
    "OperationPhase",
    "Pool",
    "Snapshot",
    "SnapshotStatus",
    "Volume",
    "VolumeStatus",
    "volume_status_for",
]

"""Basalt: a standalone block-storage control plane.

import basalt
with basalt.open(data_dir="/tmp/demo") as b:
    volume = b.volumes.create(size_gib=1, name="db").wait()
    snap = b.snapshots.create(volume.id, name="before-upgrade").wait()
    copy = b.volumes.create(size_gib=1, snapshot_id=snap.id).wait()
"""

from basalt.config import Settings, load_settings
from basalt.errors import (
    AuthenticationError,
    BackendFrozenError,
    BasaltError,
    CapacityError,
    ConfigError,
    ConflictError,
    DriverError,
    ExportError,
    ExportUnavailableError,
    FailoverStateError,
    FeatureUnavailableError,
    GroupMembershipError,
    InvalidInputError,
    InvalidStateError,
    ManageExistingInvalidReferenceError,
    NotFoundError,
    NotSupportedError,
    OperationFailedError,
    OperationTimeoutError,
    PermissionDeniedError,
    PersistenceError,
    QuotaExceededError,
    ReplicationError,
    ReplicationNotConfiguredError,
    ReplicationTargetNotFoundError,
    StillInUseError,
    VolumeAttachedError,
)
from basalt.model import (
    Event,
    Operation,
    OperationKind,
    OperationPhase,
    Pool,
    Snapshot,
    SnapshotStatus,
    Volume,
    VolumeStatus,
)
from basalt.persistence.base import ListQuery
from basalt.service.context import RequestContext
from basalt.service.instance import Basalt
from basalt.service.instance import open_basalt as open
from basalt.service.runner import OperationHandle

__all__ = [
    "Basalt",
    "AuthenticationError",
    "BasaltError",
    "CapacityError",
    "ConfigError",
    "ConflictError",
    "DriverError",
    "ExportError",
    "ExportUnavailableError",
    "FeatureUnavailableError",
    "GroupMembershipError",
    "NotSupportedError",
    "OperationFailedError",
    "OperationTimeoutError",
    "PermissionDeniedError",
    "PersistenceError",
    "QuotaExceededError",
    "StillInUseError",
    "ReplicationError",
    "ReplicationNotConfiguredError",
    "ReplicationTargetNotFoundError",
    "BackendFrozenError",
    "FailoverStateError",
    "VolumeAttachedError",
    "Event",
    "InvalidInputError",
    "InvalidStateError",
    "ListQuery",
    "ManageExistingInvalidReferenceError",
    "NotFoundError",
    "Operation",
    "OperationHandle",
    "OperationKind",
    "OperationPhase",
    "Pool",
    "RequestContext",
    "Settings",
    "Snapshot",
    "SnapshotStatus",
    "Volume",
    "VolumeStatus",
    "load_settings",
    "open",
]

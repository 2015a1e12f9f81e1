"""Element API errors: one class per vendor error name, as the wire carries it.

    SolidFireError                       (error.name, error.message, error.code=500)
    ├── request errors
    │   ├── UnknownAPIMethodError        xUnknownAPIMethod
    │   ├── UnknownAPIVersionError       xUnknownAPIVersion
    │   ├── MissingParameterError        xMissingParameter
    │   ├── InvalidParameterError        xInvalidParameter
    │   ├── InvalidParameterTypeError    xInvalidParameterType
    │   └── UnrecognizedEnumStringError  xUnrecognizedEnumString
    ├── unknown objects
    │   ├── VolumeIDDoesNotExistError    xVolumeIDDoesNotExist
    │   ├── SnapshotIDDoesNotExistError  xSnapshotIDDoesNotExist
    │   ├── GroupSnapshotIDDoesNotExistError  xGroupSnapshotIDDoesNotExist (*)
    │   ├── AccountIDDoesNotExistError   xAccountIDDoesNotExist
    │   ├── UnknownAccountError          xUnknownAccount
    │   ├── VolumeAccessGroupIDDoesNotExistError  xVolumeAccessGroupIDDoesNotExist
    │   ├── ClusterPairIDDoesNotExistError  xClusterPairIDDoesNotExist (*)
    │   └── DBNoSuchPathError            xDBNoSuchPath (unknown async handle)
    ├── refused changes
    │   ├── DuplicateUsernameError       xDuplicateUsername (accounts, and access group names)
    │   ├── AccountHasVolumesError       xAccountHasVolumes (*)
    │   ├── VolumeShrinkProhibitedError  xVolumeShrinkProhibited
    │   ├── MaxSnapshotsPerVolumeExceededError  xMaxSnapshotsPerVolumeExceeded
    │   ├── AlreadyInVolumeAccessGroupError  xAlreadyInVolumeAccessGroup
    │   ├── NotInVolumeAccessGroupError  xNotInVolumeAccessGroup
    │   └── ExceededLimitError           xExceededLimit
    ├── replication
    │   ├── InvalidPairingKeyError       xInvalidPairingKey
    │   ├── PairingAlreadyExistsError    xPairingAlreadyExists
    │   ├── MVIPNotPairedError           xMVIPNotPaired
    │   └── VolumeNotPairedError         xVolumeNotPaired
    └── InjectedFaultError               any name armed with `backend.faults.inject()`

(*) names the emulator chose where no public source shows the array's own spelling.
"""

from __future__ import annotations

from typing import ClassVar

# Names that Cinder's driver retries (VENDORS.md section 1); the emulator only injects them.
RETRYABLE_ERROR_NAMES: tuple[str, ...] = (
    "xDBVersionMismatch",
    "xMaxSnapshotsPerVolumeExceeded",
    "xMaxClonesPerVolumeExceeded",
    "xMaxSnapshotsPerNodeExceeded",
    "xMaxClonesPerNodeExceeded",
    "xSliceNotRegistered",
    "xNotReadyForIO",
    "xNotPrimary",
    "xDBOperationTimeout",
    "xDBConnectionLoss",
    "xNoHandler",
    "xSnapshotFailed",
    "xRecvTimeout",
    "xDBNoSuchPath",
    "xPermissionDenied",
)


class SolidFireError(Exception):
    """An Element API error reply: `{"error": {"name", "code", "message"}}`."""

    NAME: ClassVar[str] = "xUnknownError"
    code: int = 500

    def __init__(self, message: str, *, name: str | None = None) -> None:
        super().__init__(message)
        self.name = name or self.NAME
        self.message = message


# --- request errors -------------------------------------------------------------------


class UnknownAPIMethodError(SolidFireError):
    """The method name is not part of the emulated API."""

    NAME = "xUnknownAPIMethod"

    def __init__(self, method: str) -> None:
        super().__init__(f"Unknown method: method={method}")
        self.method = method


class UnknownAPIVersionError(SolidFireError):
    """The path asks for an API version newer than the cluster's."""

    NAME = "xUnknownAPIVersion"

    def __init__(self, version: str) -> None:
        super().__init__(f"Unknown API version: {version}")
        self.version = version


class MissingParameterError(SolidFireError):
    """A required parameter is absent."""

    NAME = "xMissingParameter"

    def __init__(self, parameter: str) -> None:
        super().__init__(f"Missing member=[{parameter}]")
        self.parameter = parameter


class InvalidParameterError(SolidFireError):
    """A parameter has a value the array refuses (or the request is not valid JSON-RPC)."""

    NAME = "xInvalidParameter"


class InvalidParameterTypeError(SolidFireError):
    """A parameter has the wrong JSON type."""

    NAME = "xInvalidParameterType"

    def __init__(self, parameter: str, expected: str) -> None:
        super().__init__(f"Invalid parameter type: member=[{parameter}] expected={expected}")
        self.parameter = parameter
        self.expected = expected


class UnrecognizedEnumStringError(SolidFireError):
    """A string parameter is not one of the allowed values."""

    NAME = "xUnrecognizedEnumString"

    def __init__(self, parameter: str, value: str) -> None:
        super().__init__(f"Unrecognized enum string for {parameter}: {value}")
        self.parameter = parameter
        self.value = value


# --- unknown objects ------------------------------------------------------------------


class VolumeIDDoesNotExistError(SolidFireError):
    """No volume (in the state the call needs) has this ID."""

    NAME = "xVolumeIDDoesNotExist"

    def __init__(self, volume_id: int, *, detail: str = "") -> None:
        super().__init__(f"VolumeID {volume_id} does not exist.{detail}")
        self.volume_id = volume_id


class SnapshotIDDoesNotExistError(SolidFireError):
    """No snapshot has this ID (or it belongs to another volume)."""

    NAME = "xSnapshotIDDoesNotExist"

    def __init__(self, snapshot_id: int) -> None:
        super().__init__(f"SnapshotID {snapshot_id} does not exist.")
        self.snapshot_id = snapshot_id


class GroupSnapshotIDDoesNotExistError(SolidFireError):
    """No group snapshot has this ID."""

    NAME = "xGroupSnapshotIDDoesNotExist"

    def __init__(self, group_snapshot_id: int) -> None:
        super().__init__(f"GroupSnapshotID {group_snapshot_id} does not exist.")
        self.group_snapshot_id = group_snapshot_id


class AccountIDDoesNotExistError(SolidFireError):
    """No account has this ID."""

    NAME = "xAccountIDDoesNotExist"

    def __init__(self, account_id: int) -> None:
        super().__init__(f"Illegal AccountID {account_id}")
        self.account_id = account_id


class UnknownAccountError(SolidFireError):
    """No account has this username."""

    NAME = "xUnknownAccount"

    def __init__(self, username: str) -> None:
        super().__init__(f"Unknown account: username={username}")
        self.username = username


class VolumeAccessGroupIDDoesNotExistError(SolidFireError):
    """No volume access group has this ID."""

    NAME = "xVolumeAccessGroupIDDoesNotExist"

    def __init__(self, access_group_id: int) -> None:
        super().__init__(f"VolumeAccessGroupID {access_group_id} does not exist.")
        self.access_group_id = access_group_id


class ClusterPairIDDoesNotExistError(SolidFireError):
    """No cluster pair has this ID on this cluster."""

    NAME = "xClusterPairIDDoesNotExist"

    def __init__(self, cluster_pair_id: int) -> None:
        super().__init__(f"ClusterPairID {cluster_pair_id} does not exist.")
        self.cluster_pair_id = cluster_pair_id


class DBNoSuchPathError(SolidFireError):
    """The cluster database has no such entry (an unknown async handle)."""

    NAME = "xDBNoSuchPath"

    def __init__(self, path: str) -> None:
        super().__init__(f"DBClient operation requested on a non-existent path at [{path}]")
        self.path = path


# --- refused changes ------------------------------------------------------------------


class DuplicateUsernameError(SolidFireError):
    """The name is already taken (accounts; the array reuses it for access group names)."""

    NAME = "xDuplicateUsername"

    def __init__(self, username: str) -> None:
        super().__init__(f"Duplicate name: {username}")
        self.username = username


class AccountHasVolumesError(SolidFireError):
    """The account still owns volumes that are not purged."""

    NAME = "xAccountHasVolumes"

    def __init__(self, account_id: int, volume_ids: list[int]) -> None:
        super().__init__(f"AccountID {account_id} still owns volumes {volume_ids}")
        self.account_id = account_id
        self.volume_ids = volume_ids


class VolumeShrinkProhibitedError(SolidFireError):
    """A volume may only grow."""

    NAME = "xVolumeShrinkProhibited"

    def __init__(self, volume_id: int) -> None:
        super().__init__(f"Lowering a volume size is not allowed (volumeID {volume_id}).")
        self.volume_id = volume_id


class MaxSnapshotsPerVolumeExceededError(SolidFireError):
    """The volume already has the maximum number of snapshots."""

    NAME = "xMaxSnapshotsPerVolumeExceeded"

    def __init__(self, volume_id: int, limit: int) -> None:
        super().__init__(f"Maximum snapshots per volume is {limit} (volumeID {volume_id})")
        self.volume_id = volume_id
        self.limit = limit


class AlreadyInVolumeAccessGroupError(SolidFireError):
    """The initiator or volume is already in this access group."""

    NAME = "xAlreadyInVolumeAccessGroup"


class NotInVolumeAccessGroupError(SolidFireError):
    """The initiator or volume is not in this access group."""

    NAME = "xNotInVolumeAccessGroup"


class ExceededLimitError(SolidFireError):
    """A cluster limit would be exceeded (access group size, initiator already grouped...)."""

    NAME = "xExceededLimit"


# --- replication ----------------------------------------------------------------------


class InvalidPairingKeyError(SolidFireError):
    """The pairing key is unknown, already used, or of the wrong kind."""

    NAME = "xInvalidPairingKey"

    def __init__(self) -> None:
        super().__init__("The pairing key is not valid.")


class PairingAlreadyExistsError(SolidFireError):
    """The clusters (or the volume) are already paired."""

    NAME = "xPairingAlreadyExists"


class MVIPNotPairedError(SolidFireError):
    """The volume's cluster is not paired with this one."""

    NAME = "xMVIPNotPaired"


class VolumeNotPairedError(SolidFireError):
    """The volume has no volume pair."""

    NAME = "xVolumeNotPaired"

    def __init__(self, volume_id: int) -> None:
        super().__init__(f"Volume {volume_id} is not paired.")
        self.volume_id = volume_id


class InjectedFaultError(SolidFireError):
    """An error armed by a test with `backend.faults.inject(name)`; the call did not run."""

    def __init__(self, name: str, method: str) -> None:
        super().__init__(f"Injected fault {name} on {method}", name=name)
        self.method = method

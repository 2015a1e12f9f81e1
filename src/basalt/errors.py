"""Every error Basalt raises, in one tree.

    BasaltError
    ├── NotFoundError                    kind + id name what is missing
    │   ├── VolumeNotFoundError
    │   ├── SnapshotNotFoundError
    │   ├── AttachmentNotFoundError
    │   ├── MetadataKeyNotFoundError
    │   ├── OperationNotFoundError
    │   ├── MessageNotFoundError
    │   ├── BackendNotFoundError
    │   ├── PoolNotFoundError
    │   ├── ServiceNotFoundError
    │   ├── ClusterNotFoundError         (Basalt runs no clusters)
    │   ├── VolumeTypeNotFoundError      unknown, or private and not shared with the caller
    │   ├── QosSpecsNotFoundError
    │   ├── TransferNotFoundError
    │   │   └── TransferKeyRefusedError  accept: unknown, wrong key or used, in one answer
    │   ├── GroupTypeNotFoundError
    │   ├── GroupNotFoundError
    │   ├── GroupSnapshotNotFoundError
    │   ├── MicroversionTooLowError      a route the request's microversion does not have
    │   ├── QuotaClassNotFoundError      Basalt has one quota class, default
    │   └── ExtensionNotFoundError       an API extension Basalt does not honour
    ├── InvalidInputError                field + reason name the bad value
    │   ├── ManageExistingInvalidReferenceError
    │   └── InvalidExtraSpecError        a volume type's extra spec the scheduler cannot read
    ├── InvalidStateError                resource is in the wrong state for the action
    ├── VolumeAttachedError              attached elsewhere (no multiattach), or still attached
    ├── PermissionDeniedError            the caller's roles or project do not allow it
    ├── AuthenticationError              no valid credentials (HTTP 401)
    ├── StillInUseError                  others use it (a type's volumes, a QoS spec's types)
    ├── GroupMembershipError             a volume cannot join, leave or act apart from a group
    ├── ConflictError
    │   ├── DuplicateNameError           a type or QoS spec of that name exists
    │   ├── VolumeHasSnapshotsError
    │   ├── GroupHasSnapshotsError
    │   ├── IdempotencyConflictError     same key, different request
    │   └── ResourceBusyError            a concurrent change won the race
    ├── CapacityError                    no room for a new volume (placement failed)
    │   ├── InsufficientCapacityError
    │   ├── BackendDisabledError         no enabled backend may take a new volume
    │   ├── QuotaExceededError           the project's quota refuses it (HTTP 413, as Cinder)
    │   └── NoValidBackendError          the scheduler found no pool; carries its explanation
    ├── DriverError                      a backend failed; carries the backend name
    │   ├── NotSupportedError            the backend lacks the feature
    │   └── BackendUnavailableError      the backend cannot answer right now
    ├── FeatureUnavailableError          Basalt lacks the feature (yet), whatever the backend
    │   └── ResourceNotServedError       an API collection Basalt does not serve
    ├── ReplicationError                 a replication action refused
    │   ├── ReplicationNotConfiguredError  the backend names no replication target
    │   ├── ReplicationTargetNotFoundError failover to a backend_id the backend lacks
    │   ├── BackendFrozenError             frozen: control-plane changes are refused
    │   └── FailoverStateError             double failover, failback while not failed over,
    │                                      failover while volumes are busy
    ├── ExportError                      the iSCSI target (tgt) failed
    │   ├── (basalt.export.errors: CommandFailedError, CommandTimeoutError, TargetExportError)
    │   └── ExportUnavailableError       tgt is not installed or Basalt is not root
    │       └── (basalt.export.errors.CommandNotFoundError)
    ├── OperationFailedError             a long operation ended in failure
    ├── OperationTimeoutError            waited longer than asked
    ├── PersistenceError
    └── ConfigError

    BasaltUsageError(RuntimeError)       the library was called wrongly (a bug in the caller)

The HTTP status for each class is chosen in one place: basalt.api.errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the scheduler imports this module; the error only carries its result
    from basalt.service.scheduler.explain import Explanation


class BasaltError(Exception):
    """Root of every error Basalt raises on purpose.

    ``code`` is a stable machine-readable name; ``hint`` tells a person what to do.
    """

    code = "basalt_error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message} ({self.hint})"


class NotFoundError(BasaltError):
    """A resource named by id does not exist (or is not visible to the caller)."""

    code = "not_found"
    kind = "resource"

    def __init__(self, resource_id: str, *, hint: str | None = None) -> None:
        super().__init__(f"{self.kind} {resource_id} could not be found", hint=hint)
        self.resource_id = resource_id


class VolumeNotFoundError(NotFoundError):
    code = "volume_not_found"
    kind = "volume"


class SnapshotNotFoundError(NotFoundError):
    code = "snapshot_not_found"
    kind = "snapshot"


class AttachmentNotFoundError(NotFoundError):
    code = "attachment_not_found"
    kind = "attachment"


class MetadataKeyNotFoundError(NotFoundError):
    code = "metadata_key_not_found"
    kind = "metadata key"


class OperationNotFoundError(NotFoundError):
    code = "operation_not_found"
    kind = "operation"


class MessageNotFoundError(NotFoundError):
    """No such user message: unknown, another project's, dismissed, or expired."""

    code = "message_not_found"
    kind = "message"


class BackendNotFoundError(NotFoundError):
    code = "backend_not_found"
    kind = "backend"


class PoolNotFoundError(NotFoundError):
    code = "pool_not_found"
    kind = "pool"


class ServiceNotFoundError(NotFoundError):
    """No service of that binary runs on that host (os-services)."""

    code = "service_not_found"
    kind = "service"

    def __init__(self, *, host: str, binary: str, hint: str | None = None) -> None:
        super().__init__(f"{binary} on host {host}", hint=hint)
        self.host = host
        self.binary = binary


class ClusterNotFoundError(NotFoundError):
    """No such cluster: Basalt runs as one service process and has none."""

    code = "cluster_not_found"
    kind = "cluster"

    def __init__(self, name: str) -> None:
        super().__init__(
            name, hint="Basalt runs as one service process and has no clusters (see os-services)"
        )


class VolumeTypeNotFoundError(NotFoundError):
    code = "volume_type_not_found"
    kind = "volume type"


class QosSpecsNotFoundError(NotFoundError):
    code = "qos_specs_not_found"
    kind = "QoS spec"


class TransferNotFoundError(NotFoundError):
    """No such volume transfer for the caller: unknown, another project's, or accepted."""

    code = "transfer_not_found"
    kind = "volume transfer"


class TransferKeyRefusedError(TransferNotFoundError):
    """Accept found no open transfer with this id and auth key.

    The one answer for an unknown id, a wrong key, and a transfer accepted or withdrawn
    already, in the same words whatever the transfer: it tells a guesser nothing about
    other projects' transfers, volumes or projects.
    """

    def __init__(self) -> None:
        BasaltError.__init__(
            self,
            "no open volume transfer has this id and auth key",
            hint="accept with the transfer id and auth key its creator was given; "
            "a transfer can be accepted once",
        )
        self.resource_id = ""


class GroupTypeNotFoundError(NotFoundError):
    code = "group_type_not_found"
    kind = "group type"


class GroupNotFoundError(NotFoundError):
    code = "group_not_found"
    kind = "group"


class GroupSnapshotNotFoundError(NotFoundError):
    code = "group_snapshot_not_found"
    kind = "group snapshot"


class MicroversionTooLowError(NotFoundError):
    """A REST route that comes with a later microversion than the request asked for."""

    code = "microversion_too_low"
    kind = "route"

    def __init__(self, what: str, *, needed: str, asked: str) -> None:
        BasaltError.__init__(
            self,
            f"{what} needs microversion {needed} or later; the request asked for {asked}",
            hint=f"send OpenStack-API-Version: volume {needed} (or later)",
        )
        self.resource_id = what


class QuotaClassNotFoundError(NotFoundError):
    code = "quota_class_not_found"
    kind = "quota class"

    def __init__(self, class_name: str) -> None:
        super().__init__(
            class_name, hint="Basalt has one quota class, default, used by every project"
        )


class ExtensionNotFoundError(NotFoundError):
    code = "extension_not_found"
    kind = "extension"


class InvalidInputError(BasaltError):
    """A value given by the caller is not acceptable; ``field`` names it."""

    code = "invalid_input"

    def __init__(self, field: str, reason: str, *, hint: str | None = None) -> None:
        super().__init__(f"invalid {field}: {reason}", hint=hint)
        self.field = field
        self.reason = reason


class ManageExistingInvalidReferenceError(InvalidInputError):
    """The reference given to manage does not name an object on the backend."""

    code = "manage_existing_invalid_reference"

    def __init__(self, reference: object, reason: str) -> None:
        super().__init__("reference", f"{reference!r}: {reason}")
        self.reference = reference


class InvalidExtraSpecError(InvalidInputError):
    """An extra spec the capabilities filter cannot read (``<is> maybe``, ``>= many``)."""

    code = "invalid_extra_spec"

    def __init__(self, key: str, value: str, reason: str) -> None:
        super().__init__(
            f"extra spec {key}",
            f"{value!r}: {reason}",
            hint="operators: =, ==, !=, >=, <=, s==, s!=, s<, s<=, s>, s>=, <in>, <is>, "
            "<or>, <all-in>; a value without an operator must equal the capability",
        )
        self.key = key
        self.value = value


class InvalidStateError(BasaltError):
    """The resource's state does not allow the requested action."""

    code = "invalid_state"

    def __init__(
        self, *, kind: str, resource_id: str, status: str, action: str, hint: str | None = None
    ) -> None:
        super().__init__(
            f"cannot {action} {kind} {resource_id}: its status is {status!r}", hint=hint
        )
        self.kind = kind
        self.resource_id = resource_id
        self.status = status
        self.action = action


class VolumeAttachedError(BasaltError):
    """The volume's attachments forbid the action (attached elsewhere, or still attached)."""

    code = "volume_attached"

    def __init__(self, volume_id: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"volume {volume_id} {message}", hint=hint)
        self.volume_id = volume_id


class PermissionDeniedError(BasaltError):
    """The caller may not do this: its roles fall short of the action's policy rule, or it
    acts in a project that is not its own."""

    code = "permission_denied"

    def __init__(
        self,
        action: str,
        *,
        needed: str = "admin",
        held: list[str] | None = None,
        message: str | None = None,
    ) -> None:
        roles = ", ".join(held) if held else "none"
        super().__init__(
            message
            or f"policy does not allow {action}: it needs the {needed} role "
            f"(the caller has: {roles})"
        )
        self.action = action
        self.needed = needed


class AuthenticationError(BasaltError):
    """The request carries no credentials Basalt accepts (token mode: a missing or unknown
    token). Its message never repeats the token."""

    code = "unauthorized"


class StillInUseError(BasaltError):
    """The resource cannot go (or change) while others use it, e.g. a volume type that
    volumes have, or a QoS spec that types are associated with."""

    code = "in_use"


class GroupMembershipError(BasaltError):
    """A volume cannot join or leave a group (already in one, another project's, a type
    the group does not allow, another backend), or cannot act alone while in one."""

    code = "group_membership"

    def __init__(self, volume_id: str, reason: str, *, hint: str | None = None) -> None:
        super().__init__(f"volume {volume_id} {reason}", hint=hint)
        self.volume_id = volume_id


class ConflictError(BasaltError):
    code = "conflict"


class MetadataChangedError(ConflictError):
    """A replace of all metadata named the version it replaces (If-Match), and the
    metadata has changed since."""

    code = "metadata_changed"

    def __init__(self, volume_id: str, etag: str) -> None:
        super().__init__(
            f'volume {volume_id}\'s metadata changed since it was read (its ETag is now "{etag}")',
            hint="read it again (GET .../metadata), merge, and replace with the new ETag",
        )
        self.volume_id = volume_id
        self.etag = etag


class DuplicateNameError(ConflictError):
    """The name is taken (volume types and QoS specs have unique names)."""

    code = "duplicate_name"

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"a {kind} named {name!r} already exists", hint="choose another name")
        self.kind = kind
        self.name = name


class VolumeHasSnapshotsError(ConflictError):
    code = "volume_has_snapshots"

    def __init__(self, volume_id: str, snapshot_count: int) -> None:
        super().__init__(
            f"volume {volume_id} has {snapshot_count} snapshot(s)",
            hint="delete the snapshots first, or delete with cascade",
        )
        self.volume_id = volume_id
        self.snapshot_count = snapshot_count


class GroupHasSnapshotsError(ConflictError):
    code = "group_has_snapshots"

    def __init__(self, group_id: str, count: int) -> None:
        super().__init__(
            f"group {group_id} has {count} group snapshot(s)",
            hint="delete its group snapshots first",
        )
        self.group_id = group_id


class IdempotencyConflictError(ConflictError):
    code = "idempotency_conflict"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"idempotency key {key!r} was already used for a different request",
            hint="use a new key for a new request",
        )
        self.key = key


class ResourceBusyError(ConflictError):
    code = "resource_busy"


class CapacityError(BasaltError):
    code = "capacity"


class InsufficientCapacityError(CapacityError):
    code = "insufficient_capacity"

    def __init__(self, *, pool: str, requested_gib: int, available_gib: float) -> None:
        super().__init__(
            f"pool {pool} cannot hold {requested_gib} GiB: "
            f"{available_gib:.1f} GiB can still be provisioned"
        )
        self.pool = pool
        self.requested_gib = requested_gib
        self.available_gib = available_gib


class BackendDisabledError(CapacityError):
    """Every backend that could take a new volume is disabled; ``reasons`` says why."""

    code = "backend_disabled"

    def __init__(self, reasons: Mapping[str, str | None]) -> None:
        parts = [
            f"backend {name} is disabled" + (f" ({reason})" if reason else "")
            for name, reason in sorted(reasons.items())
        ]
        lead = "no new volume can be placed" if len(parts) == 1 else "no enabled backend"
        super().__init__(
            f"{lead}: {'; '.join(parts)}",
            hint="an administrator enables a backend again (os-services enable, "
            "basalt service enable)",
        )
        self.reasons = dict(reasons)


class QuotaExceededError(CapacityError):
    """The request would take a project past one of its quota limits; nothing was made.

    ``resource`` is the name clients use (``volumes``, ``gigabytes_gold``...);
    ``in_use`` counts what the project holds (with the growth of running extends),
    ``requested`` what the request adds (for ``per_volume_gigabytes``: the size).
    """

    code = "quota_exceeded"

    def __init__(
        self, *, project_id: str, resource: str, limit: int, in_use: int, requested: int
    ) -> None:
        unit = " GiB" if resource.startswith(("gigabytes", "per_volume_gigabytes")) else ""
        if resource == "per_volume_gigabytes":
            message = (
                f"quota exceeded in project {project_id}: a volume of {requested} GiB is "
                f"larger than its per_volume_gigabytes limit of {limit} GiB"
            )
        else:
            message = (
                f"quota exceeded for {resource} in project {project_id}: limit {limit}{unit}, "
                f"in use {in_use}{unit}, requested {requested}{unit}"
            )
        super().__init__(
            message,
            hint="free some of it, or ask an administrator to raise the quota "
            "(os-quota-sets, basalt quota set)",
        )
        self.project_id = project_id
        self.resource = resource
        self.limit = limit
        self.in_use = in_use
        self.requested = requested


class NoValidBackendError(CapacityError):
    """No pool passed every scheduler filter. ``explanation`` has each pool's reasons.

    The message names the size and how many pools failed which filter first, e.g.
    "no pool can take 50 GiB: 3 fail capacity, 2 fail capabilities
    (volume_backend_name=gold)"; ``explanation.as_text()`` is the whole table. The
    scheduler's fast path words the message from what it knows and evaluates the
    explanation only when it is first read.
    """

    code = "no_valid_backend"

    def __init__(self, summary: str, explanation: Callable[[], Explanation]) -> None:
        super().__init__(
            summary, hint="basalt scheduler explain shows every pool with each filter's reason"
        )
        self._explain = explanation
        self._explanation: Explanation | None = None

    @property
    def explanation(self) -> Explanation:
        """Every pool's verdicts and scores for the refused request."""
        if self._explanation is None:
            self._explanation = self._explain()
        return self._explanation


class DriverError(BasaltError):
    """A backend failed to do what was asked."""

    code = "driver_error"

    def __init__(self, backend: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"backend {backend}: {message}", hint=hint)
        self.backend = backend


class FeatureUnavailableError(BasaltError):
    """Basalt does not offer this feature (yet), whatever the backend: HTTP 501."""

    code = "not_implemented"

    def __init__(self, feature: str, reason: str, *, hint: str | None = None) -> None:
        super().__init__(f"{feature} is not available: {reason}", hint=hint)
        self.feature = feature


class NotSupportedError(DriverError):
    code = "not_supported"

    def __init__(self, backend: str, feature: str) -> None:
        super().__init__(backend, f"{feature} is not supported by this backend")
        self.feature = feature


class BackendUnavailableError(DriverError):
    """The backend cannot answer right now (its driver failed to report)."""

    code = "backend_unavailable"


class ReplicationError(BasaltError):
    """A replication action (freeze, thaw, failover, failback) Basalt refuses; nothing
    was changed."""

    code = "replication_error"


class ReplicationNotConfiguredError(ReplicationError):
    """The backend (or, with no backend named, the deployment) has no replication target."""

    code = "replication_not_configured"

    def __init__(self, action: str, backend: str | None = None) -> None:
        where = "in this deployment" if backend is None else f"for backend {backend}"
        super().__init__(
            f"{action} is not available: replication is not configured {where} "
            "(no replication_targets)",
            hint="give the backend replication_targets in basalt.toml (docs/configuration.md)",
        )
        self.action = action
        self.backend = backend


class ReplicationTargetNotFoundError(ReplicationError):
    """Failover to a backend_id the backend does not replicate to."""

    code = "replication_target_not_found"

    def __init__(self, backend: str, backend_id: str, known: list[str]) -> None:
        super().__init__(
            f"backend {backend} has no replication target {backend_id!r}",
            hint=f"its targets: {', '.join(known) or 'none'}; 'default' fails back",
        )
        self.backend = backend
        self.backend_id = backend_id


class BackendFrozenError(ReplicationError):
    """The backend is frozen: control-plane changes are refused until it is thawed."""

    code = "backend_frozen"

    def __init__(self, backend: str, action: str) -> None:
        super().__init__(
            f"cannot {action}: backend {backend} is frozen (control-plane changes are "
            "refused; I/O to its volumes goes on)",
            hint="an administrator thaws it (os-services thaw, basalt service thaw)",
        )
        self.backend = backend
        self.action = action


class FailoverStateError(ReplicationError):
    """The backend's replication state does not allow the failover or failback asked for."""

    code = "failover_state"

    def __init__(self, backend: str, reason: str, *, hint: str | None = None) -> None:
        super().__init__(f"backend {backend}: {reason}", hint=hint)
        self.backend = backend


class GroupReplicationStateError(ReplicationError):
    """The group's replication (or its volumes') does not allow what was asked."""

    code = "group_replication_state"

    def __init__(self, group_id: str, reason: str, *, hint: str | None = None) -> None:
        super().__init__(f"group {group_id}: {reason}", hint=hint)
        self.group_id = group_id


class ResourceNotServedError(FeatureUnavailableError):
    """A Block Storage API collection Basalt does not serve (basalt.api.unserved)."""

    code = "not_served"

    def __init__(self, collection: str, message: str) -> None:
        # The whole sentence is the table's, not "<feature> is not available: <reason>".
        BasaltError.__init__(self, message)
        self.feature = f"/{collection}"
        self.collection = collection


class ExportError(BasaltError):
    """The iSCSI target (tgtd, driven through tgtadm) failed to do what was asked."""

    code = "export_error"


class ExportUnavailableError(ExportError):
    """iSCSI export cannot work on this machine; the hint says what to install or change."""

    code = "export_unavailable"


class OperationFailedError(BasaltError):
    """An operation that ran elsewhere ended in failure; its record says why."""

    code = "operation_failed"

    def __init__(self, operation: object) -> None:
        op_id = getattr(operation, "id", "?")
        message = getattr(operation, "message", None) or "no message recorded"
        super().__init__(
            f"operation {op_id} {getattr(operation, 'phase', 'failed')}: {message}",
            hint=getattr(operation, "hint", None),
        )
        self.operation = operation
        self.error_code = getattr(operation, "error_code", None)


class OperationTimeoutError(BasaltError):
    code = "operation_timeout"

    def __init__(self, operation_id: str) -> None:
        super().__init__(f"operation {operation_id} is still running", hint="wait longer")
        self.operation_id = operation_id


class PersistenceError(BasaltError):
    code = "persistence_error"


class ConfigError(BasaltError):
    code = "config_error"


class BasaltUsageError(RuntimeError):
    """The library was called in a way its contract forbids (a bug in the caller)."""

"""Request bodies (pydantic), in the shapes Cinder accepts.

Which unknown fields are refused follows Cinder's own request schemas: every body
is closed (an unknown field is a 400 naming it) except the inner ``volume`` of a
volume create, which Cinder keeps open below microversion 3.53 because clients
such as python-cinderclient send extra fields (status, attach_status, user_id,
project_id). Types are what the wire allows; the values themselves (sizes,
lengths, metadata limits) are checked by basalt.model.validation in the service,
the one place that owns each rule and its wording.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

# The values below are checked by the service (basalt.model.validation), which words
# the errors; these types only document what the wire takes (OpenAPI).
Size = Annotated[
    Any,
    WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^[0-9]+$"}]}),
]
"""Cinder takes sizes as integers or strings of digits."""
Name = Annotated[Any, WithJsonSchema({"type": ["string", "null"], "maxLength": 255})]
Metadata = Annotated[
    Any,
    WithJsonSchema(
        {"type": ["object", "null"], "additionalProperties": {"type": "string", "maxLength": 255}}
    ),
]
Flag = Annotated[Any, WithJsonSchema({"anyOf": [{"type": "boolean"}, {"type": "string"}]})]
"""A boolean, or "true"/"false" as some clients send it."""
Connector = Annotated[Any, WithJsonSchema({"type": ["object", "null"]})]
"""A host's connector (basalt.model.connector checks it)."""
Reference = Annotated[Any, WithJsonSchema({"type": "object"})]
"""What names an existing backend object for manage, e.g. ``{"source-name": "disk.raw"}``."""


class Closed(BaseModel):
    """A body part that refuses unknown fields."""

    model_config = ConfigDict(extra="forbid")


class Open(BaseModel):
    """A body part that ignores unknown fields (as Cinder's volume create below 3.53)."""

    model_config = ConfigDict(extra="ignore")


class Nothing(Closed):
    """An action without arguments (``{"os-reserve": null}`` or ``{}``)."""


def one_action(data: Any, known: Iterable[str]) -> Any:
    """Check an action body names exactly one known action; ``null`` arguments become ``{}``.

    Raises:
        ValueError: zero or several keys, or an unknown action (the message lists the known).
    """
    names = list(known)
    if not isinstance(data, dict) or len(data) != 1:
        raise ValueError(f"the body must name exactly one action, one of: {', '.join(names)}")
    (name,) = data
    if name not in names:
        raise ValueError(f"unknown action {str(name)[:64]!r}; supported: {', '.join(names)}")
    return {name: {}} if data[name] is None else data


class VolumeCreate(Open):
    size: Size | None = None
    name: Name = None
    description: Name = None
    display_name: Name = None
    display_description: Name = None
    metadata: Metadata = None
    snapshot_id: str | None = None
    source_volid: str | None = None
    consistencygroup_id: str | None = None
    group_id: str | None = None
    availability_zone: str | None = None
    volume_type: str | None = None
    imageRef: str | None = None  # noqa: N815 - Cinder's field name
    image_id: str | None = None
    backup_id: str | None = None
    multiattach: Flag | None = None


class VolumeCreateRequest(Closed):
    volume: VolumeCreate
    scheduler_hints: dict[str, Any] | None = Field(default=None, alias="OS-SCH-HNT:scheduler_hints")


class PlacementQuestion(Closed):
    size: Size
    volume_type: str | None = None
    availability_zone: str | None = None


class ExplainRequest(Closed):
    """Where would this volume go? The parts of a volume create that placement reads."""

    volume: PlacementQuestion
    scheduler_hints: dict[str, Any] | None = Field(default=None, alias="OS-SCH-HNT:scheduler_hints")


class VolumeUpdate(Closed):
    name: Name = None
    description: Name = None
    display_name: Name = None
    display_description: Name = None
    metadata: Metadata = None


class VolumeUpdateRequest(Closed):
    volume: VolumeUpdate


class SnapshotCreate(Closed):
    volume_id: str
    name: Name = None
    display_name: Name = None
    description: Name = None
    force: Flag = False
    metadata: Metadata = None


class SnapshotCreateRequest(Closed):
    snapshot: SnapshotCreate


class SnapshotUpdate(Closed):
    name: Name = None
    description: Name = None
    display_name: Name = None
    display_description: Name = None

    @model_validator(mode="after")
    def _something(self) -> SnapshotUpdate:
        if not self.model_fields_set:
            raise ValueError("give name, description, display_name or display_description")
        return self


class SnapshotUpdateRequest(Closed):
    snapshot: SnapshotUpdate


class VolumeManage(Closed):
    ref: Reference
    host: str | None = None
    cluster: str | None = None
    name: Name = None
    description: Name = None
    metadata: Metadata = None
    availability_zone: str | None = None
    volume_type: str | None = None
    bootable: Flag | None = None


class VolumeManageRequest(Closed):
    volume: VolumeManage


class SnapshotManage(Closed):
    volume_id: str
    ref: Reference
    name: Name = None
    description: Name = None
    metadata: Metadata = None


class SnapshotManageRequest(Closed):
    snapshot: SnapshotManage


class MetadataBody(Closed):
    metadata: Metadata


class MetadataItemBody(Closed):
    meta: Metadata


class AttachmentCreate(Closed):
    volume_uuid: str
    instance_uuid: str | None = None
    connector: Connector = None
    mode: Annotated[Any, WithJsonSchema({"type": "string", "enum": ["rw", "ro"]})] = "rw"


class AttachmentCreateRequest(Closed):
    attachment: AttachmentCreate


class AttachmentUpdate(Closed):
    connector: Connector


class AttachmentUpdateRequest(Closed):
    attachment: AttachmentUpdate


class AttachmentActionRequest(Closed):
    """``{"os-complete": null}``, the one attachment action."""

    os_complete: Nothing = Field(alias="os-complete")

    @model_validator(mode="before")
    @classmethod
    def _exactly_one_known(cls, data: Any) -> Any:
        return one_action(data, ["os-complete"])


class ServiceChange(Closed):
    """os-services enable / disable / disable-log-reason (and the replication actions)."""

    host: Name = None
    binary: Name = None
    service: Name = None
    disabled_reason: Name = None
    backend_id: Name = None
    cluster: Name = None


class LogLevelChange(Closed):
    """os-services set-log and get-log (3.32)."""

    binary: Name = None
    server: Name = None
    prefix: Name = None
    level: Name = None


class ClusterChange(Closed):
    """clusters enable / disable."""

    name: Name = None
    binary: Name = None
    disabled_reason: Name = None


Specs = Annotated[
    Any, WithJsonSchema({"type": "object", "additionalProperties": {"type": "string"}})
]
"""Extra specs or QoS keys: string keys to string values (checked by the service)."""


class VolumeTypeCreate(Closed):
    name: Name
    description: Name = None
    is_public: Flag | None = Field(default=None, alias="os-volume-type-access:is_public")
    is_public_plain: Flag | None = Field(default=None, alias="is_public")
    extra_specs: Specs = None


class VolumeTypeCreateRequest(Closed):
    volume_type: VolumeTypeCreate


class VolumeTypeUpdate(Closed):
    name: Name = None
    description: Name = None
    is_public: Flag | None = None


class VolumeTypeUpdateRequest(Closed):
    volume_type: VolumeTypeUpdate


class ExtraSpecsBody(Closed):
    extra_specs: Specs


class ProjectAccess(Closed):
    project: Name


class VolumeTypeActionRequest(Closed):
    """addProjectAccess or removeProjectAccess."""

    add: ProjectAccess | None = Field(default=None, alias="addProjectAccess")
    remove: ProjectAccess | None = Field(default=None, alias="removeProjectAccess")

    @model_validator(mode="before")
    @classmethod
    def _exactly_one_known(cls, data: Any) -> Any:
        return one_action(data, ["addProjectAccess", "removeProjectAccess"])


class QosCreateRequest(Closed):
    """``{"qos_specs": {"name": ..., "consumer": ..., <key>: <value>, ...}}``: Cinder puts
    the keys beside the name."""

    qos_specs: Specs


class QosKeysBody(Closed):
    qos_specs: Specs


class QosDeleteKeysBody(Closed):
    keys: Annotated[Any, WithJsonSchema({"type": "array", "items": {"type": "string"}})]


AuthKey = Annotated[
    Any,
    WithJsonSchema(
        {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 255}, {"type": "integer"}]}
    ),
]
"""A transfer's auth key: text (Cinder also takes an integer)."""


class TransferCreate(Closed):
    """``/os-volume-transfer``: the volume and a name (Cinder's schema before 3.55)."""

    volume_id: str
    name: Name = None


class TransferCreateRequest(Closed):
    transfer: TransferCreate


class TransferCreateV355(TransferCreate):
    """``/volume-transfers`` (3.55): also ``no_snapshots``."""

    no_snapshots: Flag = False


class TransferCreateV355Request(Closed):
    transfer: TransferCreateV355


class TransferAcceptBody(Closed):
    auth_key: AuthKey


class TransferAcceptRequest(Closed):
    accept: TransferAcceptBody


QuotaItems = Annotated[
    Any,
    WithJsonSchema(
        {
            "type": "object",
            "description": "resource name (volumes, snapshots, gigabytes, per_volume_gigabytes, "
            "volumes_<type>, snapshots_<type>, gigabytes_<type>) to limit: -1 (unlimited) or "
            "0 or more",
            "properties": {"tenant_id": {"type": "string"}, "id": {"type": "string"}},
            "additionalProperties": {
                "anyOf": [
                    {"type": "integer", "minimum": -1, "maximum": 2**31 - 1},
                    {"type": "string", "pattern": "^-?[0-9]+$"},
                ]
            },
        }
    ),
]
"""A quota set's limits; the service checks the names and values (and refuses the set
whole). ``tenant_id``/``id``, which python-cinderclient sends, must name the URL's project."""


class QuotaSetUpdateRequest(Closed):
    quota_set: QuotaItems


class QuotaClassUpdateRequest(Closed):
    quota_class_set: QuotaItems


class GroupTypeCreate(Closed):
    name: Name
    description: Name = None
    is_public: Flag = True
    group_specs: Metadata = None


class GroupTypeCreateRequest(Closed):
    group_type: GroupTypeCreate


class GroupTypeUpdate(Closed):
    name: Name = None
    description: Name = None
    is_public: Flag | None = None


class GroupTypeUpdateRequest(Closed):
    group_type: GroupTypeUpdate


class GroupSpecsBody(Closed):
    group_specs: Metadata


VolumeIds = Annotated[
    Any, WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array"}, {"type": "null"}]})
]
"""Volume ids separated by commas (Cinder's add_volumes/remove_volumes), or a list."""


class GroupCreate(Closed):
    group_type: str
    volume_types: list[str]
    name: Name = None
    description: Name = None
    availability_zone: str | None = None


class GroupCreateRequest(Closed):
    group: GroupCreate


class GroupUpdate(Closed):
    name: Name = None
    description: Name = None
    add_volumes: VolumeIds = None
    remove_volumes: VolumeIds = None


class GroupUpdateRequest(Closed):
    group: GroupUpdate


class GroupDelete(Closed):
    delete_volumes: Flag = Field(default=False, alias="delete-volumes")


class ResetStatus(Closed):
    status: str


class NoArguments(Closed):
    """An action that takes none: ``{}``."""


class FailoverReplication(Closed):
    """``failover_replication``: the target (None: the only one; ``default``: failback)."""

    secondary_backend_id: str | None = None
    allow_attached_volume: Any = False


class GroupActionRequest(Closed):
    """``POST /groups/{id}/action``: ``delete``, (administrators) ``reset_status``, or one
    of the per-group replication actions (Cinder's 3.38)."""

    delete: GroupDelete | None = None
    reset_status: ResetStatus | None = None
    enable_replication: NoArguments | None = None
    disable_replication: NoArguments | None = None
    failover_replication: FailoverReplication | None = None
    list_replication_targets: NoArguments | None = None

    @model_validator(mode="before")
    @classmethod
    def _one(cls, data: Any) -> Any:
        return one_action(
            data,
            (
                "delete",
                "reset_status",
                "enable_replication",
                "disable_replication",
                "failover_replication",
                "list_replication_targets",
            ),
        )


class GroupFromSource(Closed):
    group_snapshot_id: str | None = None
    source_group_id: str | None = None
    name: Name = None
    description: Name = None


class GroupFromSourceRequest(Closed):
    create_from_src: GroupFromSource = Field(alias="create-from-src")


class GroupSnapshotCreate(Closed):
    group_id: str
    name: Name = None
    description: Name = None


class GroupSnapshotCreateRequest(Closed):
    group_snapshot: GroupSnapshotCreate


class GroupSnapshotActionRequest(Closed):
    """``POST /group_snapshots/{id}/action``: (administrators) ``reset_status``."""

    reset_status: ResetStatus

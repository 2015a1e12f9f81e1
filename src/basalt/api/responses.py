"""What each route answers, as models for the OpenAPI document.

The views in basalt.api.schemas build the bodies at run time (plain dicts, no
validation cost on the hot path); these models only describe them. They are
closed (``additionalProperties: false``), so the schemathesis test
(tests/api/test_openapi.py) notices a view that grows a field the document does
not have, as well as one that drops a field.
"""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field, RootModel

Timestamp = str | None
"""Cinder's format: ``2026-11-22T10:00:00.000000`` (UTC, no offset)."""


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Link(Shape):
    rel: str
    href: str


class VolumeAttachmentView(Shape):
    id: str
    attachment_id: str
    volume_id: str
    server_id: str | None
    host_name: str | None
    device: str | None
    attached_at: Timestamp


class VolumeItem(Shape):
    id: str
    name: str
    links: list[Link]


class VolumeView(Shape):
    id: str
    name: str
    description: str
    status: str
    size: int
    availability_zone: str
    created_at: Timestamp
    updated_at: Timestamp
    attachments: list[VolumeAttachmentView]
    bootable: str
    encrypted: bool
    metadata: dict[str, str]
    snapshot_id: str | None
    source_volid: str | None
    user_id: str
    volume_type: str | None
    volume_type_id: str | None
    multiattach: bool
    links: list[Link]
    tenant_id: str = Field(alias="os-vol-tenant-attr:tenant_id")
    migration_status: str | None
    replication_status: str | None
    consistencygroup_id: str | None
    group_id: str | None
    shared_targets: bool | None
    service_uuid: str | None
    cluster_name: str | None
    consumes_quota: bool
    host: str | None = Field(default=None, alias="os-vol-host-attr:host")
    """Administrators only, as the three below."""
    migstat: str | None = Field(default=None, alias="os-vol-mig-status-attr:migstat")
    name_id: str | None = Field(default=None, alias="os-vol-mig-status-attr:name_id")
    provider_id: str | None = None


class OneVolume(Shape):
    volume: VolumeView


class VolumeList(Shape):
    volumes: list[VolumeItem]
    volumes_links: list[Link] | None = None


class VolumeDetailList(Shape):
    volumes: list[VolumeView]
    volumes_links: list[Link] | None = None


class VolumeSummaryView(Shape):
    total_size: int
    total_count: int
    metadata: dict[str, list[str]]


class VolumeSummary(Shape):
    summary: VolumeSummaryView = Field(alias="volume-summary")


class SnapshotView(Shape):
    id: str
    name: str
    description: str
    status: str
    size: int
    volume_id: str
    created_at: Timestamp
    updated_at: Timestamp
    metadata: dict[str, str]
    user_id: str
    group_snapshot_id: str | None
    consumes_quota: bool
    project_id: str = Field(alias="os-extended-snapshot-attributes:project_id")
    extended_progress: str = Field(alias="os-extended-snapshot-attributes:progress")
    progress: str


class OneSnapshot(Shape):
    snapshot: SnapshotView


class SnapshotList(Shape):
    snapshots: list[SnapshotView]
    snapshots_links: list[Link] | None = None


class Metadata(Shape):
    metadata: dict[str, str]


class MetadataItem(Shape):
    meta: dict[str, str]


class ConnectionInfoView(Shape):
    driver_volume_type: str
    data: dict[str, Any]


class Empty(Shape):
    """``{}``."""


class ConnectionInfoAnswer(Shape):
    connection_info: ConnectionInfoView


class AttachmentItem(Shape):
    id: str
    status: str
    instance: str | None
    volume_id: str


class AttachmentView(AttachmentItem):
    attach_mode: str
    attached_at: Timestamp
    detached_at: Timestamp
    connector: dict[str, Any] | None
    host_name: str | None
    mountpoint: str | None
    connection_info: ConnectionInfoView | dict[str, Any]
    """The info (with the CHAP secret) only for the caller that just connected; else {}."""


class OneAttachment(Shape):
    attachment: AttachmentView


class AttachmentList(Shape):
    attachments: list[AttachmentItem]


class AttachmentDetailList(Shape):
    attachments: list[AttachmentView]


class ManageableItem(Shape):
    reference: dict[str, Any]
    size: int
    safe_to_manage: bool
    reason_not_safe: str | None = None
    cinder_id: str | None = None
    extra_info: dict[str, Any] | str | None = None
    host: str | None = None


class ManageableVolumes(Shape):
    items: list[ManageableItem] = Field(alias="manageable-volumes")


class ManageableSnapshots(Shape):
    items: list[ManageableItem] = Field(alias="manageable-snapshots")


class OperationView(Shape):
    id: str
    kind: str
    resource_kind: str
    resource_id: str
    project_id: str
    phase: str
    progress_percent: float | None
    bytes_done: int
    bytes_total: int | None
    created_at: Timestamp
    started_at: Timestamp
    finished_at: Timestamp
    error_code: str | None
    message: str | None
    hint: str | None
    request_id: str | None


class OneOperation(Shape):
    operation: OperationView


class OperationList(Shape):
    operations: list[OperationView]


class EventView(Shape):
    id: int | str | None
    at: Timestamp
    kind: str
    message: str
    operation_id: str | None
    duration_ms: float | None
    detail: dict[str, Any]


class EventList(Shape):
    events: list[EventView]


class PoolEntry(Shape):
    name: str
    capabilities: dict[str, Any] | None = None


class PoolList(Shape):
    pools: list[PoolEntry]


class FilterVerdictView(Shape):
    name: str
    passed: bool
    reason: str


class WeigherScoreView(Shape):
    name: str
    multiplier: float
    raw: float
    normalised: float
    weighted: float


class PoolVerdictView(Shape):
    host: str
    backend: str
    pool: str
    availability_zone: str
    passed: bool
    chosen: bool
    rank: int | None
    score: float | None
    filters: list[FilterVerdictView]
    weighers: list[WeigherScoreView]


class PlacementRequestView(Shape):
    size_gib: int
    extra_specs: dict[str, Any]
    availability_zone: str | None
    same_backend_as: list[str]
    different_backend_from: list[str]


class ExplanationView(Shape):
    request: PlacementRequestView
    filters: list[str]
    weighers: dict[str, float]
    chosen: str | None
    summary: str | None
    pools: list[PoolVerdictView]


class ExplanationAnswer(Shape):
    explanation: ExplanationView


class MessageView(Shape):
    id: str
    message_level: str
    event_id: str
    user_message: str
    request_id: str
    resource_type: str
    resource_uuid: str
    created_at: Timestamp
    guaranteed_until: Timestamp
    links: list[Link]


class OneMessage(Shape):
    message: MessageView


class MessageList(Shape):
    messages: list[MessageView]
    messages_links: list[Link] | None = None


class ServiceView(Shape):
    binary: str
    host: str
    zone: str
    status: str
    state: str
    updated_at: Timestamp
    cluster: str | None
    disabled_reason: str | None
    replication_status: str | None = None
    active_backend_id: str | None = None
    frozen: bool | None = None


class ServiceList(Shape):
    services: list[ServiceView]


class VolumeReplicationView(Shape):
    volume_id: str
    status: str
    target_id: str | None
    last_sync_at: str | None
    lag_seconds: float | None
    last_bytes_shipped: int
    bytes_shipped_total: int
    syncs: int
    last_method: str | None
    last_duration_ms: float | None
    error: str | None


class VolumeReplicationAnswer(Shape):
    replication: VolumeReplicationView


class ServiceLogLevels(Shape):
    binary: str
    host: str
    levels: dict[str, str]


class LogLevels(Shape):
    log_levels: list[ServiceLogLevels]


class ResourceFilters(Shape):
    resource: str
    filters: list[str]


class ResourceFilterList(Shape):
    resource_filters: list[ResourceFilters]


class ServiceUpdated(Shape):
    host: str
    binary: str
    service: str
    status: str
    disabled: bool
    disabled_reason: str | None = None


class ZoneState(Shape):
    available: bool


class Zone(Shape):
    zoneName: str  # noqa: N815 - Cinder's field name
    zoneState: ZoneState  # noqa: N815 - Cinder's field name


class ZoneList(Shape):
    availabilityZoneInfo: list[Zone]  # noqa: N815 - Cinder's field name


class Capabilities(Shape):
    namespace: str
    vendor_name: str
    volume_backend_name: str
    pool_name: str | None
    driver_version: str
    storage_protocol: str
    display_name: str
    description: str
    visibility: str
    replication_targets: list[Any]
    properties: dict[str, dict[str, str]]


class ExtensionView(Shape):
    alias: str
    name: str
    description: str
    links: list[Link]
    updated: str


class OneExtension(Shape):
    extension: ExtensionView


class ExtensionList(Shape):
    extensions: list[ExtensionView]


class ClusterList(Shape):
    clusters: list[dict[str, Any]]
    """Always empty: Basalt runs as one service process."""


class VolumeTypeView(Shape):
    id: str
    name: str
    description: str
    is_public: bool
    extra_specs: dict[str, str]
    qos_specs_id: str | None
    access_is_public: bool = Field(alias="os-volume-type-access:is_public")


class OneVolumeType(Shape):
    volume_type: VolumeTypeView


class VolumeTypeList(Shape):
    volume_types: list[VolumeTypeView]


class ExtraSpecs(Shape):
    extra_specs: dict[str, str]


class SpecItem(RootModel[dict[str, str]]):
    """One extra spec as ``{key: value}``."""


class TypeAccessEntry(Shape):
    volume_type_id: str
    project_id: str


class TypeAccessList(Shape):
    volume_type_access: list[TypeAccessEntry]


class QosView(Shape):
    id: str
    name: str
    consumer: str
    specs: dict[str, str]


class OneQos(Shape):
    qos_specs: QosView
    links: list[Link]


class QosList(Shape):
    qos_specs: list[QosView]


class QosKeys(Shape):
    qos_specs: dict[str, str]


class QosAssociation(Shape):
    association_type: str
    name: str
    id: str


class QosAssociations(Shape):
    qos_associations: list[QosAssociation]


class TransferItem(Shape):
    id: str
    name: str
    volume_id: str
    links: list[Link]


class TransferView(TransferItem):
    created_at: Timestamp
    no_snapshots: bool
    source_project_id: str
    destination_project_id: str | None
    accepted: bool


class NewTransferView(TransferView):
    auth_key: str
    """Shown in this answer only; Basalt keeps a salted hash of it."""


class OneTransfer(Shape):
    transfer: TransferView


class CreatedTransfer(Shape):
    transfer: NewTransferView


class AcceptedTransfer(Shape):
    transfer: TransferItem


class TransferList(Shape):
    transfers: list[TransferItem]


class TransferDetailList(Shape):
    transfers: list[TransferView]


class ErrorDetail(Shape):
    code: int
    message: str
    basalt_code: str | None = None
    hint: str | None = None
    explanation: ExplanationView | None = Field(
        default=None,
        description="A refused placement (no_valid_backend), for administrators: every "
        "pool with each filter's verdict",
    )


ERROR_BODY: dict[str, Any] = {
    "type": "object",
    "description": "Cinder's error shape: one key naming the kind (badRequest, forbidden, "
    "itemNotFound, conflict, overLimit, notImplemented, ...) holding code and message",
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": {"$ref": "#/components/schemas/ErrorDetail"},
}


def answers(
    model: type[BaseModel] | None, status: int = 200, description: str = "OK"
) -> dict[str, Any]:
    """Route keyword arguments that document the success answer (``model`` None: no
    body) without validating bodies at run time."""
    documented: dict[str, Any] = {"description": description}
    if model is None:  # no body: no media type either
        return {
            "response_model": None,
            "status_code": status,
            "response_class": Response,
            "responses": {status: documented},
        }
    documented["model"] = model
    return {"response_model": None, "status_code": status, "responses": {status: documented}}


QUERY_PARAMETERS: dict[str, tuple[str, dict[str, Any]]] = {
    "limit": ("at most this many items (at most 1000)", {"type": "integer", "minimum": 0}),
    "marker": ("the id of the last item of the previous page", {"type": "string"}),
    "sort": ("key[:asc|desc],... e.g. created_at:desc,name", {"type": "string"}),
    "sort_key": ("key,... (with sort_dir)", {"type": "string"}),
    "sort_dir": ("asc or desc, per key", {"type": "string"}),
    "name": ("exact name", {"type": "string"}),
    "status": ("exact status", {"type": "string"}),
    "metadata": ('items every result has, as JSON: {"k": "v"}', {"type": "string"}),
    "all_tenants": ("administrators: every project's", {"type": "string"}),
    "bootable": ("true or false (strict from 3.2)", {"type": "string"}),
    "availability_zone": ("exact zone", {"type": "string"}),
    "group_id": ("of this group", {"type": "string"}),
    "list_volume": ("true: each group with the ids of its volumes", {"type": "string"}),
    "glance_metadata": (
        "image metadata (none has any: Basalt has no image service)",
        {"type": "string"},
    ),
    "volume_id": ("of this volume", {"type": "string"}),
    "host": ("backend@pool, e.g. basalt@file#default", {"type": "string"}),
    "offset": ("skip this many", {"type": "integer", "minimum": 0}),
    "cascade": ("also delete the snapshots", {"type": "string"}),
    "force": ("administrators: whatever the status", {"type": "string"}),
    "detail": ("with capabilities", {"type": "string"}),
    "open": ("only operations still running", {"type": "string"}),
    "resource_id": ("of this resource", {"type": "string"}),
    "binary": ("cinder-volume or cinder-scheduler", {"type": "string"}),
    "is_public": ("administrators: true, false or none (every type)", {"type": "string"}),
    "vol_type_id": ("a volume type's id", {"type": "string"}),
    "resource_uuid": ("about this resource", {"type": "string"}),
    "resource_type": ("VOLUME or VOLUME_SNAPSHOT", {"type": "string"}),
    "event_id": ("e.g. VOLUME_VOLUME_005_001", {"type": "string"}),
    "request_id": ("of this request", {"type": "string"}),
    "message_level": ("ERROR", {"type": "string"}),
    "usage": (
        "true: each resource with limit, in_use, reserved and allocated",
        {"type": "string"},
    ),
    "skip_validation": (
        "true: accept limits below what the project uses (default false)",
        {"type": "string"},
    ),
    "tenant_id": ("administrators: another project's", {"type": "string"}),
    "cluster": ("a cluster (Basalt runs none: refused with 400)", {"type": "string"}),
    "project_id": ("of this project (administrators: any)", {"type": "string"}),
    "volume_type": ("pools whose capabilities meet this type (3.35)", {"type": "string"}),
    "resource": ("only this resource's filters (volume, snapshot...)", {"type": "string"}),
}
"""Every query parameter a route reads, documented once."""


def query(*names: str) -> dict[str, Any]:
    """Route keyword arguments that document the query parameters a route reads."""
    parameters = [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": QUERY_PARAMETERS[name][0],
            "schema": QUERY_PARAMETERS[name][1],
        }
        for name in names
    ]
    return {"openapi_extra": {"parameters": parameters}}


LISTING_PAGE = ("limit", "marker", "sort", "sort_key", "sort_dir")
LISTING = (*LISTING_PAGE, "name", "status", "metadata")
VOLUME_LISTING = (
    *LISTING,
    "all_tenants",
    "project_id",
    "bootable",
    "availability_zone",
    "group_id",
    "glance_metadata",
)

"""Wire shapes of responses (views), separate from the model; request bodies are in
basalt.api.bodies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from basalt.drivers.types import ConnectionInfo, ManageableObject
from basalt.model import Attachment, AttachStatus, Event, Operation, Snapshot, Volume
from basalt.model.transfer import Transfer

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
A = AttachStatus


def stamp(moment: datetime | None) -> str | None:
    """Cinder's timestamp format (UTC, no offset)."""
    if moment is None:
        return None
    if moment.year < 1000:  # isoformat pads the year to four digits; strftime does not
        return moment.strftime(TIME_FORMAT)
    # The same text as strftime(TIME_FORMAT) (isoformat only adds an offset after it), at
    # half the cost: a page of 1,000 volumes formats 2,000 of these.
    return moment.isoformat(timespec="microseconds")[:26]


def links(
    base_url: str, project_id: str, collection: str, resource_id: str
) -> list[dict[str, str]]:
    """self and bookmark links, as Cinder gives them."""
    root = base_url.rstrip("/")
    return [
        {"rel": "self", "href": f"{root}/v3/{project_id}/{collection}/{resource_id}"},
        {"rel": "bookmark", "href": f"{root}/{project_id}/{collection}/{resource_id}"},
    ]


def volume_summary(volume: Volume, base_url: str) -> dict[str, object]:
    """What ``GET /volumes`` lists per volume."""
    return {
        "id": volume.id,
        "name": volume.name,
        "links": links(base_url, volume.project_id, "volumes", volume.id),
    }


def volume_detail(
    volume: Volume,
    base_url: str,
    *,
    admin: bool,
    attachments: Sequence[Attachment] = (),
    type_name: str | None = None,
) -> dict[str, object]:
    """The full volume object of ``GET /volumes/{id}`` and ``/volumes/detail``."""
    view: dict[str, object] = {
        "id": volume.id,
        "name": volume.name,
        "description": volume.description,
        "status": str(volume.status),
        "size": volume.size_gib,
        "availability_zone": volume.availability_zone,
        "created_at": stamp(volume.created_at),
        "updated_at": stamp(volume.updated_at),
        "attachments": [volume_attachment(a) for a in attachments if a.status == A.ATTACHED],
        "bootable": "true" if volume.bootable else "false",
        "encrypted": False,
        "metadata": {**volume.metadata, **({"readonly": "True"} if volume.readonly else {})},
        "snapshot_id": volume.snapshot_id,
        "source_volid": volume.source_volume_id,
        "user_id": volume.user_id,
        "volume_type": type_name,
        "volume_type_id": volume.volume_type_id,
        "multiattach": volume.multiattach,
        "links": links(base_url, volume.project_id, "volumes", volume.id),
        "os-vol-tenant-attr:tenant_id": volume.project_id,
        "migration_status": volume.migration_status,
        "replication_status": volume.replication_status or "disabled",
        "consistencygroup_id": None,
        "group_id": volume.group_id,
        "shared_targets": False,
        "service_uuid": None,
        "cluster_name": None,
        "consumes_quota": True,
    }
    if admin:
        view["os-vol-host-attr:host"] = volume.host
        view["os-vol-mig-status-attr:migstat"] = volume.migration_status
        view["os-vol-mig-status-attr:name_id"] = None
        view["provider_id"] = volume.provider_location
    return view


def snapshot_detail(snapshot: Snapshot) -> dict[str, object]:
    """The full snapshot object."""
    progress = "100%" if str(snapshot.status) == "available" else "0%"
    return {
        "id": snapshot.id,
        "name": snapshot.name,
        "description": snapshot.description,
        "status": str(snapshot.status),
        "size": snapshot.size_gib,
        "volume_id": snapshot.volume_id,
        "created_at": stamp(snapshot.created_at),
        "updated_at": stamp(snapshot.updated_at),
        "metadata": snapshot.metadata,
        "user_id": snapshot.user_id,
        "group_snapshot_id": snapshot.group_snapshot_id,
        "consumes_quota": True,
        "os-extended-snapshot-attributes:project_id": snapshot.project_id,
        "os-extended-snapshot-attributes:progress": progress,
        "progress": progress,
    }


def snapshot_summary(snapshot: Snapshot) -> dict[str, object]:
    """What ``GET /snapshots`` lists per snapshot (Cinder lists the full object here too)."""
    return snapshot_detail(snapshot)


def operation_view(operation: Operation) -> dict[str, object]:
    """Basalt's operation record."""
    return {
        "id": operation.id,
        "kind": str(operation.kind),
        "resource_kind": operation.resource_kind,
        "resource_id": operation.resource_id,
        "project_id": operation.project_id,
        "phase": str(operation.phase),
        "progress_percent": operation.progress_percent,
        "bytes_done": operation.bytes_done,
        "bytes_total": operation.bytes_total,
        "created_at": stamp(operation.created_at),
        "started_at": stamp(operation.started_at),
        "finished_at": stamp(operation.finished_at),
        "error_code": operation.error_code,
        "message": operation.message,
        "hint": operation.hint,
        "request_id": operation.request_id,
    }


def event_view(event: Event) -> dict[str, object]:
    """One timeline entry."""
    return {
        "id": event.id,
        "at": stamp(event.at),
        "kind": str(event.kind),
        "message": event.message,
        "operation_id": event.operation_id,
        "duration_ms": event.duration_ms,
        "detail": event.detail,
    }


def manageable_view(item: ManageableObject, *, host: str, detailed: bool) -> dict[str, object]:
    """One entry of manageable_volumes / manageable_snapshots."""
    view: dict[str, object] = {
        "reference": dict(item.reference),
        "size": item.size_gib,
        "safe_to_manage": item.safe_to_manage,
    }
    if detailed:
        view.update(
            {
                "reason_not_safe": item.reason_not_safe,
                "cinder_id": item.basalt_id,
                "extra_info": item.extra_info,
                "host": host,
            }
        )
    return view


def volume_attachment(attachment: Attachment) -> dict[str, object]:
    """One entry of a volume's ``attachments`` list, in Cinder's shape."""
    return {
        "id": attachment.volume_id,
        "attachment_id": attachment.id,
        "volume_id": attachment.volume_id,
        "server_id": attachment.instance_id,
        "host_name": attachment.attached_host,
        "device": attachment.mountpoint,
        "attached_at": stamp(attachment.attached_at),
    }


def attachment_summary(attachment: Attachment) -> dict[str, object]:
    """What ``GET /attachments`` lists per attachment."""
    return {
        "id": attachment.id,
        "status": str(attachment.status),
        "instance": attachment.instance_id,
        "volume_id": attachment.volume_id,
    }


def attachment_detail(
    attachment: Attachment, connection_info: ConnectionInfo | None = None
) -> dict[str, object]:
    """The attachment object. The connection info (with its CHAP secret) only for the
    caller that just connected; otherwise ``{}``, as the secret is never stored."""
    return {
        **attachment_summary(attachment),
        "attach_mode": str(attachment.mode),
        "attached_at": stamp(attachment.attached_at),
        "detached_at": None,
        "connector": attachment.connector,
        "host_name": attachment.attached_host,
        "mountpoint": attachment.mountpoint,
        "connection_info": {} if connection_info is None else connection_info_view(connection_info),
    }


def connection_info_view(info: ConnectionInfo) -> dict[str, object]:
    """Connection info in Cinder's shape (``driver_volume_type`` + ``data``)."""
    return info.as_dict()


def transfer_summary(transfer: Transfer, base_url: str, collection: str) -> dict[str, object]:
    """What a transfer listing shows per transfer (and an accept answers)."""
    return {
        "id": transfer.id,
        "name": transfer.name,
        "volume_id": transfer.volume_id,
        "links": links(base_url, transfer.source_project_id, collection, transfer.id),
    }


def transfer_detail(transfer: Transfer, base_url: str, collection: str) -> dict[str, object]:
    """One transfer with every field Cinder shows (3.55's no_snapshots, 3.57's projects and
    accepted flag); never the auth key, which is not stored."""
    return {
        **transfer_summary(transfer, base_url, collection),
        "created_at": stamp(transfer.created_at),
        "no_snapshots": transfer.no_snapshots,
        "source_project_id": transfer.source_project_id,
        "destination_project_id": transfer.destination_project_id,
        "accepted": transfer.accepted,
    }

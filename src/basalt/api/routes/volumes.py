"""/v3/{project_id}/volumes: create, list, summary, show, update, delete, events.

Actions are in volume_actions.py, metadata routes in metadata.py.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from basalt.api.auth import context_from
from basalt.api.bodies import VolumeCreateRequest, VolumeUpdateRequest
from basalt.api.responses import (
    VOLUME_LISTING,
    EventList,
    OneVolume,
    VolumeDetailList,
    VolumeList,
    VolumeSummary,
    answers,
    query,
)
from basalt.api.routes.common import (
    api_router,
    basalt_of,
    base_url,
    flag,
    list_query,
    next_link,
    settle,
)
from basalt.api.routes.metadata import add_metadata_routes
from basalt.api.schemas import event_view, volume_detail, volume_summary
from basalt.errors import FeatureUnavailableError
from basalt.model import Volume
from basalt.model.attachment import HOLDS_ATTACHMENTS
from basalt.persistence.base import VOLUME_SORT_KEYS

router = api_router(prefix="/v3/{project_id}/volumes", tags=["volumes"])


@router.post("", **answers(OneVolume, 202))
def create_volume(project_id: str, body: VolumeCreateRequest, request: Request) -> JSONResponse:
    """Create a volume: empty, from ``snapshot_id`` or cloned from ``source_volid``."""
    ctx = context_from(request)
    spec = body.volume
    _refuse_unavailable(spec.imageRef or spec.image_id, "creating a volume from an image")
    _refuse_unavailable(spec.backup_id, "creating a volume from a backup")
    _refuse_unavailable(spec.consistencygroup_id, "creating a volume in a consistency group")
    basalt = basalt_of(request)
    handle = basalt.volumes.create(
        size_gib=spec.size,
        name=_first(spec.name, spec.display_name, ""),
        description=_first(spec.description, spec.display_description, ""),
        metadata=spec.metadata if spec.metadata is not None else {},
        snapshot_id=spec.snapshot_id,
        source_volume_id=spec.source_volid,
        multiattach=spec.multiattach if spec.multiattach is not None else False,
        availability_zone=spec.availability_zone or None,
        volume_type=spec.volume_type or None,
        scheduler_hints=body.scheduler_hints,
        group_id=spec.group_id or None,
        ctx=ctx,
        request_id=request.headers.get("idempotency-key"),
    )
    volume = settle(request, handle)
    return JSONResponse(
        status_code=202,
        content={"volume": volume_views(request, [volume])[0]},
        headers={"x-basalt-operation-id": handle.operation_id},
    )


@router.get("", **answers(VolumeList), **query(*VOLUME_LISTING))
def list_volumes(project_id: str, request: Request) -> dict[str, object]:
    """Volumes: id, name and links only."""
    volumes, links = _page(request)
    root = base_url(request)
    body: dict[str, object] = {"volumes": [volume_summary(v, root) for v in volumes]}
    if links:
        body["volumes_links"] = links
    return body


@router.get("/detail", **answers(VolumeDetailList), **query(*VOLUME_LISTING))
def list_volumes_detail(project_id: str, request: Request) -> dict[str, object]:
    """Volumes with every field."""
    volumes, links = _page(request)
    body: dict[str, object] = {"volumes": volume_views(request, volumes)}
    if links:
        body["volumes_links"] = links
    return body


def volume_views(request: Request, volumes: list[Volume]) -> list[dict[str, object]]:
    """Full volume views, each with its attachments."""
    admin = context_from(request).is_admin
    root = base_url(request)
    basalt = basalt_of(request)
    holders = [v.id for v in volumes if v.status in HOLDS_ATTACHMENTS]
    attached = basalt.attachments.for_volumes(holders) if holders else {}
    type_names = basalt.types.names()
    return [
        volume_detail(
            v,
            root,
            admin=admin,
            attachments=attached.get(v.id, ()),
            type_name=type_names.get(v.volume_type_id or ""),
        )
        for v in volumes
    ]


@router.get("/summary", **answers(VolumeSummary), **query("all_tenants"))
def volumes_summary(project_id: str, request: Request) -> dict[str, object]:
    """Count, total GiB and metadata values of the caller's volumes (3.12, metadata 3.36)."""
    params = request.query_params
    summary = basalt_of(request).volumes.summary(
        ctx=context_from(request), all_projects=flag(params.get("all_tenants"))
    )
    return {
        "volume-summary": {
            "total_size": summary.total_gib,
            "total_count": summary.count,
            "metadata": summary.metadata,
        }
    }


NO_VOLUME_MATCHES = ("glance_metadata",)
"""Filters no Basalt volume can match: none carries image metadata (Basalt has no image
service)."""


def _page(request: Request) -> tuple[list[Any], list[dict[str, str]]]:
    ctx = context_from(request)
    query, all_tenants = list_query(request, allowed_sort_keys=VOLUME_SORT_KEYS, resource="volume")
    if any(name in request.query_params for name in NO_VOLUME_MATCHES):
        basalt_of(request).volumes.list(query, ctx=ctx, all_projects=all_tenants)  # checks
        return [], []
    volumes = basalt_of(request).volumes.list(query, ctx=ctx, all_projects=all_tenants)
    last = volumes[-1].id if volumes else None
    return volumes, next_link(request, volumes, query.limit, last)


@router.get("/{volume_id}", **answers(OneVolume))
def show_volume(project_id: str, volume_id: str, request: Request) -> dict[str, object]:
    """One volume."""
    volume = basalt_of(request).volumes.get(volume_id, ctx=context_from(request))
    return {"volume": volume_views(request, [volume])[0]}


@router.put("/{volume_id}", **answers(OneVolume))
def update_volume(
    project_id: str, volume_id: str, body: VolumeUpdateRequest, request: Request
) -> dict[str, object]:
    """Rename, re-describe or replace metadata."""
    ctx = context_from(request)
    spec = body.volume
    volume = basalt_of(request).volumes.update(
        volume_id,
        name=_first(spec.name, spec.display_name, None),
        description=_first(spec.description, spec.display_description, None),
        metadata=spec.metadata,
        ctx=ctx,
    )
    return {"volume": volume_views(request, [volume])[0]}


@router.delete("/{volume_id}", **answers(None, 202), **query("cascade", "force"))
def delete_volume(project_id: str, volume_id: str, request: Request) -> Response:
    """Delete; ``?cascade=true`` deletes its snapshots too, ``?force=true`` (administrators,
    3.23) whatever its status."""
    ctx = context_from(request)
    params = request.query_params
    handle = basalt_of(request).volumes.delete(
        volume_id, cascade=flag(params.get("cascade")), force=flag(params.get("force")), ctx=ctx
    )
    settle(request, handle)
    return Response(status_code=202, headers={"x-basalt-operation-id": handle.operation_id})


@router.get("/{volume_id}/events", **answers(EventList))
def volume_events(project_id: str, volume_id: str, request: Request) -> dict[str, object]:
    """The volume's event timeline, oldest first."""
    events = basalt_of(request).volumes.events(volume_id, ctx=context_from(request))
    return {"events": [event_view(e) for e in events]}


def _first(*values: Any) -> Any:
    for value in values[:-1]:
        if value is not None:
            return value
    return values[-1]


def _refuse_unavailable(value: object, feature: str) -> None:
    if value:
        raise FeatureUnavailableError(feature, "Basalt does not offer it")


add_metadata_routes(router, kind="volume", service=lambda b: b.volumes)

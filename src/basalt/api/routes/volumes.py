"""/v3/{project_id}/volumes: create, list, show, update, delete, actions, events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from basalt.api.auth import context_from
from basalt.api.routes.common import basalt_of, base_url, list_query, next_link, settle
from basalt.api.schemas import (
    VolumeCreateRequest,
    VolumeUpdateRequest,
    event_view,
    volume_detail,
    volume_summary,
)
from basalt.errors import InvalidInputError, NotSupportedError
from basalt.persistence.base import VOLUME_SORT_KEYS

router = APIRouter(prefix="/v3/{project_id}/volumes", tags=["volumes"])


@router.post("", status_code=202)
def create_volume(project_id: str, body: VolumeCreateRequest, request: Request) -> JSONResponse:
    """Create a volume: empty, from ``snapshot_id`` or cloned from ``source_volid``."""
    ctx = context_from(request)
    spec = body.volume
    _refuse_unsupported(spec.imageRef, "imageRef", "creating a volume from an image")
    _refuse_unsupported(spec.backup_id, "backup_id", "restoring a backup")
    if spec.volume_type not in (None, "", "__DEFAULT__"):
        raise InvalidInputError(
            "volume_type",
            f"unknown volume type {spec.volume_type!r}",
            hint="volume types are not configured on this deployment",
        )
    basalt = basalt_of(request)
    handle = basalt.volumes.create(
        size_gib=spec.size,
        name=_first(spec.name, spec.display_name, ""),
        description=_first(spec.description, spec.display_description, ""),
        metadata=spec.metadata if spec.metadata is not None else {},
        snapshot_id=spec.snapshot_id,
        source_volume_id=spec.source_volid,
        ctx=ctx,
        request_id=request.headers.get("idempotency-key"),
    )
    volume = settle(request, handle)
    return JSONResponse(
        status_code=202,
        content={"volume": volume_detail(volume, base_url(request), admin=ctx.is_admin)},
        headers={"x-basalt-operation-id": handle.operation_id},
    )


@router.get("")
def list_volumes(project_id: str, request: Request) -> dict[str, object]:
    """Volumes: id, name and links only."""
    volumes, links = _page(request)
    root = base_url(request)
    body: dict[str, object] = {"volumes": [volume_summary(v, root) for v in volumes]}
    if links:
        body["volumes_links"] = links
    return body


@router.get("/detail")
def list_volumes_detail(project_id: str, request: Request) -> dict[str, object]:
    """Volumes with every field."""
    ctx = context_from(request)
    volumes, links = _page(request)
    root = base_url(request)
    body: dict[str, object] = {
        "volumes": [volume_detail(v, root, admin=ctx.is_admin) for v in volumes]
    }
    if links:
        body["volumes_links"] = links
    return body


def _page(request: Request) -> tuple[list[Any], list[dict[str, str]]]:
    ctx = context_from(request)
    query, all_tenants = list_query(request, allowed_sort_keys=VOLUME_SORT_KEYS)
    volumes = basalt_of(request).volumes.list(query, ctx=ctx, all_projects=all_tenants)
    last = volumes[-1].id if volumes else None
    return volumes, next_link(request, volumes, query.limit, last)


@router.get("/{volume_id}")
def show_volume(project_id: str, volume_id: str, request: Request) -> dict[str, object]:
    """One volume."""
    ctx = context_from(request)
    volume = basalt_of(request).volumes.get(volume_id, ctx=ctx)
    return {"volume": volume_detail(volume, base_url(request), admin=ctx.is_admin)}


@router.put("/{volume_id}")
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
    return {"volume": volume_detail(volume, base_url(request), admin=ctx.is_admin)}


@router.delete("/{volume_id}", status_code=202)
def delete_volume(project_id: str, volume_id: str, request: Request) -> Response:
    """Delete; ``?cascade=true`` deletes its snapshots too."""
    ctx = context_from(request)
    cascade = request.query_params.get("cascade", "false").lower() in ("1", "true", "yes")
    handle = basalt_of(request).volumes.delete(volume_id, cascade=cascade, ctx=ctx)
    settle(request, handle)
    return Response(status_code=202, headers={"x-basalt-operation-id": handle.operation_id})


@router.post("/{volume_id}/action", status_code=202)
def volume_action(
    project_id: str, volume_id: str, body: dict[str, Any], request: Request
) -> Response:
    """Volume actions: os-extend, os-unmanage."""
    ctx = context_from(request)
    if len(body) != 1:
        raise InvalidInputError("action", "the body must name exactly one action")
    action, args = next(iter(body.items()))
    basalt = basalt_of(request)
    if action == "os-extend":
        if not isinstance(args, dict) or "new_size" not in args:
            raise InvalidInputError("os-extend", 'needs {"new_size": <GiB>}')
        handle = basalt.volumes.extend(volume_id, args["new_size"], ctx=ctx)
    elif action == "os-unmanage":
        handle = basalt.manage.unmanage_volume(volume_id, ctx=ctx)
    else:
        raise InvalidInputError(
            "action", f"{action[:64]!r} is not supported", hint="supported: os-extend, os-unmanage"
        )
    settle(request, handle)
    return Response(status_code=202, headers={"x-basalt-operation-id": handle.operation_id})


@router.get("/{volume_id}/events")
def volume_events(project_id: str, volume_id: str, request: Request) -> dict[str, object]:
    """The volume's event timeline, oldest first."""
    events = basalt_of(request).volumes.events(volume_id, ctx=context_from(request))
    return {"events": [event_view(e) for e in events]}


def _first(*values: Any) -> Any:
    for value in values[:-1]:
        if value is not None:
            return value
    return values[-1]


def _refuse_unsupported(value: object, field: str, feature: str) -> None:
    if value:
        raise NotSupportedError("basalt", feature)

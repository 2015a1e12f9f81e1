"""/v3/{project_id}/volumes: create, list, show, update, delete, actions, events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from basalt.api.auth import context_from
from basalt.api.routes.common import basalt_of, base_url, list_query, next_link, settle
from basalt.api.schemas import (
    MetadataBody,
    VolumeCreateRequest,
    VolumeUpdateRequest,
    connection_info_view,
    event_view,
    volume_detail,
    volume_summary,
)
from basalt.errors import InvalidInputError, MetadataKeyNotFoundError, NotSupportedError
from basalt.model import Volume
from basalt.model.attachment import HOLDS_ATTACHMENTS
from basalt.persistence.base import VOLUME_SORT_KEYS
from basalt.service.context import RequestContext
from basalt.service.instance import Basalt

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
        multiattach=bool(spec.multiattach),
        ctx=ctx,
        request_id=request.headers.get("idempotency-key"),
    )
    volume = settle(request, handle)
    return JSONResponse(
        status_code=202,
        content={"volume": _details(request, [volume])[0]},
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
    volumes, links = _page(request)
    body: dict[str, object] = {"volumes": _details(request, volumes)}
    if links:
        body["volumes_links"] = links
    return body


def _details(request: Request, volumes: list[Volume]) -> list[dict[str, object]]:
    """Full volume views, each with its attachments."""
    admin = context_from(request).is_admin
    root = base_url(request)
    holders = [v.id for v in volumes if v.status in HOLDS_ATTACHMENTS]
    attached = basalt_of(request).attachments.for_volumes(holders) if holders else {}
    return [
        volume_detail(v, root, admin=admin, attachments=attached.get(v.id, ())) for v in volumes
    ]


def _page(request: Request) -> tuple[list[Any], list[dict[str, str]]]:
    ctx = context_from(request)
    query, all_tenants = list_query(request, allowed_sort_keys=VOLUME_SORT_KEYS)
    volumes = basalt_of(request).volumes.list(query, ctx=ctx, all_projects=all_tenants)
    last = volumes[-1].id if volumes else None
    return volumes, next_link(request, volumes, query.limit, last)


@router.get("/{volume_id}")
def show_volume(project_id: str, volume_id: str, request: Request) -> dict[str, object]:
    """One volume."""
    volume = basalt_of(request).volumes.get(volume_id, ctx=context_from(request))
    return {"volume": _details(request, [volume])[0]}


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
    return {"volume": _details(request, [volume])[0]}


@router.delete("/{volume_id}", status_code=202)
def delete_volume(project_id: str, volume_id: str, request: Request) -> Response:
    """Delete; ``?cascade=true`` deletes its snapshots too."""
    ctx = context_from(request)
    cascade = request.query_params.get("cascade", "false").lower() in ("1", "true", "yes")
    handle = basalt_of(request).volumes.delete(volume_id, cascade=cascade, ctx=ctx)
    settle(request, handle)
    return Response(status_code=202, headers={"x-basalt-operation-id": handle.operation_id})


@router.get("/{volume_id}/metadata")
def show_metadata(project_id: str, volume_id: str, request: Request) -> dict[str, object]:
    """All metadata items."""
    volume = basalt_of(request).volumes.get(volume_id, ctx=context_from(request))
    return {"metadata": volume.metadata}


@router.post("/{volume_id}/metadata")
def set_metadata(
    project_id: str, volume_id: str, body: MetadataBody, request: Request
) -> dict[str, object]:
    """Add or change items; the others stay (cinder metadata set)."""
    items = _metadata_items(body.metadata)
    merged = basalt_of(request).volumes.set_metadata(volume_id, items, ctx=context_from(request))
    return {"metadata": merged}


@router.put("/{volume_id}/metadata")
def replace_metadata(
    project_id: str, volume_id: str, body: MetadataBody, request: Request
) -> dict[str, object]:
    """Replace every item."""
    items = _metadata_items(body.metadata)
    result = basalt_of(request).volumes.set_metadata(
        volume_id, items, replace=True, ctx=context_from(request)
    )
    return {"metadata": result}


@router.get("/{volume_id}/metadata/{key}")
def show_metadata_key(
    project_id: str, volume_id: str, key: str, request: Request
) -> dict[str, object]:
    """One item, as ``{"meta": {key: value}}``."""
    volume = basalt_of(request).volumes.get(volume_id, ctx=context_from(request))
    if key not in volume.metadata:
        raise MetadataKeyNotFoundError(key, hint=f"volume {volume_id} has no such key")
    return {"meta": {key: volume.metadata[key]}}


@router.put("/{volume_id}/metadata/{key}")
def set_metadata_key(
    project_id: str, volume_id: str, key: str, body: dict[str, Any], request: Request
) -> dict[str, object]:
    """Set one item: the body is ``{"meta": {key: value}}`` with the key of the URL."""
    meta = body.get("meta")
    if not isinstance(meta, dict) or list(meta) != [key]:
        raise InvalidInputError("meta", f'must be {{"meta": {{"{key[:64]}": <value>}}}}')
    basalt_of(request).volumes.set_metadata(volume_id, meta, ctx=context_from(request))
    return {"meta": meta}


@router.delete("/{volume_id}/metadata/{key}", status_code=200)
def delete_metadata_key(project_id: str, volume_id: str, key: str, request: Request) -> Response:
    """Remove one item (cinder metadata unset)."""
    basalt_of(request).volumes.delete_metadata_key(volume_id, key, ctx=context_from(request))
    return Response(status_code=200)


def _metadata_items(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInputError("metadata", 'must be an object: {"metadata": {"key": "value"}}')
    return value


@router.post("/{volume_id}/action", status_code=202)
def volume_action(
    project_id: str, volume_id: str, body: dict[str, Any], request: Request
) -> Response:
    """Volume actions: os-extend, os-unmanage, and the attach actions (os-reserve,
    os-initialize_connection, os-attach, os-begin_detaching, os-roll_detaching,
    os-terminate_connection, os-detach, os-unreserve)."""
    ctx = context_from(request)
    if len(body) != 1:
        raise InvalidInputError("action", "the body must name exactly one action")
    action, args = next(iter(body.items()))
    basalt = basalt_of(request)
    if action in SIMPLE_ACTIONS:
        return SIMPLE_ACTIONS[action](basalt, volume_id, _args(action, args), ctx)
    if action == "os-extend":
        if not isinstance(args, dict) or "new_size" not in args:
            raise InvalidInputError("os-extend", 'needs {"new_size": <GiB>}')
        handle = basalt.volumes.extend(volume_id, args["new_size"], ctx=ctx)
    elif action == "os-unmanage":
        handle = basalt.manage.unmanage_volume(volume_id, ctx=ctx)
    else:
        supported = ", ".join(["os-extend", "os-unmanage", *SIMPLE_ACTIONS])
        raise InvalidInputError(
            "action", f"{action[:64]!r} is not supported", hint=f"supported: {supported}"
        )
    settle(request, handle)
    return Response(status_code=202, headers={"x-basalt-operation-id": handle.operation_id})


def _args(action: str, args: object) -> dict[str, Any]:
    if args is None:
        return {}
    if not isinstance(args, dict):
        raise InvalidInputError(action, "its arguments must be an object")
    return args


Action = Callable[[Basalt, str, dict[str, Any], RequestContext], Response]
ACCEPTED = Response(status_code=202)


def _initialize(
    basalt: Basalt, volume_id: str, args: dict[str, Any], ctx: RequestContext
) -> Response:
    if "connector" not in args:
        raise InvalidInputError("os-initialize_connection", 'needs {"connector": {...}}')
    info = basalt.attachments.initialize_connection(volume_id, args["connector"], ctx=ctx)
    return JSONResponse(status_code=200, content={"connection_info": connection_info_view(info)})


def _terminate(
    basalt: Basalt, volume_id: str, args: dict[str, Any], ctx: RequestContext
) -> Response:
    if "connector" not in args:
        raise InvalidInputError("os-terminate_connection", 'needs {"connector": {...}}')
    basalt.attachments.terminate(volume_id, args["connector"], ctx=ctx)
    return Response(status_code=202)


def _reserve(basalt: Basalt, volume_id: str, args: dict[str, Any], ctx: RequestContext) -> Response:
    basalt.attachments.reserve(volume_id, ctx=ctx)
    return Response(status_code=202)


def _unreserve(
    basalt: Basalt, volume_id: str, args: dict[str, Any], ctx: RequestContext
) -> Response:
    basalt.attachments.unreserve(volume_id, ctx=ctx)
    return Response(status_code=202)


def _attach(basalt: Basalt, volume_id: str, args: dict[str, Any], ctx: RequestContext) -> Response:
    basalt.attachments.complete_for_volume(
        volume_id,
        instance_id=args.get("instance_uuid"),
        host_name=args.get("host_name"),
        mountpoint=args.get("mountpoint"),
        ctx=ctx,
    )
    return Response(status_code=202)


def _detach(basalt: Basalt, volume_id: str, args: dict[str, Any], ctx: RequestContext) -> Response:
    attachment_id = args.get("attachment_id")
    if attachment_id is not None and not isinstance(attachment_id, str):
        raise InvalidInputError("attachment_id", "must be a string")
    basalt.attachments.detach_volume(volume_id, attachment_id=attachment_id, ctx=ctx)
    return Response(status_code=202)


def _begin_detaching(
    basalt: Basalt, volume_id: str, args: dict[str, Any], ctx: RequestContext
) -> Response:
    basalt.attachments.begin_detaching(volume_id, ctx=ctx)
    return Response(status_code=202)


def _roll_detaching(
    basalt: Basalt, volume_id: str, args: dict[str, Any], ctx: RequestContext
) -> Response:
    basalt.attachments.roll_detaching(volume_id, ctx=ctx)
    return Response(status_code=202)


def _set_bootable(
    basalt: Basalt, volume_id: str, args: dict[str, Any], ctx: RequestContext
) -> Response:
    if "bootable" not in args:
        raise InvalidInputError("os-set_bootable", 'needs {"bootable": true|false}')
    basalt.volumes.set_bootable(volume_id, args["bootable"], ctx=ctx)
    return Response(status_code=200)


def _update_readonly(
    basalt: Basalt, volume_id: str, args: dict[str, Any], ctx: RequestContext
) -> Response:
    if "readonly" not in args:
        raise InvalidInputError("os-update_readonly_flag", 'needs {"readonly": true|false}')
    basalt.volumes.set_readonly(volume_id, args["readonly"], ctx=ctx)
    return Response(status_code=202)


SIMPLE_ACTIONS: dict[str, Action] = {
    "os-set_bootable": _set_bootable,
    "os-update_readonly_flag": _update_readonly,
    "os-reserve": _reserve,
    "os-unreserve": _unreserve,
    "os-initialize_connection": _initialize,
    "os-attach": _attach,
    "os-begin_detaching": _begin_detaching,
    "os-roll_detaching": _roll_detaching,
    "os-terminate_connection": _terminate,
    "os-detach": _detach,
}


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

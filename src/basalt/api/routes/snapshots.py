"""/v3/{project_id}/snapshots: create, list, show, update, delete, actions, events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from basalt.api.auth import context_from
from basalt.api.routes.common import basalt_of, list_query, next_link, settle
from basalt.api.schemas import (
    SnapshotCreateRequest,
    SnapshotUpdateRequest,
    event_view,
    snapshot_detail,
    snapshot_summary,
)
from basalt.errors import InvalidInputError
from basalt.persistence.base import SNAPSHOT_SORT_KEYS

router = APIRouter(prefix="/v3/{project_id}/snapshots", tags=["snapshots"])


@router.post("", status_code=202)
def create_snapshot(project_id: str, body: SnapshotCreateRequest, request: Request) -> JSONResponse:
    """Snapshot a volume."""
    ctx = context_from(request)
    spec = body.snapshot
    handle = basalt_of(request).snapshots.create(
        spec.volume_id,
        name=spec.name if spec.name is not None else (spec.display_name or ""),
        description=spec.description
        if spec.description is not None
        else (spec.display_description or ""),
        metadata=spec.metadata if spec.metadata is not None else {},
        ctx=ctx,
        request_id=request.headers.get("idempotency-key"),
    )
    snapshot = settle(request, handle)
    return JSONResponse(
        status_code=202,
        content={"snapshot": snapshot_detail(snapshot)},
        headers={"x-basalt-operation-id": handle.operation_id},
    )


@router.get("")
def list_snapshots(project_id: str, request: Request) -> dict[str, object]:
    """Snapshots."""
    return _page(request, detailed=False)


@router.get("/detail")
def list_snapshots_detail(project_id: str, request: Request) -> dict[str, object]:
    """Snapshots with every field."""
    return _page(request, detailed=True)


def _page(request: Request, *, detailed: bool) -> dict[str, object]:
    ctx = context_from(request)
    query, all_tenants = list_query(request, allowed_sort_keys=SNAPSHOT_SORT_KEYS)
    snapshots = basalt_of(request).snapshots.list(query, ctx=ctx, all_projects=all_tenants)
    view = snapshot_detail if detailed else snapshot_summary
    body: dict[str, object] = {"snapshots": [view(s) for s in snapshots]}
    links = next_link(
        request, list(snapshots), query.limit, snapshots[-1].id if snapshots else None
    )
    if links:
        body["snapshots_links"] = links
    return body


@router.get("/{snapshot_id}")
def show_snapshot(project_id: str, snapshot_id: str, request: Request) -> dict[str, object]:
    """One snapshot."""
    snapshot = basalt_of(request).snapshots.get(snapshot_id, ctx=context_from(request))
    return {"snapshot": snapshot_detail(snapshot)}


@router.put("/{snapshot_id}")
def update_snapshot(
    project_id: str, snapshot_id: str, body: SnapshotUpdateRequest, request: Request
) -> dict[str, object]:
    """Rename, re-describe or replace metadata."""
    spec = body.snapshot
    snapshot = basalt_of(request).snapshots.update(
        snapshot_id,
        name=spec.name if spec.name is not None else spec.display_name,
        description=spec.description if spec.description is not None else spec.display_description,
        metadata=spec.metadata,
        ctx=context_from(request),
    )
    return {"snapshot": snapshot_detail(snapshot)}


@router.delete("/{snapshot_id}", status_code=202)
def delete_snapshot(project_id: str, snapshot_id: str, request: Request) -> Response:
    """Delete a snapshot."""
    handle = basalt_of(request).snapshots.delete(snapshot_id, ctx=context_from(request))
    settle(request, handle)
    return Response(status_code=202, headers={"x-basalt-operation-id": handle.operation_id})


@router.post("/{snapshot_id}/action", status_code=202)
def snapshot_action(
    project_id: str, snapshot_id: str, body: dict[str, Any], request: Request
) -> Response:
    """Snapshot actions: os-unmanage."""
    ctx = context_from(request)
    if len(body) != 1:
        raise InvalidInputError("action", "the body must name exactly one action")
    action = next(iter(body))
    if action != "os-unmanage":
        raise InvalidInputError(
            "action", f"{action[:64]!r} is not supported", hint="supported: os-unmanage"
        )
    handle = basalt_of(request).manage.unmanage_snapshot(snapshot_id, ctx=ctx)
    settle(request, handle)
    return Response(status_code=202, headers={"x-basalt-operation-id": handle.operation_id})


@router.get("/{snapshot_id}/events")
def snapshot_events(project_id: str, snapshot_id: str, request: Request) -> dict[str, object]:
    """The snapshot's event timeline, oldest first."""
    events = basalt_of(request).snapshots.events(snapshot_id, ctx=context_from(request))
    return {"events": [event_view(e) for e in events]}

"""/v3/{project_id}/snapshots: create, list, show, update, delete, actions, events."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from basalt.api.auth import context_from
from basalt.api.bodies import (
    Closed,
    Nothing,
    SnapshotCreateRequest,
    SnapshotUpdateRequest,
    one_action,
)
from basalt.api.responses import LISTING, EventList, OneSnapshot, SnapshotList, answers, query
from basalt.api.routes.common import api_router, basalt_of, list_query, next_link, settle
from basalt.api.routes.metadata import add_metadata_routes
from basalt.api.schemas import event_view, snapshot_detail, snapshot_summary
from basalt.api.versions import ApiVersion, api_version
from basalt.errors import FeatureUnavailableError
from basalt.model.validation import validate_flag
from basalt.persistence.base import SNAPSHOT_SORT_KEYS
from basalt.service.policy import authorize

router = api_router(prefix="/v3/{project_id}/snapshots", tags=["snapshots"])
SNAPSHOT_IN_USE_WITHOUT_FORCE = ApiVersion(3, 66)


@router.post("", **answers(OneSnapshot, 202))
def create_snapshot(project_id: str, body: SnapshotCreateRequest, request: Request) -> JSONResponse:
    """Snapshot a volume."""
    ctx = context_from(request)
    spec = body.snapshot
    force = validate_flag(spec.force, field="force")
    handle = basalt_of(request).snapshots.create(
        spec.volume_id,
        name=spec.name if spec.name is not None else (spec.display_name or ""),
        description=spec.description or "",
        metadata=spec.metadata if spec.metadata is not None else {},
        allow_in_use=force or api_version(request) >= SNAPSHOT_IN_USE_WITHOUT_FORCE,
        ctx=ctx,
        request_id=request.headers.get("idempotency-key"),
    )
    snapshot = settle(request, handle)
    return JSONResponse(
        status_code=202,
        content={"snapshot": snapshot_detail(snapshot)},
        headers={"x-basalt-operation-id": handle.operation_id},
    )


@router.get(
    "", **answers(SnapshotList), **query(*LISTING, "all_tenants", "project_id", "volume_id")
)
def list_snapshots(project_id: str, request: Request) -> dict[str, object]:
    """Snapshots."""
    return _page(request, detailed=False)


@router.get(
    "/detail", **answers(SnapshotList), **query(*LISTING, "all_tenants", "project_id", "volume_id")
)
def list_snapshots_detail(project_id: str, request: Request) -> dict[str, object]:
    """Snapshots with every field."""
    return _page(request, detailed=True)


def _page(request: Request, *, detailed: bool) -> dict[str, object]:
    ctx = context_from(request)
    query, all_tenants = list_query(
        request, allowed_sort_keys=SNAPSHOT_SORT_KEYS, resource="snapshot"
    )
    snapshots = basalt_of(request).snapshots.list(query, ctx=ctx, all_projects=all_tenants)
    view = snapshot_detail if detailed else snapshot_summary
    body: dict[str, object] = {"snapshots": [view(s) for s in snapshots]}
    links = next_link(
        request, list(snapshots), query.limit, snapshots[-1].id if snapshots else None
    )
    if links:
        body["snapshots_links"] = links
    return body


@router.get("/{snapshot_id}", **answers(OneSnapshot))
def show_snapshot(project_id: str, snapshot_id: str, request: Request) -> dict[str, object]:
    """One snapshot."""
    snapshot = basalt_of(request).snapshots.get(snapshot_id, ctx=context_from(request))
    return {"snapshot": snapshot_detail(snapshot)}


@router.put("/{snapshot_id}", **answers(OneSnapshot))
def update_snapshot(
    project_id: str, snapshot_id: str, body: SnapshotUpdateRequest, request: Request
) -> dict[str, object]:
    """Rename, re-describe or replace metadata."""
    spec = body.snapshot
    snapshot = basalt_of(request).snapshots.update(
        snapshot_id,
        name=spec.name if spec.name is not None else spec.display_name,
        description=spec.description if spec.description is not None else spec.display_description,
        ctx=context_from(request),
    )
    return {"snapshot": snapshot_detail(snapshot)}


@router.delete("/{snapshot_id}", **answers(None, 202))
def delete_snapshot(project_id: str, snapshot_id: str, request: Request) -> Response:
    """Delete a snapshot."""
    handle = basalt_of(request).snapshots.delete(snapshot_id, ctx=context_from(request))
    settle(request, handle)
    return Response(status_code=202, headers={"x-basalt-operation-id": handle.operation_id})


class SnapshotResetStatus(Closed):
    status: str


class SnapshotStatusUpdate(Closed):
    status: str
    progress: str | None = None


class SnapshotActionRequest(BaseModel):
    """Exactly one snapshot action (Cinder's action names)."""

    model_config = ConfigDict(extra="forbid")

    os_reset_status: SnapshotResetStatus | None = Field(default=None, alias="os-reset_status")
    os_force_delete: Nothing | None = Field(default=None, alias="os-force_delete")
    os_unmanage: Nothing | None = Field(default=None, alias="os-unmanage")
    os_update_snapshot_status: SnapshotStatusUpdate | None = Field(
        default=None, alias="os-update_snapshot_status"
    )

    @model_validator(mode="before")
    @classmethod
    def _exactly_one_known(cls, data: Any) -> Any:
        return one_action(data, (str(f.alias) for f in cls.model_fields.values()))


@router.post("/{snapshot_id}/action", **answers(None, 202))
def snapshot_action(
    project_id: str, snapshot_id: str, body: SnapshotActionRequest, request: Request
) -> Response:
    """Snapshot actions: os-reset_status and os-force_delete (administrators), os-unmanage
    (administrators); os-update_snapshot_status (assisted snapshots) is not available."""
    ctx = context_from(request)
    service = basalt_of(request).snapshots
    if body.os_reset_status is not None:
        service.reset_status(snapshot_id, body.os_reset_status.status, ctx=ctx)
        return Response(status_code=202)
    if body.os_update_snapshot_status is not None:
        authorize(ctx, "snapshot:reset_status")
        service.get(snapshot_id, ctx=ctx)
        raise FeatureUnavailableError(
            "os-update_snapshot_status",
            "Basalt takes every snapshot itself; there are no assisted snapshots to report on",
        )
    if body.os_force_delete is not None:
        handle = service.delete(snapshot_id, force=True, ctx=ctx)
    else:
        handle = basalt_of(request).manage.unmanage_snapshot(snapshot_id, ctx=ctx)
    settle(request, handle)
    return Response(status_code=202, headers={"x-basalt-operation-id": handle.operation_id})


@router.get("/{snapshot_id}/events", **answers(EventList))
def snapshot_events(project_id: str, snapshot_id: str, request: Request) -> dict[str, object]:
    """The snapshot's event timeline, oldest first."""
    events = basalt_of(request).snapshots.events(snapshot_id, ctx=context_from(request))
    return {"events": [event_view(e) for e in events]}


add_metadata_routes(router, kind="snapshot", service=lambda b: b.snapshots)

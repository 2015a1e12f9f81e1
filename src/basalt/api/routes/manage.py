"""Manage and unmanage: manageable_volumes, manageable_snapshots and the manage actions."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from basalt.api.auth import context_from
from basalt.api.bodies import SnapshotManageRequest, VolumeManageRequest
from basalt.api.routes.common import basalt_of, base_url, settle
from basalt.api.schemas import manageable_view, snapshot_detail, volume_detail

router = APIRouter(prefix="/v3/{project_id}", tags=["manage"])


def _list(request: Request, *, snapshots: bool, detailed: bool) -> dict[str, object]:
    ctx = context_from(request)
    basalt = basalt_of(request)
    host = request.query_params.get("host")
    backend, pool = basalt.pools.resolve(host)
    spec = f"{backend}#{pool}"
    items = (
        basalt.manage.manageable_snapshots(spec, ctx=ctx)
        if snapshots
        else basalt.manage.manageable_volumes(spec, ctx=ctx)
    )
    key = "manageable-snapshots" if snapshots else "manageable-volumes"
    return {key: [manageable_view(i, host=f"basalt@{spec}", detailed=detailed) for i in items]}


@router.get("/manageable_volumes")
def manageable_volumes(project_id: str, request: Request) -> dict[str, object]:
    """Objects on a backend (``?host=``) that could be managed as volumes."""
    return _list(request, snapshots=False, detailed=False)


@router.get("/manageable_volumes/detail")
def manageable_volumes_detail(project_id: str, request: Request) -> dict[str, object]:
    """As manageable_volumes, with reasons and ids."""
    return _list(request, snapshots=False, detailed=True)


@router.get("/manageable_snapshots")
def manageable_snapshots(project_id: str, request: Request) -> dict[str, object]:
    """Objects on a backend that could be managed as snapshots."""
    return _list(request, snapshots=True, detailed=False)


@router.get("/manageable_snapshots/detail")
def manageable_snapshots_detail(project_id: str, request: Request) -> dict[str, object]:
    """As manageable_snapshots, with reasons and ids."""
    return _list(request, snapshots=True, detailed=True)


@router.post("/os-volume-manage", status_code=202)
@router.post("/manageable_volumes", status_code=202)
def manage_volume(project_id: str, body: VolumeManageRequest, request: Request) -> JSONResponse:
    """Adopt a backend object as a volume (administrators)."""
    ctx = context_from(request)
    spec = body.volume
    handle = basalt_of(request).manage.manage_volume(
        spec.ref,
        pool=spec.host,
        name=spec.name or "",
        description=spec.description or "",
        metadata=spec.metadata or {},
        ctx=ctx,
        request_id=request.headers.get("idempotency-key"),
    )
    volume = settle(request, handle)
    return JSONResponse(
        status_code=202,
        content={"volume": volume_detail(volume, base_url(request), admin=ctx.is_admin)},
        headers={"x-basalt-operation-id": handle.operation_id},
    )


@router.post("/os-snapshot-manage", status_code=202)
@router.post("/manageable_snapshots", status_code=202)
def manage_snapshot(project_id: str, body: SnapshotManageRequest, request: Request) -> JSONResponse:
    """Adopt a backend object as a snapshot of ``volume_id`` (administrators)."""
    ctx = context_from(request)
    spec = body.snapshot
    handle = basalt_of(request).manage.manage_snapshot(
        spec.ref,
        volume_id=spec.volume_id,
        name=spec.name or "",
        description=spec.description or "",
        metadata=spec.metadata or {},
        ctx=ctx,
        request_id=request.headers.get("idempotency-key"),
    )
    snapshot = settle(request, handle)
    return JSONResponse(
        status_code=202,
        content={"snapshot": snapshot_detail(snapshot)},
        headers={"x-basalt-operation-id": handle.operation_id},
    )

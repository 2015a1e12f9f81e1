"""Manage and unmanage: manageable_volumes, manageable_snapshots and the manage actions."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import Request
from fastapi.responses import JSONResponse

from basalt.api.auth import context_from
from basalt.api.bodies import SnapshotManageRequest, VolumeManageRequest
from basalt.api.responses import (
    ManageableSnapshots,
    ManageableVolumes,
    OneSnapshot,
    OneVolume,
    answers,
    query,
)
from basalt.api.routes.common import api_router, basalt_of, settle
from basalt.api.routes.volumes import volume_views
from basalt.api.schemas import manageable_view, snapshot_detail
from basalt.drivers.types import ManageableObject
from basalt.errors import InvalidInputError

router = api_router(prefix="/v3/{project_id}", tags=["manage"])
MANAGEABLE = ("host", "cluster", "sort", "sort_key", "sort_dir", "marker", "offset", "limit")


def _list(request: Request, *, snapshots: bool, detailed: bool) -> dict[str, object]:
    ctx = context_from(request)
    basalt = basalt_of(request)
    _refuse_cluster(request.query_params.get("cluster"))
    host = request.query_params.get("host")
    items = (
        basalt.manage.manageable_snapshots(host, ctx=ctx)
        if snapshots
        else basalt.manage.manageable_volumes(host, ctx=ctx)
    )
    backend, pool = basalt.pools.resolve(host)
    key = "manageable-snapshots" if snapshots else "manageable-volumes"
    page = _page(list(items), request)
    return {
        key: [manageable_view(i, host=f"basalt@{backend}#{pool}", detailed=detailed) for i in page]
    }


def _refuse_cluster(cluster: str | None) -> None:
    """``cluster`` (3.16, 3.17) names a cluster of services; Basalt runs none."""
    if cluster:
        raise InvalidInputError("cluster", "Basalt runs no clusters; name a host (backend#pool)")


def _by_reference(item: ManageableObject) -> tuple[int, str]:
    return 0, _reference_text(item)


def _by_size(item: ManageableObject) -> tuple[int, str]:
    return item.size_gib, _reference_text(item)


MANAGEABLE_SORT_KEYS: dict[str, Callable[[ManageableObject], tuple[int, str]]] = {
    "reference": _by_reference,
    "size": _by_size,
}


def _page(items: list[ManageableObject], request: Request) -> list[ManageableObject]:
    """Sort (``sort=reference|size[:dir]`` or sort_key/sort_dir), then marker (a reference,
    as JSON or its source-name), offset and limit, as Cinder pages manageable listings."""
    params = request.query_params
    key, direction = _manageable_sort(
        params.get("sort") or params.get("sort_key") or "reference", params.get("sort_dir")
    )
    items.sort(key=MANAGEABLE_SORT_KEYS[key], reverse=direction == "desc")
    marker = params.get("marker")
    if marker is not None:
        references = [_reference_text(i) for i in items]
        wanted = _marker_text(marker)
        if wanted not in references:
            raise InvalidInputError(
                "marker", f"no manageable object {marker[:100]!r} to page after"
            )
        items = items[references.index(wanted) + 1 :]
    offset = _count(params.get("offset"), "offset") or 0
    limit = _count(params.get("limit"), "limit")
    items = items[offset:]
    return items if limit is None else items[:limit]


def _manageable_sort(raw: str, raw_dir: str | None) -> tuple[str, str]:
    key, _, direction = raw.partition(":")
    direction = direction or raw_dir or "asc"
    if key not in MANAGEABLE_SORT_KEYS:
        raise InvalidInputError(
            "sort_key", f"{key[:32]!r} is not one of {sorted(MANAGEABLE_SORT_KEYS)}"
        )
    if direction not in ("asc", "desc"):
        raise InvalidInputError("sort_dir", f"{direction[:32]!r} is not asc or desc")
    return key, direction


def _reference_text(item: ManageableObject) -> str:
    return json.dumps(dict(item.reference), sort_keys=True)


def _marker_text(marker: str) -> str:
    try:
        value = json.loads(marker)
    except ValueError:
        value = {"source-name": marker}
    return json.dumps(value, sort_keys=True) if isinstance(value, dict) else marker


def _count(raw: str | None, field: str) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit():
        raise InvalidInputError(field, f"{raw[:32]!r} is not a non-negative integer")
    return int(raw)


@router.get("/manageable_volumes", **answers(ManageableVolumes), **query(*MANAGEABLE))
def manageable_volumes(project_id: str, request: Request) -> dict[str, object]:
    """Objects on a backend (``?host=``) that could be managed as volumes."""
    return _list(request, snapshots=False, detailed=False)


@router.get("/manageable_volumes/detail", **answers(ManageableVolumes), **query(*MANAGEABLE))
def manageable_volumes_detail(project_id: str, request: Request) -> dict[str, object]:
    """As manageable_volumes, with reasons and ids."""
    return _list(request, snapshots=False, detailed=True)


@router.get("/manageable_snapshots", **answers(ManageableSnapshots), **query(*MANAGEABLE))
def manageable_snapshots(project_id: str, request: Request) -> dict[str, object]:
    """Objects on a backend that could be managed as snapshots."""
    return _list(request, snapshots=True, detailed=False)


@router.get("/manageable_snapshots/detail", **answers(ManageableSnapshots), **query(*MANAGEABLE))
def manageable_snapshots_detail(project_id: str, request: Request) -> dict[str, object]:
    """As manageable_snapshots, with reasons and ids."""
    return _list(request, snapshots=True, detailed=True)


@router.post("/os-volume-manage", **answers(OneVolume, 202))
@router.post("/manageable_volumes", **answers(OneVolume, 202))
def manage_volume(project_id: str, body: VolumeManageRequest, request: Request) -> JSONResponse:
    """Adopt a backend object as a volume (administrators)."""
    ctx = context_from(request)
    spec = body.volume
    _refuse_cluster(spec.cluster)
    handle = basalt_of(request).manage.manage_volume(
        spec.ref,
        pool=spec.host,
        name=spec.name or "",
        description=spec.description or "",
        metadata=spec.metadata or {},
        bootable=spec.bootable or False,
        volume_type=spec.volume_type or None,
        ctx=ctx,
        request_id=request.headers.get("idempotency-key"),
    )
    volume = settle(request, handle)
    return JSONResponse(
        status_code=202,
        content={"volume": volume_views(request, [volume])[0]},
        headers={"x-basalt-operation-id": handle.operation_id},
    )


@router.post("/os-snapshot-manage", **answers(OneSnapshot, 202))
@router.post("/manageable_snapshots", **answers(OneSnapshot, 202))
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

"""/v3/{project_id}/scheduler-stats: pools, their capacity, and where a volume would go."""

from __future__ import annotations

from fastapi import Request

from basalt.api.auth import context_from
from basalt.api.bodies import ExplainRequest
from basalt.api.filters import checked_filters
from basalt.api.responses import ExplanationAnswer, PoolList, answers, query
from basalt.api.routes.common import api_router, basalt_of, flag
from basalt.api.versions import POOL_FILTERS, POOL_VOLUME_TYPE, api_version

router = api_router(prefix="/v3/{project_id}/scheduler-stats", tags=["pools"])


@router.get("/get_pools", **answers(PoolList), **query("detail", "name", "volume_type"))
def get_pools(project_id: str, request: Request) -> dict[str, object]:
    """Pools; ``?detail=true`` adds capabilities (administrators). From 3.28 ``name``
    (``basalt@backend#pool``) and from 3.35 ``volume_type`` (pools whose capabilities
    meet the type) filter them."""
    ctx = context_from(request)
    params = request.query_params
    detail = flag(params.get("detail"))
    basalt = basalt_of(request)
    version = api_version(request)
    if version >= POOL_FILTERS:
        checked_filters(request, "pool")
    name = params.get("name") if version >= POOL_FILTERS else None
    volume_type = params.get("volume_type") if version >= POOL_VOLUME_TYPE else None
    taking = None if volume_type is None else basalt.pools_taking(volume_type, ctx=ctx)
    pools = []
    for pool in basalt.list_pools(refresh=False, ctx=ctx):
        host = f"basalt@{pool.backend}#{pool.name}"
        if name not in (None, host) or (taking is not None and host.split("@", 1)[1] not in taking):
            continue
        entry: dict[str, object] = {"name": host}
        if detail:
            entry["capabilities"] = {
                **pool.capabilities,
                "total_capacity_gb": round(pool.total_capacity_gib, 2),
                "free_capacity_gb": round(pool.free_capacity_gib, 2),
                "provisioned_capacity_gb": round(pool.provisioned_capacity_gib, 2),
                "allocated_capacity_gb": None
                if pool.allocated_capacity_gib is None
                else round(pool.allocated_capacity_gib, 2),
                "max_over_subscription_ratio": pool.max_over_subscription_ratio,
                "reserved_percentage": pool.reserved_percentage,
                "availability_zone": pool.availability_zone,
                "location_info": pool.location,
            }
        pools.append(entry)
    return {"pools": pools}


@router.post("/explain", **answers(ExplanationAnswer))
def explain(project_id: str, body: ExplainRequest, request: Request) -> dict[str, object]:
    """Every pool with each filter's verdict and each weigher's score for a volume
    create (administrators; Basalt's own route). Nothing is created."""
    spec = body.volume
    explanation = basalt_of(request).volumes.explain_placement(
        size_gib=spec.size,
        volume_type=spec.volume_type or None,
        availability_zone=spec.availability_zone or None,
        scheduler_hints=body.scheduler_hints,
        ctx=context_from(request),
    )
    return {"explanation": explanation.as_dict()}

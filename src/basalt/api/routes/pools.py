"""/v3/{project_id}/scheduler-stats/get_pools: pools and their capacity."""

from __future__ import annotations

from fastapi import Request

from basalt.api.auth import context_from
from basalt.api.responses import PoolList, answers, query
from basalt.api.routes.common import api_router, basalt_of, flag

router = api_router(prefix="/v3/{project_id}/scheduler-stats", tags=["pools"])


@router.get("/get_pools", **answers(PoolList), **query("detail"))
def get_pools(project_id: str, request: Request) -> dict[str, object]:
    """Pools; ``?detail=true`` adds capabilities (administrators)."""
    ctx = context_from(request)
    detail = flag(request.query_params.get("detail"))
    pools = []
    for pool in basalt_of(request).list_pools(refresh=False, ctx=ctx):
        entry: dict[str, object] = {"name": f"basalt@{pool.backend}#{pool.name}"}
        if detail:
            entry["capabilities"] = {
                "volume_backend_name": pool.backend,
                "pool_name": pool.name,
                "driver": pool.driver,
                "vendor_name": "Basalt",
                "storage_protocol": "iSCSI",
                "total_capacity_gb": round(pool.total_capacity_gib, 2),
                "free_capacity_gb": round(pool.free_capacity_gib, 2),
                "provisioned_capacity_gb": round(pool.provisioned_capacity_gib, 2),
                "allocated_capacity_gb": None
                if pool.allocated_capacity_gib is None
                else round(pool.allocated_capacity_gib, 2),
                "max_over_subscription_ratio": pool.max_over_subscription_ratio,
                "thin_provisioning_support": pool.thin_provisioning,
                "reflink": pool.reflink,
                "location_info": pool.location,
            }
        pools.append(entry)
    return {"pools": pools}

"""/v3/{project_id}/os-availability-zone: the configured backends' zones."""

from __future__ import annotations

from fastapi import Request

from basalt.api.auth import context_from
from basalt.api.responses import ZoneList, answers
from basalt.api.routes.common import api_router, basalt_of

router = api_router(prefix="/v3/{project_id}/os-availability-zone", tags=["zones"])


@router.get("", **answers(ZoneList))
def list_zones(project_id: str, request: Request) -> dict[str, object]:
    """Zones; available when an enabled backend in the zone is up."""
    zones = basalt_of(request).deployment.availability_zones(ctx=context_from(request))
    return {
        "availabilityZoneInfo": [
            {"zoneName": name, "zoneState": {"available": available}} for name, available in zones
        ]
    }

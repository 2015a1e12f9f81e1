"""/v3/{project_id}/resource_filters (3.33): the filters each list accepts."""

from __future__ import annotations

from fastapi import Request

from basalt.api.auth import context_from
from basalt.api.filters import LIKE_FILTERS, RESOURCE_FILTERS
from basalt.api.responses import ResourceFilterList, answers, query
from basalt.api.routes.common import api_router
from basalt.api.versions import RESOURCE_FILTERS_ROUTE, require_version
from basalt.errors import InvalidInputError
from basalt.service.policy import authorize

router = api_router(prefix="/v3/{project_id}/resource_filters", tags=["resource filters"])


@router.get("", **answers(ResourceFilterList), **query("resource"))
def list_resource_filters(project_id: str, request: Request) -> dict[str, object]:
    """Each resource's list filters (``?resource=volume``: one resource's); a filter
    that also matches part of a value (3.34) is listed again with ``~``."""
    require_version(request, RESOURCE_FILTERS_ROUTE, "resource_filters")
    authorize(context_from(request), "resource_filter:get")
    wanted = request.query_params.get("resource")
    if wanted is not None and wanted not in RESOURCE_FILTERS:
        raise InvalidInputError(
            "resource", f"{wanted[:32]!r} is not one of {', '.join(sorted(RESOURCE_FILTERS))}"
        )
    return {
        "resource_filters": [
            {
                "resource": resource,
                "filters": [*filters, *(f"{key}~" for key in LIKE_FILTERS.get(resource, ()))],
            }
            for resource, filters in RESOURCE_FILTERS.items()
            if wanted in (None, resource)
        ]
    }

"""/v3/{project_id}/operations: Basalt's operation records."""

from __future__ import annotations

from fastapi import Request

from basalt.api.auth import context_from
from basalt.api.responses import OneOperation, OperationList, answers, query
from basalt.api.routes.common import api_router, basalt_of, flag
from basalt.api.schemas import operation_view
from basalt.errors import InvalidInputError

router = api_router(prefix="/v3/{project_id}/operations", tags=["operations"])


@router.get("", **answers(OperationList), **query("resource_id", "open", "limit", "all_tenants"))
def list_operations(project_id: str, request: Request) -> dict[str, object]:
    """Operations, newest first; ``?resource_id=``, ``?open=true``, ``?limit=``."""
    params = request.query_params
    raw_limit = params.get("limit", "100")
    if not raw_limit.isdigit():
        raise InvalidInputError("limit", f"{raw_limit[:32]!r} is not a non-negative integer")
    operations = basalt_of(request).operations.list(
        resource_id=params.get("resource_id"),
        open_only=flag(params.get("open")),
        limit=min(int(raw_limit), 1000),
        ctx=context_from(request),
        all_projects=flag(params.get("all_tenants")),
    )
    return {"operations": [operation_view(o) for o in operations]}


@router.get("/{operation_id}", **answers(OneOperation))
def show_operation(project_id: str, operation_id: str, request: Request) -> dict[str, object]:
    """One operation with its progress and outcome."""
    operation = basalt_of(request).operations.get(operation_id, ctx=context_from(request))
    return {"operation": operation_view(operation)}

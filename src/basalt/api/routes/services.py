"""/v3/{project_id}/os-services: Basalt's scheduler and its backends (administrators)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from basalt.api.auth import context_from
from basalt.api.bodies import ServiceChange
from basalt.api.responses import ServiceList, ServiceUpdated, answers, query
from basalt.api.routes.common import api_router, basalt_of
from basalt.api.schemas import stamp
from basalt.errors import InvalidInputError
from basalt.model.service import VOLUME_BINARY, Service
from basalt.service.deployment import REPLICATION_ACTIONS

router = api_router(prefix="/v3/{project_id}/os-services", tags=["services"])
STATUS_ACTIONS = ("enable", "disable", "disable-log-reason")


@router.get("", **answers(ServiceList), **query("host", "binary"))
def list_services(project_id: str, request: Request) -> dict[str, object]:
    """Services; ``?host=`` and ``?binary=`` filter by exact match."""
    params = request.query_params
    services = basalt_of(request).deployment.services(
        host=params.get("host"), binary=params.get("binary"), ctx=context_from(request)
    )
    return {"services": [service_view(s) for s in services]}


@router.put("/{action}", **answers(ServiceUpdated))
def update_service(
    project_id: str, action: str, change: ServiceChange, request: Request
) -> dict[str, object]:
    """enable, disable, disable-log-reason ``{"host", "binary"[, "disabled_reason"]}``;
    freeze, thaw, failover_host and failover are refused (no replication)."""
    ctx = context_from(request)
    body = change.model_dump(exclude_unset=True)
    deployment = basalt_of(request).deployment
    if action in REPLICATION_ACTIONS:
        deployment.replication(action, ctx=ctx)
    if action not in STATUS_ACTIONS:
        raise InvalidInputError(
            "action",
            f"{action[:32]!r} is not an os-services action Basalt knows",
            hint=f"supported: {', '.join(STATUS_ACTIONS)}",
        )
    host = _text(body, "host")
    binary = body.get("binary", body.get("service"))
    binary = _text({"binary": binary}, "binary")
    if action == "enable":
        service = deployment.enable(host, binary=binary, ctx=ctx)
    else:
        reason = None
        if action == "disable-log-reason":
            if "disabled_reason" not in body:
                raise InvalidInputError("disabled_reason", "is required by disable-log-reason")
            reason = body["disabled_reason"]
        service = deployment.disable(host, binary=binary, reason=reason, ctx=ctx)
    answer: dict[str, object] = {
        "host": service.host,
        "binary": service.binary,
        "service": "",
        "status": service.status,
        "disabled": service.disabled,
    }
    if action != "disable":
        answer["disabled_reason"] = service.disabled_reason
    return answer


def _text(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise InvalidInputError(field, "is required (a non-empty string)")
    return value


def service_view(service: Service) -> dict[str, object]:
    """One entry of ``GET /os-services``; ``cluster`` is the 3.7 field (Basalt has none)."""
    view: dict[str, object] = {
        "binary": service.binary,
        "host": service.host,
        "zone": service.zone,
        "status": service.status,
        "state": service.state,
        "updated_at": stamp(service.updated_at),
        "cluster": None,
        "disabled_reason": service.disabled_reason,
    }
    if service.binary == VOLUME_BINARY:
        view.update(replication_status="disabled", active_backend_id=None, frozen=False)
    return view

"""/v3/{project_id}/os-services: Basalt's scheduler and its backends (administrators)."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from basalt.api.auth import context_from
from basalt.api.bodies import LogLevelChange, ServiceChange
from basalt.api.responses import LogLevels, ServiceList, ServiceUpdated, answers, query
from basalt.api.routes.common import api_router, basalt_of, settle
from basalt.api.schemas import stamp
from basalt.api.versions import LOG_LEVELS, require_version
from basalt.errors import InvalidInputError
from basalt.model.service import VOLUME_BINARY, Service
from basalt.service.log_levels import (
    API_BINARY,
    LOG_BINARIES,
    LOG_LEVEL_NAMES,
    SCHEDULER_HOST,
    log_levels,
    set_log_levels,
)
from basalt.service.policy import authorize

router = api_router(prefix="/v3/{project_id}/os-services", tags=["services"])
STATUS_ACTIONS = ("enable", "disable", "disable-log-reason")
REPLICATION_ACTIONS = ("freeze", "thaw", "failover_host", "failover")
LOG_ACTIONS = ("set-log", "get-log")


@router.get("", **answers(ServiceList), **query("host", "binary"))
def list_services(project_id: str, request: Request) -> dict[str, object]:
    """Services; ``?host=`` and ``?binary=`` filter by exact match."""
    params = request.query_params
    services = basalt_of(request).deployment.services(
        host=params.get("host"), binary=params.get("binary"), ctx=context_from(request)
    )
    return {"services": [service_view(s) for s in services]}


@router.put("/freeze", **answers(None, description="frozen"))
def freeze(project_id: str, change: ServiceChange, request: Request) -> Response:
    """Refuse control-plane changes on a backend ``{"host": "basalt@<backend>"}``; I/O goes on."""
    basalt_of(request).replication.freeze(_host(change), ctx=context_from(request))
    return Response(status_code=200)


@router.put("/thaw", **answers(None, description="thawed"))
def thaw(project_id: str, change: ServiceChange, request: Request) -> Response:
    """Accept control-plane changes on a backend again ``{"host": "basalt@<backend>"}``."""
    basalt_of(request).replication.thaw(_host(change), ctx=context_from(request))
    return Response(status_code=200)


@router.put("/failover_host", **answers(None, 202, "failover started"))
def failover_host(project_id: str, change: ServiceChange, request: Request) -> Response:
    """Fail a backend over ``{"host": "basalt@<backend>", "backend_id": "<target>"}``;
    ``backend_id`` ``default`` fails back. The operation's id is in x-basalt-operation-id."""
    return _failover(change, request)


@router.put("/failover", **answers(None, 202, "failover started"))
def failover(project_id: str, change: ServiceChange, request: Request) -> Response:
    """3.26's name of failover_host (``host`` or ``cluster``; Basalt has no clusters)."""
    return _failover(change, request)


def _failover(change: ServiceChange, request: Request) -> Response:
    handle = basalt_of(request).replication.failover(
        _host(change), change.backend_id, ctx=context_from(request)
    )
    settle(request, handle)
    return Response(status_code=202, headers={"x-basalt-operation-id": handle.operation_id})


def _host(change: ServiceChange) -> str:
    if change.cluster is not None and change.host is None:
        raise InvalidInputError("cluster", "Basalt runs no clusters", hint="name the host")
    return _text(change.model_dump(exclude_unset=True), "host")


@router.put("/set-log", **answers(None, 202, "level set"))
def set_log(project_id: str, change: LogLevelChange, request: Request) -> Response:
    """Set the log level of the loggers whose names start with ``prefix`` (3.32)
    ``{"binary", "server", "prefix", "level"}``. Every service Basalt lists runs in
    this one process, so the level applies to all of them whatever ``binary`` says."""
    require_version(request, LOG_LEVELS, "set-log")
    authorize(context_from(request), "service:update")
    _log_services(request, change)
    set_log_levels(change.prefix or "", _level(change.level))
    return Response(status_code=202)


@router.put("/get-log", **answers(LogLevels))
def get_log(project_id: str, change: LogLevelChange, request: Request) -> dict[str, object]:
    """The levels of the loggers whose names start with ``prefix``, per service (3.32)."""
    require_version(request, LOG_LEVELS, "get-log")
    authorize(context_from(request), "service:get")
    levels = log_levels(change.prefix or "")
    return {
        "log_levels": [
            {"binary": binary, "host": host, "levels": levels}
            for binary, host in _log_services(request, change)
        ]
    }


def _log_services(request: Request, change: LogLevelChange) -> list[tuple[str, str]]:
    """(binary, host) of the services a set-log/get-log names: Basalt's API, scheduler
    and backends (one process), filtered by ``binary`` and ``server``."""
    binary = change.binary or "*"
    if binary not in ("*", *LOG_BINARIES):
        raise InvalidInputError(
            "binary", f"{binary[:32]!r} is not one of *, {', '.join(LOG_BINARIES)}"
        )
    listed = [(API_BINARY, SCHEDULER_HOST)] + [
        (s.binary, s.host)
        for s in basalt_of(request).deployment.services(ctx=context_from(request))
    ]
    return [(b, h) for b, h in listed if binary in ("*", b) and change.server in (None, "", h)]


def _level(raw: str | None) -> str:
    level = (raw or "").upper()
    if level not in LOG_LEVEL_NAMES:
        raise InvalidInputError("level", f"must be one of {', '.join(LOG_LEVEL_NAMES)}")
    return level


@router.put("/{action}", **answers(ServiceUpdated))
def update_service(
    project_id: str, action: str, change: ServiceChange, request: Request
) -> dict[str, object]:
    """enable, disable, disable-log-reason ``{"host", "binary"[, "disabled_reason"]}``."""
    ctx = context_from(request)
    body = change.model_dump(exclude_unset=True)
    deployment = basalt_of(request).deployment
    if action not in STATUS_ACTIONS:
        raise InvalidInputError(
            "action",
            f"{action[:32]!r} is not an os-services action Basalt knows",
            hint=f"supported: {', '.join(STATUS_ACTIONS + REPLICATION_ACTIONS + LOG_ACTIONS)}",
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
        view.update(
            replication_status=service.replication_status,
            active_backend_id=service.active_backend_id,
            frozen=service.frozen,
        )
    return view

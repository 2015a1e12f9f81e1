"""/v3/{project_id}/os-quota-sets, /os-quota-class-sets and /limits, in Cinder's shapes.

The project whose quota a URL names is ``target_project_id`` (the path's first
project is the caller's, as on every route). A refusal by a quota is answered by
the error handler: 413 ``overLimit``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from basalt.api.auth import context_from
from basalt.api.bodies import QuotaClassUpdateRequest, QuotaSetUpdateRequest
from basalt.api.quota_responses import Limits, OneQuotaClassSet, OneQuotaSet, QuotaDefaults
from basalt.api.responses import answers, query
from basalt.api.routes.common import api_router, basalt_of
from basalt.errors import InvalidInputError
from basalt.model.quota import DEFAULT_QUOTA_CLASS
from basalt.service.quotas import QuotaSet

router = api_router(prefix="/v3/{project_id}", tags=["quotas"])
QUOTA_SET = "/os-quota-sets/{target_project_id}"
_TRUE = ("true", "1", "yes", "t", "y", "on")
_FALSE = ("false", "0", "no", "f", "n", "off")
NOT_LIMITS = ("tenant_id", "id")
"""Keys of a quota set that name its project rather than a limit (cinderclient sends one)."""


def yes_no(request: Request, name: str) -> bool:
    """A true/false query parameter (``usage=True`` as cinderclient sends it); absent is false.

    Raises:
        InvalidInputError: a value that is neither.
    """
    raw = request.query_params.get(name)
    if raw is None or raw.lower() in _FALSE:
        return False
    if raw.lower() in _TRUE:
        return True
    raise InvalidInputError(name, f"{raw[:32]!r} is not true or false")


def limits_view(quota: QuotaSet, *, with_id: bool = True) -> dict[str, Any]:
    """Limits by resource name (with the project's id when ``with_id``)."""
    view: dict[str, Any] = {"id": quota.project_id} if with_id else {}
    view.update(quota.limits)
    return view


def usage_view(quota: QuotaSet) -> dict[str, Any]:
    """Every resource as ``{"limit", "in_use", "reserved", "allocated"}``."""
    view: dict[str, Any] = {"id": quota.project_id}
    for name, line in quota.lines.items():
        view[name] = {
            "limit": line.limit,
            "in_use": line.in_use,
            "reserved": line.reserved,
            "allocated": 0,
        }
    return view


def _limits_of(items: Any, target: str) -> Any:
    """The body's limits without the keys that name the project (which must be ``target``)."""
    if not isinstance(items, dict):
        return items  # the service says what is wrong with it
    for key in NOT_LIMITS:
        named = items.get(key)
        if named is not None and named != target:
            raise InvalidInputError(
                f"quota_set.{key}", f"{str(named)[:64]!r} is not the project of the URL, {target}"
            )
    return {k: v for k, v in items.items() if k not in NOT_LIMITS}


@router.get(QUOTA_SET, **answers(OneQuotaSet), **query("usage"))
def show_quota_set(project_id: str, target_project_id: str, request: Request) -> dict[str, Any]:
    """A project's limits (``?usage=true``: with what it uses); members read their own."""
    counted = yes_no(request, "usage")
    quota = basalt_of(request).quotas.show(
        target_project_id, usage=counted, ctx=context_from(request)
    )
    return {"quota_set": usage_view(quota) if counted else limits_view(quota)}


@router.get(QUOTA_SET + "/defaults", **answers(QuotaDefaults))
def show_quota_defaults(
    project_id: str, target_project_id: str, request: Request
) -> dict[str, Any]:
    """The limits the project has where it has none of its own."""
    defaults = basalt_of(request).quotas.defaults(target_project_id, ctx=context_from(request))
    return {"quota_set": {"id": target_project_id, **defaults}}


@router.put(QUOTA_SET, **answers(QuotaDefaults), **query("skip_validation"))
def update_quota_set(
    project_id: str, target_project_id: str, body: QuotaSetUpdateRequest, request: Request
) -> dict[str, Any]:
    """Set some of a project's limits (administrators): all of them, or none when one is bad."""
    limits = basalt_of(request).quotas.update(
        target_project_id,
        _limits_of(body.quota_set, target_project_id),
        skip_validation=yes_no(request, "skip_validation"),
        ctx=context_from(request),
    )
    return {"quota_set": limits}


@router.delete(QUOTA_SET, **answers(None, 200))
def delete_quota_set(project_id: str, target_project_id: str, request: Request) -> Response:
    """Drop a project's own limits: the defaults apply again (administrators)."""
    basalt_of(request).quotas.reset(target_project_id, ctx=context_from(request))
    return Response(status_code=200)


@router.get("/os-quota-class-sets/{quota_class}", **answers(OneQuotaClassSet))
def show_quota_class(project_id: str, quota_class: str, request: Request) -> dict[str, Any]:
    """The ``default`` class's limits, every project's fallback (administrators)."""
    limits = basalt_of(request).quotas.show_class(quota_class, ctx=context_from(request))
    return {"quota_class_set": {"id": DEFAULT_QUOTA_CLASS, **limits}}


@router.put("/os-quota-class-sets/{quota_class}", **answers(OneQuotaClassSet))
def update_quota_class(
    project_id: str, quota_class: str, body: QuotaClassUpdateRequest, request: Request
) -> dict[str, Any]:
    """Set some of the ``default`` class's limits (administrators)."""
    limits = basalt_of(request).quotas.update_class(
        quota_class, body.quota_class_set, ctx=context_from(request)
    )
    return {"quota_class_set": limits}


@router.get("/limits", **answers(Limits), **query("tenant_id"))
def show_limits(project_id: str, request: Request) -> dict[str, Any]:
    """The project's absolute limits and usage as Cinder's limits view has them; no rate
    limits. Administrators may name another project with ``tenant_id``."""
    quota = basalt_of(request).quotas.limits(
        request.query_params.get("tenant_id"), ctx=context_from(request)
    )
    line = quota.lines
    absolute = {
        "maxTotalVolumes": line["volumes"].limit,
        "maxTotalSnapshots": line["snapshots"].limit,
        "maxTotalVolumeGigabytes": line["gigabytes"].limit,
        "totalVolumesUsed": line["volumes"].in_use + line["volumes"].reserved,
        "totalSnapshotsUsed": line["snapshots"].in_use + line["snapshots"].reserved,
        "totalGigabytesUsed": line["gigabytes"].in_use + line["gigabytes"].reserved,
    }
    return {"limits": {"rate": [], "absolute": absolute}}

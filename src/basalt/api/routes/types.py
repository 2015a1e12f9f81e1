"""/v3/{project_id}/types: volume types, their extra specs and project access."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from basalt.api.auth import context_from
from basalt.api.bodies import (
    ExtraSpecsBody,
    VolumeTypeActionRequest,
    VolumeTypeCreateRequest,
    VolumeTypeUpdateRequest,
)
from basalt.api.responses import (
    ExtraSpecs,
    OneVolumeType,
    SpecItem,
    TypeAccessList,
    VolumeTypeList,
    answers,
    query,
)
from basalt.api.routes.common import api_router, basalt_of
from basalt.errors import InvalidInputError, VolumeTypeNotFoundError
from basalt.model.volume_type import VolumeType
from basalt.service.context import RequestContext

router = api_router(prefix="/v3/{project_id}/types", tags=["volume types"])

USER_VISIBLE_SPECS = frozenset({"multiattach", "RESKEY:availability_zones", "replication_enabled"})
"""The extra specs a non-administrator sees (the rest describe the deployment)."""


def type_view(volume_type: VolumeType, ctx: RequestContext) -> dict[str, object]:
    """A volume type as Cinder shows it."""
    specs = volume_type.extra_specs
    if not ctx.is_admin:
        specs = {k: v for k, v in specs.items() if k in USER_VISIBLE_SPECS}
    return {
        "id": volume_type.id,
        "name": volume_type.name,
        "description": volume_type.description,
        "is_public": volume_type.is_public,
        "extra_specs": dict(specs),
        "qos_specs_id": volume_type.qos_specs_id,
        "os-volume-type-access:is_public": volume_type.is_public,
    }


@router.get("", **answers(VolumeTypeList), **query("is_public"))
def list_types(project_id: str, request: Request) -> dict[str, object]:
    """The types the caller may use; administrators every type (``?is_public=true``: the
    public ones only)."""
    ctx = context_from(request)
    raw = request.query_params.get("is_public", "none").lower()
    if raw not in ("none", "true", "false", "1", "0", "t", "f", "yes", "no"):
        raise InvalidInputError("is_public", f"{raw[:32]!r} is not true, false or none")
    found = basalt_of(request).types.list(ctx=ctx)
    if raw != "none":
        public = raw in ("true", "1", "t", "yes")
        found = [t for t in found if t.is_public == public]
    return {"volume_types": [type_view(t, ctx) for t in found]}


@router.get("/default", **answers(OneVolumeType))
def show_default_type(project_id: str, request: Request) -> dict[str, object]:
    """The type a volume gets when it names none."""
    ctx = context_from(request)
    types = basalt_of(request).types
    return {"volume_type": type_view(types.get(types.default_type_name, ctx=ctx), ctx)}


@router.get("/{type_id}", **answers(OneVolumeType))
def show_type(project_id: str, type_id: str, request: Request) -> dict[str, object]:
    """One type, by id or name."""
    ctx = context_from(request)
    return {"volume_type": type_view(basalt_of(request).types.get(type_id, ctx=ctx), ctx)}


@router.post("", **answers(OneVolumeType))
def create_type(
    project_id: str, body: VolumeTypeCreateRequest, request: Request
) -> dict[str, object]:
    """Create a type (administrators)."""
    ctx = context_from(request)
    spec = body.volume_type
    public = spec.is_public if spec.is_public is not None else spec.is_public_plain
    created = basalt_of(request).types.create(
        spec.name,
        description=spec.description or "",
        is_public=True if public is None else public,
        extra_specs=spec.extra_specs or {},
        ctx=ctx,
    )
    return {"volume_type": type_view(created, ctx)}


@router.put("/{type_id}", **answers(OneVolumeType))
def update_type(
    project_id: str, type_id: str, body: VolumeTypeUpdateRequest, request: Request
) -> dict[str, object]:
    """Rename, re-describe, or change the visibility of a type (administrators)."""
    ctx = context_from(request)
    spec = body.volume_type
    updated = basalt_of(request).types.update(
        type_id, name=spec.name, description=spec.description, is_public=spec.is_public, ctx=ctx
    )
    return {"volume_type": type_view(updated, ctx)}


@router.delete("/{type_id}", **answers(None, 202))
def delete_type(project_id: str, type_id: str, request: Request) -> Response:
    """Delete a type no volume has (administrators)."""
    basalt_of(request).types.delete(type_id, ctx=context_from(request))
    return Response(status_code=202)


@router.get("/{type_id}/extra_specs", **answers(ExtraSpecs))
def show_extra_specs(project_id: str, type_id: str, request: Request) -> dict[str, object]:
    """The type's extra specs (non-administrators see the user-visible ones)."""
    ctx = context_from(request)
    return {
        "extra_specs": type_view(basalt_of(request).types.get(type_id, ctx=ctx), ctx)["extra_specs"]
    }


@router.post("/{type_id}/extra_specs", **answers(ExtraSpecs))
def set_extra_specs(
    project_id: str, type_id: str, body: ExtraSpecsBody, request: Request
) -> dict[str, object]:
    """Add or change extra specs (administrators); answers the ones given, as Cinder does."""
    ctx = context_from(request)
    stored = basalt_of(request).types.set_extra_specs(type_id, body.extra_specs, ctx=ctx)
    given = body.extra_specs if isinstance(body.extra_specs, dict) else {}
    return {"extra_specs": {k: stored[str(k)] for k in given if str(k) in stored}}


@router.get("/{type_id}/extra_specs/{key}", **answers(SpecItem))
def show_extra_spec(project_id: str, type_id: str, key: str, request: Request) -> dict[str, Any]:
    """One extra spec as ``{key: value}``."""
    specs = show_extra_specs(project_id, type_id, request)["extra_specs"]
    assert isinstance(specs, dict)
    if key not in specs:
        raise VolumeTypeNotFoundError(f"{type_id} extra spec {key!r}")
    return {key: specs[key]}


@router.put("/{type_id}/extra_specs/{key}", **answers(SpecItem))
def set_extra_spec(
    project_id: str, type_id: str, key: str, body: dict[str, Any], request: Request
) -> dict[str, Any]:
    """Set one extra spec: the body is ``{key: value}`` with the key of the URL."""
    if list(body) != [key]:
        raise InvalidInputError("extra spec", f'the body must be {{"{key[:64]}": <value>}}')
    stored = basalt_of(request).types.set_extra_specs(type_id, body, ctx=context_from(request))
    return {key: stored[key]}


@router.delete("/{type_id}/extra_specs/{key}", **answers(None, 202))
def unset_extra_spec(project_id: str, type_id: str, key: str, request: Request) -> Response:
    """Remove one extra spec (administrators)."""
    basalt_of(request).types.unset_extra_spec(type_id, key, ctx=context_from(request))
    return Response(status_code=202)


@router.post("/{type_id}/action", **answers(None, 202))
def type_action(
    project_id: str, type_id: str, body: VolumeTypeActionRequest, request: Request
) -> Response:
    """addProjectAccess / removeProjectAccess ``{"project": ...}`` (administrators)."""
    access = body.add or body.remove
    assert access is not None
    basalt_of(request).types.share(
        type_id, access.project, grant=body.add is not None, ctx=context_from(request)
    )
    return Response(status_code=202)


@router.get("/{type_id}/os-volume-type-access", **answers(TypeAccessList))
def type_access(project_id: str, type_id: str, request: Request) -> dict[str, object]:
    """The projects a private type is shared with (administrators)."""
    types = basalt_of(request).types
    ctx = context_from(request)
    found = types.get(type_id, ctx=ctx)
    projects = types.projects(found.id, ctx=ctx)
    return {"volume_type_access": [{"volume_type_id": found.id, "project_id": p} for p in projects]}

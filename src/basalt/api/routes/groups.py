"""/v3/{project_id}/group_types (3.11), /groups (3.13), /groups/action create-from-src and
/group_snapshots (3.14): Cinder's generic volume groups.

Below its microversion each route answers 404, as Cinder's. ``list_volume`` (3.25), the
reset_status actions (3.19, 3.20) and the per-group replication actions (3.38) are
served at every version the routes have.
"""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from basalt.api.auth import context_from
from basalt.api.bodies import (
    GroupActionRequest,
    GroupCreateRequest,
    GroupFromSourceRequest,
    GroupSnapshotActionRequest,
    GroupSnapshotCreateRequest,
    GroupSpecsBody,
    GroupTypeCreateRequest,
    GroupTypeUpdateRequest,
    GroupUpdateRequest,
)
from basalt.api.filters import filtered_in_memory
from basalt.api.group_views import (
    GroupDetailList,
    GroupList,
    GroupSnapshotDetailList,
    GroupSnapshotList,
    GroupSpecs,
    GroupTypeList,
    OneGroup,
    OneGroupSnapshot,
    OneGroupType,
    ReplicationTargets,
    group_detail,
    group_snapshot_detail,
    group_snapshot_summary,
    group_summary,
    group_type_view,
)
from basalt.api.responses import LISTING_PAGE, answers, query
from basalt.api.routes.common import api_router, basalt_of, flag, in_pages, settle
from basalt.api.versions import (
    GROUP_SNAPSHOT_LISTING,
    GROUP_SNAPSHOTS,
    GROUP_TYPES,
    GROUPS,
    api_version,
    require_version,
)
from basalt.model import Volume
from basalt.model.group import Group, GroupSnapshot

type_router = api_router(prefix="/v3/{project_id}/group_types", tags=["group types"])
router = api_router(prefix="/v3/{project_id}/groups", tags=["groups"])
snapshot_router = api_router(prefix="/v3/{project_id}/group_snapshots", tags=["group snapshots"])
GROUP_SNAPSHOT_SORT_KEYS = frozenset({"id", "name", "status", "created_at", "group_id"})
GROUP_SNAPSHOT_QUERY = ("all_tenants", "group_id", "name", "status", *LISTING_PAGE, "offset")


# -- group types ---------------------------------------------------------------------


@type_router.post("", **answers(OneGroupType))
def create_group_type(
    project_id: str, body: GroupTypeCreateRequest, request: Request
) -> dict[str, object]:
    """Create a group type (administrators)."""
    require_version(request, GROUP_TYPES, "group types")
    spec = body.group_type
    made = basalt_of(request).group_types.create(
        spec.name,
        description=spec.description or "",
        is_public=spec.is_public,
        group_specs=spec.group_specs or {},
        ctx=context_from(request),
    )
    return {"group_type": group_type_view(made)}


@type_router.get("", **answers(GroupTypeList))
def list_group_types(project_id: str, request: Request) -> dict[str, object]:
    """The public group types (administrators: every one)."""
    require_version(request, GROUP_TYPES, "group types")
    found = basalt_of(request).group_types.list(ctx=context_from(request))
    return {"group_types": [group_type_view(t) for t in found]}


@type_router.get("/{group_type_id}", **answers(OneGroupType))
def show_group_type(project_id: str, group_type_id: str, request: Request) -> dict[str, object]:
    """One group type (by id or name)."""
    require_version(request, GROUP_TYPES, "group types")
    found = basalt_of(request).group_types.get(group_type_id, ctx=context_from(request))
    return {"group_type": group_type_view(found)}


@type_router.put("/{group_type_id}", **answers(OneGroupType))
def update_group_type(
    project_id: str, group_type_id: str, body: GroupTypeUpdateRequest, request: Request
) -> dict[str, object]:
    """Change name, description or visibility (administrators)."""
    require_version(request, GROUP_TYPES, "group types")
    spec = body.group_type
    changed = basalt_of(request).group_types.update(
        group_type_id,
        name=spec.name,
        description=spec.description,
        is_public=spec.is_public,
        ctx=context_from(request),
    )
    return {"group_type": group_type_view(changed)}


@type_router.delete("/{group_type_id}", **answers(None, 202))
def delete_group_type(project_id: str, group_type_id: str, request: Request) -> Response:
    """Delete a group type no group uses (administrators)."""
    require_version(request, GROUP_TYPES, "group types")
    basalt_of(request).group_types.delete(group_type_id, ctx=context_from(request))
    return Response(status_code=202)


@type_router.get("/{group_type_id}/group_specs", **answers(GroupSpecs))
def list_group_specs(project_id: str, group_type_id: str, request: Request) -> dict[str, object]:
    """Every group spec of the type."""
    require_version(request, GROUP_TYPES, "group types")
    found = basalt_of(request).group_types.get(group_type_id, ctx=context_from(request))
    return {"group_specs": dict(found.group_specs)}


@type_router.post("/{group_type_id}/group_specs", **answers(GroupSpecs))
def set_group_specs(
    project_id: str, group_type_id: str, body: GroupSpecsBody, request: Request
) -> dict[str, object]:
    """Add or change group specs (administrators)."""
    require_version(request, GROUP_TYPES, "group types")
    specs = basalt_of(request).group_types.set_specs(
        group_type_id, body.group_specs or {}, ctx=context_from(request)
    )
    return {"group_specs": specs}


@type_router.get("/{group_type_id}/group_specs/{key}", **answers(None, 200))
def show_group_spec(
    project_id: str, group_type_id: str, key: str, request: Request
) -> JSONResponse:
    """One group spec: ``{key: value}``."""
    require_version(request, GROUP_TYPES, "group types")
    found = basalt_of(request).group_types.get(group_type_id, ctx=context_from(request))
    if key not in found.group_specs:
        from basalt.errors import MetadataKeyNotFoundError

        raise MetadataKeyNotFoundError(
            key[:64], hint=f"group type {group_type_id} has no such spec"
        )
    return JSONResponse({key: found.group_specs[key]})


@type_router.delete("/{group_type_id}/group_specs/{key}", **answers(None, 202))
def delete_group_spec(project_id: str, group_type_id: str, key: str, request: Request) -> Response:
    """Remove one group spec (administrators)."""
    require_version(request, GROUP_TYPES, "group types")
    basalt_of(request).group_types.delete_spec(group_type_id, key, ctx=context_from(request))
    return Response(status_code=202)


# -- groups ----------------------------------------------------------------------------


@router.post("", **answers(OneGroup, 202))
def create_group(project_id: str, body: GroupCreateRequest, request: Request) -> JSONResponse:
    """Create an empty group of a group type and the volume types it allows."""
    require_version(request, GROUPS, "groups")
    spec = body.group
    handle = basalt_of(request).groups.create(
        group_type=spec.group_type,
        volume_types=spec.volume_types,
        name=spec.name or "",
        description=spec.description or "",
        availability_zone=spec.availability_zone or None,
        ctx=context_from(request),
    )
    return _accepted(settle(request, handle), handle.operation_id)


@router.post("/action", **answers(OneGroup, 202))
def create_group_from_src(
    project_id: str, body: GroupFromSourceRequest, request: Request
) -> JSONResponse:
    """A new group holding a copy of every member of a group snapshot or a source group."""
    require_version(request, GROUP_SNAPSHOTS, "create-from-src")
    spec = body.create_from_src
    handle = basalt_of(request).groups.create_from_src(
        group_snapshot_id=spec.group_snapshot_id,
        source_group_id=spec.source_group_id,
        name=spec.name or "",
        description=spec.description or "",
        ctx=context_from(request),
    )
    return _accepted(settle(request, handle), handle.operation_id)


@router.get("", **answers(GroupList), **query("all_tenants", "name", "status"))
def list_groups(project_id: str, request: Request) -> dict[str, object]:
    """The caller's groups (``all_tenants``: administrators, every project's)."""
    require_version(request, GROUPS, "groups")
    return {"groups": [group_summary(g) for g in _groups(request)]}


@router.get(
    "/detail", **answers(GroupDetailList), **query("all_tenants", "list_volume", "name", "status")
)
def list_groups_detail(project_id: str, request: Request) -> dict[str, object]:
    """The caller's groups with every field (``list_volume``: and their volumes' ids)."""
    require_version(request, GROUPS, "groups")
    found = _groups(request)
    volumes = _volumes_of(request, found)
    return {"groups": [group_detail(g, volumes=volumes) for g in found]}


@router.get("/{group_id}", **answers(OneGroup), **query("list_volume"))
def show_group(project_id: str, group_id: str, request: Request) -> dict[str, object]:
    """One group (``list_volume``: with its volumes' ids)."""
    require_version(request, GROUPS, "groups")
    found = basalt_of(request).groups.get(group_id, ctx=context_from(request))
    return {"group": group_detail(found, volumes=_volumes_of(request, [found]))}


@router.put("/{group_id}", **answers(OneGroup))
def update_group(
    project_id: str, group_id: str, body: GroupUpdateRequest, request: Request
) -> dict[str, object]:
    """Rename, or add and remove volumes (``add_volumes``/``remove_volumes``: ids
    separated by commas); a refusal changes nothing."""
    require_version(request, GROUPS, "groups")
    spec = body.group
    changed = basalt_of(request).groups.update(
        group_id,
        name=spec.name,
        description=spec.description,
        add_volumes=spec.add_volumes,
        remove_volumes=spec.remove_volumes,
        ctx=context_from(request),
    )
    return {"group": group_detail(changed)}


@router.post(
    "/{group_id}/action",
    response_model=None,
    response_class=Response,
    status_code=202,
    responses={
        202: {"description": "accepted (every action but list_replication_targets; no body)"},
        200: {
            "model": ReplicationTargets,
            "description": "list_replication_targets: the targets the group can fail over to",
        },
    },
)
def group_action(
    project_id: str, group_id: str, body: GroupActionRequest, request: Request
) -> Response:
    """``delete`` (``delete-volumes``: with its volumes), ``reset_status`` (admins), and
    the per-group replication actions: ``enable_replication``, ``disable_replication``,
    ``failover_replication`` (``secondary_backend_id``, ``default`` to fail back;
    ``allow_attached_volume``) and ``list_replication_targets``."""
    require_version(request, GROUPS, "groups")
    basalt, ctx = basalt_of(request), context_from(request)
    replication = basalt.group_replication
    if body.reset_status is not None:
        basalt.groups.reset_status(group_id, body.reset_status.status, ctx=ctx)
        return Response(status_code=202)
    if body.enable_replication is not None:
        replication.enable(group_id, ctx=ctx)
        return Response(status_code=202)
    if body.disable_replication is not None:
        replication.disable(group_id, ctx=ctx)
        return Response(status_code=202)
    if body.list_replication_targets is not None:
        targets = replication.targets(group_id, ctx=ctx)
        listed = [
            {"backend_id": t.backend_id, "interval_seconds": t.interval_seconds} for t in targets
        ]
        return JSONResponse({"replication_targets": listed})
    if body.failover_replication is not None:
        asked = body.failover_replication
        moving = replication.failover(
            group_id,
            asked.secondary_backend_id,
            allow_attached_volume=asked.allow_attached_volume,
            ctx=ctx,
        )
        settle(request, moving)
        return Response(status_code=202, headers={"x-basalt-operation-id": moving.operation_id})
    assert body.delete is not None, "the body names one action"
    handle = basalt.groups.delete(group_id, delete_volumes=body.delete.delete_volumes, ctx=ctx)
    settle(request, handle)
    return Response(status_code=202, headers={"x-basalt-operation-id": handle.operation_id})


def _groups(request: Request) -> list[Group]:
    found = basalt_of(request).groups.list(
        all_projects=flag(request.query_params.get("all_tenants")), ctx=context_from(request)
    )
    return filtered_in_memory(request, "group", found)


def _volumes_of(request: Request, groups: list[Group]) -> dict[str, list[Volume]] | None:
    if not flag(request.query_params.get("list_volume")):
        return None
    service, ctx = basalt_of(request).groups, context_from(request)
    return {g.id: service.volumes(g.id, ctx=ctx) for g in groups}


def _accepted(group: Group, operation_id: str) -> JSONResponse:
    return JSONResponse(
        status_code=202,
        content={"group": group_detail(group)},
        headers={"x-basalt-operation-id": operation_id},
    )


# -- group snapshots -------------------------------------------------------------------


@snapshot_router.post("", **answers(OneGroupSnapshot, 202))
def create_group_snapshot(
    project_id: str, body: GroupSnapshotCreateRequest, request: Request
) -> JSONResponse:
    """Snapshot every volume of a group as one point in time."""
    require_version(request, GROUP_SNAPSHOTS, "group snapshots")
    spec = body.group_snapshot
    handle = basalt_of(request).group_snapshots.create(
        spec.group_id,
        name=spec.name or "",
        description=spec.description or "",
        ctx=context_from(request),
    )
    made = settle(request, handle)
    return JSONResponse(
        status_code=202,
        content={"group_snapshot": group_snapshot_detail(made)},
        headers={"x-basalt-operation-id": handle.operation_id},
    )


@snapshot_router.get("", **answers(GroupSnapshotList), **query(*GROUP_SNAPSHOT_QUERY))
def list_group_snapshots(project_id: str, request: Request) -> dict[str, object]:
    """The caller's group snapshots (of one group with ``group_id``)."""
    require_version(request, GROUP_SNAPSHOTS, "group snapshots")
    return {"group_snapshots": [group_snapshot_summary(s) for s in _group_snapshots(request)]}


@snapshot_router.get("/detail", **answers(GroupSnapshotDetailList), **query(*GROUP_SNAPSHOT_QUERY))
def list_group_snapshots_detail(project_id: str, request: Request) -> dict[str, object]:
    """The caller's group snapshots with every field."""
    require_version(request, GROUP_SNAPSHOTS, "group snapshots")
    return {"group_snapshots": [group_snapshot_detail(s) for s in _group_snapshots(request)]}


@snapshot_router.get("/{group_snapshot_id}", **answers(OneGroupSnapshot))
def show_group_snapshot(
    project_id: str, group_snapshot_id: str, request: Request
) -> dict[str, object]:
    """One group snapshot."""
    require_version(request, GROUP_SNAPSHOTS, "group snapshots")
    found = basalt_of(request).group_snapshots.get(group_snapshot_id, ctx=context_from(request))
    return {"group_snapshot": group_snapshot_detail(found)}


@snapshot_router.delete("/{group_snapshot_id}", **answers(None, 202))
def delete_group_snapshot(project_id: str, group_snapshot_id: str, request: Request) -> Response:
    """Delete a group snapshot with its member snapshots."""
    require_version(request, GROUP_SNAPSHOTS, "group snapshots")
    handle = basalt_of(request).group_snapshots.delete(group_snapshot_id, ctx=context_from(request))
    settle(request, handle)
    return Response(status_code=202, headers={"x-basalt-operation-id": handle.operation_id})


@snapshot_router.post("/{group_snapshot_id}/action", **answers(None, 202))
def group_snapshot_action(
    project_id: str, group_snapshot_id: str, body: GroupSnapshotActionRequest, request: Request
) -> Response:
    """``reset_status`` (administrators)."""
    require_version(request, GROUP_SNAPSHOTS, "group snapshots")
    basalt_of(request).group_snapshots.reset_status(
        group_snapshot_id, body.reset_status.status, ctx=context_from(request)
    )
    return Response(status_code=202)


def _group_snapshots(request: Request) -> list[GroupSnapshot]:
    """Filtered by group_id, name and status (and from 3.34 ``name~``/``status~``),
    newest first; from 3.29 also sorted and paged (sort, sort_key/sort_dir, limit,
    marker, offset)."""
    params = request.query_params
    found = basalt_of(request).group_snapshots.list(
        group_id=params.get("group_id"),
        all_projects=flag(params.get("all_tenants")),
        ctx=context_from(request),
    )
    found = filtered_in_memory(request, "group_snapshot", found)
    if api_version(request) < GROUP_SNAPSHOT_LISTING:
        return found
    return in_pages(request, found, GROUP_SNAPSHOT_SORT_KEYS)

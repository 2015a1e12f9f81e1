"""Volume access group calls."""

from __future__ import annotations

from typing import Any

from basalt_emulators.solidfire import views
from basalt_emulators.solidfire.models import SolidFireBackend
from basalt_emulators.solidfire.models.records import AccessGroup
from basalt_emulators.solidfire.params import Params


def _group(backend: SolidFireBackend, group: AccessGroup) -> dict[str, Any]:
    return {"volumeAccessGroup": views.access_group_view(backend, group)}


def create_volume_access_group(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """CreateVolumeAccessGroup {name, initiators?, volumes?, attributes?}."""
    group = backend.create_access_group(
        params.req_str("name"),
        initiators=params.opt_str_list("initiators"),
        volume_ids=params.opt_int_list("volumes"),
        attributes=params.opt_object("attributes"),
    )
    return {"volumeAccessGroupID": group.access_group_id, **_group(backend, group)}


def list_volume_access_groups(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """ListVolumeAccessGroups {startVolumeAccessGroupID?, limit?, volumeAccessGroups?}."""
    start = params.opt_int("startVolumeAccessGroupID") or 0
    wanted = params.opt_int_list("volumeAccessGroups")
    groups = [
        g
        for i, g in sorted(backend.access_groups_by_id.items())
        if i >= start and (wanted is None or i in wanted)
    ]
    limit = params.opt_int("limit")
    groups = groups[:limit] if limit is not None else groups
    missing = [i for i in wanted or [] if i not in backend.access_groups_by_id]
    return {
        "volumeAccessGroups": [views.access_group_view(backend, g) for g in groups],
        "volumeAccessGroupsNotFound": missing,
    }


def add_initiators(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """AddInitiatorsToVolumeAccessGroup {volumeAccessGroupID, initiators}."""
    group = backend.add_initiators(
        params.req_int("volumeAccessGroupID"), params.req_str_list("initiators")
    )
    return _group(backend, group)


def remove_initiators(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """RemoveInitiatorsFromVolumeAccessGroup {volumeAccessGroupID, initiators}."""
    group = backend.remove_initiators(
        params.req_int("volumeAccessGroupID"), params.req_str_list("initiators")
    )
    return _group(backend, group)


def add_volumes(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """AddVolumesToVolumeAccessGroup {volumeAccessGroupID, volumes}."""
    group = backend.add_volumes(
        params.req_int("volumeAccessGroupID"), params.req_int_list("volumes")
    )
    return _group(backend, group)


def remove_volumes(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """RemoveVolumesFromVolumeAccessGroup {volumeAccessGroupID, volumes}."""
    group = backend.remove_volumes(
        params.req_int("volumeAccessGroupID"), params.req_int_list("volumes")
    )
    return _group(backend, group)


def delete_volume_access_group(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """DeleteVolumeAccessGroup {volumeAccessGroupID} -> {}."""
    backend.delete_access_group(params.req_int("volumeAccessGroupID"))
    return {}


HANDLERS = {
    "CreateVolumeAccessGroup": create_volume_access_group,
    "ListVolumeAccessGroups": list_volume_access_groups,
    "AddInitiatorsToVolumeAccessGroup": add_initiators,
    "RemoveInitiatorsFromVolumeAccessGroup": remove_initiators,
    "AddVolumesToVolumeAccessGroup": add_volumes,
    "RemoveVolumesFromVolumeAccessGroup": remove_volumes,
    "DeleteVolumeAccessGroup": delete_volume_access_group,
}

"""Snapshot and group snapshot calls."""

from __future__ import annotations

from typing import Any

from basalt_emulators.solidfire import views
from basalt_emulators.solidfire.errors import MissingParameterError
from basalt_emulators.solidfire.models import SolidFireBackend
from basalt_emulators.solidfire.params import Params


def create_snapshot(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """CreateSnapshot {volumeID, name?, attributes?, enableRemoteReplication?} -> {snapshotID}."""
    snapshot = backend.create_snapshot(
        params.req_int("volumeID"),
        name=params.opt_str("name"),
        attributes=params.opt_object("attributes"),
        enable_remote_replication=params.flag("enableRemoteReplication", default=False),
    )
    return {
        "snapshotID": snapshot.snapshot_id,
        "checksum": snapshot.checksum,
        "snapshot": views.snapshot_view(backend, snapshot),
    }


def list_snapshots(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """ListSnapshots {volumeID?, snapshotID?} -> {snapshots}."""
    volume_id = params.opt_int("volumeID")
    snapshot_id = params.opt_int("snapshotID")
    if volume_id is not None:
        backend.get_volume(volume_id)
    found = [
        s
        for i, s in sorted(backend.snapshots_by_id.items())
        if (volume_id is None or s.volume_id == volume_id)
        and (snapshot_id is None or i == snapshot_id)
    ]
    return {"snapshots": [views.snapshot_view(backend, s) for s in found]}


def delete_snapshot(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """DeleteSnapshot {snapshotID} -> {}."""
    backend.delete_snapshot(params.req_int("snapshotID"))
    return {}


def rollback_to_snapshot(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """RollbackToSnapshot {volumeID, snapshotID, saveCurrentState, name?, attributes?}."""
    if "saveCurrentState" not in params:
        raise MissingParameterError("saveCurrentState")
    saved = backend.rollback_to_snapshot(
        params.req_int("volumeID"),
        snapshot_id=params.req_int("snapshotID"),
        save_current_state=params.flag("saveCurrentState", default=False),
        name=params.opt_str("name"),
        attributes=params.opt_object("attributes"),
    )
    if saved is None:
        return {"snapshotID": 0, "checksum": "0x0"}
    return {
        "snapshotID": saved.snapshot_id,
        "checksum": saved.checksum,
        "snapshot": views.snapshot_view(backend, saved),
    }


def create_group_snapshot(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """CreateGroupSnapshot {volumes, name?, attributes?, enableRemoteReplication?}."""
    group = backend.create_group_snapshot(
        params.req_int_list("volumes"),
        name=params.opt_str("name"),
        attributes=params.opt_object("attributes"),
        enable_remote_replication=params.flag("enableRemoteReplication", default=False),
    )
    members = [backend.snapshots_by_id[m] for m in group.member_ids]
    return {
        "groupSnapshotID": group.group_snapshot_id,
        "groupSnapshotUUID": group.group_snapshot_uuid,
        "members": [
            {
                "volumeID": s.volume_id,
                "snapshotID": s.snapshot_id,
                "snapshotUUID": s.snapshot_uuid,
                "checksum": s.checksum,
            }
            for s in members
        ],
        "groupSnapshot": views.group_snapshot_view(backend, group),
    }


def list_group_snapshots(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """ListGroupSnapshots {volumes? (or volumeID?), groupSnapshotID?} -> {groupSnapshots}."""
    volumes = params.opt_int_list("volumes")
    single = params.opt_int("volumeID")
    if single is not None:
        volumes = [*(volumes or []), single]
    group_id = params.opt_int("groupSnapshotID")
    found = []
    for i, group in sorted(backend.group_snapshots_by_id.items()):
        member_volumes = {backend.snapshots_by_id[m].volume_id for m in group.member_ids}
        if group_id is not None and i != group_id:
            continue
        if volumes is not None and not member_volumes & set(volumes):
            continue
        found.append(views.group_snapshot_view(backend, group))
    return {"groupSnapshots": found}


def delete_group_snapshot(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """DeleteGroupSnapshot {groupSnapshotID, saveMembers?} -> {}."""
    backend.delete_group_snapshot(
        params.req_int("groupSnapshotID"),
        save_members=params.flag("saveMembers", default=False),
    )
    return {}


HANDLERS = {
    "CreateSnapshot": create_snapshot,
    "ListSnapshots": list_snapshots,
    "DeleteSnapshot": delete_snapshot,
    "RollbackToSnapshot": rollback_to_snapshot,
    "CreateGroupSnapshot": create_group_snapshot,
    "ListGroupSnapshots": list_group_snapshots,
    "DeleteGroupSnapshot": delete_group_snapshot,
}

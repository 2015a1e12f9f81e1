"""Volume calls: create, modify, delete/restore/purge, clone, listings, stats."""

from __future__ import annotations

from typing import Any

from basalt_emulators.solidfire import views
from basalt_emulators.solidfire.models import SolidFireBackend
from basalt_emulators.solidfire.models.records import Access, Volume, VolumeStatus
from basalt_emulators.solidfire.params import Params


def _volumes(backend: SolidFireBackend, records: list[Volume]) -> dict[str, Any]:
    return {"volumes": [views.volume_view(backend, v) for v in records]}


def create_volume(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """CreateVolume {name, accountID, totalSize, enable512e?, qos?, attributes?}."""
    volume = backend.create_volume(
        name=params.req_str("name"),
        account_id=params.req_int("accountID"),
        total_size_bytes=params.req_int("totalSize"),
        enable512e=params.flag("enable512e", default=False),
        qos=params.opt_object("qos"),
        attributes=params.opt_object("attributes"),
    )
    view = views.volume_view(backend, volume)
    return {"volumeID": volume.volume_id, "volume": view, "curve": view["qos"]["curve"]}


def modify_volume(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """ModifyVolume {volumeID, accountID?, access?, attributes?, qos?, totalSize?}."""
    volume = backend.modify_volume(
        params.req_int("volumeID"),
        account_id=params.opt_int("accountID"),
        access=params.opt_enum("access", Access),
        attributes=params.opt_object("attributes"),
        qos=params.opt_object("qos"),
        total_size_bytes=params.opt_int("totalSize"),
    )
    view = views.volume_view(backend, volume)
    return {"volume": view, "curve": view["qos"]["curve"]}


def delete_volume(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """DeleteVolume {volumeID} -> {volume} (status "deleted")."""
    volume = backend.delete_volume(params.req_int("volumeID"))
    return {"volume": views.volume_view(backend, volume)}


def restore_deleted_volume(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """RestoreDeletedVolume {volumeID} -> {}."""
    backend.restore_deleted_volume(params.req_int("volumeID"))
    return {}


def purge_deleted_volume(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """PurgeDeletedVolume {volumeID} -> {} (only deleted volumes)."""
    backend.purge_deleted_volume(params.req_int("volumeID"))
    return {}


def clone_volume(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """CloneVolume {volumeID, name, newAccountID?, newSize?, access?, snapshotID?, attributes?}."""
    outcome = backend.clone_volume(
        params.req_int("volumeID"),
        name=params.req_str("name"),
        new_account_id=params.opt_int("newAccountID"),
        new_size_bytes=params.opt_int("newSize"),
        access=params.opt_enum("access", Access),
        snapshot_id=params.opt_int("snapshotID"),
        attributes=params.opt_object("attributes"),
    )
    view = views.volume_view(backend, outcome.volume)
    return {
        "volumeID": outcome.volume.volume_id,
        "cloneID": outcome.clone_id,
        "asyncHandle": outcome.async_handle,
        "volume": view,
        "curve": view["qos"]["curve"],
    }


def list_active_volumes(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """ListActiveVolumes {startVolumeID?, limit?} -> {volumes}."""
    return _volumes(
        backend,
        backend.list_volume_records(
            start_volume_id=params.opt_int("startVolumeID") or 0,
            limit=params.opt_int("limit"),
            status=VolumeStatus.ACTIVE,
        ),
    )


def list_deleted_volumes(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """ListDeletedVolumes -> {volumes}."""
    return _volumes(backend, backend.list_volume_records(status=VolumeStatus.DELETED))


def list_volumes_for_account(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """ListVolumesForAccount {accountID, startVolumeID?, limit?} -> active and deleted."""
    account_id = backend.get_account(params.req_int("accountID")).account_id
    records = [
        v
        for v in backend.list_volume_records(start_volume_id=params.opt_int("startVolumeID") or 0)
        if v.account_id == account_id
    ]
    limit = params.opt_int("limit")
    return _volumes(backend, records[:limit] if limit is not None else records)


def list_volumes(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """ListVolumes {startVolumeID?, limit?, volumeStatus?, accounts?, isPaired?, volumeIDs?,
    volumeName?} -> {volumes} (active and deleted unless volumeStatus says otherwise)."""
    status = params.opt_enum("volumeStatus", VolumeStatus)
    accounts = params.opt_int_list("accounts")
    ids = params.opt_int_list("volumeIDs")
    name = params.opt_str("volumeName")
    paired = params.opt_flag("isPaired")
    records = [
        v
        for v in backend.list_volume_records(
            start_volume_id=params.opt_int("startVolumeID") or 0, status=status
        )
        if (accounts is None or v.account_id in accounts)
        and (ids is None or v.volume_id in ids)
        and (name is None or v.name == name)
        and (paired is None or bool(backend.volume_pairs(v.volume_id)) == paired)
    ]
    limit = params.opt_int("limit")
    return _volumes(backend, records[:limit] if limit is not None else records)


def get_volume_stats(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """GetVolumeStats {volumeID} -> {volumeStats}."""
    volume = backend.get_volume(params.req_int("volumeID"))
    return {"volumeStats": views.volume_stats_view(backend, volume)}


HANDLERS = {
    "CreateVolume": create_volume,
    "ModifyVolume": modify_volume,
    "DeleteVolume": delete_volume,
    "RestoreDeletedVolume": restore_deleted_volume,
    "PurgeDeletedVolume": purge_deleted_volume,
    "CloneVolume": clone_volume,
    "ListActiveVolumes": list_active_volumes,
    "ListDeletedVolumes": list_deleted_volumes,
    "ListVolumesForAccount": list_volumes_for_account,
    "ListVolumes": list_volumes,
    "GetVolumeStats": get_volume_stats,
}

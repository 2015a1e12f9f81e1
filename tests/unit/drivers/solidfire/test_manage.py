"""Manage and unmanage on SolidFire: claims by attribute, references by id or name."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from basalt.drivers.solidfire import SolidFireClient, SolidFireDriver
from basalt.drivers.types import GIB, SnapshotRef, VolumeRef
from basalt.errors import ManageExistingInvalidReferenceError, NotSupportedError
from basalt_emulators.solidfire import SolidFireBackend

POOL = "default"


def foreign_volume(client: SolidFireClient, name: str, size_bytes: int = GIB) -> int:
    found = client.call("ListAccounts", {})["accounts"]
    owner = next((a["accountID"] for a in found if a["username"] == "legacy"), None)
    if owner is None:
        owner = client.call("AddAccount", {"username": "legacy", "initiatorSecret": "l" * 12})[
            "accountID"
        ]
    params = {"name": name, "accountID": owner, "totalSize": size_bytes, "attributes": {"k": "v"}}
    return int(client.call("CreateVolume", params)["volumeID"])


def record(backend: SolidFireBackend, volume_id: int) -> dict[str, Any]:
    (found,) = [v for v in backend.active_volumes() if v["volumeID"] == volume_id]
    return found


def new_volume(project: str = "p1") -> VolumeRef:
    return VolumeRef(id=str(uuid.uuid4()), size_gib=1, pool=POOL, project_id=project)


def test_manage_by_id_claims_moves_and_grows_the_volume(
    backend: SolidFireBackend, driver: SolidFireDriver, client: SolidFireClient
) -> None:
    legacy = foreign_volume(client, "db-disk", size_bytes=1_500_000_000)
    assert driver.manage_volume_get_size(POOL, {"source-id": str(legacy)}) == 2
    volume = new_volume()
    update = driver.manage_volume(volume, {"source-id": str(legacy)})
    found = record(backend, legacy)
    owner = {a["accountID"]: a["username"] for a in backend.accounts()}[found["accountID"]]
    assert (update.size_gib, owner, found["totalSize"]) == (2, "basalt-p1", 2 * GIB)
    assert update.provider_location == f"{legacy} {found['accountID']} {backend.cluster_uuid}"
    attributes = found["attributes"]
    assert attributes["basalt-name"] == f"UUID-{volume.id}" and attributes["uuid"] == volume.id
    assert attributes["old_name"] == "db-disk" and attributes["os_imported_at"]
    assert attributes["k"] == "v" and found["name"] == "db-disk"  # Element cannot rename
    assert driver.volume_exists(volume) and driver.list_stored_objects().volume_ids == {volume.id}


def test_unmanage_releases_the_claim_and_the_volume_can_be_managed_again(
    backend: SolidFireBackend, driver: SolidFireDriver, client: SolidFireClient
) -> None:
    made = new_volume()
    driver.create_volume(made)  # a volume Basalt made can be released too
    driver.unmanage_volume(made)
    driver.unmanage_volume(made)  # nothing left to release: fine
    (released,) = driver.list_manageable_volumes(POOL)
    assert released.safe_to_manage and released.basalt_id is None
    assert released.reference == {"source-name": f"UUID-{made.id}"}
    assert not driver.volume_exists(made) and not driver.list_stored_objects().volume_ids
    (found,) = backend.active_volumes()
    assert found["attributes"]["basalt-name"] == "" and found["attributes"]["os_exported_at"]
    again = new_volume(project="p2")
    driver.manage_volume(again, released.reference)
    assert driver.volume_exists(again) and not driver.volume_exists(made)
    driver.delete_volume(again)
    assert not backend.active_volumes() and not backend.deleted_volumes()


def test_listing_marks_what_is_not_safe_and_refers_to_shared_names_by_id(
    driver: SolidFireDriver, client: SolidFireClient
) -> None:
    twins = [foreign_volume(client, "twin") for _ in range(2)]
    read_only = foreign_volume(client, "ro")
    client.call("ModifyVolume", {"volumeID": read_only, "access": "readOnly"})
    managed = new_volume()
    driver.create_volume(managed)
    listed = {str(m.reference): m for m in driver.list_manageable_volumes(POOL)}
    for twin in twins:
        assert listed[str({"source-id": str(twin)})].safe_to_manage
    assert "readOnly" in (listed[str({"source-name": "ro"})].reason_not_safe or "")
    mine = listed[str({"source-name": f"UUID-{managed.id}"})]
    assert (mine.safe_to_manage, mine.reason_not_safe, mine.basalt_id) == (
        False,
        "already managed",
        managed.id,
    )
    with pytest.raises(ManageExistingInvalidReferenceError, match="2 volumes are named 'twin'"):
        driver.manage_volume_get_size(POOL, {"source-name": "twin"})


def test_snapshots_are_listed_and_sized_but_not_adopted(
    driver: SolidFireDriver, client: SolidFireClient
) -> None:
    base = foreign_volume(client, "base", size_bytes=1_200_000_000)
    client.call("CreateSnapshot", {"volumeID": base, "name": "nightly"})
    (listed,) = driver.list_manageable_snapshots(POOL)
    assert listed.reference == {"source-name": "nightly"} and listed.size_gib == 2
    assert not listed.safe_to_manage and "cannot rename" in (listed.reason_not_safe or "")
    assert driver.manage_snapshot_get_size(POOL, {"source-name": "nightly"}) == 2
    volume = new_volume()
    driver.create_volume(volume)
    snapshot = SnapshotRef(id=str(uuid.uuid4()), volume_id=volume.id, size_gib=1, pool=POOL)
    with pytest.raises(NotSupportedError, match="managing existing snapshots"):
        driver.manage_snapshot(snapshot, volume, {"source-name": "nightly"})
    with pytest.raises(NotSupportedError):
        driver.unmanage_snapshot(snapshot)

"""accept_transfer on SolidFire: the volume (and so its snapshots) moves to the new account."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest

from basalt.drivers.base import SupportsTransfer
from basalt.drivers.file import FileDriver
from basalt.drivers.solidfire import SolidFireClient, SolidFireDriver
from basalt.drivers.types import ChapCredentials, Connector, ExportSpec, SnapshotRef, VolumeRef
from basalt.errors import DriverError
from basalt_emulators.solidfire import SolidFireBackend

from .test_manage import foreign_volume

POOL = "default"
EXPORT = ExportSpec(initiators=frozenset({"iqn.2026-12.test:h"}), chap=ChapCredentials("u", "s"))


def new_volume(project: str = "p1") -> VolumeRef:
    return VolumeRef(id=str(uuid.uuid4()), size_gib=1, pool=POOL, project_id=project)


def owner_of(backend: SolidFireBackend, volume_id: int) -> str:
    accounts = {a["accountID"]: a["username"] for a in backend.accounts()}
    (found,) = [v for v in backend.active_volumes() if v["volumeID"] == volume_id]
    return accounts[found["accountID"]]


def element_id(update: Any) -> int:
    return int(update.provider_location.split()[0])


def test_the_drivers_that_need_the_hook_offer_it(tmp_path: Any, driver: SolidFireDriver) -> None:
    assert isinstance(driver, SupportsTransfer)
    file_driver = FileDriver(backend_name="f", pools={"default": tmp_path})
    assert not isinstance(file_driver, SupportsTransfer)


def test_the_volume_and_its_snapshots_move_to_the_new_projects_account(
    backend: SolidFireBackend, driver: SolidFireDriver
) -> None:
    volume = new_volume("p1")
    made = replace(volume, provider_location=driver.create_volume(volume).provider_location)
    snap = SnapshotRef(id=str(uuid.uuid4()), volume_id=volume.id, size_gib=1, pool=POOL)
    driver.create_snapshot(snap, made)
    assert {a["username"] for a in backend.accounts()} == {"basalt-p1"}

    update = driver.accept_transfer(made, "p2")

    assert update is not None and update.provider_location is not None
    new_account = {a["username"]: a["accountID"] for a in backend.accounts()}["basalt-p2"]
    assert update.provider_location == (
        f"{element_id(update)} {new_account} {backend.cluster_uuid}"
    )
    assert owner_of(backend, element_id(update)) == "basalt-p2"
    moved = replace(made, project_id="p2", provider_location=update.provider_location)
    assert driver.volume_exists(moved)
    assert driver.snapshot_exists(replace(snap, project_id="p2"))
    info = driver.connect(moved, Connector(host="h", initiator="iqn.2026-12.test:h"), EXPORT)
    assert info.data["auth_username"] == "basalt-p2"  # the new project's hosts log in


def test_a_rerun_changes_nothing_and_the_swap_undoes_it(
    backend: SolidFireBackend, driver: SolidFireDriver
) -> None:
    volume = new_volume("p1")
    made = replace(volume, provider_location=driver.create_volume(volume).provider_location)
    first = driver.accept_transfer(made, "p2")
    calls = backend.call_counts["ModifyVolume"]
    assert driver.accept_transfer(made, "p2") == first  # after a crash: the ref still says p1
    assert backend.call_counts["ModifyVolume"] == calls
    assert first is not None
    moved = replace(made, project_id="p2", provider_location=first.provider_location)
    back = driver.accept_transfer(moved, "p1")
    assert back is not None and back.provider_location == made.provider_location
    assert owner_of(backend, element_id(back)) == "basalt-p1"


def test_a_managed_volume_is_found_in_either_account(
    backend: SolidFireBackend, driver: SolidFireDriver, client: SolidFireClient
) -> None:
    legacy = foreign_volume(client, "legacy-db")
    volume = new_volume("p1")
    driver.manage_volume(volume, {"source-id": str(legacy)})
    driver.accept_transfer(volume, "p2")
    assert owner_of(backend, legacy) == "basalt-p2"
    update = driver.accept_transfer(volume, "p2")  # found through p2's account now
    assert update is not None and element_id(update) == legacy
    assert driver.volume_exists(replace(volume, project_id="p2"))


def test_a_missing_volume_or_a_refusal_is_a_driver_error(
    backend: SolidFireBackend, driver: SolidFireDriver
) -> None:
    with pytest.raises(DriverError, match="cannot transfer volume"):
        driver.accept_transfer(new_volume("p1"), "p2")
    volume = new_volume("p1")
    driver.create_volume(volume)
    backend.faults.inject("xPermissionDenied", method="ModifyVolume", times=20)
    with pytest.raises(DriverError):
        driver.accept_transfer(volume, "p2")
    backend.faults.clear()
    (found,) = backend.active_volumes()
    assert owner_of(backend, found["volumeID"]) == "basalt-p1"

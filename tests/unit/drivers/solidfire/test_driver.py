"""SolidFire driver behaviour the contract suite does not pin: naming, accounts, recovery."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import httpx
import pytest

from basalt.drivers.base import SupportsManage
from basalt.drivers.solidfire import SolidFireClient, SolidFireDriver, SolidFireOptions
from basalt.drivers.solidfire.errors import SolidFireVersionError
from basalt.drivers.types import (
    GIB,
    ChapCredentials,
    Connector,
    ExportSpec,
    SnapshotRef,
    VolumeRef,
    no_progress,
)
from basalt.errors import DriverError, PoolNotFoundError
from basalt_emulators.solidfire import SolidFireBackend, SolidFireTransport

from .conftest import ClientFactory

POOL = "default"


def new_volume(size_gib: int = 1, project: str = "p1") -> VolumeRef:
    return VolumeRef(id=str(uuid.uuid4()), size_gib=size_gib, pool=POOL, project_id=project)


def new_snapshot(volume: VolumeRef) -> SnapshotRef:
    return SnapshotRef(
        id=str(uuid.uuid4()), volume_id=volume.id, size_gib=volume.size_gib, pool=POOL
    )


def volumes(backend: SolidFireBackend) -> list[dict[str, Any]]:
    return list(backend.active_volumes())


def only_volume(backend: SolidFireBackend, name: str) -> dict[str, Any]:
    (found,) = [v for v in backend.active_volumes() if v["name"] == name]
    return found


def test_setup_reads_the_cluster_and_refuses_an_old_api(
    backend: SolidFireBackend, client: SolidFireClient
) -> None:
    driver = SolidFireDriver(backend_name="sf-unit", client=client)
    driver.setup()
    assert driver.cluster.uuid == backend.cluster_uuid
    assert driver.cluster.iscsi_portal == "127.0.0.1:3260"
    backend.api_version = "7.0"
    with pytest.raises(SolidFireVersionError, match="speaks Element API 7.0; Basalt needs 8.0"):
        driver.check_setup()


def test_a_project_gets_one_account_with_chap_secrets_on_first_use(
    backend: SolidFireBackend, driver: SolidFireDriver
) -> None:
    for _ in range(3):
        driver.create_volume(new_volume(project="p1"))
    driver.create_volume(new_volume(project="p2"))
    accounts = {a["username"]: a for a in backend.accounts()}
    assert set(accounts) == {"basalt-p1", "basalt-p2"}
    secret = accounts["basalt-p1"]["targetSecret"]
    assert len(secret) == 12 and secret.isalnum()
    assert backend.call_counts["AddAccount"] == 2


def test_concurrent_first_creates_of_a_project_share_one_account(
    backend: SolidFireBackend, driver: SolidFireDriver
) -> None:
    errors: list[BaseException] = []

    def create() -> None:
        try:
            driver.create_volume(new_volume(project="busy"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert [a["username"] for a in backend.accounts()] == ["basalt-busy"]
    assert len(volumes(backend)) == 6


def test_create_names_the_volume_and_returns_the_provider_id(
    backend: SolidFireBackend, driver: SolidFireDriver
) -> None:
    volume = new_volume(size_gib=2)
    update = driver.create_volume(volume)
    found = only_volume(backend, f"UUID-{volume.id}")
    assert update.provider_location == (
        f"{found['volumeID']} {found['accountID']} {backend.cluster_uuid}"
    )
    assert found["totalSize"] == 2 * GIB and found["enable512e"] is True
    assert found["attributes"]["uuid"] == volume.id
    assert found["attributes"]["is_clone"] == "False" and found["attributes"]["created_at"]
    assert driver.create_volume(volume) == update  # a finished re-run is fine
    with pytest.raises(DriverError, match="exists with"):
        driver.create_volume(VolumeRef(id=volume.id, size_gib=3, pool=POOL, project_id="p1"))


def test_the_pool_must_be_the_clusters(driver: SolidFireDriver) -> None:
    with pytest.raises(PoolNotFoundError):
        driver.create_volume(VolumeRef(id=str(uuid.uuid4()), size_gib=1, pool="gold"))


@pytest.mark.parametrize("fault", ["late", "drop"])
@pytest.mark.parametrize("method", ["CreateVolume", "CloneVolume", "CreateSnapshot"])
def test_a_create_that_gets_no_answer_makes_exactly_one_object(
    backend: SolidFireBackend, driver: SolidFireDriver, method: str, fault: str
) -> None:
    source = new_volume()
    driver.create_volume(source)
    if fault == "late":
        backend.faults.read_timeout(method=method, seconds=0.5, times=1)
    else:
        backend.faults.drop_connection(method=method, times=1)
    if method == "CreateSnapshot":
        snapshot = new_snapshot(source)
        update = driver.create_snapshot(snapshot, source)
        (made,) = [s for s in backend.snapshots() if s["name"] == f"UUID-{snapshot.id}"]
        assert update.provider_location and update.provider_location.startswith(
            f"{made['snapshotID']} "
        )
    else:
        target = new_volume()
        if method == "CreateVolume":
            driver.create_volume(target)
        else:
            driver.clone_volume(target, source, progress=no_progress)
        only_volume(backend, f"UUID-{target.id}")
    assert backend.call_counts[method] == (1 if fault == "late" else 2) + (method == "CreateVolume")


class LandsLate(httpx.BaseTransport):
    """The first CreateVolume gets no answer and reaches the cluster only with the next one.

    That is a request stuck in the network: the driver sees nothing for it while it
    looks, decides it was lost, and sends CreateVolume again; both then land.
    """

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.held: httpx.Request | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if b'"CreateVolume"' in request.read():
            if self.held is None:
                self.held = request
                raise httpx.RemoteProtocolError("connection reset", request=request)
            self.inner.handle_request(self.held)
        return self.inner.handle_request(request)


def test_a_lost_create_that_lands_late_leaves_one_volume(
    backend: SolidFireBackend, make_client: ClientFactory
) -> None:
    client = make_client(transport=LandsLate(SolidFireTransport(backend)))
    options = SolidFireOptions(poll_interval_seconds=0.01, settle_seconds=0.05)
    driver = SolidFireDriver(backend_name="sf-unit", client=client, options=options)
    volume = new_volume()
    driver.create_volume(volume)
    assert backend.call_counts["CreateVolume"] == 2
    assert [v["name"] for v in volumes(backend)] == [f"UUID-{volume.id}"]
    assert not backend.deleted_volumes()  # the extra copy was purged
    assert driver.volume_exists(volume)


def test_delete_purges_and_finishes_an_interrupted_delete(
    backend: SolidFireBackend, driver: SolidFireDriver
) -> None:
    volume = new_volume()
    driver.create_volume(volume)
    volume_id = only_volume(backend, f"UUID-{volume.id}")["volumeID"]
    driver.client.call("DeleteVolume", {"volumeID": volume_id})  # a crash before the purge
    assert backend.deleted_volumes()
    driver.delete_volume(volume)
    assert not backend.deleted_volumes() and not volumes(backend)
    assert not backend.volume_path(volume_id).exists()


def test_extend_to_the_same_size_sends_nothing(
    backend: SolidFireBackend, driver: SolidFireDriver
) -> None:
    volume = new_volume(size_gib=2)
    driver.create_volume(volume)
    driver.extend_volume(volume, 2)
    assert backend.call_counts["ModifyVolume"] == 0
    driver.extend_volume(volume, 4)
    assert only_volume(backend, f"UUID-{volume.id}")["totalSize"] == 4 * GIB


def test_copies_land_in_the_new_volumes_project_account(
    backend: SolidFireBackend, driver: SolidFireDriver
) -> None:
    source = new_volume(project="p1")
    driver.create_volume(source)
    snapshot = new_snapshot(source)
    driver.create_snapshot(snapshot, source)
    clone, restored = new_volume(project="p2"), new_volume(size_gib=2, project="p3")
    driver.clone_volume(clone, source, progress=no_progress)
    driver.create_volume_from_snapshot(restored, snapshot, progress=no_progress)
    owners = {a["accountID"]: a["username"] for a in backend.accounts()}
    for volume, project in ((clone, "p2"), (restored, "p3")):
        found = only_volume(backend, f"UUID-{volume.id}")
        assert owners[found["accountID"]] == f"basalt-{project}"
        assert found["attributes"]["basalt-name"] == f"UUID-{volume.id}"
        assert found["attributes"]["uuid"] == volume.id  # not the source's
        assert found["attributes"]["is_clone"] == "True"


def test_connection_info_has_the_accounts_chap_and_the_svip_portal(
    backend: SolidFireBackend, driver: SolidFireDriver
) -> None:
    volume = new_volume()
    driver.create_volume(volume)
    initiator = "iqn.1993-08.org.debian:01:abc"
    unused = ChapCredentials(username="basalt-side", secret="not-used-by-element")
    info = driver.connect(
        volume,
        Connector(host="h1", initiator=initiator),
        ExportSpec(initiators=frozenset({initiator}), chap=unused),
    )
    found = only_volume(backend, f"UUID-{volume.id}")
    (account,) = backend.accounts()
    assert info.driver_volume_type == "iscsi"
    data = info.data
    assert (data["target_iqn"], data["target_portal"], data["target_lun"]) == (
        found["iqn"],
        "127.0.0.1:3260",
        0,
    )
    assert (data["auth_method"], data["auth_username"], data["auth_password"]) == (
        "CHAP",
        "basalt-p1",
        account["targetSecret"],
    )


def test_stats_come_from_cluster_capacity(
    backend: SolidFireBackend, driver: SolidFireDriver
) -> None:
    driver.create_volume(new_volume(size_gib=5))
    (pool,) = driver.get_stats().pools
    assert pool.name == POOL and pool.thin_provisioning and not pool.reflink
    assert pool.total_capacity_gib == backend.max_used_space_bytes / GIB
    assert pool.provisioned_capacity_gib == 5
    assert pool.location == f"solidfire://127.0.0.1/{backend.cluster_uuid}"


def test_stored_objects_ignore_volumes_basalt_did_not_name(
    driver: SolidFireDriver, client: SolidFireClient
) -> None:
    account = client.call("AddAccount", {"username": "other", "initiatorSecret": "x" * 12})
    for name in ("UUID-not-a-uuid", "legacy", f"other-{uuid.uuid4()}"):
        client.call(
            "CreateVolume", {"name": name, "accountID": account["accountID"], "totalSize": GIB}
        )
    volume = new_volume()
    driver.create_volume(volume)
    assert driver.list_stored_objects().volume_ids == {volume.id}


def test_the_driver_supports_manage(driver: SolidFireDriver) -> None:
    assert isinstance(driver, SupportsManage)


def test_update_provider_info_reports_only_what_changed(
    backend: SolidFireBackend, driver: SolidFireDriver
) -> None:
    volume, gone = new_volume(), new_volume()
    stored = driver.create_volume(volume).provider_location
    snapshot = new_snapshot(volume)
    driver.create_snapshot(snapshot, volume)
    stale = VolumeRef(id=volume.id, size_gib=1, pool=POOL, provider_location="1 99 old")
    volumes, snapshots = driver.update_provider_info([stale, gone], [snapshot])
    assert volumes == {volume.id: stored}
    (taken,) = backend.snapshots()
    assert snapshots == {
        snapshot.id: f"{taken['snapshotID']} {taken['volumeID']} {backend.cluster_uuid}"
    }
    same = VolumeRef(id=volume.id, size_gib=1, pool=POOL, provider_location=stored)
    assert driver.update_provider_info([same], []) == ({}, {})

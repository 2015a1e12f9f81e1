"""The Python surface that driver tests rely on: names, helpers, reset, thread safety."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

import basalt_emulators.solidfire as solidfire
from basalt_emulators.solidfire import SolidFireBackend, SolidFireTransport, serve_https

from .conftest import GIB, Element


def test_public_names() -> None:
    for name in solidfire.__all__:
        assert hasattr(solidfire, name), name
    assert issubclass(SolidFireTransport, httpx.BaseTransport)
    assert callable(serve_https)


def test_every_routed_method_is_listed_in_the_coverage_table() -> None:
    coverage = (Path(solidfire.__file__).parent / "COVERAGE.md").read_text()
    for method in solidfire.METHODS:
        assert f"| {method} |" in coverage, method


def test_listing_helpers_return_wire_shapes(local: Element) -> None:
    backend = local.backend
    account = local.account()
    first = local.volume(account, name="a")
    second = local.volume(account, name="b")
    local.call("CreateSnapshot", volumeID=first, name="s")
    local.call("CreateGroupSnapshot", volumes=[first, second], name="g")
    local.call("CreateVolumeAccessGroup", name="vag", volumes=[first])
    local.call("DeleteVolume", volumeID=second)
    assert [v["volumeID"] for v in backend.active_volumes()] == [first]
    assert [v["volumeID"] for v in backend.deleted_volumes()] == [second]
    assert [a["username"] for a in backend.accounts()] == ["tenant-1"]
    assert [s["name"] for s in backend.snapshots()] == ["s", "g", "g"]
    assert [g["name"] for g in backend.group_snapshots()] == ["g"]
    assert [g["volumes"] for g in backend.access_groups()] == [[first]]
    assert backend.volume_path(first).exists()


def test_reset_forgets_everything_but_the_identity(local: Element) -> None:
    backend = local.backend
    identity = (backend.cluster_uuid, backend.unique_id, backend.cluster_name)
    volume = local.volume(local.account())
    snapshot = local.call("CreateSnapshot", volumeID=volume)["snapshotID"]
    backend.faults.inject("xDBVersionMismatch", method="CreateVolume")
    backend.reset()
    assert backend.active_volumes() == [] and backend.accounts() == []
    assert not backend.volume_path(volume).exists()
    assert not backend.snapshot_path(snapshot).exists()
    assert backend.call_counts == {}
    assert backend.faults.rules == []
    assert (backend.cluster_uuid, backend.unique_id, backend.cluster_name) == identity
    assert local.volume(local.account()) == 1


def test_call_counts_include_failures(local: Element) -> None:
    local.error("GetAccountByID", accountID=5)
    local.post("NoSuchMethod", {})
    local.call("ListAccounts")
    counts = local.backend.call_counts
    assert (counts["GetAccountByID"], counts["NoSuchMethod"], counts["ListAccounts"]) == (1, 1, 1)


def test_concurrent_calls_are_serialized(tmp_path: Path) -> None:
    backend = SolidFireBackend(tmp_path)
    transport = SolidFireTransport(backend)
    account = backend.add_account(username="t").account_id
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with httpx.Client(
                transport=transport, base_url="https://sf", auth=("admin", "admin")
            ) as c:
                for i in range(10):
                    params = {"name": f"v{n}-{i}", "accountID": account, "totalSize": GIB}
                    reply = c.post(
                        "/json-rpc/8.0/", json={"method": "CreateVolume", "params": params}
                    )
                    assert "result" in reply.json()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    ids = [v["volumeID"] for v in backend.active_volumes()]
    assert sorted(ids) == list(range(1, 61))

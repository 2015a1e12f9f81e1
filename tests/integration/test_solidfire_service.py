"""The whole service on a SolidFire backend: the cluster holds exactly what the database says.

Basalt is opened from settings whose SolidFire client talks to an emulated Element
cluster in-process. Volumes, snapshots, clones, an extend, a manage and an
unmanage go through the library (with retryable errors and dropped connections
injected); afterwards, and after a restart, every Basalt volume and snapshot
exists once on the cluster, nothing else carries Basalt's names, and no account,
volume or snapshot leaked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import basalt
from basalt.config import BackendSettings, SolidFireSettings
from basalt.model import SnapshotStatus, VolumeStatus
from basalt.service.context import RequestContext
from basalt_emulators.solidfire import SolidFireBackend, SolidFireTransport

GIB = 1024**3
WAIT = 30
TENANT = RequestContext(user_id="u", project_id="tenant-b", roles=frozenset({"member"}))


def open_basalt(tmp_path: Path, backend: SolidFireBackend) -> basalt.Basalt:
    solidfire = SolidFireSettings(
        url="https://sf.test",
        login="admin",
        password="admin",
        transport=SolidFireTransport(backend),
        retry_attempts=8,
        retry_total_seconds=5.0,
        retry_initial_delay_seconds=0.001,
        poll_interval_seconds=0.01,
        create_settle_seconds=0.1,
    )
    settings = basalt.Settings(
        data_dir=tmp_path / "data",
        backends=[BackendSettings(name="sf", driver="solidfire", solidfire=solidfire)],
    )
    return basalt.open(settings)


@pytest.fixture
def backend(tmp_path: Path) -> SolidFireBackend:
    return SolidFireBackend(tmp_path / "cluster")


@pytest.fixture
def b(tmp_path: Path, backend: SolidFireBackend) -> Iterator[basalt.Basalt]:
    with open_basalt(tmp_path, backend) as instance:
        yield instance


def add_foreign_volume(backend: SolidFireBackend, name: str, *, size_bytes: int) -> None:
    """Another tool's volume in another account, made through the Element API."""
    with httpx.Client(
        transport=SolidFireTransport(backend), base_url="https://sf.test", auth=("admin", "admin")
    ) as http:

        def call(method: str, params: dict[str, object]) -> dict[str, object]:
            reply = http.post("/json-rpc/1.0/", json={"method": method, "params": params}).json()
            assert "result" in reply, reply
            result: dict[str, object] = reply["result"]
            return result

        owner = call("AddAccount", {"username": "legacy", "initiatorSecret": "l" * 12})
        call(
            "CreateVolume", {"name": name, "accountID": owner["accountID"], "totalSize": size_bytes}
        )


def claimed(volume: dict[str, object]) -> str:
    attributes = volume["attributes"]
    assert isinstance(attributes, dict)
    name = attributes.get("basalt-name", volume["name"])
    assert isinstance(name, str)
    return name


def assert_cluster_matches_database(b: basalt.Basalt, backend: SolidFireBackend) -> None:
    volumes = b.volumes.list(all_projects=True)
    snapshots = b.snapshots.list(all_projects=True)
    assert all(v.status == VolumeStatus.AVAILABLE for v in volumes), volumes
    assert all(s.status == SnapshotStatus.AVAILABLE for s in snapshots), snapshots
    on_cluster = sorted(claimed(v) for v in backend.active_volumes())
    basalt_named = sorted(n for n in on_cluster if n.startswith("UUID-"))
    assert basalt_named == sorted(f"UUID-{v.id}" for v in volumes)
    assert sorted(s["name"] for s in backend.snapshots()) == sorted(
        f"UUID-{s.id}" for s in snapshots
    )
    assert not backend.deleted_volumes()
    projects = {v.project_id for v in volumes} | {"legacy"}
    assert {a["username"].removeprefix("basalt-") for a in backend.accounts()} <= projects


def test_a_workload_leaves_exactly_what_the_database_says(
    tmp_path: Path, backend: SolidFireBackend, b: basalt.Basalt
) -> None:
    add_foreign_volume(backend, "old-db", size_bytes=1_500_000_000)
    backend.faults.inject("xDBVersionMismatch", probability=0.2, seed=7)
    backend.faults.drop_connection(probability=0.05)

    first = b.volumes.create(size_gib=1, name="first").wait(timeout=WAIT)
    second = b.volumes.create(size_gib=2, name="second", ctx=TENANT).wait(timeout=WAIT)
    snap = b.snapshots.create(first.id, name="snap").wait(timeout=WAIT)
    clone = b.volumes.create(size_gib=1, source_volume_id=first.id).wait(timeout=WAIT)
    restored = b.volumes.create(size_gib=3, snapshot_id=snap.id).wait(timeout=WAIT)
    assert b.volumes.extend(second.id, 4).wait(timeout=WAIT).size_gib == 4
    assert b.snapshots.create(clone.id, name="s2").wait(timeout=WAIT).status == "available"

    managed = b.manage.manage_volume({"source-name": "old-db"}, name="old").wait(timeout=WAIT)
    assert managed.size_gib == 2
    b.manage.unmanage_volume(restored.id).wait(timeout=WAIT)

    b.snapshots.delete(snap.id).wait(timeout=WAIT)
    b.volumes.delete(first.id).wait(timeout=WAIT)
    b.volumes.delete(clone.id, cascade=True).wait(timeout=WAIT)
    assert_cluster_matches_database(b, backend)
    backend.faults.clear()
    b.close()

    with open_basalt(tmp_path, backend) as again:
        report = again.last_reconcile
        assert report is not None
        assert (report.unknown_objects, report.lost_objects) == ([], [])
        assert_cluster_matches_database(again, backend)
        names = {claimed(v) for v in backend.active_volumes()}
        assert f"UUID-{restored.id}" not in names  # released by unmanage, data kept
        assert len(backend.active_volumes()) == 3  # second, managed, released

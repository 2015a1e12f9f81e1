"""Replication on SolidFire through the library: two emulated Element clusters, volume
pairing set up by Basalt, failover to the target cluster and failback, each step
checked on both clusters. The emulator carries a paired volume's bytes when asked
(``sync_replication``), standing in for the arrays' own link."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import basalt
from basalt.config import BackendSettings, ReplicationTargetSettings, SolidFireSettings
from basalt.errors import NotSupportedError, NoValidBackendError
from basalt.model import VolumeStatus
from basalt_emulators.solidfire import SolidFireBackend
from basalt_emulators.solidfire.transport import SolidFireTransport

WAIT = 30


def element(backend: SolidFireBackend, url: str) -> SolidFireSettings:
    return SolidFireSettings(
        url=url,
        login="admin",
        password="admin",
        transport=SolidFireTransport(backend),
        retry_attempts=4,
        retry_total_seconds=3.0,
        retry_initial_delay_seconds=0.001,
        poll_interval_seconds=0.01,
        create_settle_seconds=0.1,
    )


@pytest.fixture
def clusters(tmp_path: Path) -> tuple[SolidFireBackend, SolidFireBackend]:
    return SolidFireBackend(tmp_path / "main"), SolidFireBackend(tmp_path / "dr")


def open_replicated(tmp_path: Path, main: SolidFireBackend, dr: SolidFireBackend) -> basalt.Basalt:
    target = ReplicationTargetSettings(
        backend_id="dr", interval_seconds=5, solidfire=element(dr, "https://dr.test")
    )
    backend = BackendSettings(
        name="sf",
        driver="solidfire",
        solidfire=element(main, "https://main.test"),
        replication_targets=[target],
    )
    settings = basalt.Settings(
        data_dir=tmp_path / "data", backends=[backend], replication={"run": False}
    )
    return basalt.open(settings)


def on(cluster: SolidFireBackend, volume_id: str) -> dict[str, Any]:
    (found,) = [v for v in cluster.active_volumes() if v["name"] == f"UUID-{volume_id}"]
    return found


def test_pairing_failover_and_failback_on_two_clusters(
    tmp_path: Path, clusters: tuple[SolidFireBackend, SolidFireBackend]
) -> None:
    main, dr = clusters
    with open_replicated(tmp_path, main, dr) as b:
        b.types.create("mirrored", extra_specs={"replication_enabled": "<is> True"})
        volume = b.volumes.create(size_gib=2, volume_type="mirrored").wait(timeout=WAIT)
        plain = b.volumes.create(size_gib=1).wait(timeout=WAIT)
        assert b.volumes.get(volume.id).replication_status == "enabled"
        outcomes = b.replicator.run_once(force=True)
        assert [o.volume_id for o in outcomes if o.error is None] == [volume.id]
        source, twin = on(main, volume.id), on(dr, volume.id)
        assert (source["access"], twin["access"]) == ("readWrite", "replicationTarget")
        assert twin["totalSize"] == source["totalSize"]
        assert [p["remoteVolumeID"] for p in source["volumePairs"]] == [twin["volumeID"]]
        assert len(main.cluster_pairs()) == 1
        assert [v["name"] for v in dr.active_volumes()] == [f"UUID-{volume.id}"]

        main_path = main.volume_path(source["volumeID"])
        with main_path.open("r+b") as handle:
            handle.write(b"before failover" * 100)
        assert main.sync_replication() == 1  # the arrays' link carries it

        b.replication.failover("basalt@sf", "dr").wait(timeout=WAIT)
        assert (on(dr, volume.id)["access"], on(main, volume.id)["access"]) == (
            "readWrite",
            "replicationTarget",
        )
        assert b.volumes.get(volume.id).replication_status == "failed-over"
        assert b.volumes.get(plain.id).status == VolumeStatus.ERROR  # not replicated
        connector = {"host": "h", "initiator": "iqn.2026-12.t:h"}
        info = b.attachments.initialize_connection(volume.id, connector)
        assert info.data["target_iqn"] == on(dr, volume.id)["iqn"]
        for attachment in b.attachments.terminate(volume.id, connector):
            b.attachments.detach(attachment.id)
        assert (
            dr.volume_path(on(dr, volume.id)["volumeID"])
            .read_bytes()
            .startswith(b"before failover")
        )

    with open_replicated(tmp_path, main, dr) as b:  # a restart keeps serving from dr
        assert b.pools.driver("sf").active_backend_id() == "dr"  # type: ignore[attr-defined]
        with pytest.raises(NoValidBackendError):  # a failed-over backend takes no new replicas
            b.volumes.create(size_gib=1, volume_type="mirrored")
        dr_path = dr.volume_path(on(dr, volume.id)["volumeID"])
        with dr_path.open("r+b") as handle:
            handle.write(b"written on dr")
        assert dr.sync_replication() == 1  # now dr -> main
        b.replication.failover("basalt@sf", "default").wait(timeout=WAIT)
        assert (on(main, volume.id)["access"], on(dr, volume.id)["access"]) == (
            "readWrite",
            "replicationTarget",
        )
        assert (
            main.volume_path(on(main, volume.id)["volumeID"])
            .read_bytes()
            .startswith(b"written on dr")
        )
        assert b.volumes.get(volume.id).replication_status == "enabled"
        b.volumes.delete(volume.id).wait(timeout=WAIT)
        assert dr.active_volumes() == [] and [v["name"] for v in main.active_volumes()] == [
            f"UUID-{plain.id}"
        ]


def test_one_group_cannot_fail_over_alone_on_solidfire_and_says_so(
    tmp_path: Path, clusters: tuple[SolidFireBackend, SolidFireBackend]
) -> None:
    main, dr = clusters
    with open_replicated(tmp_path, main, dr) as b:
        b.types.create("mirrored", extra_specs={"replication_enabled": "<is> True"})
        b.group_types.create(
            "mirrored-group", group_specs={"consistent_group_replication_enabled": "<is> True"}
        )
        group = b.groups.create(group_type="mirrored-group", volume_types=["mirrored"]).wait(
            timeout=WAIT
        )
        b.volumes.create(size_gib=1, volume_type="mirrored", group_id=group.id).wait(timeout=WAIT)
        for refused in (
            lambda: b.group_replication.enable(group.id),
            lambda: b.group_replication.failover(group.id, "dr"),
        ):
            with pytest.raises(NotSupportedError, match="sf.*whole backend"):
                refused()
        assert b.groups.get(group.id).replication_status == "disabled"
        assert [t.backend_id for t in b.group_replication.targets(group.id)] == ["dr"]
        assert [v["access"] for v in main.active_volumes()] == ["readWrite"]


def test_a_retype_pairs_a_volume_and_a_retype_back_unpairs_it(
    tmp_path: Path, clusters: tuple[SolidFireBackend, SolidFireBackend]
) -> None:
    main, dr = clusters
    with open_replicated(tmp_path, main, dr) as b:
        b.types.create("mirrored", extra_specs={"replication_enabled": "<is> True"})
        b.types.create("single")
        volume = b.volumes.create(size_gib=1, volume_type="single").wait(timeout=WAIT)
        assert b.volumes.retype(volume.id, "mirrored").wait(timeout=WAIT).replication_status == (
            "enabled"
        )
        assert [o.volume_id for o in b.replicator.run_once(force=True) if o.error is None] == [
            volume.id
        ]
        twin = on(dr, volume.id)
        assert [p["remoteVolumeID"] for p in on(main, volume.id)["volumePairs"]] == [
            twin["volumeID"]
        ]
        back = b.volumes.retype(volume.id, "single").wait(timeout=WAIT)
        assert back.replication_status == "disabled"
        assert dr.active_volumes() == []  # the twin is deleted and purged
        assert on(main, volume.id)["volumePairs"] == []
        assert b.replication.volume_replication(volume.id) is None

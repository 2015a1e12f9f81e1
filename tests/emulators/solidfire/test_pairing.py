"""Cluster and volume pairing between two emulated clusters in one process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from basalt_emulators.solidfire import SolidFireBackend, serve_https

from .conftest import Element, in_process, read_at, write_at

OFFSET = 3 * 1024 * 1024


@pytest.fixture(params=["in-process", "https"])
def clusters(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Element, Element]]:
    """Cluster A (mvip 10.0.0.1) and cluster B (mvip 10.0.0.2), over one carrier."""
    a = SolidFireBackend(tmp_path / "a", cluster_name="cluster-a", mvip="10.0.0.1")
    b = SolidFireBackend(tmp_path / "b", cluster_name="cluster-b", mvip="10.0.0.2")
    with ExitStack() as stack:
        clients = []
        for backend in (a, b):
            if request.param == "in-process":
                client = stack.enter_context(in_process(backend))
            else:
                server = stack.enter_context(serve_https(backend))
                client = stack.enter_context(
                    httpx.Client(
                        base_url=server.url, verify=server.ssl_context(), auth=("admin", "admin")
                    )  # fmt: skip
                )
            clients.append(Element(client, backend))
        yield clients[0], clients[1]
    a.reset()
    b.reset()


def _pair_clusters(a: Element, b: Element) -> tuple[int, int]:
    started = a.call("StartClusterPairing")
    completed = b.call("CompleteClusterPairing", clusterPairingKey=started["clusterPairingKey"])
    return started["clusterPairID"], completed["clusterPairID"]


def _replicated_volume(a: Element, b: Element) -> tuple[int, int]:
    """The driver's sequence: remote volume, replicationTarget, RemoveVolumePair, pair."""
    source = a.volume(a.account("proj"), name="UUID-r")
    target = b.volume(b.account("proj"), name="UUID-r")
    b.call("ModifyVolume", volumeID=target, access="replicationTarget")
    assert a.call("RemoveVolumePair", volumeID=source, mode="Async") == {}  # unpaired: no-op
    key = a.call("StartVolumePairing", volumeID=source, mode="Async")["volumePairingKey"]
    assert b.call("CompleteVolumePairing", volumeID=target, volumePairingKey=key) == {}
    return source, target


def test_cluster_pairing(clusters: tuple[Element, Element]) -> None:
    a, b = clusters
    started = a.call("StartClusterPairing")
    assert isinstance(started["clusterPairingKey"], str)
    requested = a.call("ListClusterPairs")["clusterPairs"]
    assert [p["status"] for p in requested] == ["Requested"]
    pair_b = b.call("CompleteClusterPairing", clusterPairingKey=started["clusterPairingKey"])
    [on_a] = a.call("ListClusterPairs")["clusterPairs"]
    [on_b] = b.call("ListClusterPairs")["clusterPairs"]
    assert (on_a["clusterPairID"], on_b["clusterPairID"]) == (
        started["clusterPairID"],
        pair_b["clusterPairID"],
    )
    assert (on_a["status"], on_a["mvip"], on_a["clusterName"]) == ("Connected", "10.0.0.2",
                                                                  "cluster-b")  # fmt: skip
    assert (on_b["mvip"], on_b["clusterUUID"]) == ("10.0.0.1", a.backend.cluster_uuid)
    assert on_a["clusterPairUUID"] == on_b["clusterPairUUID"]


def test_cluster_pairing_errors(clusters: tuple[Element, Element]) -> None:
    a, b = clusters
    assert b.error("CompleteClusterPairing", clusterPairingKey="nope").name == (
        "xInvalidPairingKey"
    )
    own = a.call("StartClusterPairing")["clusterPairingKey"]
    assert a.error("CompleteClusterPairing", clusterPairingKey=own).name == "xInvalidPairingKey"
    b.call("CompleteClusterPairing", clusterPairingKey=own)
    assert b.error("CompleteClusterPairing", clusterPairingKey=own).name == "xInvalidPairingKey"
    again = a.call("StartClusterPairing")
    assert b.error("CompleteClusterPairing", clusterPairingKey=again["clusterPairingKey"]).name == (
        "xPairingAlreadyExists"
    )
    a.call("RemoveClusterPair", clusterPairID=again["clusterPairID"])
    assert a.error("RemoveClusterPair", clusterPairID=99).name == "xClusterPairIDDoesNotExist"


def test_remove_cluster_pair_on_both_sides(clusters: tuple[Element, Element]) -> None:
    a, b = clusters
    pair_a, pair_b = _pair_clusters(a, b)
    a.call("RemoveClusterPair", clusterPairID=pair_a)
    assert a.call("ListClusterPairs")["clusterPairs"] == []
    [left] = b.call("ListClusterPairs")["clusterPairs"]
    assert left["status"] == "Disconnected"
    b.call("RemoveClusterPair", clusterPairID=pair_b)
    assert b.call("ListClusterPairs")["clusterPairs"] == []


def test_volume_pairing_shows_on_both_volumes(clusters: tuple[Element, Element]) -> None:
    a, b = clusters
    pair_a, pair_b = _pair_clusters(a, b)
    source, target = _replicated_volume(a, b)
    [on_source] = a.call("ListActiveVolumes")["volumes"][0]["volumePairs"]
    [on_target] = b.call("ListActiveVolumes")["volumes"][0]["volumePairs"]
    assert (on_source["remoteVolumeID"], on_source["clusterPairID"]) == (target, pair_a)
    assert (on_target["remoteVolumeID"], on_target["clusterPairID"]) == (source, pair_b)
    assert on_source["volumePairUUID"] == on_target["volumePairUUID"]
    assert on_source["remoteReplication"]["mode"] == "Async"
    assert on_source["remoteReplication"]["state"] == "Active"
    paired = a.call("ListActivePairedVolumes")["volumes"]
    assert [v["volumeID"] for v in paired] == [source]
    assert [v["volumeID"] for v in a.call("ListVolumes", isPaired=True)["volumes"]] == [source]


def test_volume_pairing_errors(clusters: tuple[Element, Element]) -> None:
    a, b = clusters
    source = a.volume(a.account())
    target = b.volume(b.account())
    key = a.call("StartVolumePairing", volumeID=source)["volumePairingKey"]
    unpaired = b.error("CompleteVolumePairing", volumeID=target, volumePairingKey=key)
    assert unpaired.name == "xMVIPNotPaired"
    _pair_clusters(a, b)
    assert b.error("CompleteVolumePairing", volumeID=target, volumePairingKey="x").name == (
        "xInvalidPairingKey"
    )
    assert b.error("CompleteVolumePairing", volumeID=99, volumePairingKey=key).name == (
        "xVolumeIDDoesNotExist"
    )
    b.call("CompleteVolumePairing", volumeID=target, volumePairingKey=key)
    assert a.error("StartVolumePairing", volumeID=source).name == "xPairingAlreadyExists"
    assert a.error("StartVolumePairing", volumeID=source, mode="Fast").name == (
        "xUnrecognizedEnumString"
    )
    assert a.error("ModifyVolumePair", volumeID=a.volume(1, name="x")).name == "xVolumeNotPaired"


def test_remove_volume_pair_on_both_sides(clusters: tuple[Element, Element]) -> None:
    a, b = clusters
    _pair_clusters(a, b)
    source, target = _replicated_volume(a, b)
    a.call("RemoveVolumePair", volumeID=source)
    assert a.call("ListActiveVolumes")["volumes"][0]["volumePairs"] == []
    assert len(b.call("ListActiveVolumes")["volumes"][0]["volumePairs"]) == 1
    b.call("RemoveVolumePair", volumeID=target)
    assert b.call("ListActiveVolumes")["volumes"][0]["volumePairs"] == []
    key = a.call("StartVolumePairing", volumeID=source)["volumePairingKey"]
    b.call("CompleteVolumePairing", volumeID=target, volumePairingKey=key)  # pairable again


def test_purging_a_volume_drops_its_side(clusters: tuple[Element, Element]) -> None:
    a, b = clusters
    _pair_clusters(a, b)
    source, _ = _replicated_volume(a, b)
    a.call("DeleteVolume", volumeID=source)
    a.call("PurgeDeletedVolume", volumeID=source)
    assert len(b.call("ListActiveVolumes")["volumes"][0]["volumePairs"]) == 1
    assert (
        b.call("ListActivePairedVolumes")["volumes"][0]["volumePairs"][0]["remoteVolumeName"] == ""
    )


def test_bytes_follow_the_replication_direction(clusters: tuple[Element, Element]) -> None:
    a, b = clusters
    _pair_clusters(a, b)
    source, target = _replicated_volume(a, b)
    write_at(a.backend.volume_path(source), OFFSET, b"from-a")
    assert b.backend.sync_replication() == 0  # B holds only the target
    assert a.backend.sync_replication() == 1
    assert read_at(b.backend.volume_path(target), OFFSET, 6) == b"from-a"
    # Fail over: the target becomes writable, the old source becomes the target.
    a.call("ModifyVolume", volumeID=source, access="replicationTarget")
    b.call("ModifyVolume", volumeID=target, access="readWrite")
    write_at(b.backend.volume_path(target), OFFSET, b"from-b")
    assert b.backend.sync_replication() == 1
    assert read_at(a.backend.volume_path(source), OFFSET, 6) == b"from-b"


def test_paused_pairs_do_not_copy(clusters: tuple[Element, Element]) -> None:
    a, b = clusters
    _pair_clusters(a, b)
    source, target = _replicated_volume(a, b)
    a.call("ModifyVolumePair", volumeID=source, pausedManual=True)
    [pair] = b.call("ListActiveVolumes")["volumes"][0]["volumePairs"]
    assert pair["remoteReplication"]["state"] == "PausedManual"
    write_at(a.backend.volume_path(source), OFFSET, b"held")
    assert a.backend.sync_replication() == 0
    a.call("ModifyVolumePair", volumeID=source, pausedManual=False, mode="Sync")
    assert a.backend.sync_replication() == 1
    [pair] = b.call("ListActiveVolumes")["volumes"][0]["volumePairs"]
    assert pair["remoteReplication"]["mode"] == "Sync"


def test_reset_forgets_the_pairs(clusters: tuple[Element, Element]) -> None:
    a, b = clusters
    _pair_clusters(a, b)
    _replicated_volume(a, b)
    a.backend.reset()
    [left] = b.call("ListClusterPairs")["clusterPairs"]
    assert left["status"] == "Disconnected"
    assert a.call("ListClusterPairs")["clusterPairs"] == []

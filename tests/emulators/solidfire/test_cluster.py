"""Cluster identity, version, capacity, limits, async results."""

from __future__ import annotations

from pathlib import Path

from basalt_emulators.solidfire import SolidFireBackend

from .conftest import GIB, Element, in_process, write_at


def test_cluster_info_carries_the_configured_identity(tmp_path: Path) -> None:
    backend = SolidFireBackend(
        tmp_path, cluster_name="cluster-b", mvip="10.0.0.5", svip="10.0.1.5", username="u",
        password="p" * 8,
    )  # fmt: skip
    with in_process(backend) as client:
        client.auth = ("u", "p" * 8)
        info = Element(client, backend).call("GetClusterInfo")["clusterInfo"]
    assert info["name"] == "cluster-b"
    assert info["mvip"] == "10.0.0.5"
    assert info["svip"] == "10.0.1.5"
    assert info["uniqueID"] == backend.unique_id and len(info["uniqueID"]) == 4
    assert info["uuid"] == backend.cluster_uuid


def test_version_info(sf: Element) -> None:
    result = sf.call("GetClusterVersionInfo")
    assert result["clusterAPIVersion"] == "12.3"
    assert result["clusterVersion"].startswith("12.3")
    assert sf.call("GetAPI")["currentVersion"] == "12.3"


def test_capacity_grows_with_provisioned_and_used_space(sf: Element) -> None:
    fields = {
        "maxUsedSpace", "usedSpace", "maxProvisionedSpace", "uniqueBlocks",
        "uniqueBlocksUsedSpace", "zeroBlocks", "nonZeroBlocks", "currentIOPS", "averageIOPS",
        "maxIOPS", "peakIOPS", "provisionedSpace", "compressionPercent",
        "deDuplicationPercent", "thinProvisioningPercent",
    }  # fmt: skip
    empty = sf.call("GetClusterCapacity")["clusterCapacity"]
    assert fields <= set(empty)
    assert (empty["provisionedSpace"], empty["usedSpace"]) == (0, 0)
    volume = sf.volume(sf.account(), size=2 * GIB)
    provisioned = sf.call("GetClusterCapacity")["clusterCapacity"]
    assert provisioned["provisionedSpace"] == 2 * GIB
    write_at(sf.backend.volume_path(volume), 0, b"\x01" * (1024 * 1024))
    used = sf.call("GetClusterCapacity")["clusterCapacity"]
    assert used["usedSpace"] >= 1024 * 1024
    assert used["nonZeroBlocks"] >= 256
    assert used["maxUsedSpace"] > used["usedSpace"]


def test_limits_and_default_qos(sf: Element) -> None:
    limits = sf.call("GetLimits")
    assert (limits["secretLengthMin"], limits["secretLengthMax"]) == (12, 16)
    assert sf.call("GetDefaultQoS") == {"minIOPS": 50, "maxIOPS": 15000, "burstIOPS": 15000}


def test_unknown_async_handle(sf: Element) -> None:
    assert sf.error("GetAsyncResult", asyncHandle=99).name == "xDBNoSuchPath"

"""Availability zones, capabilities, clusters and extensions against a real server with
two file backends in two zones."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from basalt.service.pools import STATS_MAX_AGE_S
from tests.support.server import ServerProcess, start_server

BACKENDS = [
    {"name": "fast", "driver": "file"},
    {"name": "slow", "driver": "file", "availability_zone": "az2"},
    {"name": "spare", "driver": "file", "availability_zone": "az2"},
]
MEMBER = {"X-Auth-Token": "alice:basalt"}
READER = {"X-Auth-Token": "rita:basalt"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = start_server(
        tmp_path_factory.mktemp("deployment") / "data",
        env={
            "BASALT_BACKENDS": json.dumps(BACKENDS),
            "BASALT_API__READER_USERS": json.dumps(["rita"]),
        },
    )
    yield process
    process.stop()


def zones(client: httpx.Client, **headers: str) -> dict[str, bool]:
    response = client.get("/os-availability-zone", headers=headers)
    assert response.status_code == 200, response.text
    info = response.json()["availabilityZoneInfo"]
    assert all(set(z) == {"zoneName", "zoneState"} for z in info)
    return {z["zoneName"]: z["zoneState"]["available"] for z in info}


def set_status(client: httpx.Client, action: str, backend: str) -> None:
    body = {"host": f"basalt@{backend}", "binary": "cinder-volume"}
    response = client.put(f"/os-services/{action}", json=body)
    assert response.status_code == 200, response.text


def test_zones_are_available_while_an_enabled_backend_in_them_is_up(
    client: httpx.Client, server: ServerProcess
) -> None:
    assert zones(client, **READER) == {"nova": True, "az2": True}
    set_status(client, "disable", "fast")
    set_status(client, "disable", "slow")
    try:
        assert zones(client) == {"nova": False, "az2": True}  # spare still serves az2
        pool = server.data_dir / "pools" / "spare" / "default"
        hidden = pool.with_name("hidden")
        pool.rename(hidden)
        try:
            time.sleep(STATS_MAX_AGE_S + 0.5)
            assert zones(client) == {"nova": False, "az2": False}
        finally:
            hidden.rename(pool)
    finally:
        set_status(client, "enable", "fast")
        set_status(client, "enable", "slow")
    assert zones(client) == {"nova": True, "az2": True}  # slow is enabled and up


def test_capabilities_of_a_backend_in_cinders_shape(client: httpx.Client) -> None:
    response = client.get("/capabilities/basalt@fast")
    assert response.status_code == 200, response.text
    found = response.json()
    assert set(found) == {
        "namespace",
        "vendor_name",
        "volume_backend_name",
        "pool_name",
        "driver_version",
        "storage_protocol",
        "display_name",
        "description",
        "visibility",
        "replication_targets",
        "properties",
    }
    assert found["namespace"] == "OS::Storage::Capabilities::basalt@fast"
    assert (found["vendor_name"], found["volume_backend_name"], found["pool_name"]) == (
        "Basalt",
        "fast",
        "default",
    )
    assert (found["storage_protocol"], found["driver_version"]) == ("iSCSI", "1.0.0")
    assert found["replication_targets"] == []
    properties = found["properties"]
    assert properties["thin_provisioning"]["type"] == "boolean"
    assert "multiattach" in properties and "qos" not in properties
    pools = client.get("/scheduler-stats/get_pools", params={"detail": "true"}).json()["pools"]
    fast = next(p for p in pools if p["name"] == "basalt@fast#default")
    assert ("reflink" in properties) == fast["capabilities"]["reflink"]


def test_capabilities_of_unknown_hosts_and_for_non_admins(client: httpx.Client) -> None:
    for host in ("basalt@nowhere", "fast", "basalt", "basalt@fast#default"):
        missing = client.get(f"/capabilities/{quote(host)}")
        assert missing.status_code == 404, (host, missing.text)
        assert host in missing.json()["itemNotFound"]["message"]
    assert client.get("/capabilities/basalt@fast", headers=MEMBER).status_code == 403


def test_basalt_has_no_clusters_and_says_so(client: httpx.Client, server: ServerProcess) -> None:
    assert client.get("/clusters").json() == {"clusters": []}
    assert client.get("/clusters/detail").json() == {"clusters": []}
    assert httpx.get(f"{server.url}/v3/clusters", timeout=30).json() == {"clusters": []}
    shown = client.get("/clusters/cluster1")
    assert shown.status_code == 404
    error = shown.json()["itemNotFound"]
    assert "cluster1" in error["message"] and "no clusters" in error["hint"]
    for action in ("enable", "disable"):
        response = client.put(f"/clusters/{action}", json={"name": "c9", "binary": "cinder-volume"})
        assert response.status_code == 404, response.text
        assert "cluster c9" in response.json()["itemNotFound"]["message"]
        nameless = client.put(f"/clusters/{action}", json={"binary": "cinder-volume"})
        assert nameless.status_code == 400 and "name" in nameless.text
    assert client.get("/clusters", headers=MEMBER).status_code == 403
    assert client.put("/clusters/enable", json={"name": "c"}, headers=MEMBER).status_code == 403


def test_extensions_list_what_basalt_honours(client: httpx.Client) -> None:
    response = client.get("/extensions", headers=READER)
    assert response.status_code == 200, response.text
    listed = response.json()["extensions"]
    aliases = {e["alias"] for e in listed}
    assert {
        "os-extended-snapshot-attributes",
        "os-vol-host-attr",
        "os-vol-tenant-attr",
        "os-vol-mig-status-attr",
        "os-volume-manage",
        "os-snapshot-manage",
        "os-services",
        "os-availability-zone",
        "scheduler-stats",
        "capabilities",
        "os-quota-sets",
        "os-quota-class-sets",
        "os-used-limits",
    } <= aliases
    assert not aliases & {"backups", "consistencygroups", "os-hosts", "qos-specs"}
    for extension in listed:
        assert set(extension) == {"alias", "name", "description", "links", "updated"}
        assert extension["links"] == [] and extension["description"]
    one = client.get("/extensions/os-services").json()["extension"]
    assert one == next(e for e in listed if e["alias"] == "os-services")
    assert client.get("/extensions/backups").status_code == 404


def test_python_cinderclient_reads_zones_and_extensions(server: ServerProcess) -> None:
    cinder = Path(sys.executable).with_name("cinder")
    base = ["--os-auth-type", "noauth", "--os-endpoint", f"{server.url}/v3"]
    base += ["--os-user-id", "admin", "--os-project-id", "basalt"]
    for command, words in (
        ("availability-zone-list", ("nova", "az2", "available")),
        ("list-extensions", ("os-services", "VolumeHostAttribute", "capabilities")),
    ):
        done = subprocess.run(
            [str(cinder), *base, command], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        assert all(word in done.stdout for word in words), done.stdout

"""python-cinderclient against Basalt driving an emulated SolidFire cluster over HTTPS:
a volume type bound to the backend with a back-end QoS spec; create, snapshot, clone,
retype to another QoS (in place: ModifyVolume), and the connection info's CHAP.
Each step is checked against what the cluster holds, not only what Basalt says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from basalt_emulators.solidfire import SolidFireBackend, serve_https
from tests.api.test_cinderclient import cinder, field, held, rows
from tests.api.test_cinderclient_moves import settled
from tests.support.server import ServerProcess, start_server

CONNECTOR = {"host": "web-1", "initiator": "iqn.2026-12.test.sf:web-1", "ip": "127.0.0.1"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SolidFireBackend, str]]:
    backend = SolidFireBackend(tmp_path_factory.mktemp("sf") / "cluster")
    with serve_https(backend) as https:
        yield backend, https.url


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, cluster: tuple[SolidFireBackend, str]
) -> Iterator[ServerProcess]:
    settings = {"url": cluster[1], "login": "admin", "password": "admin"}
    backends = [{"name": "sf", "driver": "solidfire", "solidfire": settings}]
    data = tmp_path_factory.mktemp("api-sf") / "data"
    process = start_server(data, env={"BASALT_BACKENDS": json.dumps(backends)})
    yield process
    process.stop()


def on_cluster(backend: SolidFireBackend, volume_id: str) -> dict[str, Any]:
    (found,) = [v for v in backend.active_volumes() if v["name"] == f"UUID-{volume_id}"]
    return found


def test_a_typed_qos_lifecycle_through_the_cinder_cli(
    server: ServerProcess, cluster: tuple[SolidFireBackend, str]
) -> None:
    backend, _ = cluster
    types = {}
    for name, specs in (
        ("sf-silver", ("minIOPS=100", "maxIOPS=200", "burstIOPS=300")),
        ("sf-fast", ("sf-qos=fast",)),
    ):
        types[name] = rows(cinder(server, "type-create", name))[0][0]
        cinder(server, "type-key", name, "set", "volume_backend_name=sf")
        qos = cinder(server, "qos-create", f"{name}-qos", "consumer=back-end", *specs)
        cinder(server, "qos-associate", field(qos, "id"), types[name])

    volume_id = field(
        cinder(server, "create", "--volume-type", "sf-silver", "--name", "db", "2"), "id"
    )
    settled(server, volume_id, status="available")
    made = on_cluster(backend, volume_id)
    assert (made["totalSize"], made["qos"]["minIOPS"], made["qos"]["maxIOPS"]) == (
        2 * 1024**3,
        100,
        200,
    )
    assert made["qos"]["burstIOPS"] == 300

    snap_id = field(cinder(server, "snapshot-create", "--name", "s1", volume_id), "id")
    assert held(server, "snapshot", snap_id)["status"] == "available"
    restored = field(cinder(server, "create", "--snapshot-id", snap_id, "2"), "id")
    clone = field(cinder(server, "create", "--source-volid", volume_id, "2"), "id")
    for made_id in (restored, clone):
        assert settled(server, made_id, status="available")["volume_type"] == "sf-silver"
        assert on_cluster(backend, made_id)["qos"]["maxIOPS"] == 200
    assert [s["name"] for s in backend.snapshots()] == [f"UUID-{snap_id}"]

    cinder(server, "retype", volume_id, "sf-fast")
    retyped = settled(server, volume_id, status="available", volume_type="sf-fast")
    assert retyped["os-vol-host-attr:host"] == "basalt@sf#default"  # in place
    fast = on_cluster(backend, volume_id)["qos"]
    assert (fast["minIOPS"], fast["maxIOPS"], fast["burstIOPS"]) == (500, 1000, 1000)

    action = f"{server.project_url}/volumes/{volume_id}/action"
    connected = httpx.post(
        action, json={"os-initialize_connection": {"connector": CONNECTOR}}, timeout=30
    )
    assert connected.status_code == 200, connected.text
    data = connected.json()["connection_info"]["data"]
    (account,) = [
        a
        for a in backend.accounts()
        if a["accountID"] == on_cluster(backend, volume_id)["accountID"]
    ]
    assert data["auth_method"] == "CHAP"
    assert (data["auth_username"], data["auth_password"]) == (
        account["username"],
        account["targetSecret"],
    )
    assert data["target_iqn"] == on_cluster(backend, volume_id)["iqn"]
    ended = httpx.post(
        action, json={"os-terminate_connection": {"connector": CONNECTOR}}, timeout=30
    )
    assert ended.status_code == 202, ended.text

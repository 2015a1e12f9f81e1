"""Replication over REST with a real server: os-services freeze/thaw/failover_host/failover
through python-cinderclient's own commands, and a volume's replication status and lag."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.api.test_cinderclient import cinder_as, field
from tests.support.server import ServerProcess, start_server

pytestmark = pytest.mark.slow
HOST = "basalt@file"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("replication")
    backends = [
        {
            "name": "file",
            "pools": {"default": str(root / "primary")},
            "replication_targets": [
                {"backend_id": "dr", "pools": {"default": str(root / "dr")}, "interval_seconds": 1}
            ],
        }
    ]
    env = {"BASALT_BACKENDS": json.dumps(backends), "BASALT_REPLICATION__TICK_SECONDS": "0.2"}
    process = start_server(root / "data", env=env)
    yield process
    process.stop()


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.project_url, timeout=30.0) as http:
        yield http


def run_cinder(
    server: ServerProcess, *args: str, user: str = "basalt"
) -> subprocess.CompletedProcess[str]:
    return cinder_as(server, user, "--os-volume-api-version", "3.26", *args)


def ok(server: ServerProcess, *args: str) -> str:
    done = run_cinder(server, *args)
    assert done.returncode == 0, f"cinder {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


def volume_service(client: httpx.Client) -> dict[str, object]:
    services = client.get("/os-services", params={"host": HOST}).json()["services"]
    [found] = services
    assert isinstance(found, dict)
    return found


def wait_for(check: object, timeout: float = 30.0) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def replicated_volume(server: ServerProcess, client: httpx.Client) -> str:
    if run_cinder(server, "type-show", "replicated").returncode != 0:
        ok(server, "type-create", "replicated")
        ok(server, "type-key", "replicated", "set", "replication_enabled=<is> True")
    shown = ok(server, "create", "--volume-type", "replicated", "--poll", "1")
    volume_id = field(shown, "id")
    wait_for(
        lambda: client.get(f"/volumes/{volume_id}/replication").json()["replication"]["syncs"] >= 1
    )
    return volume_id


def test_a_replicated_volume_shows_its_status_and_lag(
    server: ServerProcess, client: httpx.Client
) -> None:
    volume_id = replicated_volume(server, client)
    volume = client.get(f"/volumes/{volume_id}").json()["volume"]
    assert volume["replication_status"] == "enabled"
    replication = client.get(f"/volumes/{volume_id}/replication").json()["replication"]
    assert replication["target_id"] == "dr" and replication["error"] is None
    assert replication["lag_seconds"] is not None and replication["lag_seconds"] < 30
    service = volume_service(client)
    assert (service["replication_status"], service["active_backend_id"], service["frozen"]) == (
        "enabled",
        None,
        False,
    )
    caps = client.get(f"/capabilities/{HOST}").json()
    assert caps["replication_targets"] == ["dr"]


def test_freeze_refuses_changes_and_thaw_allows_them(
    server: ServerProcess, client: httpx.Client
) -> None:
    ok(server, "freeze-host", HOST)
    assert volume_service(client)["frozen"] is True
    refused = client.post("/volumes", json={"volume": {"size": 1}})
    assert refused.status_code == 400
    assert "frozen" in refused.json()["badRequest"]["message"]
    assert run_cinder(server, "create", "1").returncode != 0
    ok(server, "thaw-host", HOST)
    assert volume_service(client)["frozen"] is False
    created = client.post("/volumes", json={"volume": {"size": 1}})
    assert created.status_code == 202


def test_failover_and_failback_through_cinderclient(
    server: ServerProcess, client: httpx.Client
) -> None:
    volume_id = replicated_volume(server, client)
    bad = run_cinder(server, "failover-host", "--backend_id", "nowhere", HOST)
    assert bad.returncode != 0 and "nowhere" in bad.stderr
    assert volume_service(client)["replication_status"] == "enabled"
    member = run_cinder(server, "failover-host", "--backend_id", "dr", HOST, user="alice")
    assert member.returncode != 0
    ok(server, "failover-host", "--backend_id", "dr", HOST)
    wait_for(lambda: volume_service(client)["replication_status"] == "failed-over")
    assert volume_service(client)["active_backend_id"] == "dr"
    assert client.get(f"/volumes/{volume_id}").json()["volume"]["replication_status"] == (
        "failed-over"
    )
    twice = client.put("/os-services/failover", json={"host": HOST, "backend_id": "dr"})
    assert twice.status_code == 400 and "already" in twice.json()["badRequest"]["message"]
    ok(server, "freeze-host", HOST)
    frozen = client.put("/os-services/failover_host", json={"host": HOST, "backend_id": "default"})
    assert frozen.status_code == 400 and "frozen" in frozen.json()["badRequest"]["message"]
    ok(server, "thaw-host", HOST)
    back = client.put("/os-services/failover", json={"host": HOST, "backend_id": "default"})
    assert back.status_code == 202 and back.headers["x-basalt-operation-id"]
    wait_for(lambda: volume_service(client)["replication_status"] == "enabled")
    assert volume_service(client)["active_backend_id"] is None
    volume = client.get(f"/volumes/{volume_id}").json()["volume"]
    assert volume["replication_status"] == "enabled"


def test_unknown_hosts_and_clusters_are_refused(client: httpx.Client) -> None:
    assert client.put("/os-services/freeze", json={"host": "basalt@nope"}).status_code == 404
    assert client.put("/os-services/freeze", json={}).status_code == 400
    clustered = client.put("/os-services/failover", json={"cluster": "c1"})
    assert clustered.status_code == 400


def test_pools_of_a_replicating_backend_report_it(client: httpx.Client) -> None:
    pools = client.get("/scheduler-stats/get_pools", params={"detail": "true"}).json()["pools"]
    capabilities = pools[0]["capabilities"]
    assert capabilities["replication_enabled"] in (True, False)  # False while failed over
    assert capabilities["replication_targets"] == ["dr"]
    assert capabilities["replication_type"] == "async"


def test_one_group_fails_over_and_back_through_cinderclient(
    server: ServerProcess, client: httpx.Client
) -> None:
    """Cinder's group replication commands (microversion 3.38) through python-cinderclient,
    each result checked through the API."""

    def cinder(*args: str) -> str:
        return ok(server, "--os-volume-api-version", "3.38", *args)

    if run_cinder(server, "type-show", "replicated").returncode != 0:
        ok(server, "type-create", "replicated")
        ok(server, "type-key", "replicated", "set", "replication_enabled=<is> True")
    cinder("group-type-create", "replicated-group")
    cinder(
        "group-type-key",
        "replicated-group",
        "set",
        "consistent_group_replication_enabled=<is> True",
    )
    group_id = field(cinder("group-create", "replicated-group", "replicated"), "id")
    v338 = {"OpenStack-API-Version": "volume 3.38"}

    def shown() -> dict[str, object]:
        found = client.get(f"/groups/{group_id}", headers=v338).json()["group"]
        assert isinstance(found, dict)
        return found

    wait_for(lambda: shown()["status"] == "available")
    assert shown()["replication_status"] == "disabled"
    volume_id = field(
        cinder("create", "--volume-type", "replicated", "--group-id", group_id, "1"), "id"
    )
    wait_for(lambda: client.get(f"/volumes/{volume_id}").json()["volume"]["status"] == "available")

    early = run_cinder(
        server, "--os-volume-api-version", "3.38", "group-failover-replication", group_id
    )
    assert early.returncode != 0 and "disabled" in early.stderr
    targets = cinder("group-list-replication-targets", group_id)
    assert "dr" in targets
    cinder("group-enable-replication", group_id)
    assert shown()["replication_status"] == "enabled"
    wait_for(
        lambda: client.get(f"/volumes/{volume_id}/replication").json()["replication"]["syncs"] >= 1
    )
    unknown = run_cinder(
        server,
        "--os-volume-api-version",
        "3.38",
        "group-failover-replication",
        "--secondary-backend-id",
        "nowhere",
        group_id,
    )
    assert unknown.returncode != 0 and "nowhere" in unknown.stderr
    assert shown()["replication_status"] == "enabled"

    cinder("group-failover-replication", "--secondary-backend-id", "dr", group_id)
    wait_for(lambda: shown()["replication_status"] == "failed-over")
    volume = client.get(f"/volumes/{volume_id}").json()["volume"]
    assert volume["replication_status"] == "failed-over"
    assert volume_service(client)["replication_status"] == "enabled"  # the backend stays home
    twice = client.post(
        f"/groups/{group_id}/action", headers=v338, json={"failover_replication": {}}
    )
    assert twice.status_code == 400 and "already" in twice.json()["badRequest"]["message"]

    cinder("group-failover-replication", "--secondary-backend-id", "default", group_id)
    wait_for(lambda: shown()["replication_status"] == "enabled")
    assert client.get(f"/volumes/{volume_id}").json()["volume"]["replication_status"] == "enabled"
    cinder("group-disable-replication", group_id)
    assert shown()["replication_status"] == "disabled"

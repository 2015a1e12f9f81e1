"""os-services against a real server with two file backends: listing, enable/disable, the
placement of new volumes around disabled backends, and a backend whose driver cannot report.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from basalt.service.pools import STATS_MAX_AGE_S
from tests.support.cinder import run_cinder
from tests.support.server import ServerProcess, start_server

BACKENDS = [
    {"name": "fast", "driver": "file"},
    {"name": "slow", "driver": "file", "availability_zone": "az2"},
]
MEMBER = {"X-Auth-Token": "alice:basalt"}
CINDER = Path(sys.executable).with_name("cinder")


def start(data_dir: Path) -> ServerProcess:
    return start_server(data_dir, env={"BASALT_BACKENDS": json.dumps(BACKENDS)})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = start(tmp_path_factory.mktemp("services") / "data")
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def enabled_again(client: httpx.Client) -> Iterator[None]:
    """Each test starts and ends with both backends enabled."""
    for backend in ("fast", "slow"):
        set_status(client, "enable", f"basalt@{backend}")
    yield
    for backend in ("fast", "slow"):
        set_status(client, "enable", f"basalt@{backend}")


def set_status(client: httpx.Client, action: str, host: str, **extra: str) -> dict:
    body = {"host": host, "binary": "cinder-volume", **extra}
    response = client.put(f"/os-services/{action}", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def services(client: httpx.Client, **params: str) -> dict[str, dict]:
    response = client.get("/os-services", params=params)
    assert response.status_code == 200, response.text
    return {f"{s['binary']} {s['host']}": s for s in response.json()["services"]}


def create(client: httpx.Client, **fields: object) -> httpx.Response:
    return client.post("/volumes", json={"volume": {"size": 1, **fields}})


def host_of(response: httpx.Response) -> str:
    assert response.status_code == 202, response.text
    volume = response.json()["volume"]
    assert volume["status"] == "available", volume
    return str(volume["os-vol-host-attr:host"])


def test_the_scheduler_and_one_volume_service_per_backend(client: httpx.Client) -> None:
    listed = services(client)
    assert sorted(listed) == [
        "cinder-scheduler basalt",
        "cinder-volume basalt@fast",
        "cinder-volume basalt@slow",
    ]
    scheduler = listed["cinder-scheduler basalt"]
    assert (scheduler["status"], scheduler["state"], scheduler["zone"]) == ("enabled", "up", "nova")
    assert "frozen" not in scheduler
    slow = listed["cinder-volume basalt@slow"]
    assert slow == {
        "binary": "cinder-volume",
        "host": "basalt@slow",
        "zone": "az2",
        "status": "enabled",
        "state": "up",
        "updated_at": slow["updated_at"],
        "cluster": None,
        "disabled_reason": None,
        "replication_status": "disabled",
        "active_backend_id": None,
        "frozen": False,
    }
    assert slow["updated_at"] is not None
    assert sorted(services(client, host="basalt@fast")) == ["cinder-volume basalt@fast"]
    assert sorted(services(client, binary="cinder-scheduler")) == ["cinder-scheduler basalt"]
    assert services(client, binary="cinder-backup") == {}
    assert services(client, host="basalt@nowhere") == {}


def test_enable_disable_and_reasons_answer_as_cinder_does(client: httpx.Client) -> None:
    assert set_status(client, "disable", "basalt@slow") == {
        "host": "basalt@slow",
        "binary": "cinder-volume",
        "service": "",
        "status": "disabled",
        "disabled": True,
    }
    assert services(client)["cinder-volume basalt@slow"]["status"] == "disabled"
    logged = set_status(client, "disable-log-reason", "basalt@slow", disabled_reason="firmware")
    assert (logged["status"], logged["disabled_reason"]) == ("disabled", "firmware")
    again = set_status(client, "disable", "basalt@slow")  # keeps the reason, as Cinder does
    assert services(client)["cinder-volume basalt@slow"]["disabled_reason"] == "firmware"
    assert "disabled_reason" not in again
    enabled = set_status(client, "enable", "basalt@slow")
    assert (enabled["status"], enabled["disabled"], enabled["disabled_reason"]) == (
        "enabled",
        False,
        None,
    )
    assert services(client)["cinder-volume basalt@slow"]["disabled_reason"] is None


def test_new_volumes_avoid_a_disabled_backend_and_existing_ones_keep_working(
    client: httpx.Client,
) -> None:
    existing = create(client)
    existing_host = host_of(existing)
    volume_id = existing.json()["volume"]["id"]
    backend = existing_host.split("@")[1].split("#")[0]
    other = "slow" if backend == "fast" else "fast"
    set_status(client, "disable-log-reason", f"basalt@{backend}", disabled_reason="draining")
    placed = {host_of(create(client)) for _ in range(3)}
    assert placed == {f"basalt@{other}#default"}

    extend = client.post(f"/volumes/{volume_id}/action", json={"os-extend": {"new_size": 2}})
    assert extend.status_code == 202
    assert client.get(f"/volumes/{volume_id}").json()["volume"]["size"] == 2
    snapshot = client.post("/snapshots", json={"snapshot": {"volume_id": volume_id}})
    assert snapshot.json()["snapshot"]["status"] == "available", snapshot.text
    snapshot_id = snapshot.json()["snapshot"]["id"]
    clone = create(client, size=2, source_volid=volume_id)
    assert host_of(clone) == existing_host  # a copy stays in its source's pool
    from_snapshot = create(client, size=2, snapshot_id=snapshot_id)
    assert host_of(from_snapshot) == existing_host
    for copy in (clone, from_snapshot):
        assert client.delete(f"/volumes/{copy.json()['volume']['id']}").status_code == 202
    assert client.delete(f"/snapshots/{snapshot_id}").status_code == 202
    assert client.delete(f"/volumes/{volume_id}?cascade=true").status_code == 202


def test_with_every_backend_disabled_a_create_is_refused_naming_them(
    client: httpx.Client,
) -> None:
    before = client.get("/volumes").json()["volumes"]
    set_status(client, "disable-log-reason", "basalt@fast", disabled_reason="firmware upgrade")
    set_status(client, "disable", "basalt@slow")
    refused = create(client)
    assert refused.status_code == 400, refused.text
    error = refused.json()["badRequest"]
    assert error["basalt_code"] == "backend_disabled"
    assert "backend fast is disabled (firmware upgrade)" in error["message"]
    assert "backend slow is disabled" in error["message"]
    assert client.get("/volumes").json()["volumes"] == before  # nothing was created
    set_status(client, "enable", "basalt@slow")
    assert host_of(create(client)) == "basalt@slow#default"


def test_bad_requests_are_4xx_naming_the_problem(client: httpx.Client) -> None:
    cases = [
        ("enable", {"host": "basalt@nowhere", "binary": "cinder-volume"}, 404, "basalt@nowhere"),
        ("disable", {"host": "basalt@fast", "binary": "cinder-backup"}, 404, "cinder-backup"),
        ("disable", {"host": "basalt", "binary": "cinder-scheduler"}, 400, "cinder-scheduler"),
        ("disable", {"binary": "cinder-volume"}, 400, "host"),
        ("enable", {"host": "basalt@fast"}, 400, "binary"),
        ("disable-log-reason", {"host": "basalt@fast", "binary": "cinder-volume"}, 400, "reason"),
        (
            "disable-log-reason",
            {"host": "basalt@fast", "binary": "cinder-volume", "disabled_reason": "x" * 256},
            400,
            "255",
        ),
        (
            "disable-log-reason",
            {"host": "basalt@fast", "binary": "cinder-volume", "disabled_reason": 7},
            400,
            "disabled_reason",
        ),
        ("set-log", {"binary": "cinder-volume"}, 404, "3.32"),
    ]
    for action, body, status, word in cases:
        response = client.put(f"/os-services/{action}", json=body)
        assert response.status_code == status, (action, body, response.text)
        [error] = response.json().values()
        assert word in error["message"], (action, body, error)
    assert services(client)["cinder-volume basalt@fast"]["status"] == "enabled"


def test_replication_actions_say_the_backend_does_not_replicate(client: httpx.Client) -> None:
    for action in ("freeze", "thaw", "failover_host", "failover"):
        response = client.put(f"/os-services/{action}", json={"host": "basalt@fast"})
        assert response.status_code == 400, response.text
        message = response.json()["badRequest"]["message"]
        assert "replication is not configured for backend fast" in message
        refused = client.put(f"/os-services/{action}", json={"host": "x"}, headers=MEMBER)
        assert refused.status_code == 403, refused.text


def test_only_administrators_see_or_change_services(
    client: httpx.Client, server: ServerProcess
) -> None:
    assert client.get("/os-services", headers=MEMBER).status_code == 403
    body = {"host": "basalt@fast", "binary": "cinder-volume"}
    refused = client.put("/os-services/disable", json=body, headers=MEMBER)
    assert refused.status_code == 403 and "service:update" in refused.text
    assert services(client)["cinder-volume basalt@fast"]["status"] == "enabled"
    projectless = httpx.get(f"{server.url}/v3/os-services", timeout=30)
    assert projectless.status_code == 200 and len(projectless.json()["services"]) == 3


def test_a_backend_that_cannot_report_is_down_until_it_can(
    client: httpx.Client, server: ServerProcess
) -> None:
    pool = server.data_dir / "pools" / "slow" / "default"
    hidden = pool.with_name("default.hidden")
    pool.rename(hidden)
    try:
        time.sleep(STATS_MAX_AGE_S + 0.5)  # the last good report ages out
        slow = services(client)["cinder-volume basalt@slow"]
        assert (slow["state"], slow["status"]) == ("down", "enabled")
        assert services(client)["cinder-volume basalt@fast"]["state"] == "up"
    finally:
        hidden.rename(pool)
    time.sleep(STATS_MAX_AGE_S + 0.5)  # the failure ages out too
    assert services(client)["cinder-volume basalt@slow"]["state"] == "up"


def test_a_disabled_backend_stays_disabled_across_a_restart(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data_dir = tmp_path_factory.mktemp("restart") / "data"
    first = start(data_dir)
    try:
        with httpx.Client(base_url=first.project_url, timeout=30.0) as http:
            set_status(http, "disable-log-reason", "basalt@fast", disabled_reason="rack move")
    finally:
        first.stop()
    second = start(data_dir)
    try:
        with httpx.Client(base_url=second.project_url, timeout=30.0) as http:
            fast = services(http)["cinder-volume basalt@fast"]
            assert (fast["status"], fast["disabled_reason"]) == ("disabled", "rack move")
            assert {host_of(create(http)) for _ in range(2)} == {"basalt@slow#default"}
    finally:
        second.stop()


def cinder(server: ServerProcess, *args: str) -> str:
    argv = [
        str(CINDER),
        "--os-auth-type",
        "noauth",
        "--os-endpoint",
        f"{server.url}/v3",
        "--os-user-id",
        "admin",
        "--os-project-id",
        "basalt",
        *args,
    ]
    done = run_cinder(argv, timeout=60)
    assert done.returncode == 0, f"cinder {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


def test_python_cinderclient_lists_disables_and_enables(
    client: httpx.Client, server: ServerProcess
) -> None:
    listed = cinder(server, "service-list")
    assert "basalt@fast" in listed and "cinder-scheduler" in listed and "az2" in listed
    disabled = cinder(
        server, "service-disable", "--reason", "cc maintenance", "basalt@fast", "cinder-volume"
    )
    assert "disabled" in disabled and "cc maintenance" in disabled
    fast = services(client)["cinder-volume basalt@fast"]
    assert (fast["status"], fast["disabled_reason"]) == ("disabled", "cc maintenance")
    assert "enabled" in cinder(server, "service-enable", "basalt@fast", "cinder-volume")
    assert services(client)["cinder-volume basalt@fast"]["status"] == "enabled"

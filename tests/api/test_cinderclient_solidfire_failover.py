"""python-cinderclient fails a SolidFire backend over to its paired cluster and back:
two emulated Element clusters over HTTPS, a replicated type, the volume's pair made
by Basalt's replicator, `cinder failover-host` to ``dr`` and back to ``default``,
each step checked on both clusters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from basalt_emulators.solidfire import SolidFireBackend, serve_https
from tests.api.test_cinderclient import field
from tests.api.test_replication_rest import ok, run_cinder, wait_for
from tests.support.server import ServerProcess, start_server

HOST = "basalt@sf"


@pytest.fixture(scope="module")
def clusters(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[SolidFireBackend, SolidFireBackend, ServerProcess]]:
    root = tmp_path_factory.mktemp("sf-dr")
    main, dr = SolidFireBackend(root / "main"), SolidFireBackend(root / "dr")
    with serve_https(main) as main_https, serve_https(dr) as dr_https:

        def element(url: str) -> dict[str, Any]:
            return {"url": url, "login": "admin", "password": "admin"}

        backends = [
            {
                "name": "sf",
                "driver": "solidfire",
                "solidfire": element(main_https.url),
                "replication_targets": [
                    {"backend_id": "dr", "solidfire": element(dr_https.url), "interval_seconds": 1}
                ],
            }
        ]
        env = {"BASALT_BACKENDS": json.dumps(backends), "BASALT_REPLICATION__TICK_SECONDS": "0.2"}
        server = start_server(root / "data", env=env)
        try:
            yield main, dr, server
        finally:
            server.stop()


def volume_service(client: httpx.Client) -> dict[str, Any]:
    (found,) = client.get("/os-services", params={"host": HOST}).json()["services"]
    assert isinstance(found, dict)
    return found


def on(cluster: SolidFireBackend, volume_id: str) -> dict[str, Any]:
    (found,) = [v for v in cluster.active_volumes() if v["name"] == f"UUID-{volume_id}"]
    return found


def test_failover_host_and_back_through_the_cinder_cli(
    clusters: tuple[SolidFireBackend, SolidFireBackend, ServerProcess],
) -> None:
    main, dr, server = clusters
    with httpx.Client(base_url=server.project_url, timeout=30.0) as client:
        ok(server, "type-create", "mirrored")
        ok(server, "type-key", "mirrored", "set", "replication_enabled=<is> True")
        volume_id = field(ok(server, "create", "--volume-type", "mirrored", "--poll", "1"), "id")
        wait_for(lambda: any(v["name"] == f"UUID-{volume_id}" for v in dr.active_volumes()))
        wait_for(lambda: bool(on(main, volume_id)["volumePairs"]))
        assert on(dr, volume_id)["access"] == "replicationTarget"

        refused = run_cinder(server, "failover-host", "--backend_id", "elsewhere", HOST)
        assert refused.returncode != 0 and "elsewhere" in refused.stderr
        ok(server, "failover-host", "--backend_id", "dr", HOST)
        wait_for(lambda: volume_service(client)["replication_status"] == "failed-over")
        assert volume_service(client)["active_backend_id"] == "dr"
        assert (on(dr, volume_id)["access"], on(main, volume_id)["access"]) == (
            "readWrite",
            "replicationTarget",
        )
        connector = {"host": "h", "initiator": "iqn.2026-12.test:h"}
        action = f"/volumes/{volume_id}/action"
        served = client.post(action, json={"os-initialize_connection": {"connector": connector}})
        assert served.status_code == 200, served.text
        assert served.json()["connection_info"]["data"]["target_iqn"] == on(dr, volume_id)["iqn"]
        client.post(action, json={"os-terminate_connection": {"connector": connector}})
        client.post(action, json={"os-detach": {}})

        ok(server, "failover-host", "--backend_id", "default", HOST)
        wait_for(lambda: volume_service(client)["replication_status"] == "enabled")
        assert (on(main, volume_id)["access"], on(dr, volume_id)["access"]) == (
            "readWrite",
            "replicationTarget",
        )

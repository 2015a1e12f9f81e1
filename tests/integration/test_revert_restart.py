"""A revert interrupted by a crash is finished by the next start.

A real `basalt serve` drives an emulated SolidFire cluster over HTTPS. The
cluster holds RollbackToSnapshot for seconds, the service is SIGKILLed while the
volume is ``reverting`` and its snapshot ``restoring``, and a new service on the
same database re-drives the revert: the volume comes back available with the
snapshot's bytes, the snapshot available, the operation closed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from basalt_emulators.solidfire import SolidFireBackend, serve_https
from tests.support.server import ServerProcess, start_server

pytestmark = pytest.mark.slow
WAIT = 30.0


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[SolidFireBackend, str]]:
    backend = SolidFireBackend(tmp_path / "cluster")
    with serve_https(backend) as server:
        yield backend, server.url


def serve(data_dir: Path, url: str) -> ServerProcess:
    backends = [
        {
            "name": "sf",
            "driver": "solidfire",
            "solidfire": {
                "url": url,
                "login": "admin",
                "password": "admin",
                "retry_initial_delay_seconds": 0.01,
                "poll_interval_seconds": 0.01,
                "create_settle_seconds": 0.1,
            },
        }
    ]
    return start_server(data_dir, env={"BASALT_BACKENDS": json.dumps(backends)})


def wait_for(client: httpx.Client, path: str, key: str, status: str) -> dict[str, object]:
    deadline = time.monotonic() + WAIT
    while True:
        body: dict[str, object] = client.get(path).json()[key]
        if body["status"] == status:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def test_a_revert_cut_by_sigkill_is_finished_at_the_next_start(
    tmp_path: Path, cluster: tuple[SolidFireBackend, str]
) -> None:
    backend, url = cluster
    data_dir = tmp_path / "data"
    server = serve(data_dir, url)
    try:
        client = httpx.Client(base_url=server.project_url, timeout=WAIT)
        volume = client.post("/volumes", json={"volume": {"size": 1}}).json()["volume"]
        wait_for(client, f"/volumes/{volume['id']}", "volume", "available")
        snap = client.post("/snapshots", json={"snapshot": {"volume_id": volume["id"]}}).json()
        snap_id = snap["snapshot"]["id"]
        wait_for(client, f"/snapshots/{snap_id}", "snapshot", "available")
        backend.faults.latency(10.0, method="RollbackToSnapshot")
        answer = client.post(
            f"/volumes/{volume['id']}/action", json={"revert": {"snapshot_id": snap_id}}
        )
        assert answer.status_code == 202, answer.text
        wait_for(client, f"/volumes/{volume['id']}", "volume", "reverting")
        assert client.get(f"/snapshots/{snap_id}").json()["snapshot"]["status"] == "restoring"
        server.kill_hard()
    finally:
        server.stop()
    backend.faults.clear()

    restarted = serve(data_dir, url)
    try:
        client = httpx.Client(base_url=restarted.project_url, timeout=WAIT)
        assert client.get(f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"
        assert client.get(f"/snapshots/{snap_id}").json()["snapshot"]["status"] == "available"
        operations = client.get("/operations", params={"resource_id": volume["id"]}).json()
        revert = [o for o in operations["operations"] if o["kind"] == "revert_volume"]
        assert [o["phase"] for o in revert] == ["succeeded"]
        assert "interrupted" in revert[0]["message"]
        assert "reconciled after restart" in restarted.log()
    finally:
        restarted.stop()

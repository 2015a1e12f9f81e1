"""An accept interrupted by a crash is finished by the next start.

A real `basalt serve` drives an emulated SolidFire cluster over HTTPS. The
cluster holds ModifyVolume (the move to the new project's account) for seconds,
the service is SIGKILLed while the accept waits for it, and a new service on the
same database finishes the accept: the volume and its snapshot are the new
project's, in its account on the array, available; the transfer is used; the
operation closed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from basalt_emulators.solidfire import SolidFireBackend, serve_https
from tests.integration.test_revert_restart import serve, wait_for
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow
WAIT = 30.0


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[SolidFireBackend, str]]:
    backend = SolidFireBackend(tmp_path / "cluster")
    with serve_https(backend) as server:
        yield backend, server.url


def as_user(server: ServerProcess, user: str, project: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.url}/v3/{project}",
        headers={"X-Auth-Token": f"{user}:{project}"},
        timeout=WAIT,
    )


def account_of(backend: SolidFireBackend, volume_id: str) -> str:
    names = {a["accountID"]: a["username"] for a in backend.accounts()}
    (found,) = [v for v in backend.active_volumes() if v["name"] == f"UUID-{volume_id}"]
    return names[found["accountID"]]


def test_an_accept_cut_by_sigkill_is_finished_at_the_next_start(
    tmp_path: Path, cluster: tuple[SolidFireBackend, str]
) -> None:
    backend, url = cluster
    data_dir = tmp_path / "data"
    server = serve(data_dir, url)
    try:
        alice, bob = as_user(server, "alice", "pa"), as_user(server, "bob", "pb")
        volume = alice.post("/volumes", json={"volume": {"size": 1}}).json()["volume"]
        wait_for(alice, f"/volumes/{volume['id']}", "volume", "available")
        snap = alice.post("/snapshots", json={"snapshot": {"volume_id": volume["id"]}}).json()
        snap_id = snap["snapshot"]["id"]
        wait_for(alice, f"/snapshots/{snap_id}", "snapshot", "available")
        offered = alice.post("/volume-transfers", json={"transfer": {"volume_id": volume["id"]}})
        transfer = offered.json()["transfer"]
        backend.faults.latency(10.0, method="ModifyVolume")
        answer = bob.post(
            f"/volume-transfers/{transfer['id']}/accept",
            json={"accept": {"auth_key": transfer["auth_key"]}},
        )
        assert answer.status_code == 202, answer.text
        deadline = time.monotonic() + WAIT
        while backend.call_counts["ModifyVolume"] == 0:  # the move is on the wire
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert account_of(backend, volume["id"]) == "basalt-pa"
        held = alice.get(f"/volumes/{volume['id']}").json()["volume"]
        assert held["status"] == "awaiting-transfer"
        server.kill_hard()
    finally:
        server.stop()
    backend.faults.clear()

    restarted = serve(data_dir, url)
    try:
        alice, bob = as_user(restarted, "alice", "pa"), as_user(restarted, "bob", "pb")
        moved = bob.get(f"/volumes/{volume['id']}").json()["volume"]
        assert (moved["status"], moved["os-vol-tenant-attr:tenant_id"]) == ("available", "pb")
        assert bob.get(f"/snapshots/{snap_id}").status_code == 200
        assert account_of(backend, volume["id"]) == "basalt-pb"
        assert alice.get(f"/volumes/{volume['id']}").status_code == 404
        assert alice.get("/volume-transfers").json()["transfers"] == []
        reused = bob.post(
            f"/volume-transfers/{transfer['id']}/accept",
            json={"accept": {"auth_key": transfer["auth_key"]}},
        )
        assert reused.status_code == 404
        operations = bob.get("/operations", params={"resource_id": volume["id"]}).json()
        accepts = [o for o in operations["operations"] if o["kind"] == "accept_transfer"]
        assert [o["phase"] for o in accepts] == ["succeeded"]
        assert "interrupted" in accepts[0]["message"]
        assert "reconciled after restart" in restarted.log()
    finally:
        restarted.stop()

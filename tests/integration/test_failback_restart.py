"""A failback cut by SIGKILL while it copies the secondary back is finished by the next start.

A real `basalt serve` runs one ``file`` backend with a replication target in another
directory. A replicated 2 GiB volume gets its initial copy; the backend fails over;
513 MiB of new data is written to the secondary copy (what hosts wrote while failed
over); a failback starts and the service is SIGKILLed while the failback operation
is still open (the database, read directly, must say so, or the test proves
nothing). The next service on the same database re-drives it: the backend serves
from its own pools again, the primary file holds exactly the secondary's bytes, the
volume is replicated again, and the operation ends succeeded.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.test_migration_restart import NO_WAIT, sha256_of, write_pattern
from tests.support.server import ServerProcess, start_server

pytestmark = pytest.mark.slow
WAIT = 60.0
HOST = "basalt@file"


def serve(root: Path, *, timeout: float = 30.0) -> ServerProcess:
    backends = [
        {
            "name": "file",
            "pools": {"default": str(root / "primary")},
            "replication_targets": [
                {"backend_id": "dr", "pools": {"default": str(root / "dr")}, "interval_seconds": 1}
            ],
        }
    ]
    env = {
        "BASALT_BACKENDS": json.dumps(backends),
        "BASALT_REPLICATION__TICK_SECONDS": "0.2",
        **NO_WAIT,
    }
    return start_server(root / "data", env=env, timeout=timeout)


def until(check: object, timeout: float = WAIT) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def service(client: httpx.Client) -> dict[str, object]:
    [found] = client.get("/os-services", params={"host": HOST}).json()["services"]
    assert isinstance(found, dict)
    return found


def failback_phases(data_dir: Path) -> list[str]:
    with sqlite3.connect(data_dir / "basalt.db") as db:
        rows = db.execute(
            "SELECT phase FROM operations WHERE kind = 'failback_backend' ORDER BY created_at"
        ).fetchall()
    return [phase for (phase,) in rows]


def test_a_failback_cut_by_sigkill_is_finished_after_the_restart(tmp_path: Path) -> None:
    server = serve(tmp_path)
    try:
        with httpx.Client(base_url=server.project_url, timeout=30.0) as client:
            client.post("/types", json={"volume_type": {"name": "replicated"}})
            type_id = client.get("/types/replicated").json()["volume_type"]["id"]
            client.post(
                f"/types/{type_id}/extra_specs",
                json={"extra_specs": {"replication_enabled": "<is> True"}},
            )
            created = client.post(
                "/volumes", json={"volume": {"size": 2, "volume_type": "replicated"}}
            )
            volume_id = created.json()["volume"]["id"]
            replication = f"/volumes/{volume_id}/replication"
            until(lambda: client.get(replication).json()["replication"]["syncs"] >= 1)
            failover = {"host": HOST, "backend_id": "dr"}
            assert client.put("/os-services/failover_host", json=failover).status_code == 202
            until(lambda: service(client)["replication_status"] == "failed-over")
            secondary = tmp_path / "dr" / "volumes" / f"{volume_id}.raw"
            write_pattern(secondary)  # what hosts wrote while failed over
            expected = sha256_of(secondary)
            back = {"host": HOST, "backend_id": "default"}
            assert client.put("/os-services/failover_host", json=back).status_code == 202
            until(lambda: failback_phases(server.data_dir) != [], timeout=10)
            time.sleep(0.3)
        server.kill_hard()
        assert failback_phases(server.data_dir) in (["pending"], ["running"]), (
            "the failback finished before the kill: the test proves nothing"
        )
    finally:
        server.stop()

    # Reconciliation re-drives the failback before the API answers: it copies again.
    server = serve(tmp_path, timeout=180.0)
    try:
        with httpx.Client(base_url=server.project_url, timeout=30.0) as client:
            found = service(client)
            assert (found["replication_status"], found["active_backend_id"]) == ("enabled", None)
            volume = client.get(f"/volumes/{volume_id}").json()["volume"]
            assert (volume["status"], volume["replication_status"]) == ("available", "enabled")
        primary = tmp_path / "primary" / "volumes" / f"{volume_id}.raw"
        assert sha256_of(primary) == expected
        assert failback_phases(server.data_dir) == ["succeeded"]
        assert not list((tmp_path / "primary" / "volumes").glob(".*"))  # no partial left
    finally:
        server.stop()

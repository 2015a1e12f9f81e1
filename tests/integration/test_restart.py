"""kill -9 the service in the middle of creates, clones, snapshots and deletes.

After the restart no volume or snapshot may be in a transitional status, no
operation may be open, and the pool must hold exactly the files the database
knows: no partial file, no orphan, nothing missing.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support.server import ServerProcess, start_server

pytestmark = pytest.mark.slow

TRANSITIONAL = {
    "creating",
    "deleting",
    "extending",
    "managing",
    "reserved",
    "attaching",
    "detaching",
    "retyping",
    "maintenance",
    "reverting",
    "unmanaging",
}
NO_WAIT = {"BASALT_API__SYNC_WAIT_SECONDS": "0"}


def _pool(data_dir: Path) -> Path:
    return data_dir / "pools" / "file" / "default"


def _create(client: httpx.Client, **fields: object) -> dict:
    response = client.post("/volumes", json={"volume": {"size": 1, **fields}})
    assert response.status_code == 202, response.text
    return response.json()["volume"]


def _wait_available(client: httpx.Client, volume_id: str) -> None:
    for _ in range(600):
        status = client.get(f"/volumes/{volume_id}").json()["volume"]["status"]
        if status == "available":
            return
        assert status == "creating", status
        time.sleep(0.05)
    raise AssertionError(f"volume {volume_id} never became available")


def _write_data(path: Path, mib: int) -> None:
    block = os.urandom(1024 * 1024)
    with path.open("r+b") as handle:
        for i in range(mib):
            handle.seek(i * 4 * 1024 * 1024)
            handle.write(block)


def _fire(server: ServerProcess, base_id: str, stop: threading.Event) -> None:
    """Send a mix of requests until the server dies."""
    rng = random.Random(7)
    made: list[str] = []
    with httpx.Client(base_url=server.project_url, timeout=5.0) as client:
        while not stop.is_set():
            try:
                choice = rng.random()
                if choice < 0.35:
                    made.append(_create(client)["id"])
                elif choice < 0.6:
                    made.append(_create(client, source_volid=base_id)["id"])
                elif choice < 0.75:
                    client.post("/snapshots", json={"snapshot": {"volume_id": base_id}})
                elif made:
                    client.delete(f"/volumes/{made.pop(rng.randrange(len(made)))}")
            except (httpx.TransportError, httpx.HTTPStatusError):
                return


def _check_consistent(server: ServerProcess) -> tuple[int, int]:
    with httpx.Client(base_url=server.project_url, timeout=10.0) as client:
        volumes = client.get("/volumes/detail").json()["volumes"]
        snapshots = client.get("/snapshots/detail").json()["snapshots"]
        open_ops = client.get("/operations", params={"open": "true"}).json()["operations"]
    stuck = [(v["id"], v["status"]) for v in volumes if v["status"] in TRANSITIONAL]
    stuck += [(s["id"], s["status"]) for s in snapshots if s["status"] in TRANSITIONAL]
    assert stuck == [], f"left in transitional states: {stuck}"
    assert open_ops == [], f"operations still open: {open_ops}"
    pool = _pool(server.data_dir)
    volume_files = {p.name for p in (pool / "volumes").iterdir()}
    snapshot_files = {p.name for p in (pool / "snapshots").iterdir()}
    healthy = {v["id"] for v in volumes if v["status"] != "error"}
    assert {f"{i}.raw" for i in healthy} <= volume_files, "a volume lost its file"
    assert volume_files <= {f"{v['id']}.raw" for v in volumes}, "files the database lacks"
    assert snapshot_files == {f"{s['id']}.raw" for s in snapshots if s["status"] != "error"}
    for volume in volumes:
        path = pool / "volumes" / f"{volume['id']}.raw"
        if volume["status"] == "available":
            assert path.stat().st_size == volume["size"] * 1024**3
    return len(volumes), len(snapshots)


def _open_operations(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "basalt.db") as db:
        row = db.execute(
            "SELECT count(*) FROM operations WHERE phase IN ('pending', 'running')"
        ).fetchone()
    return int(row[0])


@pytest.mark.parametrize("kill_after_s", [0.3, 0.8, 1.5])
def test_sigkill_mid_work_leaves_nothing_half_done(tmp_path: Path, kill_after_s: float) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir, env=NO_WAIT)
    try:
        with httpx.Client(base_url=server.project_url, timeout=10.0) as client:
            base = _create(client, name="base")
            _wait_available(client, base["id"])
        _write_data(_pool(data_dir) / "volumes" / f"{base['id']}.raw", mib=128)
        stop = threading.Event()
        workers = [
            threading.Thread(target=_fire, args=(server, base["id"], stop)) for _ in range(4)
        ]
        for worker in workers:
            worker.start()
        # Count from the first operation in flight, not from the first request: on a
        # busy machine 0.3 s after the burst starts the service may not have begun one.
        deadline = time.monotonic() + 30
        while _open_operations(data_dir) == 0:
            assert time.monotonic() < deadline, "no operation started within 30 s"
            time.sleep(0.01)
        time.sleep(kill_after_s)
        server.kill_hard()
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
    finally:
        server.stop()
    in_flight = _open_operations(data_dir)
    assert in_flight > 0, "the kill hit no work in flight; the test proved nothing"
    restarted = start_server(data_dir, env=NO_WAIT)
    try:
        volumes, _ = _check_consistent(restarted)
        assert volumes >= 1
        assert "reconciled after restart" in restarted.log()
    finally:
        restarted.stop()

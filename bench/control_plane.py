"""Benchmark 1: control-plane cost of create -> available -> delete through the REST API.

16 concurrent clients run full cycles against a real `basalt serve` on loopback
(1 GiB volumes on the embedded file backend): POST a volume, wait for available,
DELETE it, and confirm it is gone (GET answers 404). Beside it, in the same run,
the floor: the same number of sparse-file creates and deletes plus one SQLite
row insert and delete each (same WAL/synchronous settings as Basalt), done
directly in one loop.

    uv run python bench/control_plane.py [--cycles 2000] [--clients 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import median, percentile, save, table  # noqa: E402
from bench.http_client import Connection  # noqa: E402
from tests.support.server import start_server  # noqa: E402

GIB = 1024**3


async def cycle(conn: Connection, root: str) -> float:
    """One create -> available -> delete -> 404 cycle; its duration in seconds.

    Raises:
        RuntimeError: a request answered an unexpected status, or the volume failed.
    """
    started = time.perf_counter()
    reply = await conn.request("POST", f"{root}/volumes", {"volume": {"size": 1}})
    if reply.status != 202:
        raise RuntimeError(f"create answered {reply.status}: {reply.body[:200]!r}")
    volume = reply.json()["volume"]
    while volume["status"] != "available":
        if volume["status"] == "error":
            raise RuntimeError(f"volume {volume['id']} failed")
        await asyncio.sleep(0.01)
        volume = (await conn.request("GET", f"{root}/volumes/{volume['id']}")).json()["volume"]
    reply = await conn.request("DELETE", f"{root}/volumes/{volume['id']}")
    if reply.status != 202:
        raise RuntimeError(f"delete answered {reply.status}: {reply.body[:200]!r}")
    while (await conn.request("GET", f"{root}/volumes/{volume['id']}")).status != 404:
        await asyncio.sleep(0.01)
    return time.perf_counter() - started


async def _run_api(port: int, root: str, *, cycles: int, clients: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    remaining = cycles
    connections = [Connection("127.0.0.1", port) for _ in range(clients)]

    async def worker(conn: Connection) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            latencies.append(await cycle(conn, root))

    for _ in range(min(20, cycles)):  # warm-up, not counted
        await cycle(connections[0], root)
    started = time.perf_counter()
    await asyncio.gather(*(worker(conn) for conn in connections))
    elapsed = time.perf_counter() - started
    for conn in connections:
        await conn.close()
    return elapsed, latencies


def _run_floor(directory: Path, *, cycles: int) -> float:
    db = sqlite3.connect(directory / "floor.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE volumes (id TEXT PRIMARY KEY, size_gib INTEGER, status TEXT)")
    started = time.perf_counter()
    for _ in range(cycles):
        volume_id = str(uuid.uuid4())
        path = directory / f"{volume_id}.raw"
        with path.open("wb") as handle:
            handle.truncate(GIB)
        db.execute("INSERT INTO volumes VALUES (?, 1, 'available')", (volume_id,))
        path.unlink()
        db.execute("DELETE FROM volumes WHERE id = ?", (volume_id,))
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="basalt-bench-") as tmp:
        work = Path(tmp)
        (work / "floor").mkdir()
        floor_s = _run_floor(work / "floor", cycles=args.cycles)
        server = start_server(work / "data")
        try:
            api_s, latencies = asyncio.run(
                _run_api(server.port, "/v3/basalt", cycles=args.cycles, clients=args.clients)
            )
        finally:
            server.stop()
    api_per_cycle_ms = api_s / args.cycles * 1000
    floor_per_cycle_ms = floor_s / args.cycles * 1000
    result = {
        "cycles": args.cycles,
        "clients": args.clients,
        "cpus": os.cpu_count(),
        "api_cycles_per_s": args.cycles / api_s,
        "api_p50_ms": median(latencies) * 1000,
        "api_p99_ms": percentile(latencies, 99) * 1000,
        "api_ms_per_cycle": api_per_cycle_ms,
        "floor_cycles_per_s": args.cycles / floor_s,
        "floor_ms_per_cycle": floor_per_cycle_ms,
        "ratio_api_to_floor": api_per_cycle_ms / floor_per_cycle_ms,
        "targets": {"cycles_per_s_min": 100, "ratio_max": 10},
    }
    save("control_plane", result)
    print(
        table(
            ["path", "cycles", "cycles/s", "ms per cycle", "p50 ms", "p99 ms", "x floor"],
            [
                [
                    "REST API, 16 clients",
                    args.cycles,
                    f"{result['api_cycles_per_s']:.0f}",
                    f"{api_per_cycle_ms:.2f}",
                    f"{result['api_p50_ms']:.1f}",
                    f"{result['api_p99_ms']:.1f}",
                    f"{result['ratio_api_to_floor']:.1f}",
                ],
                [
                    "floor: file + SQLite row, 1 loop",
                    args.cycles,
                    f"{result['floor_cycles_per_s']:.0f}",
                    f"{floor_per_cycle_ms:.3f}",
                    "-",
                    "-",
                    "1.0",
                ],
            ],
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

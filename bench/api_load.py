"""The requests bench/api.py times, on bench/http_client.py's keep-alive connections."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.control_plane import cycle
from bench.http_client import Connection, Reply
from tests.support.server import PROJECT, ServerProcess

ROOT = f"/v3/{PROJECT}"
PAGE = 1000

Job = Callable[[Connection], Awaitable[list[float]]]
"""Some requests on one connection; returns the seconds it timed."""


def server_cpu_s(pid: int) -> float:
    """CPU seconds process ``pid`` has used, all its threads, ended ones included
    (user + system time from /proc, in clock ticks of 10 ms: time whole runs, not
    single requests).

    On a machine shared with other work, CPU time per request moves far less than
    wall time, which includes waiting for a core.
    """
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CountingConnection(Connection):
    """A Connection that counts its requests (a create+delete cycle makes three or more)."""

    requests = 0

    async def request(self, method: str, path: str, body: object = None) -> Reply:
        self.requests += 1
        return await super().request(method, path, body)


@dataclass(frozen=True)
class Run:
    """What one run of jobs took."""

    wall_s: float
    latencies: list[float]
    requests: int
    server_cpu_s: float


async def run_jobs(server: ServerProcess, jobs: Sequence[Job], *, clients: int) -> Run:
    """Run ``jobs`` on ``clients`` keep-alive connections, each taking the next job when free.

    Returns:
        Wall seconds, every latency the jobs reported, the HTTP requests made and the
        server's CPU seconds meanwhile.
    """
    queue = list(reversed(jobs))
    latencies: list[float] = []
    connections = [CountingConnection("127.0.0.1", server.port) for _ in range(clients)]

    async def worker(conn: Connection) -> None:
        while queue:
            latencies.extend(await queue.pop()(conn))

    cpu_before = server_cpu_s(server.process.pid)
    started = time.perf_counter()
    await asyncio.gather(*(worker(conn) for conn in connections))
    elapsed = time.perf_counter() - started
    cpu = server_cpu_s(server.process.pid) - cpu_before
    for conn in connections:
        await conn.close()
    return Run(elapsed, latencies, sum(c.requests for c in connections), cpu)


def _next_path(body: dict[str, object]) -> str | None:
    links = body.get("volumes_links") or []
    assert isinstance(links, list)
    for link in links:
        if link["rel"] == "next":
            url = urlsplit(link["href"])
            return f"{url.path}?{url.query}"
    return None


async def walk(conn: Connection, expected: int) -> list[float]:
    """List every volume page by page, following the next links; the seconds of each
    full page (the empty page that ends a listing of whole pages is not counted).

    Raises:
        RuntimeError: an error status, or the pages did not hold each volume exactly once.
    """
    path: str | None = f"{ROOT}/volumes/detail?limit={PAGE}"
    latencies: list[float] = []
    seen: set[str] = set()
    while path is not None:
        started = time.perf_counter()
        reply = await conn.request("GET", path)
        elapsed = time.perf_counter() - started
        if reply.status != 200:
            raise RuntimeError(f"GET {path} answered {reply.status}: {reply.body[:200]!r}")
        body = reply.json()
        seen.update(v["id"] for v in body["volumes"])
        if len(body["volumes"]) == PAGE:
            latencies.append(elapsed)
        path = _next_path(body)
    if len(seen) != expected:
        raise RuntimeError(f"the listing held {len(seen)} distinct volumes, not {expected}")
    return latencies


async def show(conn: Connection, volume_id: str) -> list[float]:
    """One show; its seconds.

    Raises:
        RuntimeError: it did not answer 200.
    """
    started = time.perf_counter()
    reply = await conn.request("GET", f"{ROOT}/volumes/{volume_id}")
    elapsed = time.perf_counter() - started
    if reply.status != 200:
        raise RuntimeError(f"show {volume_id} answered {reply.status}")
    return [elapsed]


async def timed_cycle(conn: Connection) -> list[float]:
    """control_plane.py's create -> available -> delete -> 404 cycle; its seconds."""
    return [await cycle(conn, ROOT)]


async def create_one(port: int) -> str:
    """Create a 1 GiB volume through REST and wait until it is available; its id.

    Raises:
        RuntimeError: the create was refused or the volume failed.
    """
    conn = Connection("127.0.0.1", port)
    try:
        reply = await conn.request("POST", f"{ROOT}/volumes", {"volume": {"size": 1}})
        if reply.status != 202:
            raise RuntimeError(f"create answered {reply.status}: {reply.body[:200]!r}")
        volume = reply.json()["volume"]
        while volume["status"] == "creating":
            await asyncio.sleep(0.01)
            volume = (await conn.request("GET", f"{ROOT}/volumes/{volume['id']}")).json()["volume"]
    finally:
        await conn.close()
    if volume["status"] != "available":
        raise RuntimeError(f"volume {volume['id']} is {volume['status']}")
    return str(volume["id"])


async def reserve(port: int, volume_id: str) -> None:
    """os-reserve a volume through REST.

    Raises:
        RuntimeError: the action was refused.
    """
    conn = Connection("127.0.0.1", port)
    try:
        path = f"{ROOT}/volumes/{volume_id}/action"
        reply = await conn.request("POST", path, {"os-reserve": {}})
    finally:
        await conn.close()
    if reply.status != 202:
        raise RuntimeError(f"os-reserve answered {reply.status}: {reply.body[:200]!r}")

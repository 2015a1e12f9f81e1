"""A migration cut by SIGKILL in the middle of its copy leaves the volume whole, in one place.

A real `basalt serve` runs one ``file`` backend with two pools in two directories.
A 2 GiB sparse volume carries 513 MiB of patterned data; it is migrated to the
other pool with ``force_host_copy`` (so Basalt copies the bytes itself instead of
the driver renaming the file) and the service is SIGKILLed as soon as the
operation reports some but not all bytes copied. A new service on the same
database rolls the migration back: the volume is available in its source pool,
with exactly one file across both pools, no partial or destination copy left,
the same bytes, and it still migrates and extends.

The copy is fast (about 2.5 GB/s on ext4 in a test VM) and no setting slows it,
so the kill races it: the service writes progress at the first 64 MiB copied and
then every half second, so the test sees ``bytes_done`` of 64 MiB while several
hundred MiB are still to copy and fsync. The database after the kill, read
directly, must say the migration stopped before its switch with the copy
unfinished, or the test would prove nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from basalt.drivers.file.copy import data_extents
from tests.support.server import ServerProcess, start_server

pytestmark = pytest.mark.slow
WAIT = 30.0
MIB = 1024**2
GIB = 1024 * MIB
SIZE_GIB = 2
REGIONS = 8
REGION_BYTES = 64 * MIB
NO_WAIT = {"BASALT_API__SYNC_WAIT_SECONDS": "0"}


def serve(data_dir: Path, pools: dict[str, Path]) -> ServerProcess:
    backends = [{"name": "file", "pools": {name: str(path) for name, path in pools.items()}}]
    return start_server(data_dir, env={"BASALT_BACKENDS": json.dumps(backends), **NO_WAIT})


def wait_for(client: httpx.Client, volume_id: str, status: str) -> dict[str, object]:
    deadline = time.monotonic() + WAIT
    while True:
        body: dict[str, object] = client.get(f"/volumes/{volume_id}").json()["volume"]
        if body["status"] == status:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def write_pattern(path: Path) -> int:
    """Write seeded random data in regions spread over the file (none aligned to the
    copy's 64 MiB pieces) and over its last MiB; the data bytes written."""
    rng = random.Random(20261)
    size = path.stat().st_size
    stride = size // REGIONS
    written = 0
    fd = os.open(path, os.O_WRONLY)
    try:
        for i in range(REGIONS):
            seed = rng.randbytes(MIB)
            block = b"".join(bytes([i]) + seed[1:] for _ in range(REGION_BYTES // MIB))
            offset = i * stride + (i + 1) * 12_288
            written += os.pwrite(fd, block, offset)
        written += os.pwrite(fd, rng.randbytes(MIB), size - MIB)
        os.fsync(fd)
    finally:
        os.close(fd)
    return written


def sha256_of(path: Path) -> str:
    """The file's SHA-256, its holes hashed as the zeros they read as (without reading
    them: reading GiBs of holes is slower than hashing them here)."""
    sha = hashlib.sha256()
    zeros = memoryview(bytes(16 * MIB))
    buffer = bytearray(16 * MIB)
    view = memoryview(buffer)
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        position = 0
        for start, length in [*data_extents(fd, size), (size, 0)]:
            while position < start:
                step = min(len(zeros), start - position)
                sha.update(zeros[:step])
                position += step
            while position < start + length:
                got = os.preadv(fd, [view[: min(len(buffer), start + length - position)]], position)
                assert got > 0, f"{path} ended at {position}"
                sha.update(view[:got])
                position += got
    finally:
        os.close(fd)
    return sha.hexdigest()


def pool_files(pools: dict[str, Path]) -> list[str]:
    """Every entry (dot-files and partials included) under every pool's volumes and
    snapshots, as ``pool/kind/name``."""
    return sorted(
        f"{name}/{kind}/{entry.name}"
        for name, root in pools.items()
        for kind in ("volumes", "snapshots")
        if (root / kind).is_dir()
        for entry in (root / kind).iterdir()
    )


def open_migration(data_dir: Path, volume_id: str) -> tuple[str, str, int, int | None]:
    """(phase, step, bytes_done, bytes_total) of the volume's migration, from the database."""
    with sqlite3.connect(data_dir / "basalt.db") as db:
        ((phase, params, done, total),) = db.execute(
            "SELECT phase, params, bytes_done, bytes_total FROM operations "
            "WHERE resource_id = ? AND kind = 'migrate_volume'",
            (volume_id,),
        ).fetchall()
    return phase, json.loads(params)["step"], done, total


def volume_rows(data_dir: Path, volume_id: str) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(data_dir / "basalt.db") as db:
        return db.execute(
            "SELECT pool, status, migration_status FROM volumes WHERE id = ?", (volume_id,)
        ).fetchall()


def test_a_migration_cut_by_sigkill_mid_copy_leaves_the_volume_whole_in_one_place(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    pools = {"a": tmp_path / "pool-a", "b": tmp_path / "pool-b"}
    server = serve(data_dir, pools)
    try:
        client = httpx.Client(base_url=server.project_url, timeout=WAIT)
        answer = client.post("/volumes", json={"volume": {"size": SIZE_GIB}})
        assert answer.status_code == 202, answer.text
        volume = wait_for(client, answer.json()["volume"]["id"], "available")
        volume_id = str(volume["id"])
        source = str(volume["os-vol-host-attr:host"]).rsplit("#", 1)[1]
        (dest,) = set(pools) - {source}
        source_file = pools[source] / "volumes" / f"{volume_id}.raw"
        dest_file = pools[dest] / "volumes" / f"{volume_id}.raw"
        data_bytes = write_pattern(source_file)
        before = sha256_of(source_file)

        answer = client.post(
            f"/volumes/{volume_id}/action",
            json={"os-migrate_volume": {"host": f"basalt@file#{dest}", "force_host_copy": True}},
        )
        assert answer.status_code == 202, answer.text
        started = time.monotonic()
        deadline = started + WAIT
        while True:
            operations = client.get("/operations", params={"resource_id": volume_id}).json()
            (migration,) = [o for o in operations["operations"] if o["kind"] == "migrate_volume"]
            if 0 < migration["bytes_done"] < (migration["bytes_total"] or 0):
                break
            assert migration["phase"] in ("pending", "running"), migration
            assert time.monotonic() < deadline, migration
            time.sleep(0.005)
        server.kill_hard()
        killed_after = time.monotonic() - started
    finally:
        server.stop()

    phase, step, done, total = open_migration(data_dir, volume_id)
    copied_blocks = dest_file.stat().st_blocks * 512 if dest_file.exists() else 0
    print(
        f"killed {killed_after:.3f} s after the request: step {step!r}, "
        f"bytes_done {done} of {total}; the destination held {copied_blocks} allocated "
        f"bytes of {data_bytes} data bytes"
    )
    assert (phase, step) == ("running", "created"), "the kill did not land mid-copy"
    assert 0 < done < data_bytes == total
    assert volume_rows(data_dir, volume_id) == [(source, "maintenance", "migrating")]
    assert sorted(pool_files(pools)) == sorted(
        [f"{source}/volumes/{volume_id}.raw", f"{dest}/volumes/{volume_id}.raw"]
    )

    restarted = serve(data_dir, pools)
    try:
        client = httpx.Client(base_url=restarted.project_url, timeout=WAIT)
        settled = client.get(f"/volumes/{volume_id}").json()["volume"]
        assert (settled["status"], settled["migration_status"]) == ("available", "error")
        assert settled["os-vol-host-attr:host"] == f"basalt@file#{source}"
        assert volume_rows(data_dir, volume_id) == [(source, "available", "error")]
        listed = client.get("/volumes/detail", params={"all_tenants": "1"}).json()["volumes"]
        assert [v["id"] for v in listed].count(volume_id) == 1
        assert pool_files(pools) == [f"{source}/volumes/{volume_id}.raw"]
        assert source_file.stat().st_size == SIZE_GIB * GIB
        assert sha256_of(source_file) == before
        operations = client.get("/operations", params={"resource_id": volume_id}).json()
        migration = [o for o in operations["operations"] if o["kind"] == "migrate_volume"]
        assert [o["phase"] for o in migration] == ["rolled_back"]
        assert "interrupted" in migration[0]["message"]
        assert "reconciled after restart" in restarted.log()

        answer = client.post(
            f"/volumes/{volume_id}/action",
            json={"os-migrate_volume": {"host": f"basalt@file#{dest}", "force_host_copy": True}},
        )
        assert answer.status_code == 202, answer.text
        moved = wait_for(client, volume_id, "available")  # it is in maintenance until then
        assert moved["migration_status"] == "success", moved
        assert moved["os-vol-host-attr:host"] == f"basalt@file#{dest}"
        assert pool_files(pools) == [f"{dest}/volumes/{volume_id}.raw"]
        answer = client.post(
            f"/volumes/{volume_id}/action", json={"os-extend": {"new_size": SIZE_GIB + 1}}
        )
        assert answer.status_code == 202, answer.text
        deadline = time.monotonic() + WAIT
        while client.get(f"/volumes/{volume_id}").json()["volume"]["size"] != SIZE_GIB + 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        wait_for(client, volume_id, "available")
        assert dest_file.stat().st_size == (SIZE_GIB + 1) * GIB
        assert volume_rows(data_dir, volume_id) == [(dest, "available", "success")]
    finally:
        restarted.stop()

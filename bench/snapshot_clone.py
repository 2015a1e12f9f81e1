"""Benchmark 2: snapshot and clone cost against volume size, XFS reflink vs ext4.

Makes two loop-mounted pools (XFS with reflink=1, and ext4) from sparse images,
then for volumes of 1, 10 and 100 GiB, each holding 1 GiB of data (64 chunks of
16 MiB spread evenly across the volume), times FileDriver.create_snapshot and
FileDriver.clone_volume (median, min and max of 5 runs; copies are deleted as
they are made). The claim to check: with reflink the cost does not grow with
the volume's size (100 GiB clone <= 2x the 1 GiB clone, and < 50 ms); ext4 is
the sparse-copy baseline, whose cost follows the data (1 GiB each time).
A reflink's cost follows the number of data extents instead (the "data extents"
column): in the 1 GiB volume the 64 chunks touch and form one extent, in the
larger ones they stay 64, so the script also compares sizes with equal extents.

Needs root (loop devices, mkfs, mount); prints why and exits 0 otherwise.

    uv run python bench/snapshot_clone.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from basalt.drivers.file import FileDriver  # noqa: E402
from basalt.drivers.file.copy import data_extents  # noqa: E402
from basalt.drivers.file.loopfs import (  # noqa: E402
    Filesystem,
    LoopMount,
    create_image_pool,
    is_root,
)
from basalt.drivers.types import SnapshotRef, VolumeRef, no_progress  # noqa: E402
from basalt.errors import ConfigError  # noqa: E402
from bench.common import median, save, table  # noqa: E402

MIB = 1024**2
POOL = "bench"
IMAGE_GIB = 12
CHUNKS = 64
CHUNK_BYTES = 16 * MIB
TARGET_RATIO = 2.0
TARGET_CLONE_MS = 50.0
FILESYSTEMS: tuple[Filesystem, ...] = ("xfs", "ext4")


def write_data(path: Path, size_bytes: int) -> int:
    """1 GiB of non-zero data in 64 chunks of 16 MiB, spread evenly, then fsync.

    Returns the number of data extents the file then has: a reflink's cost follows
    it, and in a 1 GiB volume the 64 chunks touch, making one extent.
    """
    chunk = os.urandom(CHUNK_BYTES)
    stride = size_bytes // CHUNKS
    fd = os.open(path, os.O_WRONLY)
    try:
        for index in range(CHUNKS):
            offset = index * stride // CHUNK_BYTES * CHUNK_BYTES
            os.pwrite(fd, chunk, offset)
        os.fsync(fd)
        return len(data_extents(fd, size_bytes))
    finally:
        os.close(fd)


def timed_ms(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def stats(samples: list[float]) -> dict[str, float]:
    return {"median": median(samples), "min": min(samples), "max": max(samples)}


def measure_size(driver: FileDriver, size_gib: int, runs: int) -> dict[str, object]:
    """Time snapshot and clone of one volume of ``size_gib`` holding 1 GiB of data."""
    volume = VolumeRef(id=str(uuid.uuid4()), size_gib=size_gib, pool=POOL)
    driver.create_volume(volume)
    try:
        extents = write_data(
            driver.pool_path(POOL) / "volumes" / f"{volume.id}.raw", volume.size_bytes
        )
        snapshot_ms, clone_ms = [], []
        for _ in range(runs):
            snapshot = SnapshotRef(
                id=str(uuid.uuid4()), volume_id=volume.id, size_gib=size_gib, pool=POOL
            )
            snapshot_ms.append(timed_ms(partial(driver.create_snapshot, snapshot, volume)))
            driver.delete_snapshot(snapshot)
            clone = VolumeRef(id=str(uuid.uuid4()), size_gib=size_gib, pool=POOL)
            clone_ms.append(
                timed_ms(partial(driver.clone_volume, clone, volume, progress=no_progress))
            )
            driver.delete_volume(clone)
    finally:
        driver.delete_volume(volume)
    return {
        "size_gib": size_gib,
        "data_extents": extents,
        "snapshot_ms": stats(snapshot_ms),
        "clone_ms": stats(clone_ms),
    }


def measure_fs(work: Path, fs: Filesystem, sizes: list[int], runs: int) -> list[dict[str, object]]:
    """Make a loop pool of ``fs``, measure every size on it, and take it down again."""
    mount: LoopMount | None = None
    try:
        mount = create_image_pool(work / f"{fs}.img", work / f"{fs}-mnt", size_gib=IMAGE_GIB, fs=fs)
        driver = FileDriver(backend_name=f"bench-{fs}", pools={POOL: mount.mount_point / "pool"})
        driver.setup()
        reflink = driver.reflink_supported(POOL)
        results = []
        for size_gib in sizes:
            print(f"  {fs}: {size_gib} GiB ...", file=sys.stderr, flush=True)
            results.append({"fs": fs, "reflink": reflink, **measure_size(driver, size_gib, runs)})
        return results
    finally:
        if mount is not None:
            mount.unmount()
        (work / f"{fs}.img").unlink(missing_ok=True)


def ms(result: dict[str, object], key: str) -> float:
    value = result[key]
    assert isinstance(value, dict)
    return float(value["median"])


def render(results: list[dict[str, object]]) -> str:
    rows = []
    for result in results:
        base = next(r for r in results if r["fs"] == result["fs"] and r["size_gib"] == 1)
        snap, clone = result["snapshot_ms"], result["clone_ms"]
        assert isinstance(snap, dict) and isinstance(clone, dict)
        rows.append(
            [
                f"{result['fs']}{' (reflink)' if result['reflink'] else ''}",
                f"{result['size_gib']} GiB",
                str(result["data_extents"]),
                f"{snap['median']:.1f} ({snap['min']:.1f}-{snap['max']:.1f})",
                f"{clone['median']:.1f} ({clone['min']:.1f}-{clone['max']:.1f})",
                f"{ms(result, 'clone_ms') / ms(base, 'clone_ms'):.2f}x",
            ]
        )
    headers = [
        "fs",
        "size",
        "data extents",
        "snapshot ms median (min-max)",
        "clone ms median (min-max)",
    ]
    return table([*headers, "clone vs 1 GiB"], rows)


def verdict(results: list[dict[str, object]]) -> tuple[bool, str]:
    """Check the reflink target on the largest XFS size measured."""
    xfs = [r for r in results if r["fs"] == "xfs"]
    small = next(r for r in xfs if r["size_gib"] == 1)
    large = max(xfs, key=lambda r: int(str(r["size_gib"])))
    ratio = ms(large, "clone_ms") / ms(small, "clone_ms")
    clone = ms(large, "clone_ms")
    met = ratio <= TARGET_RATIO and clone < TARGET_CLONE_MS
    text = (
        f"Target (XFS reflink): {large['size_gib']} GiB clone <= {TARGET_RATIO:g}x the 1 GiB "
        f"clone and < {TARGET_CLONE_MS:g} ms: {ratio:.2f}x, {clone:.1f} ms -> "
        f"{'MET' if met else 'MISSED'}"
    )
    peers = [r for r in xfs if r is not large and r["data_extents"] == large["data_extents"]]
    if peers:
        peer = max(peers, key=lambda r: int(str(r["size_gib"])))
        text += (
            f"\nAt the same data extent count ({large['data_extents']}): {large['size_gib']} GiB "
            f"clone = {ms(large, 'clone_ms') / ms(peer, 'clone_ms'):.2f}x the "
            f"{peer['size_gib']} GiB clone"
        )
    return met, text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 and 10 GiB only, 3 runs")
    args = parser.parse_args()
    if not is_root():
        print(
            "snapshot_clone: skipped, it needs root to make loop-mounted XFS and ext4 pools "
            "(run it as root: sudo uv run python bench/snapshot_clone.py)"
        )
        return 0
    sizes, runs = ([1, 10], 3) if args.quick else ([1, 10, 100], 5)
    work = Path(tempfile.mkdtemp(prefix="basalt-bench-"))
    try:
        results = [r for fs in FILESYSTEMS for r in measure_fs(work, fs, sizes, runs)]
    except ConfigError as exc:
        print(f"snapshot_clone: skipped, cannot make loop pools here: {exc}")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)
    met, text = verdict(results)
    print(render(results))
    print(f"\nEach volume holds 1 GiB of data; {runs} runs per cell.\n{text}")
    payload: dict[str, object] = {"runs": runs, "results": results, "target": text}
    print(f"Raw results: {save('snapshot_clone', {**payload, 'target_met': met})}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())

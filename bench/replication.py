"""Benchmark: replication lag under a steady write load, and shipped bytes against written.

One replicated 1 GiB volume on the ``file`` backend, its target's secondary directory
on the machine's own filesystem; the replicator thread runs as in the service (tick
0.1 s) with the target's ``interval_seconds``. A writer thread writes 64 KiB blocks
at a steady rate into the volume's file (as tgt's backing store would receive them),
each at a new offset and stamped with its sequence number. A checker polls the
secondary copy every 20 ms for the stamps of every 8th write: a write's lag is the
time from its write returning to its stamp being readable in the secondary copy.
What it cannot beat: a write waits for the next shipment's point (on average half
the interval, at most the interval plus one tick) and then for that shipment to
finish, so lag ~ interval / 2 + shipment time, and the worst ~ interval + tick +
shipment time.

Two primary pools, each in its own run: an XFS loop image with reflink (changes
found by FIEMAP between point-in-time clones; needs root) and a directory on the
machine's own ext4 (changes found by per-MiB checksums of the whole volume's data).
Shipped bytes are the data the shipments wrote after the initial full copy; a block
is shipped at the granularity the method sees (filesystem blocks for FIEMAP, 1 MiB
chunks for checksums), once per shipment however often it was written.

    uv run python bench/replication.py [--quick] [--seconds 20] [--interval 2]
        [--rate-mib 4]
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import basalt  # noqa: E402
from basalt.config import Settings  # noqa: E402
from basalt.drivers.file.loopfs import create_image_pool, is_root  # noqa: E402
from bench.common import median, percentile, save, table  # noqa: E402

MIB = 1024**2
BLOCK = 64 * 1024
SAMPLE_EVERY = 8


def run(primary: Path, secondary: Path, data: Path, args: argparse.Namespace) -> dict[str, object]:
    settings = Settings(
        data_dir=data,
        backends=[
            {
                "name": "file",
                "pools": {"default": str(primary)},
                "replication_targets": [
                    {
                        "backend_id": "dr",
                        "pools": {"default": str(secondary)},
                        "interval_seconds": args.interval,
                    }
                ],
            }
        ],
        replication={"tick_seconds": 0.1},
    )
    with basalt.Basalt(settings) as b:
        b.types.create("replicated", extra_specs={"replication_enabled": "<is> True"})
        volume = b.volumes.create(size_gib=1, volume_type="replicated").wait(timeout=60)
        source = primary / "volumes" / f"{volume.id}.raw"
        replica = secondary / "volumes" / f"{volume.id}.raw"
        wait_until(lambda: (b.replication.volume_replication(volume.id).syncs or 0) >= 1)  # type: ignore[union-attr]
        initial = b.replication.volume_replication(volume.id)
        assert initial is not None
        lags, written = load(source, replica, args)
        last_write = time.time()
        wait_until(lambda: pending_done(replica, written))

        def recorded() -> bool:  # the shipment that carried the last write is in the record
            found = b.replication.volume_replication(volume.id)
            return found is not None and (found.last_sync_at or 0).timestamp() >= last_write  # type: ignore[union-attr]

        wait_until(recorded)
        final = b.replication.volume_replication(volume.id)
        assert final is not None
        method = final.last_method
    shipped = final.bytes_shipped_total - initial.bytes_shipped_total
    return {
        "method": method,
        "written_bytes": len(written) * BLOCK,
        "writes": len(written),
        "shipped_bytes": shipped,
        "shipments": final.syncs - initial.syncs,
        "lags_s": lags,
    }


def load(
    source: Path, replica: Path, args: argparse.Namespace
) -> tuple[list[float], list[tuple[int, float]]]:
    """Write at a steady rate while a checker measures each sampled write's lag."""
    per_second = args.rate_mib * MIB / BLOCK
    total = int(per_second * args.seconds)
    written: list[tuple[int, float]] = []
    lags: list[float] = []
    stop = threading.Event()
    lock = threading.Lock()

    def check() -> None:
        fd = os.open(replica, os.O_RDONLY)
        seen = 0
        try:
            while not stop.is_set() or seen < len(written):
                with lock:
                    todo = [(i, t) for i, t in written[seen:] if i % SAMPLE_EVERY == 0]
                    upto = len(written)
                arrived = []
                for index, at in todo:
                    if os.pread(fd, 8, index * BLOCK) == struct.pack("<Q", index + 1):
                        arrived.append(time.monotonic() - at)
                    else:
                        break
                lags.extend(arrived)
                if len(arrived) == len(todo):
                    seen = upto
                elif arrived:
                    seen = todo[len(arrived)][0]
                time.sleep(0.02)
        finally:
            os.close(fd)

    checker = threading.Thread(target=check, daemon=True)
    checker.start()
    fd = os.open(source, os.O_WRONLY)
    started = time.monotonic()
    try:
        for index in range(total):
            due = started + index / per_second
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            block = struct.pack("<Q", index + 1) + os.urandom(BLOCK - 8)
            os.pwrite(fd, block, index * BLOCK)
            with lock:
                written.append((index, time.monotonic()))
    finally:
        os.close(fd)
    stop.set()
    checker.join(timeout=args.interval * 4 + 60)
    return lags, written


def pending_done(replica: Path, written: list[tuple[int, float]]) -> bool:
    index = written[-1][0]
    with replica.open("rb") as f:
        f.seek(index * BLOCK)
        return f.read(8) == struct.pack("<Q", index + 1)


def wait_until(check: object, timeout: float = 120.0) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the replication did not catch up")
        time.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--rate-mib", type=float, default=4.0)
    args = parser.parse_args()
    if args.quick:
        args.seconds = 6.0
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="basalt-bench-repl-", dir="/var/tmp") as tmp:
        root = Path(tmp)
        if is_root():
            with create_image_pool(root / "xfs.img", root / "xfs", size_gib=2, fs="xfs") as xfs:
                results["xfs (reflink)"] = run(
                    xfs.mount_point / "pool", root / "dr-xfs", root / "data-xfs", args
                )
        results["ext4 (no reflink)"] = run(
            root / "ext4-pool", root / "dr-ext4", root / "data-ext4", args
        )
    rows = []
    for pool, r in results.items():
        lags = [float(x) for x in r["lags_s"]]  # type: ignore[attr-defined]
        written, shipped = int(r["written_bytes"]), int(r["shipped_bytes"])  # type: ignore[call-overload]
        rows.append(
            [
                pool,
                r["method"],
                f"{args.interval:g}",
                f"{args.rate_mib:g}",
                f"{written / MIB:.0f}",
                f"{shipped / MIB:.1f}",
                f"{shipped / written:.2f}" if written else "-",
                r["shipments"],
                len(lags),
                f"{median(lags):.2f}",
                f"{percentile(lags, 95):.2f}",
                f"{max(lags):.2f}" if lags else "-",
            ]
        )
    print(
        table(
            [
                "primary pool",
                "method",
                "interval s",
                "write MiB/s",
                "written MiB",
                "shipped MiB",
                "shipped/written",
                "shipments",
                "lag samples",
                "lag p50 s",
                "lag p95 s",
                "lag max s",
            ],
            rows,
        )
    )
    path = save(
        "replication",
        {
            "seconds": args.seconds,
            "interval_s": args.interval,
            "rate_mib_s": args.rate_mib,
            "runs": {
                pool: {k: v for k, v in r.items() if k != "lags_s"} for pool, r in results.items()
            },
        },
    )
    print(f"\nRaw: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: a group snapshot of 1, 10 and 100 exported members, and the I/O pause it costs.

Every member is a 1 GiB volume with 16 MiB of data, attached over iSCSI (Basalt's
tgtd), so the group snapshot pauses tgtd (SIGSTOP) while it copies the members
(docs/architecture.md, *Groups*). For each size the table gives the wall time of the
group snapshot (request to available: two transactions, the cut, fsync and rename of
every copy), the pause the driver measured between SIGSTOP and SIGCONT, and what an
initiator sees: one qemu-io session writes 4 KiB blocks to member 0 without pause
during the snapshots, and the longest write latency it saw while a snapshot ran is
given beside its median write latency outside them. Pools are on an XFS image
(reflink) when the machine can make one (root, mkfs.xfs), else on the data
directory's filesystem (sparse copies: the pause then grows with the data).

Needs root, tgt and qemu-io with the iscsi driver; prints why and exits 0 otherwise.

    uv run python bench/groups.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import basalt  # noqa: E402
from basalt.config import BackendSettings, IscsiSettings, QuotaSettings  # noqa: E402
from basalt.drivers.file.loopfs import create_image_pool  # noqa: E402
from basalt.errors import ConfigError  # noqa: E402
from bench.common import save, table  # noqa: E402
from tests.support.iscsi import (  # noqa: E402
    QemuSession,
    free_control_port,
    free_tcp_port,
    iscsi_available,
)

MIB = 1024**2
DATA_MIB = 16
CONNECTOR = {"host": "bench", "initiator": "iqn.2026-11.bench.groups:h"}


@contextmanager
def pool_dir(work: Path) -> Iterator[tuple[Path, str]]:
    """An XFS (reflink) pool directory if one can be made here, else a plain directory."""
    try:
        mount = create_image_pool(work / "pool.img", work / "mnt", size_gib=64, fs="xfs")
    except ConfigError as exc:
        plain = work / "plain"
        plain.mkdir()
        yield plain, f"the data directory's filesystem (no XFS image: {exc})"
        return
    try:
        yield mount.mount_point, "XFS with reflink on a loop image"
    finally:
        mount.unmount()


class Writer(threading.Thread):
    """4 KiB writes to member 0, back to back, each one's (start, latency) kept."""

    def __init__(self, info: dict[str, object]) -> None:
        super().__init__(daemon=True)
        self.info = info
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        data = self.info
        with QemuSession(
            str(data["target_portal"]), str(data["target_iqn"]),
            user=str(data["auth_username"]), secret=str(data["auth_password"]),
            initiator=CONNECTOR["initiator"],
        ) as session:  # fmt: skip
            block = 0
            while not self.stop.is_set():
                started = time.perf_counter()
                session.run(f"write -P 7 {(block % 2048) * 4096} 4096")
                self.samples.append((started, time.perf_counter() - started))
                block += 1


def measure(work: Path, pool: Path, members: int, rounds: int) -> dict[str, object]:
    settings = basalt.Settings(
        data_dir=work / f"data-{members}",
        backends=[BackendSettings(name="file", pools={"default": str(pool / f"p{members}")})],
        iscsi=IscsiSettings(
            portals=[f"127.0.0.1:{free_tcp_port()}"], control_port=free_control_port()
        ),
        quotas=QuotaSettings(volumes=-1, snapshots=-1, gigabytes=-1),
    )
    with basalt.open(settings) as b:
        b.group_types.create("bench")
        group = b.groups.create(group_type="bench", volume_types=["__DEFAULT__"]).wait()
        volumes = [b.volumes.create(size_gib=1, group_id=group.id).wait() for _ in range(members)]
        for volume in volumes:
            path = pool / f"p{members}" / "volumes" / f"{volume.id}.raw"
            with path.open("r+b") as f:
                f.write(os.urandom(DATA_MIB * MIB))
                os.fsync(f.fileno())
        infos = []
        for volume in volumes:
            attached = b.attachments.attach(volume.id, CONNECTOR)
            b.attachments.complete(attached.attachment.id)
            infos.append(dict(attached.connection_info.data))
        writer = Writer(infos[0])
        writer.start()
        time.sleep(1.0)
        windows, totals, pauses = [], [], []
        for _ in range(rounds):
            started = time.perf_counter()
            snapshot = b.group_snapshots.create(group.id).wait()
            ended = time.perf_counter()
            windows.append((started, ended))
            totals.append((ended - started) * 1000)
            pauses.append(float(snapshot.cut["pause_ms"]))  # type: ignore[arg-type]
            time.sleep(0.5)
        writer.stop.set()
        writer.join(timeout=60)
    inside, outside = [], []
    for at, latency in writer.samples:
        during = any(start <= at + latency and at <= end for start, end in windows)
        (inside if during else outside).append(latency)
    return {
        "members": members,
        "snapshot_ms": statistics.median(totals),
        "pause_ms_median": statistics.median(pauses),
        "pause_ms_max": max(pauses),
        "longest_write_in_snapshot_ms": max(inside, default=0.0) * 1000,
        "median_write_ms": statistics.median(outside or [0.0]) * 1000,
        "writes": len(writer.samples),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args()
    reason = iscsi_available()
    if reason is not None:
        print(f"Skipped: {reason}.")
        return 0
    rounds = 2 if args.quick else 5
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-groups-")))
        pool, where = stack.enter_context(pool_dir(work))
        results = [measure(work, pool, n, rounds) for n in (1, 10, 100)]
    save("groups", {"pool": where, "rounds": rounds, "data_mib": DATA_MIB, "results": results})
    rows = [
        [
            r["members"],
            f"{r['snapshot_ms']:.0f}",
            f"{r['pause_ms_median']:.1f} / {r['pause_ms_max']:.1f}",
            f"{r['longest_write_in_snapshot_ms']:.1f}",
            f"{r['median_write_ms']:.2f}",
        ]
        for r in results
    ]
    print(
        table(
            [
                "members",
                "group snapshot (ms, median)",
                "I/O pause (ms, median / max)",
                "longest write during a snapshot (ms)",
                "median write otherwise (ms)",
            ],
            rows,
        )
    )
    print(
        f"\nMembers: 1 GiB volumes with {DATA_MIB} MiB of data each, every one attached over "
        f"iSCSI; {rounds} group snapshots per size; pool on {where}."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

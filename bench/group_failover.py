"""Benchmark: failing one group over and back, against failing the whole backend.

A ``file`` backend with one replication target holds N replicated volumes in a
replicated group and as many replicated volumes outside it; each volume holds
``--data-mib`` of data, shipped once. Measured, side by side in one run for
N = 1, 10 and 100:

- group failover (``failover_group``): make the copies whole, switch N volumes;
- group failback (``failback_group``) after 1 MiB was written to each member on
  the secondary: copy back what differs, switch, reset the shipping base;
- backend failover and failback of the same backend (2N volumes), the only way to
  fail these volumes over before groups replicated on their own.

The time of each is the operation's wall time from the request to its end. The
secondary directory is on the same filesystem here (a benchmark of Basalt's
steps, not of a link).

    uv run python bench/group_failover.py [--quick] [--data-mib 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import basalt  # noqa: E402
from basalt.config import Settings  # noqa: E402
from bench.common import save, table  # noqa: E402

MIB = 1024**2
HOST = "basalt@file"


def write(path: Path, offset: int, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, data, offset)
    finally:
        os.close(fd)


def timed(start: object) -> float:
    assert callable(start)
    began = time.perf_counter()
    start().wait(timeout=600)
    return (time.perf_counter() - began) * 1000


def run(root: Path, members: int, data_mib: int) -> dict[str, float]:
    settings = Settings(
        data_dir=root / "data",
        backends=[
            {
                "name": "file",
                "pools": {"default": str(root / "primary")},
                "replication_targets": [
                    {"backend_id": "dr", "pools": {"default": str(root / "dr")}}
                ],
            }
        ],
        replication={"run": False},
        quotas={"volumes": -1, "gigabytes": -1},
    )
    with basalt.Basalt(settings) as b:
        b.types.create("replicated", extra_specs={"replication_enabled": "<is> True"})
        b.group_types.create(
            "replicated-group", group_specs={"consistent_group_replication_enabled": "<is> True"}
        )
        group = b.groups.create(group_type="replicated-group", volume_types=["replicated"]).wait(
            timeout=60
        )
        b.group_replication.enable(group.id)
        volumes = [
            b.volumes.create(
                size_gib=1, volume_type="replicated", group_id=group.id if i < members else None
            ).wait(timeout=60)
            for i in range(2 * members)
        ]
        block = os.urandom(MIB)
        for volume in volumes:
            path = root / "primary" / "volumes" / f"{volume.id}.raw"
            for offset in range(data_mib):
                write(path, offset * MIB, block)
        b.replicator.run_once(force=True)

        out = {"group failover": timed(lambda: b.group_replication.failover(group.id, "dr"))}
        for volume in volumes[:members]:
            write(root / "dr" / "volumes" / f"{volume.id}.raw", 0, block)
        out["group failback"] = timed(lambda: b.group_replication.failover(group.id, "default"))
        out["backend failover"] = timed(lambda: b.replication.failover(HOST, "dr"))
        for volume in volumes:
            write(root / "dr" / "volumes" / f"{volume.id}.raw", MIB, block)
        out["backend failback"] = timed(lambda: b.replication.failover(HOST, "default"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data-mib", type=int, default=4)
    args = parser.parse_args()
    sizes = (1, 10) if args.quick else (1, 10, 100)
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="basalt-bench-gfo-", dir="/var/tmp") as tmp:
        for members in sizes:
            results[members] = run(Path(tmp) / str(members), members, args.data_mib)
    rows = [
        [
            n,
            2 * n,
            f"{r['group failover']:.0f}",
            f"{r['backend failover']:.0f}",
            f"{r['group failover'] / r['backend failover']:.2f}",
            f"{r['group failback']:.0f}",
            f"{r['backend failback']:.0f}",
            f"{r['group failback'] / r['backend failback']:.2f}",
        ]
        for n, r in results.items()
    ]
    print(
        table(
            [
                "group members",
                "backend volumes",
                "group failover ms",
                "backend failover ms",
                "group/backend",
                "group failback ms",
                "backend failback ms",
                "group/backend",
            ],
            rows,
        )
    )
    path = save(
        "group_failover",
        {"data_mib": args.data_mib, "runs": {str(n): r for n, r in results.items()}},
    )
    print(f"\nRaw: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

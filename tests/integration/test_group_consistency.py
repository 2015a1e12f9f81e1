"""A group snapshot is a consistent cut across its members, over real iSCSI.

A writer writes an increasing counter round-robin across three members of a group,
each attached over iSCSI (Basalt's tgtd, qemu-io as the initiator, one session per
member): counter n goes to member n % 3, block n // 3, as a 4 KiB block of the byte
(n % 251) + 1, and n + 1 is written only once n has completed. Group snapshots are
taken while it writes. In every snapshot the counters present must be exactly 0..k
for some k: a later write present while an earlier one is missing would mean the cut
let a write complete on one member after it had copied another. Needs root, tgt,
qemu-io (skipped otherwise, failed with BASALT_REQUIRE_ISCSI=1).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import basalt
from basalt.config import QuotaSettings
from basalt.drivers.types import ConnectionInfo
from tests.integration.test_iscsi_attach import HOST_A, attach, iscsi_settings, target
from tests.support.iscsi import QemuSession, require_iscsi

pytestmark = pytest.mark.slow
MEMBERS = 3
BLOCK = 4096
SNAPSHOTS = 6
WAIT = 60


def byte_of(n: int) -> int:
    return n % 251 + 1


@pytest.fixture
def b(tmp_path: Path) -> Iterator[basalt.Basalt]:
    require_iscsi()
    settings = basalt.Settings(
        data_dir=tmp_path / "data",
        iscsi=iscsi_settings(tmp_path),
        quotas=QuotaSettings(snapshots=-1),  # a member snapshot per member per group snapshot
    )
    with basalt.open(settings) as instance:
        yield instance


class Writer(threading.Thread):
    """Writes counters 0, 1, 2... round-robin across the members' sessions until stopped."""

    def __init__(self, infos: list[ConnectionInfo]) -> None:
        super().__init__(daemon=True)
        self.infos = infos
        self.written = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.slowest_s = 0.0

    def run(self) -> None:
        sessions = [
            QemuSession(**target(info), initiator=str(HOST_A["initiator"]))  # type: ignore[arg-type]
            for info in self.infos
        ]
        try:
            n = 0
            while not self.stop.is_set():
                started = time.perf_counter()
                offset = (n // MEMBERS) * BLOCK
                sessions[n % MEMBERS].run(f"write -P {byte_of(n)} {offset} {BLOCK}")
                self.slowest_s = max(self.slowest_s, time.perf_counter() - started)
                n += 1
                self.written = n
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            for session in sessions:
                session.close()


def counters_in(files: list[Path], upto: int) -> set[int]:
    """The counters whose block holds their byte in these member files."""
    contents = [path.read_bytes()[: (upto // MEMBERS + 1) * BLOCK] for path in files]
    present = set()
    for n in range(upto):
        block = contents[n % MEMBERS][(n // MEMBERS) * BLOCK : (n // MEMBERS + 1) * BLOCK]
        if block == bytes([byte_of(n)]) * BLOCK:
            present.add(n)
        else:
            assert block == bytes(len(block)), f"counter {n}: a torn or foreign block"
    return present


def test_every_group_snapshot_is_a_consistent_cut_of_writes_over_iscsi(
    b: basalt.Basalt,
) -> None:
    b.group_types.create("cg")
    group = b.groups.create(group_type="cg", volume_types=["__DEFAULT__"]).wait(timeout=WAIT)
    members = [
        b.volumes.create(size_gib=1, group_id=group.id).wait(timeout=WAIT) for _ in range(MEMBERS)
    ]
    writer = Writer([attach(b, v.id, HOST_A) for v in members])
    writer.start()
    taken = []
    try:
        while writer.written < 50 and writer.is_alive():
            time.sleep(0.05)
        for _ in range(SNAPSHOTS):
            at = writer.written
            taken.append((at, b.group_snapshots.create(group.id).wait(timeout=WAIT)))
            while writer.written < at + 30 and writer.is_alive():
                time.sleep(0.02)
    finally:
        writer.stop.set()
        writer.join(timeout=WAIT)
    assert writer.error is None, writer.error
    total = writer.written
    pool = b.settings.data_dir / "pools" / "file" / "default" / "snapshots"
    cuts = []
    for seen_before, gsnap in taken:
        assert gsnap.cut["quiesced"] is True and float(gsnap.cut["pause_ms"]) > 0  # type: ignore[arg-type]
        by_volume = {s.volume_id: s.id for s in b.group_snapshots.members(gsnap.id)}
        files = [pool / f"{by_volume[v.id]}.raw" for v in members]
        present = counters_in(files, total)
        k = len(present)
        assert present == set(range(k)), (
            f"group snapshot {gsnap.id}: counters {sorted(set(range(max(present) + 1)) - present)} "
            f"missing below {max(present)}"
        )
        assert k >= seen_before  # every write completed before the snapshot was asked is in
        cuts.append(k)
    assert cuts == sorted(cuts) and cuts[-1] < total  # cuts in the middle of the stream
    assert writer.slowest_s < 5, "a write waited longer than the quiesce limit"

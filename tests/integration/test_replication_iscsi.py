"""Replication over real iSCSI: patterns written through tgt, a completed replication,
more writes, failover, and reads through iSCSI from the secondary copy; then failback.
The same for one group's volumes, while the rest of the backend stays on its primary.

The primary pool is on an XFS loop image (reflink: shipments found by FIEMAP), the
secondary on the machine's own filesystem: two filesystems, as a replication target
should be. A session that stays logged in across the failover shows what tgt does
when Basalt re-creates the LUN on the secondary file.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import basalt
from basalt.config import Settings
from basalt.drivers.file.loopfs import LoopMount
from basalt.drivers.types import ConnectionInfo
from basalt.errors import GroupReplicationStateError
from tests.integration.test_iscsi_attach import HOST_A, attach, iscsi_settings, target
from tests.support.iscsi import qemu_io, require_iscsi, start_qemu_io
from tests.unit.drivers.file.test_driver import loop_pool

pytestmark = pytest.mark.slow
MIB = 1024**2
WAIT = 60
HOST = "basalt@file"


@pytest.fixture
def xfs(tmp_path: Path) -> Iterator[LoopMount]:
    yield from loop_pool(tmp_path / "xfs", "xfs")


@pytest.fixture
def b(tmp_path: Path, xfs: LoopMount) -> Iterator[basalt.Basalt]:
    require_iscsi()
    settings = Settings(
        data_dir=tmp_path / "data",
        iscsi=iscsi_settings(tmp_path),
        backends=[
            {
                "name": "file",
                "pools": {"default": str(xfs.mount_point / "primary")},
                "replication_targets": [
                    {"backend_id": "dr", "pools": {"default": str(tmp_path / "dr")}}
                ],
            }
        ],
        replication={"run": False},  # each replication below is asked for, so the RPO is known
    )
    instance = basalt.Basalt(settings)
    try:
        yield instance
    finally:
        instance.close()


def io(info: ConnectionInfo, *commands: str) -> subprocess.CompletedProcess[str]:
    return qemu_io(**target(info), initiator=HOST_A["initiator"], commands=commands)  # type: ignore[arg-type]


def pattern_there(info: ConnectionInfo, pattern: int, offset: int, length: int = MIB) -> bool:
    done = io(info, f"read -P {pattern:#x} {offset} {length}")
    assert done.returncode == 0, done.stderr
    return "Pattern verification failed" not in done.stdout


def test_data_replicated_before_a_failover_reads_back_over_iscsi_and_comes_home(
    b: basalt.Basalt, tmp_path: Path
) -> None:
    b.types.create("replicated", extra_specs={"replication_enabled": "<is> True"})
    volume = b.volumes.create(size_gib=1, volume_type="replicated").wait(timeout=WAIT)
    info = attach(b, volume.id, HOST_A)
    assert (
        io(info, f"write -P 0x5a 0 {MIB}", f"write -P 0x3c {100 * MIB} {2 * MIB}").returncode == 0
    )
    [initial] = b.replicator.run_once(force=True)
    assert initial.full
    assert io(info, f"write -P 0x77 {4096} {8192}").returncode == 0
    [delta] = b.replicator.run_once(force=True)  # the last completed replication
    assert delta.method == "fiemap" and 8192 <= delta.bytes_shipped < MIB
    synced = b.replication.volume_replication(volume.id)
    assert synced is not None and synced.syncs == 2 and synced.lag_seconds is not None
    assert io(info, f"write -P 0xee {200 * MIB} {MIB}").returncode == 0  # after it: lost

    # A host stays logged in across the failover and reads after it.
    where = target(info)
    session = start_qemu_io(
        str(where["portal"]),
        str(where["iqn"]),
        "sleep 3000",
        f"read -P 0x3c {100 * MIB} {MIB}",
        f"read -P 0xee {200 * MIB} 4096",
        user=str(where["user"]),
        secret=str(where["secret"]),
        initiator=HOST_A["initiator"],
    )
    time.sleep(1.0)
    handle = b.replication.failover(HOST, "dr")
    record = handle.wait(timeout=WAIT)
    assert (record.replication_status, record.active_backend_id) == ("failed-over", "dr")
    out, err = session.communicate(timeout=WAIT)
    # The session stayed logged in; its reads after the switch are served from the
    # secondary file: the shipped 0x3c is there, the unshipped 0xee is not (qemu-io
    # exits 1 for that failed pattern check, and for nothing else here).
    assert "read 1048576/1048576 bytes at offset 104857600" in out, (out, err)
    assert out.count("Pattern verification failed") == 1, out
    assert "Pattern verification failed at offset 209715200" in out
    assert "error" not in err.lower(), err

    exported = b.exporter.exported()[volume.id]  # type: ignore[union-attr]
    assert exported.lun1 is not None
    assert exported.lun1.backing_path == tmp_path / "dr" / "volumes" / f"{volume.id}.raw"
    assert pattern_there(info, 0x5A, 0, 4096)
    assert pattern_there(info, 0x77, 4096, 8192)
    assert pattern_there(info, 0x5A, 3 * 4096, MIB - 3 * 4096)
    assert pattern_there(info, 0x3C, 100 * MIB, 2 * MIB)
    assert pattern_there(info, 0x00, 200 * MIB, MIB)  # written after the last replication
    assert b.volumes.get(volume.id).replication_status == "failed-over"

    assert io(info, f"write -P 0x99 {300 * MIB} {MIB}").returncode == 0  # on the secondary
    back = b.replication.failover(HOST, "default").wait(timeout=WAIT)
    assert back.active_backend_id is None
    exported = b.exporter.exported()[volume.id]  # type: ignore[union-attr]
    assert exported.lun1 is not None and "dr" not in exported.lun1.backing_path.parts
    for pattern, offset, length in ((0x77, 4096, 8192), (0x3C, 100 * MIB, 2 * MIB)):
        assert pattern_there(info, pattern, offset, length)
    assert pattern_there(info, 0x99, 300 * MIB, MIB)
    assert b.volumes.get(volume.id).replication_status == "enabled"
    [again] = b.replicator.run_once(force=True)
    assert again.bytes_shipped == 0 and again.method == "fiemap"


def test_one_groups_volumes_fail_over_over_iscsi_while_the_rest_stay_home(
    b: basalt.Basalt, tmp_path: Path, xfs: LoopMount
) -> None:
    b.types.create("replicated", extra_specs={"replication_enabled": "<is> True"})
    b.group_types.create(
        "replicated-group", group_specs={"consistent_group_replication_enabled": "<is> True"}
    )
    group = b.groups.create(group_type="replicated-group", volume_types=["replicated"]).wait(
        timeout=WAIT
    )
    members = [
        b.volumes.create(size_gib=1, volume_type="replicated", group_id=group.id).wait(timeout=WAIT)
        for _ in range(2)
    ]
    outside = b.volumes.create(size_gib=1, volume_type="replicated").wait(timeout=WAIT)
    b.group_replication.enable(group.id)
    infos = {v.id: attach(b, v.id, HOST_A) for v in [*members, outside]}
    for index, volume in enumerate([*members, outside]):
        written = io(infos[volume.id], f"write -P {0x10 + index:#x} 0 {MIB}")
        assert written.returncode == 0, written.stderr
    b.replicator.run_once(force=True)  # the last completed replication of all three
    for volume in [*members, outside]:
        assert io(infos[volume.id], f"write -P 0xee {MIB} {MIB}").returncode == 0  # not shipped

    with pytest.raises(GroupReplicationStateError, match="attached"):
        b.group_replication.failover(group.id, "dr")
    moved = b.group_replication.failover(group.id, "dr", allow_attached_volume=True).wait(
        timeout=WAIT
    )
    assert (moved.replication_status, moved.replication_target) == ("failed-over", "dr")

    exported = b.exporter.exported()  # type: ignore[union-attr]
    for index, volume in enumerate(members):
        lun = exported[volume.id].lun1
        assert lun is not None and lun.backing_path == tmp_path / "dr" / "volumes" / (
            f"{volume.id}.raw"
        )
        assert pattern_there(infos[volume.id], 0x10 + index, 0, MIB)
        assert pattern_there(infos[volume.id], 0x00, MIB, MIB)  # after the last replication
    lun = exported[outside.id].lun1
    assert lun is not None and lun.backing_path.is_relative_to(xfs.mount_point)
    assert pattern_there(infos[outside.id], 0x12, 0, MIB)
    assert pattern_there(infos[outside.id], 0xEE, MIB, MIB)  # the rest of the backend: as is

    first = members[0]
    assert io(infos[first.id], f"write -P 0x99 {2 * MIB} {MIB}").returncode == 0  # secondary
    back = b.group_replication.failover(group.id, "default", allow_attached_volume=True).wait(
        timeout=WAIT
    )
    assert (back.replication_status, back.replication_target) == ("enabled", None)
    lun = b.exporter.exported()[first.id].lun1  # type: ignore[union-attr]
    assert lun is not None and lun.backing_path.is_relative_to(xfs.mount_point)
    assert pattern_there(infos[first.id], 0x10, 0, MIB)
    assert pattern_there(infos[first.id], 0x99, 2 * MIB, MIB)
    assert {v.replication_status for v in b.groups.volumes(group.id)} == {"enabled"}

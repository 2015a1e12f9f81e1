"""The file driver's group snapshot and group-from-source: one cut, all or nothing."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from basalt.drivers.base import SupportsGroups
from basalt.drivers.file import FileDriver
from basalt.drivers.types import GroupRef, SnapshotRef, VolumeRef
from basalt.errors import DriverError

MIB = 1024**2
POOL = "default"
GROUP = GroupRef(id=str(uuid.uuid4()))


def volume() -> VolumeRef:
    return VolumeRef(id=str(uuid.uuid4()), size_gib=1, pool=POOL)


def snapshot_of(vol: VolumeRef) -> SnapshotRef:
    return SnapshotRef(id=str(uuid.uuid4()), volume_id=vol.id, size_gib=1, pool=POOL)


@pytest.fixture
def driver(tmp_path: Path) -> FileDriver:
    made = FileDriver(backend_name="file", pools={POOL: tmp_path / "pool"})
    made.setup()
    return made


def write(driver: FileDriver, vol: VolumeRef, byte: int) -> None:
    with (driver.pool_path(POOL) / "volumes" / f"{vol.id}.raw").open("r+b") as f:
        f.seek(MIB)
        f.write(bytes([byte]) * 4096)


def read(driver: FileDriver, kind: str, object_id: str) -> bytes:
    with (driver.pool_path(POOL) / kind / f"{object_id}.raw").open("rb") as f:
        f.seek(MIB)
        return f.read(4096)


def test_the_file_driver_supports_groups(driver: FileDriver) -> None:
    assert isinstance(driver, SupportsGroups)


def test_a_group_snapshot_copies_every_member_and_records_each_time(driver: FileDriver) -> None:
    members = [volume() for _ in range(3)]
    for index, vol in enumerate(members):
        driver.create_volume(vol)
        write(driver, vol, index + 1)
    snaps = [snapshot_of(v) for v in members]
    cut = driver.create_group_snapshot(GROUP, list(zip(snaps, members, strict=True)))
    assert [m.volume_id for m in cut.members] == [v.id for v in members]
    assert not cut.quiesced and cut.pause_ms == 0  # nothing exported: nothing to pause
    assert cut.started_at <= cut.members[0].captured_at <= cut.finished_at
    for index, snap in enumerate(snaps):
        assert read(driver, "snapshots", snap.id) == bytes([index + 1]) * 4096
        assert driver.snapshot_exists(snap)
    record = cut.as_record()
    assert set(record["members"]) == {v.id for v in members}  # type: ignore[arg-type]

    driver.delete_group_snapshot(GROUP, snaps)
    assert not any(driver.snapshot_exists(s) for s in snaps)
    driver.delete_group_snapshot(GROUP, snaps)  # gone already: fine


def test_a_failed_member_leaves_no_snapshot_of_any_member(driver: FileDriver) -> None:
    present, missing = volume(), volume()
    driver.create_volume(present)
    pairs = [(snapshot_of(present), present), (snapshot_of(missing), missing)]
    with pytest.raises(DriverError):
        driver.create_group_snapshot(GROUP, pairs)
    assert os.listdir(driver.pool_path(POOL) / "snapshots") == []


def test_a_group_from_a_group_snapshot_or_from_volumes_gets_their_bytes(
    driver: FileDriver,
) -> None:
    sources = [volume(), volume()]
    for index, vol in enumerate(sources):
        driver.create_volume(vol)
        write(driver, vol, 0x10 + index)
    snaps = [snapshot_of(v) for v in sources]
    driver.create_group_snapshot(GROUP, list(zip(snaps, sources, strict=True)))
    bigger = [VolumeRef(id=str(uuid.uuid4()), size_gib=2, pool=POOL) for _ in sources]
    done: list[tuple[int, int]] = []
    pairs: list[tuple[VolumeRef, VolumeRef | SnapshotRef]] = list(zip(bigger, snaps, strict=True))
    cut = driver.create_group_from_src(GROUP, pairs, progress=lambda d, t: done.append((d, t)))
    assert done[-1] == (2, 2) and not cut.quiesced
    for index, new in enumerate(bigger):
        assert read(driver, "volumes", new.id) == bytes([0x10 + index]) * 4096
        size = (driver.pool_path(POOL) / "volumes" / f"{new.id}.raw").stat().st_size
        assert size == 2 * 1024**3
    clones = [volume() for _ in sources]
    pairs = list(zip(clones, sources, strict=True))
    driver.create_group_from_src(GROUP, pairs, progress=lambda d, t: None)
    assert read(driver, "volumes", clones[1].id) == bytes([0x11]) * 4096

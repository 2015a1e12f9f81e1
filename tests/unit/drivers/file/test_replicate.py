"""The file driver's replication: shipments by FIEMAP (XFS) and by checksum, journals
that survive crashes, failover to the secondary copies and failback."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from basalt.drivers.base import SupportsReplication
from basalt.drivers.file import FileDriver, delta
from basalt.drivers.file.fiemap import Extent, changed_ranges
from basalt.drivers.file.loopfs import LoopMount
from basalt.drivers.file.replicate import FileReplicaTarget
from basalt.drivers.types import VolumeRef, no_progress
from basalt.errors import NotSupportedError
from tests.unit.drivers.file.test_driver import loop_pool

MIB = 1024**2
POOL = "default"


@pytest.fixture(scope="module")
def xfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopMount]:
    yield from loop_pool(tmp_path_factory.mktemp("xfsrepl"), "xfs")


def make_driver(primary: Path, secondary: Path) -> FileDriver:
    target = FileReplicaTarget("dr", {POOL: secondary}, 1.0)
    driver = FileDriver(backend_name="files", pools={POOL: primary}, replication=[target])
    driver.setup()
    return driver


def write(driver: FileDriver, volume: VolumeRef, offset: int, data: bytes) -> None:
    fd = os.open(driver.data_path(volume), os.O_WRONLY)
    try:
        os.pwrite(fd, data, offset)
    finally:
        os.close(fd)


def read(path: Path, offset: int, length: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(length)


@pytest.fixture(params=["checksum", "fiemap"])
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[FileDriver, Path]:
    if request.param == "fiemap":
        mount: LoopMount = request.getfixturevalue("xfs")
        base = mount.mount_point / uuid.uuid4().hex
    else:
        base = tmp_path
    secondary = tmp_path / "dr"
    return make_driver(base / "primary", secondary), secondary


def test_the_file_driver_supports_replication(tmp_path: Path) -> None:
    driver = make_driver(tmp_path / "p", tmp_path / "s")
    assert isinstance(driver, SupportsReplication)
    assert [t.backend_id for t in driver.replication_targets()] == ["dr"]
    with pytest.raises(NotSupportedError):
        driver.failover("elsewhere", [])


def test_shipments_carry_only_what_changed(pair: tuple[FileDriver, Path]) -> None:
    driver, secondary = pair
    volume = VolumeRef(id=str(uuid.uuid4()), size_gib=1, pool=POOL)
    driver.create_volume(volume)
    write(driver, volume, 0, b"a" * MIB)
    write(driver, volume, 512 * MIB, b"b" * MIB)
    first = driver.replicate_volume(volume, "dr")
    assert first.full and first.bytes_shipped == 2 * MIB
    replica = secondary / "volumes" / f"{volume.id}.raw"
    assert read(replica, 512 * MIB, MIB) == b"b" * MIB
    assert os.stat(replica).st_blocks * 512 < 64 * MIB  # sparse
    write(driver, volume, 4096, b"c" * 4096)
    second = driver.replicate_volume(volume, "dr")
    assert not second.full
    assert 4096 <= second.bytes_shipped <= MIB
    assert read(replica, 0, 3 * 4096) == b"a" * 4096 + b"c" * 4096 + b"a" * 4096
    assert driver.replicate_volume(volume, "dr").bytes_shipped == 0
    driver.delete_replica(volume, "dr")
    assert not replica.exists()


def test_a_committed_journal_is_applied_and_an_unfinished_one_dropped(tmp_path: Path) -> None:
    target = tmp_path / "replica.raw"
    target.write_bytes(b"x" * 8192)
    source = tmp_path / "source.raw"
    source.write_bytes(b"y" * 8192)
    journal = delta.journal_path(tmp_path, "vol")
    writer = delta.JournalWriter(journal)
    writer.add(4096, 4096, b"z" * 4096)
    writer.commit(16384)
    unfinished = delta.JournalWriter(delta.journal_path(tmp_path, "other"))
    unfinished.add(0, 4096, b"w" * 4096)  # never committed: a crash
    done = delta.recover(tmp_path, {"vol": target, "other": source})
    assert len(done) == 2 and not journal.exists()
    assert target.read_bytes() == b"x" * 4096 + b"z" * 4096 + bytes(8192)
    assert source.read_bytes() == b"y" * 8192


def test_changed_ranges_compare_physical_addresses() -> None:
    base = [Extent(0, 1000, 8192, 0), Extent(65536, 5000, 4096, 0)]
    point = [Extent(0, 1000, 4096, 0), Extent(4096, 9000, 4096, 0)]
    assert changed_ranges(base, point, 131072) == [(4096, 4096, True), (65536, 4096, False)]
    assert changed_ranges(None, point, 131072) == [(0, 8192, True)]


def test_failover_serves_the_last_shipment_and_failback_brings_changes_home(
    pair: tuple[FileDriver, Path],
) -> None:
    driver, _ = pair
    volume = VolumeRef(id=str(uuid.uuid4()), size_gib=1, pool=POOL)
    driver.create_volume(volume)
    primary_path = driver.data_path(volume)
    write(driver, volume, 0, b"shipped!" * 512)
    driver.replicate_volume(volume, "dr")
    write(driver, volume, 0, b"lost....")  # after the last shipment: the RPO
    driver.failover("dr", [volume])
    assert driver.active_backend_id() == "dr"
    served = driver.data_path(volume)
    assert served != primary_path
    assert read(served, 0, 8) == b"shipped!"
    write(driver, volume, MIB, b"on the secondary")
    copied = driver.failback("dr", [volume], progress=no_progress)
    assert copied > 0 and driver.active_backend_id() is None
    assert driver.data_path(volume) == primary_path
    assert read(primary_path, 0, 8) == b"shipped!"
    assert read(primary_path, MIB, 16) == b"on the secondary"
    assert driver.replicate_volume(volume, "dr").bytes_shipped == 0

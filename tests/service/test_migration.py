"""Migrating volumes between pools through the library, bytes compared.

Pools ``a`` and ``b`` share a filesystem (the driver renames: constant time);
``force_host_copy`` makes Basalt copy between them instead, and pool ``x`` is a
1 GiB XFS image on its own loop device (only a copy can get there, and a volume
with more data than it holds fails half-way, which must leave the source whole).
A crash staged right after the destination object is made must leave no copy of
the volume there after a restart (tests/integration/test_migration_restart.py
kills a real service in the middle of the copy).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import basalt
from basalt.config import BackendSettings
from basalt.drivers.file.loopfs import LoopMount, create_image_pool, is_root
from basalt.drivers.types import DriverUpdate, VolumeRef
from basalt.errors import (
    InvalidInputError,
    InvalidStateError,
    OperationFailedError,
    PermissionDeniedError,
    PoolNotFoundError,
)
from basalt.model import OperationPhase, VolumeStatus
from basalt.service.context import RequestContext
from tests.support.content import file_digest

MIB = 1024**2
GIB = 1024 * MIB
WAIT = 120
MEMBER = RequestContext(user_id="m", project_id="basalt", roles=frozenset({"member"}))


@pytest.fixture(scope="module")
def small_xfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopMount]:
    if not is_root():
        pytest.skip("the second filesystem is a loop-mounted image, which needs root")
    base = tmp_path_factory.mktemp("migrate-xfs")
    mount = create_image_pool(base / "x.img", base / "mnt", size_gib=1, fs="xfs")
    try:
        yield mount
    finally:
        mount.unmount()


@pytest.fixture
def b(tmp_path: Path, small_xfs: LoopMount) -> Iterator[basalt.Basalt]:
    pools = {"a": str(tmp_path / "a"), "b": str(tmp_path / "b"), "x": str(small_xfs.mount_point)}
    settings = basalt.Settings(
        data_dir=tmp_path / "data",
        # Over-subscribed enough that pool x, filled to 32 MiB free by a test, still
        # passes the scheduler's capacity filter whether or not its stats are fresh:
        # that test is about a copy that runs out of space half-way.
        backends=[BackendSettings(name="file", pools=pools, max_over_subscription_ratio=200)],
    )
    with basalt.open(settings) as instance:
        yield instance
    for leftover in (small_xfs.mount_point / "volumes").glob("*"):
        leftover.unlink()


def pool_file(b: basalt.Basalt, pool: str, volume_id: str) -> Path:
    root = {p.name: Path(p.location) for p in b.list_pools()}[pool]
    return root / "volumes" / f"{volume_id}.raw"


def fill(path: Path, *, data_mib: int) -> str:
    """Write a pattern over the first ``data_mib`` MiB and at the end; the file's digest."""
    with path.open("r+b") as handle:
        for i in range(data_mib):
            handle.seek(i * MIB)
            handle.write(bytes([i % 251 + 1]) * MIB)
        handle.seek(path.stat().st_size - MIB)
        handle.write(b"tail" * (MIB // 4))
    return file_digest(path)


def test_within_a_filesystem_the_driver_moves_the_file(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=1, pool="file#a").wait(timeout=WAIT)
    before = fill(pool_file(b, "a", volume.id), data_mib=8)
    handle = b.volumes.migrate(volume.id, "basalt@file#b")
    moved = handle.wait(timeout=WAIT)
    assert (moved.id, moved.pool, moved.status) == (volume.id, "b", VolumeStatus.AVAILABLE)
    assert moved.migration_status == "success"
    assert file_digest(pool_file(b, "b", volume.id)) == before
    assert not pool_file(b, "a", volume.id).exists()
    calls = [e.message for e in b.volumes.events(volume.id)]
    assert "driver migrate_volume" in calls and "driver copy_volume_data" not in calls


def test_a_copy_moves_the_bytes_with_progress(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=2, pool="file#a").wait(timeout=WAIT)
    before = fill(pool_file(b, "a", volume.id), data_mib=96)
    for target, force in (("file#b", True), ("file#x", False)):
        handle = b.volumes.migrate(volume.id, target, force_host_copy=force)
        moved = handle.wait(timeout=WAIT)
        assert f"{moved.backend}#{moved.pool}" == target and moved.id == volume.id
        assert file_digest(pool_file(b, moved.pool, volume.id)) == before
        operation = handle.operation
        assert operation.phase == OperationPhase.SUCCEEDED
        assert operation.bytes_done == operation.bytes_total == 97 * MIB
    assert not pool_file(b, "a", volume.id).exists()
    assert not pool_file(b, "b", volume.id).exists()
    calls = [e.message for e in b.volumes.events(volume.id)]
    assert calls.count("driver copy_volume_data") == 2


def test_a_copy_that_fails_half_way_leaves_the_source_whole(
    b: basalt.Basalt, small_xfs: LoopMount
) -> None:
    volume = b.volumes.create(size_gib=2, pool="file#a").wait(timeout=WAIT)
    before = fill(pool_file(b, "a", volume.id), data_mib=96)
    ballast = small_xfs.mount_point / "ballast"  # leave x about 32 MiB free
    with ballast.open("wb") as handle_file:
        free = os.statvfs(small_xfs.mount_point)
        os.posix_fallocate(handle_file.fileno(), 0, free.f_bavail * free.f_frsize - 32 * MIB)
    try:
        b.list_pools(refresh=True)  # the scheduler sees x nearly full: still room at ratio 200
        handle = b.volumes.migrate(volume.id, "file#x")
        with pytest.raises(OperationFailedError, match="No space left"):
            handle.wait(timeout=WAIT)
    finally:
        ballast.unlink()
    kept = b.volumes.get(volume.id)
    assert (kept.pool, kept.status, kept.migration_status) == ("a", VolumeStatus.AVAILABLE, "error")
    assert file_digest(pool_file(b, "a", volume.id)) == before
    assert not pool_file(b, "x", volume.id).exists()
    assert handle.operation.phase in (OperationPhase.FAILED, OperationPhase.ROLLED_BACK)


def test_migrations_that_cannot_be_are_refused_and_change_nothing(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=1, pool="file#a").wait(timeout=WAIT)
    with pytest.raises(InvalidInputError, match="already"):
        b.volumes.migrate(volume.id, "file#a")
    with pytest.raises(PoolNotFoundError):
        b.volumes.migrate(volume.id, "file#nowhere")
    with pytest.raises(PermissionDeniedError, match="volume:migrate"):
        b.volumes.migrate(volume.id, "file#b", ctx=MEMBER)
    b.snapshots.create(volume.id).wait(timeout=WAIT)
    with pytest.raises(InvalidInputError, match="snapshots"):
        b.volumes.migrate(volume.id, "file#b")
    b.volumes.reset_status(volume.id, status="error")
    with pytest.raises(InvalidStateError, match="'error'"):
        b.volumes.migrate(volume.id, "file#b")
    kept = b.volumes.get(volume.id)
    assert (kept.pool, kept.migration_status) == ("a", None)
    assert pool_file(b, "a", volume.id).exists() and not pool_file(b, "b", volume.id).exists()


class Gone(BaseException):
    """Ends a worker that stood for a crashed process (no ``except Exception`` catches it)."""


def test_a_crash_just_after_the_destination_object_is_made_leaves_no_copy_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first instance's worker freezes right after the destination's create_volume
    returns, as if the process died there; a second instance on the same store must
    find the volume at its source and nothing of it at the destination."""
    pools = {"a": str(tmp_path / "a"), "b": str(tmp_path / "b")}
    settings = basalt.Settings(
        data_dir=tmp_path / "data",
        # Over-subscribed enough that pool x, filled to 32 MiB free by a test, still
        # passes the scheduler's capacity filter whether or not its stats are fresh:
        # that test is about a copy that runs out of space half-way.
        backends=[BackendSettings(name="file", pools=pools, max_over_subscription_ratio=200)],
    )
    made, release = threading.Event(), threading.Event()
    with basalt.open(settings) as first:
        volume = first.volumes.create(size_gib=1, pool="file#a").wait(timeout=WAIT)
        before = fill(pool_file(first, "a", volume.id), data_mib=8)
        driver = first.pools.driver("file")
        create_volume = driver.create_volume

        def create_then_die(ref: VolumeRef) -> DriverUpdate:
            create_volume(ref)
            made.set()
            release.wait(WAIT)
            raise Gone

        monkeypatch.setattr(driver, "create_volume", create_then_die)
        handle = first.volumes.migrate(volume.id, "file#b", force_host_copy=True)
        try:
            assert made.wait(WAIT)
            assert pool_file(first, "b", volume.id).exists()
            with basalt.open(settings) as second:
                kept = second.volumes.get(volume.id)
                assert (kept.pool, kept.status, kept.migration_status) == (
                    "a",
                    VolumeStatus.AVAILABLE,
                    "error",
                )
                assert file_digest(pool_file(second, "a", volume.id)) == before
                assert not pool_file(second, "b", volume.id).exists()
                assert second.operations.get(handle.operation_id).phase == "rolled_back"
        finally:
            release.set()
            with pytest.raises(Gone):
                handle.wait(timeout=WAIT)

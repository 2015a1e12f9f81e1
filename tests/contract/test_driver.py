"""The driver contract: what every backend driver does, whatever stores the bytes.

Each test takes ``driver`` (set up on a fresh pool) and ``io`` (read/write access
to the objects outside the driver); conftest.py runs them once per backend.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable

import pytest

from basalt.drivers.base import SupportsManage, SupportsRevert, VolumeDriver
from basalt.drivers.types import GIB, ManageableObject, SnapshotRef, VolumeRef, no_progress
from basalt.errors import DriverError, ManageExistingInvalidReferenceError
from tests.support.content import zero_digest

from .conftest import MIB, BackendAccess, Kind

Progress = list[tuple[int, int]]


def new_volume(io: BackendAccess, size_gib: int = 1) -> VolumeRef:
    return VolumeRef(id=str(uuid.uuid4()), size_gib=size_gib, pool=io.pool)


def new_snapshot(volume: VolumeRef) -> SnapshotRef:
    return SnapshotRef(
        id=str(uuid.uuid4()), volume_id=volume.id, size_gib=volume.size_gib, pool=volume.pool
    )


def pattern(seed: int, length: int) -> bytes:
    return random.Random(seed).randbytes(length)


def offsets(size_bytes: int) -> list[int]:
    """Start, an unaligned middle, and the last MiB."""
    return [0, size_bytes // 2 + 12345, size_bytes - MIB]


def write_patterns(io: BackendAccess, volume: VolumeRef, seed: int) -> list[bytes]:
    written = [pattern(seed + i, MIB) for i in range(3)]
    for offset, data in zip(offsets(volume.size_bytes), written, strict=True):
        io.write(volume, offset, data)
    return written


def read_patterns(io: BackendAccess, obj: VolumeRef | SnapshotRef, size_bytes: int) -> list[bytes]:
    return [io.read(obj, offset, MIB) for offset in offsets(size_bytes)]


def recorder() -> tuple[Progress, Callable[[int, int], None]]:
    calls: Progress = []
    return calls, lambda done, total: calls.append((done, total))


def assert_sane_progress(calls: Progress) -> None:
    assert calls, "progress was never reported"
    dones = [done for done, _ in calls]
    assert dones == sorted(dones), f"progress went backwards: {calls}"
    assert len({total for _, total in calls}) == 1, f"the total changed: {calls}"
    assert calls[-1][0] == calls[-1][1], f"progress did not end at the total: {calls}"


class TestVolumes:
    def test_create_gives_a_volume_of_exactly_the_size_reading_zeros(
        self, driver: VolumeDriver, io: BackendAccess
    ) -> None:
        volume = new_volume(io)
        driver.create_volume(volume)
        assert io.size_bytes(volume) == GIB
        assert read_patterns(io, volume, GIB) == [bytes(MIB)] * 3
        assert io.digest(volume) == zero_digest(GIB)

    def test_extend_keeps_the_data_and_grows(self, driver: VolumeDriver, io: BackendAccess) -> None:
        volume = new_volume(io)
        driver.create_volume(volume)
        written = write_patterns(io, volume, seed=1)
        before = io.digest(volume)
        driver.extend_volume(volume, 3)
        assert io.size_bytes(volume) == 3 * GIB
        assert read_patterns(io, volume, GIB) == written
        assert io.digest(volume, length=GIB) == before
        assert io.digest(volume, start=GIB) == zero_digest(2 * GIB)
        driver.extend_volume(volume, 3)  # already that size: fine
        assert io.size_bytes(volume) == 3 * GIB

    def test_extend_to_a_smaller_size_is_refused(
        self, driver: VolumeDriver, io: BackendAccess
    ) -> None:
        volume = new_volume(io, size_gib=2)
        driver.create_volume(volume)
        with pytest.raises(DriverError):
            driver.extend_volume(volume, 1)
        assert io.size_bytes(volume) == 2 * GIB

    def test_delete_is_idempotent(self, driver: VolumeDriver, io: BackendAccess) -> None:
        volume = new_volume(io)
        driver.create_volume(volume)
        driver.delete_volume(volume)
        driver.delete_volume(volume)
        driver.delete_volume(new_volume(io))  # never existed
        assert not driver.volume_exists(volume)
        snapshot = new_snapshot(volume)
        driver.delete_snapshot(snapshot)
        driver.delete_snapshot(snapshot)

    def test_exists_and_stored_objects_follow_creates_and_deletes(
        self, driver: VolumeDriver, io: BackendAccess
    ) -> None:
        volume = new_volume(io)
        snapshot = new_snapshot(volume)
        assert not driver.volume_exists(volume)
        driver.create_volume(volume)
        driver.create_snapshot(snapshot, volume)
        assert driver.volume_exists(volume) and driver.snapshot_exists(snapshot)
        stored = driver.list_stored_objects()
        assert volume.id in stored.volume_ids and snapshot.id in stored.snapshot_ids
        driver.delete_snapshot(snapshot)
        driver.delete_volume(volume)
        assert not driver.volume_exists(volume) and not driver.snapshot_exists(snapshot)
        stored = driver.list_stored_objects()
        assert volume.id not in stored.volume_ids and snapshot.id not in stored.snapshot_ids

    @pytest.mark.parametrize("kind", ["volume", "snapshot"])
    def test_cleanup_incomplete_removes_what_a_crash_left(
        self, driver: VolumeDriver, io: BackendAccess, kind: Kind
    ) -> None:
        kept = new_volume(io)
        driver.create_volume(kept)
        before = io.state()
        crashed = new_volume(io)
        io.leave_partial(kind, crashed.id)
        assert not driver.volume_exists(crashed)
        assert not driver.snapshot_exists(new_snapshot(crashed))
        stored = driver.list_stored_objects()
        assert crashed.id not in stored.volume_ids | stored.snapshot_ids
        assert driver.cleanup_incomplete()
        assert driver.cleanup_incomplete() == []
        assert io.state() == before
        assert driver.volume_exists(kept)

    def test_stats_are_sane_and_provisioned_grows(
        self, driver: VolumeDriver, io: BackendAccess
    ) -> None:
        stats = driver.get_stats()
        assert stats.backend_name == driver.backend_name
        assert stats.vendor_name and stats.driver_version and stats.storage_protocol
        (pool,) = [p for p in stats.pools if p.name == io.pool]
        assert pool.total_capacity_gib > 0
        assert 0 <= pool.free_capacity_gib <= pool.total_capacity_gib
        assert pool.provisioned_capacity_gib >= 0
        driver.create_volume(new_volume(io, size_gib=3))
        (after,) = [p for p in driver.get_stats().pools if p.name == io.pool]
        assert after.provisioned_capacity_gib >= pool.provisioned_capacity_gib + 3 - 1e-6


class TestSnapshotsAndClones:
    def test_snapshot_keeps_old_bytes_and_copies_match_byte_for_byte(
        self, driver: VolumeDriver, io: BackendAccess
    ) -> None:
        volume = new_volume(io)
        driver.create_volume(volume)
        old = write_patterns(io, volume, seed=10)
        old_digest = io.digest(volume)
        snapshot = new_snapshot(volume)
        driver.create_snapshot(snapshot, volume)
        new = write_patterns(io, volume, seed=20)
        assert read_patterns(io, volume, GIB) == new
        assert read_patterns(io, snapshot, GIB) == old
        assert io.digest(snapshot) == old_digest

        from_snapshot = new_volume(io)
        driver.create_volume_from_snapshot(from_snapshot, snapshot, progress=no_progress)
        assert io.size_bytes(from_snapshot) == GIB
        assert io.digest(from_snapshot) == old_digest

        clone = new_volume(io)
        driver.clone_volume(clone, volume, progress=no_progress)
        assert io.size_bytes(clone) == GIB
        assert io.digest(clone) == io.digest(volume) != old_digest

    def test_copies_are_independent_of_their_source(
        self, driver: VolumeDriver, io: BackendAccess
    ) -> None:
        volume = new_volume(io)
        driver.create_volume(volume)
        write_patterns(io, volume, seed=30)
        clone = new_volume(io)
        driver.clone_volume(clone, volume, progress=no_progress)
        clone_digest = io.digest(clone)
        write_patterns(io, volume, seed=31)
        assert io.digest(clone) == clone_digest
        write_patterns(io, clone, seed=32)
        assert io.digest(volume) != io.digest(clone)

    def test_copies_into_a_larger_size_keep_the_data(
        self, driver: VolumeDriver, io: BackendAccess
    ) -> None:
        volume = new_volume(io)
        driver.create_volume(volume)
        written = write_patterns(io, volume, seed=40)
        source_digest = io.digest(volume)
        snapshot = new_snapshot(volume)
        driver.create_snapshot(snapshot, volume)
        larger = [new_volume(io, size_gib=2), new_volume(io, size_gib=3)]
        driver.create_volume_from_snapshot(larger[0], snapshot, progress=no_progress)
        driver.clone_volume(larger[1], volume, progress=no_progress)
        for copy in larger:
            assert io.size_bytes(copy) == copy.size_bytes
            assert read_patterns(io, copy, GIB) == written
            assert io.digest(copy, length=GIB) == source_digest
            assert io.digest(copy, start=GIB) == zero_digest(copy.size_bytes - GIB)

    def test_copies_into_a_smaller_size_are_refused(
        self, driver: VolumeDriver, io: BackendAccess
    ) -> None:
        volume = new_volume(io, size_gib=2)
        driver.create_volume(volume)
        snapshot = new_snapshot(volume)
        driver.create_snapshot(snapshot, volume)
        smaller = [new_volume(io), new_volume(io)]
        with pytest.raises(DriverError):
            driver.create_volume_from_snapshot(smaller[0], snapshot, progress=no_progress)
        with pytest.raises(DriverError):
            driver.clone_volume(smaller[1], volume, progress=no_progress)
        assert not any(driver.volume_exists(v) for v in smaller)
        driver.cleanup_incomplete()
        assert not driver.list_stored_objects().volume_ids & {v.id for v in smaller}

    def test_deleting_a_snapshot_leaves_the_volume_and_its_copies(
        self, driver: VolumeDriver, io: BackendAccess
    ) -> None:
        volume = new_volume(io)
        driver.create_volume(volume)
        write_patterns(io, volume, seed=50)
        snapshot = new_snapshot(volume)
        driver.create_snapshot(snapshot, volume)
        from_snapshot, clone = new_volume(io), new_volume(io)
        driver.create_volume_from_snapshot(from_snapshot, snapshot, progress=no_progress)
        driver.clone_volume(clone, volume, progress=no_progress)
        digests = {v.id: io.digest(v) for v in (volume, from_snapshot, clone)}
        driver.delete_snapshot(snapshot)
        assert not driver.snapshot_exists(snapshot)
        assert {v.id: io.digest(v) for v in (volume, from_snapshot, clone)} == digests

    def test_copies_report_progress_up_to_the_total(
        self, driver: VolumeDriver, io: BackendAccess
    ) -> None:
        volume = new_volume(io)
        driver.create_volume(volume)
        write_patterns(io, volume, seed=60)
        snapshot = new_snapshot(volume)
        driver.create_snapshot(snapshot, volume)
        clone_calls, on_clone = recorder()
        driver.clone_volume(new_volume(io), volume, progress=on_clone)
        restore_calls, on_restore = recorder()
        driver.create_volume_from_snapshot(new_volume(io), snapshot, progress=on_restore)
        assert_sane_progress(clone_calls)
        assert_sane_progress(restore_calls)


def manager(driver: VolumeDriver) -> SupportsManage:
    if not isinstance(driver, SupportsManage):
        pytest.skip(f"{type(driver).__name__} does not support manage")
    return driver


def manageable(driver: SupportsManage, kind: Kind, pool: str) -> list[ManageableObject]:
    if kind == "volume":
        return list(driver.list_manageable_volumes(pool))
    return list(driver.list_manageable_snapshots(pool))


def get_size(driver: SupportsManage, kind: Kind, pool: str, reference: dict[str, str]) -> int:
    if kind == "volume":
        return driver.manage_volume_get_size(pool, reference)
    return driver.manage_snapshot_get_size(pool, reference)


class TestRevert:
    @pytest.fixture(autouse=True)
    def _reverts(self, driver: VolumeDriver) -> None:
        if not isinstance(driver, SupportsRevert):
            pytest.skip(f"{driver.driver_name} does not revert volumes")

    def test_revert_gives_back_the_snapshot_bytes_and_is_idempotent(
        self, driver: VolumeDriver, io: BackendAccess
    ) -> None:
        assert isinstance(driver, SupportsRevert)
        volume = new_volume(io)
        driver.create_volume(volume)
        write_patterns(io, volume, seed=70)
        old_digest = io.digest(volume)
        snapshot = new_snapshot(volume)
        driver.create_snapshot(snapshot, volume)
        write_patterns(io, volume, seed=71)
        assert io.digest(volume) != old_digest
        calls, progress = recorder()
        driver.revert_volume_to_snapshot(volume, snapshot, progress=progress)
        assert io.digest(volume) == old_digest
        assert_sane_progress(calls)
        driver.revert_volume_to_snapshot(volume, snapshot, progress=no_progress)
        assert io.digest(volume) == old_digest == io.digest(snapshot)
        write_patterns(io, volume, seed=72)  # the volume stays writable, the snapshot intact
        assert io.digest(snapshot) == old_digest

    def test_revert_after_an_extend_keeps_the_size_and_zeros_the_tail(
        self, driver: VolumeDriver, io: BackendAccess
    ) -> None:
        assert isinstance(driver, SupportsRevert)
        volume = new_volume(io)
        driver.create_volume(volume)
        written = write_patterns(io, volume, seed=73)
        snapshot = new_snapshot(volume)
        driver.create_snapshot(snapshot, volume)
        driver.extend_volume(volume, 2)
        grown = VolumeRef(id=volume.id, size_gib=2, pool=volume.pool)
        io.write(grown, GIB + 4 * MIB, pattern(74, MIB))
        driver.revert_volume_to_snapshot(grown, snapshot, progress=no_progress)
        assert io.size_bytes(grown) == 2 * GIB
        assert read_patterns(io, grown, GIB) == written
        assert io.digest(grown, start=GIB, length=GIB) == zero_digest(GIB)

    def test_revert_to_a_missing_snapshot_fails_and_changes_nothing(
        self, driver: VolumeDriver, io: BackendAccess
    ) -> None:
        assert isinstance(driver, SupportsRevert)
        volume = new_volume(io)
        driver.create_volume(volume)
        write_patterns(io, volume, seed=75)
        before = io.digest(volume)
        with pytest.raises(DriverError):
            driver.revert_volume_to_snapshot(volume, new_snapshot(volume), progress=no_progress)
        assert io.digest(volume) == before
        assert io.size_bytes(volume) == GIB


class TestManage:
    @pytest.mark.parametrize("kind", ["volume", "snapshot"])
    @pytest.mark.parametrize(
        ("size_bytes", "size_gib"),
        [(0, 1), (1, 1), (GIB - 1, 1), (GIB, 1), (GIB + 1, 2), (2 * GIB, 2)],
    )
    def test_size_is_rounded_up_to_whole_gib(
        self, driver: VolumeDriver, io: BackendAccess, kind: Kind, size_bytes: int, size_gib: int
    ) -> None:
        managing = manager(driver)
        io.add_unmanaged(kind, "legacy.img", size_bytes=size_bytes, head=b"legacy")
        before = io.state()
        reference = {"source-name": "legacy.img"}
        assert get_size(managing, kind, io.pool, reference) == size_gib
        listed = [m for m in manageable(managing, kind, io.pool) if m.reference == reference]
        assert [(m.size_gib, m.safe_to_manage) for m in listed] == [(size_gib, True)]
        assert io.state() == before

    def test_volume_round_trip_keeps_the_bytes(
        self, driver: VolumeDriver, io: BackendAccess
    ) -> None:
        managing = manager(driver)
        head = pattern(70, MIB)
        io.add_unmanaged("volume", "legacy-disk.img", size_bytes=GIB + 1, head=head)
        volume = new_volume(io, size_gib=2)
        update = managing.manage_volume(volume, {"source-name": "legacy-disk.img"})
        assert update.size_gib == 2
        assert driver.volume_exists(volume) and volume.id in driver.list_stored_objects().volume_ids
        assert io.size_bytes(volume) == 2 * GIB
        assert io.read(volume, 0, MIB) == head
        assert io.digest(volume, start=MIB) == zero_digest(2 * GIB - MIB)
        (listed,) = [m for m in managing.list_manageable_volumes(io.pool) if m.basalt_id]
        assert (listed.basalt_id, listed.safe_to_manage) == (volume.id, False)
        assert listed.reason_not_safe == "already managed"
        with pytest.raises(ManageExistingInvalidReferenceError):
            managing.manage_volume(new_volume(io), listed.reference)

        managing.unmanage_volume(volume)
        assert not driver.volume_exists(volume)
        assert volume.id not in driver.list_stored_objects().volume_ids
        (released,) = managing.list_manageable_volumes(io.pool)
        assert (released.safe_to_manage, released.size_gib) == (True, 2)
        again = new_volume(io, size_gib=2)
        assert managing.manage_volume(again, released.reference).size_gib == 2
        assert io.read(again, 0, MIB) == head

    def test_snapshot_round_trip_keeps_the_bytes(
        self, driver: VolumeDriver, io: BackendAccess
    ) -> None:
        managing = manager(driver)
        volume = new_volume(io)
        driver.create_volume(volume)
        head = pattern(80, MIB)
        io.add_unmanaged("snapshot", "old-snap.img", size_bytes=5 * MIB, head=head)
        snapshot = new_snapshot(volume)
        update = managing.manage_snapshot(snapshot, volume, {"source-name": "old-snap.img"})
        assert update.size_gib == 1
        assert driver.snapshot_exists(snapshot)
        assert snapshot.id in driver.list_stored_objects().snapshot_ids
        assert io.read(snapshot, 0, MIB) == head and io.size_bytes(snapshot) == GIB
        restored = new_volume(io)
        driver.create_volume_from_snapshot(restored, snapshot, progress=no_progress)
        assert io.digest(restored) == io.digest(snapshot)
        (listed,) = managing.list_manageable_snapshots(io.pool)
        assert (listed.basalt_id, listed.safe_to_manage) == (snapshot.id, False)

        managing.unmanage_snapshot(snapshot)
        assert not driver.snapshot_exists(snapshot)
        (released,) = managing.list_manageable_snapshots(io.pool)
        assert released.safe_to_manage
        assert managing.manage_snapshot_get_size(io.pool, released.reference) == 1

    @pytest.mark.parametrize("kind", ["volume", "snapshot"])
    def test_invalid_references_are_refused_and_change_nothing(
        self, driver: VolumeDriver, io: BackendAccess, kind: Kind
    ) -> None:
        managing = manager(driver)
        volume = new_volume(io)
        driver.create_volume(volume)
        driver.create_snapshot(new_snapshot(volume), volume)
        (managed,) = [m for m in manageable(managing, kind, io.pool) if m.basalt_id]
        references: dict[str, dict[str, str]] = {
            "no key": {},
            "another key": {"source-id": "legacy.img"},
            "nothing by that name": {"source-name": f"missing-{uuid.uuid4().hex}.img"},
            "already managed": dict(managed.reference),
        }
        references.update({label: dict(ref) for label, ref in io.invalid_references(kind).items()})
        before = io.state()
        for label, reference in references.items():
            with pytest.raises(ManageExistingInvalidReferenceError):
                get_size(managing, kind, io.pool, reference)
                pytest.fail(f"get_size accepted {label}: {reference!r}")
            with pytest.raises(ManageExistingInvalidReferenceError):
                if kind == "volume":
                    managing.manage_volume(new_volume(io), reference)
                else:
                    managing.manage_snapshot(new_snapshot(volume), volume, reference)
                pytest.fail(f"manage accepted {label}: {reference!r}")
            assert io.state() == before, f"{label} changed the backend"

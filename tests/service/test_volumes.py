"""Volumes and snapshots through the library, on the embedded file backend."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import basalt
from basalt.errors import (
    IdempotencyConflictError,
    InsufficientCapacityError,
    InvalidInputError,
    InvalidStateError,
    ManageExistingInvalidReferenceError,
    NoValidBackendError,
    SnapshotNotFoundError,
    VolumeHasSnapshotsError,
    VolumeNotFoundError,
)
from basalt.model import OperationPhase, VolumeStatus
from tests.service.conftest import pool_dir, pool_files, volume_file
from tests.support.content import file_digest, head

MIB = 1024 * 1024
GIB = 1024 * MIB


def _write(path: Path, offset: int, data: bytes) -> None:
    with path.open("r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def test_create_returns_typed_volume_with_a_sparse_file(b: basalt.Basalt) -> None:
    handle = b.volumes.create(
        size_gib=2, name="db", description="primary", metadata={"tier": "gold"}
    )
    volume = handle.wait(timeout=30)
    assert isinstance(volume, basalt.Volume)
    assert (volume.status, volume.size_gib, volume.name) == (VolumeStatus.AVAILABLE, 2, "db")
    assert volume.metadata == {"tier": "gold"}
    path = volume_file(b, volume.id)
    assert path.stat().st_size == 2 * GIB
    assert path.stat().st_blocks == 0  # sparse
    operation = handle.operation
    assert operation.phase == OperationPhase.SUCCEEDED and operation.finished_at is not None
    assert b.volumes.get(volume.id) == volume
    assert [v.id for v in b.volumes.list()] == [volume.id]


def test_snapshot_clone_and_from_snapshot_keep_exact_bytes(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=1).wait(timeout=30)
    path = volume_file(b, volume.id)
    pattern = bytes(range(256)) * 4096  # 1 MiB
    for offset in (0, 300 * MIB, GIB - MIB):
        _write(path, offset, pattern)
    before = file_digest(path)
    snap = b.snapshots.create(volume.id, name="s1").wait(timeout=30)
    _write(path, 0, b"\xff" * MIB)  # overwrite after the snapshot
    after = file_digest(path)
    assert after != before
    from_snap = b.volumes.create(size_gib=1, snapshot_id=snap.id).wait(timeout=60)
    clone = b.volumes.clone(volume.id).wait(timeout=60)
    assert file_digest(volume_file(b, from_snap.id)) == before
    assert file_digest(volume_file(b, clone.id)) == after
    bigger = b.volumes.create(size_gib=3, snapshot_id=snap.id).wait(timeout=60)
    bigger_path = volume_file(b, bigger.id)
    assert bigger_path.stat().st_size == 3 * GIB
    with bigger_path.open("rb") as handle:
        handle.seek(300 * MIB)
        assert handle.read(MIB) == pattern


def test_extend_grows_and_keeps_data(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=1).wait(timeout=30)
    _write(volume_file(b, volume.id), 5, b"keep")
    extended = b.volumes.extend(volume.id, 4).wait(timeout=30)
    assert extended.size_gib == 4
    assert volume_file(b, volume.id).stat().st_size == 4 * GIB
    with volume_file(b, volume.id).open("rb") as handle:
        handle.seek(5)
        assert handle.read(4) == b"keep"
    with pytest.raises(InvalidInputError, match="not larger"):
        b.volumes.extend(volume.id, 4)


def test_delete_with_snapshots_is_refused_unless_cascade(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=1).wait(timeout=30)
    snap = b.snapshots.create(volume.id).wait(timeout=30)
    with pytest.raises(VolumeHasSnapshotsError, match="1 snapshot"):
        b.volumes.delete(volume.id)
    assert b.volumes.get(volume.id).status == VolumeStatus.AVAILABLE
    b.volumes.delete(volume.id, cascade=True).wait(timeout=30)
    with pytest.raises(VolumeNotFoundError):
        b.volumes.get(volume.id)
    with pytest.raises(SnapshotNotFoundError):
        b.snapshots.get(snap.id)
    assert pool_files(b) == set()


@pytest.mark.parametrize("size", [0, -1, 1.5, "abc", None, 10**9, True])
def test_bad_sizes_leave_nothing_behind(b: basalt.Basalt, size: object) -> None:
    with pytest.raises(InvalidInputError):
        b.volumes.create(size_gib=size)
    assert b.volumes.list() == [] and pool_files(b) == set()
    assert b.operations.list() == []


def test_a_size_larger_than_the_pool_is_refused(b: basalt.Basalt) -> None:
    pool = b.list_pools()[0]
    too_big = int(pool.total_capacity_gib * pool.max_over_subscription_ratio) + 1
    with pytest.raises(
        NoValidBackendError, match=f"no pool can take {too_big} GiB: 1 fail capacity"
    ):
        b.volumes.create(size_gib=too_big)
    assert b.volumes.list() == [] and pool_files(b) == set()
    with pytest.raises(NoValidBackendError, match="1 fail capacity") as named:
        b.volumes.create(size_gib=too_big, pool="file#default")
    (verdict,) = named.value.explanation.pools
    assert verdict.first_failure is not None and verdict.first_failure.filter == "capacity"
    assert b.volumes.list() == [] and pool_files(b) == set()
    small = b.volumes.create(size_gib=1).wait(timeout=30)
    with pytest.raises(InsufficientCapacityError, match="cannot hold"):
        b.volumes.extend(small.id, new_size_gib=too_big)
    assert b.volumes.get(small.id).size_gib == 1


@pytest.mark.parametrize("name", ["a/b", "..", "x\x00y", "n" * 10_000, b"\xff"])
def test_bad_names_and_metadata_leave_nothing_behind(b: basalt.Basalt, name: object) -> None:
    with pytest.raises(InvalidInputError):
        b.volumes.create(size_gib=1, name=name)
    with pytest.raises(InvalidInputError):
        b.volumes.create(size_gib=1, metadata={name: "value"})  # type: ignore[dict-item]
    assert b.volumes.list() == [] and pool_files(b) == set()


def test_unknown_ids_and_wrong_states(b: basalt.Basalt) -> None:
    with pytest.raises(VolumeNotFoundError):
        b.volumes.get("00000000-0000-0000-0000-000000000000")
    with pytest.raises(VolumeNotFoundError):
        b.volumes.extend("nope", 2)
    with pytest.raises(SnapshotNotFoundError):
        b.volumes.create(size_gib=1, snapshot_id="nope")
    volume = b.volumes.create(size_gib=1).wait(timeout=30)
    deleting = b.volumes.delete(volume.id)
    with pytest.raises((InvalidStateError, VolumeNotFoundError)):
        b.volumes.extend(volume.id, 2)
    deleting.wait(timeout=30)


def test_snapshot_of_a_volume_in_error_is_refused(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=1).wait(timeout=30)
    with b.db.transaction() as tx:
        tx.volumes.set_status(
            volume.id,
            expected=[VolumeStatus.AVAILABLE],
            new=VolumeStatus.ERROR,
            updated_at=volume.updated_at,
        )
    with pytest.raises(InvalidStateError, match="status is 'error'"):
        b.snapshots.create(volume.id)
    assert b.snapshots.list() == []


def test_request_id_makes_a_retried_create_return_the_same_volume(b: basalt.Basalt) -> None:
    results: list[str] = []

    def create() -> None:
        results.append(
            b.volumes.create(size_gib=1, name="once", request_id="req-42").wait(timeout=30).id
        )

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    assert len(b.volumes.list()) == 1
    with pytest.raises(IdempotencyConflictError):
        b.volumes.create(size_gib=2, name="once", request_id="req-42")


def test_manage_and_unmanage_a_file(b: basalt.Basalt) -> None:
    outside = pool_dir(b) / "volumes" / "legacy-disk.img"
    outside.write_bytes(b"legacy" * 1000)
    listed = b.manage.manageable_volumes()
    assert [(dict(m.reference), m.size_gib, m.safe_to_manage) for m in listed] == [
        ({"source-name": "legacy-disk.img"}, 1, True)
    ]
    volume = b.manage.manage_volume({"source-name": "legacy-disk.img"}, name="legacy").wait(
        timeout=30
    )
    assert volume.size_gib == 1 and not outside.exists()
    assert head(volume_file(b, volume.id), 6) == b"legacy"
    b.manage.unmanage_volume(volume.id).wait(timeout=30)
    assert b.volumes.list() == []
    assert (pool_dir(b) / "volumes" / f"volume-{volume.id}.raw").exists()


@pytest.mark.parametrize(
    "reference",
    [
        {"source-name": "missing.img"},
        {"source-name": "../x"},
        {"source-id": "1"},
        {},
        "just-a-string",
    ],
)
def test_manage_with_a_bad_reference_changes_nothing(b: basalt.Basalt, reference: object) -> None:
    with pytest.raises(ManageExistingInvalidReferenceError):
        b.manage.manage_volume(reference)  # type: ignore[arg-type]
    assert b.volumes.list() == [] and b.operations.list() == []


def test_events_tell_the_story(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=1).wait(timeout=30)
    b.volumes.extend(volume.id, 2).wait(timeout=30)
    messages = [e.message for e in b.volumes.events(volume.id)]
    assert messages[0] == "created as create_volume"
    assert "driver create_volume" in messages
    assert "status creating -> available" in messages
    assert "status extending -> available" in messages


def test_a_volume_whose_file_vanished_is_marked_error_at_start(tmp_path: Path) -> None:
    with basalt.open(data_dir=tmp_path / "data") as first:
        kept = first.volumes.create(size_gib=1).wait(timeout=30)
        lost = first.volumes.create(size_gib=1).wait(timeout=30)
        volume_file(first, lost.id).unlink()
    with basalt.open(data_dir=tmp_path / "data") as second:
        assert second.volumes.get(kept.id).status == VolumeStatus.AVAILABLE
        assert second.volumes.get(lost.id).status == VolumeStatus.ERROR
        assert "no longer holds" in second.volumes.events(lost.id)[-1].message
        assert second.last_reconcile is not None
        assert second.last_reconcile.lost_objects == [lost.id]
        second.volumes.delete(lost.id).wait(timeout=30)


def test_a_busy_volume_without_an_operation_is_settled_at_start(tmp_path: Path) -> None:
    with basalt.open(data_dir=tmp_path / "data") as first:
        volume = first.volumes.create(size_gib=1).wait(timeout=30)
        with first.db.transaction() as tx:  # as if a crash lost the operation record
            tx.volumes.set_status(
                volume.id,
                expected=[VolumeStatus.AVAILABLE],
                new=VolumeStatus.EXTENDING,
                updated_at=volume.updated_at,
            )
    with basalt.open(data_dir=tmp_path / "data") as second:
        assert second.volumes.get(volume.id).status == VolumeStatus.ERROR_EXTENDING
        assert second.last_reconcile is not None
        assert second.last_reconcile.stuck_resources == [volume.id]
        assert "interrupted" in second.volumes.events(volume.id)[-1].message

"""Revert, reset-status, force-delete, force-detach and the summary, through the library.

Revert's data checks run on the embedded file backend (bytes compared by digest);
the checks that need work still under way use the SolidFire emulator with latency
injected into one Element call, so the operation is reliably open while we ask.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import basalt
from basalt.errors import (
    InvalidInputError,
    InvalidStateError,
    PermissionDeniedError,
    ResourceBusyError,
    VolumeNotFoundError,
)
from basalt.model import OperationPhase, SnapshotStatus, VolumeStatus
from basalt.service.context import RequestContext
from basalt_emulators.solidfire import SolidFireBackend
from tests.integration.test_solidfire_service import open_basalt
from tests.service.conftest import volume_file
from tests.support.content import file_digest, zero_digest

MIB = 1024 * 1024
GIB = 1024 * MIB
WAIT = 30
MEMBER = RequestContext(user_id="m", project_id="basalt", roles=frozenset({"member"}))
READER = RequestContext(user_id="r", project_id="basalt", roles=frozenset({"reader"}))
OUTSIDER = RequestContext(user_id="o", project_id="elsewhere", roles=frozenset({"member"}))


def write(path: Path, offset: int, data: bytes) -> None:
    with path.open("r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def test_revert_gives_back_the_latest_snapshot_and_keeps_the_size(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=1, ctx=MEMBER).wait(timeout=WAIT)
    path = volume_file(b, volume.id)
    write(path, 0, b"A" * MIB)
    write(path, 700 * MIB, b"B" * MIB)
    before = file_digest(path)
    snap = b.snapshots.create(volume.id, ctx=MEMBER).wait(timeout=WAIT)
    write(path, 0, b"C" * MIB)
    b.volumes.extend(volume.id, 2, ctx=MEMBER).wait(timeout=WAIT)
    write(path, GIB + MIB, b"D" * MIB)

    handle = b.volumes.revert_to_snapshot(volume.id, snap.id, ctx=MEMBER)
    reverted = handle.wait(timeout=WAIT)
    assert (reverted.status, reverted.size_gib) == (VolumeStatus.AVAILABLE, 2)
    assert path.stat().st_size == 2 * GIB
    assert file_digest(path, length=GIB) == before
    assert file_digest(path, start=GIB, length=GIB) == zero_digest(GIB)  # past the snapshot
    assert handle.operation.phase == OperationPhase.SUCCEEDED
    assert b.snapshots.get(snap.id).status == SnapshotStatus.AVAILABLE
    assert any("reverted to snapshot" in e.message for e in b.volumes.events(volume.id))


def test_revert_refuses_what_would_lose_data_and_changes_nothing(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=1).wait(timeout=WAIT)
    other = b.volumes.create(size_gib=1).wait(timeout=WAIT)
    first = b.snapshots.create(volume.id).wait(timeout=WAIT)
    latest = b.snapshots.create(volume.id).wait(timeout=WAIT)
    foreign = b.snapshots.create(other.id).wait(timeout=WAIT)
    write(volume_file(b, volume.id), 0, b"keep" * 1024)
    before = file_digest(volume_file(b, volume.id))

    with pytest.raises(InvalidInputError, match="not the latest snapshot"):
        b.volumes.revert_to_snapshot(volume.id, first.id)
    with pytest.raises(InvalidInputError, match=f"snapshot of volume {other.id}"):
        b.volumes.revert_to_snapshot(volume.id, foreign.id)
    with pytest.raises(PermissionDeniedError, match="volume:revert"):
        b.volumes.revert_to_snapshot(volume.id, first.id, ctx=READER)
    with pytest.raises(VolumeNotFoundError):
        b.volumes.revert_to_snapshot(volume.id, first.id, ctx=OUTSIDER)
    b.volumes.reset_status(volume.id, status="error")
    with pytest.raises(InvalidStateError, match="'error'"):
        b.volumes.revert_to_snapshot(volume.id, latest.id)

    assert file_digest(volume_file(b, volume.id)) == before
    assert b.volumes.get(volume.id).status == VolumeStatus.ERROR
    assert {s.status for s in b.snapshots.list()} == {SnapshotStatus.AVAILABLE}


def test_reset_status_sets_settled_statuses_only_and_says_who(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=1).wait(timeout=WAIT)
    assert b.volumes.reset_status(volume.id, status="error").status == VolumeStatus.ERROR
    assert b.volumes.reset_status(volume.id, status="available").status == VolumeStatus.AVAILABLE
    assert b.volumes.reset_status(volume.id, migration_status="error").migration_status == "error"
    assert b.volumes.reset_status(volume.id, migration_status="none").migration_status is None
    overrides = [e for e in b.volumes.events(volume.id) if e.detail.get("override")]
    assert [e.detail["to"] for e in overrides] == ["error", "available"]
    assert all("reset by basalt" in e.message for e in overrides)

    for bad in ({"status": "creating"}, {"status": "in-use"}, {"migration_status": "migrating"}):
        with pytest.raises(InvalidInputError):
            b.volumes.reset_status(volume.id, **bad)
    with pytest.raises(InvalidInputError, match="give status"):
        b.volumes.reset_status(volume.id)
    with pytest.raises(PermissionDeniedError, match="admin"):
        b.volumes.reset_status(volume.id, status="error", ctx=MEMBER)
    with pytest.raises(basalt.VolumeAttachedError, match="no attachments"):
        b.volumes.reset_status(volume.id, attach_status="attached")
    assert b.volumes.get(volume.id).status == VolumeStatus.AVAILABLE


def test_snapshot_reset_and_force_delete(b: basalt.Basalt) -> None:
    volume = b.volumes.create(size_gib=1).wait(timeout=WAIT)
    snap = b.snapshots.create(volume.id).wait(timeout=WAIT)
    assert b.snapshots.reset_status(snap.id, "error").status == SnapshotStatus.ERROR
    with pytest.raises(InvalidInputError):
        b.snapshots.reset_status(snap.id, "restoring")
    with pytest.raises(PermissionDeniedError):
        b.snapshots.delete(snap.id, force=True, ctx=MEMBER)
    b.snapshots.delete(snap.id, force=True).wait(timeout=WAIT)
    assert b.snapshots.list() == []
    with pytest.raises(PermissionDeniedError):
        b.volumes.delete(volume.id, force=True, ctx=MEMBER)
    b.volumes.reset_status(volume.id, status="error_extending")
    b.volumes.delete(volume.id, force=True).wait(timeout=WAIT)
    assert b.volumes.list() == []
    assert not volume_file(b, volume.id).exists()


def test_metadata_of_snapshots_and_the_volume_summary(b: basalt.Basalt) -> None:
    one = b.volumes.create(size_gib=1, metadata={"tier": "gold"}).wait(timeout=WAIT)
    b.volumes.create(size_gib=2, metadata={"tier": "silver", "app": "db"}).wait(timeout=WAIT)
    b.volumes.create(size_gib=3, ctx=OUTSIDER).wait(timeout=WAIT)
    summary = b.volumes.summary()
    assert (summary.count, summary.total_gib) == (2, 3)
    assert summary.metadata == {"app": ["db"], "tier": ["gold", "silver"]}
    assert (b.volumes.summary(all_projects=True).count, b.volumes.summary(ctx=OUTSIDER).count) == (
        3,
        1,
    )

    snap = b.snapshots.create(one.id, metadata={"a": "1"}).wait(timeout=WAIT)
    assert b.snapshots.set_metadata(snap.id, {"b": "2"}) == {"a": "1", "b": "2"}
    assert b.snapshots.set_metadata(snap.id, {"c": "3"}, replace=True) == {"c": "3"}
    b.snapshots.delete_metadata_key(snap.id, "c")
    assert b.snapshots.get(snap.id).metadata == {}
    with pytest.raises(basalt.NotFoundError, match="metadata key"):
        b.snapshots.delete_metadata_key(snap.id, "c")
    with pytest.raises(PermissionDeniedError):
        b.snapshots.set_metadata(snap.id, {"x": "y"}, ctx=READER)


@pytest.fixture
def sf_backend(tmp_path: Path) -> SolidFireBackend:
    return SolidFireBackend(tmp_path / "cluster")


@pytest.fixture
def sf(tmp_path: Path, sf_backend: SolidFireBackend) -> Iterator[basalt.Basalt]:
    with open_basalt(tmp_path, sf_backend) as instance:
        yield instance


def test_overrides_wait_for_running_work(sf: basalt.Basalt, sf_backend: SolidFireBackend) -> None:
    volume = sf.volumes.create(size_gib=1).wait(timeout=WAIT)
    sf_backend.faults.latency(1.5, method="ModifyVolume")
    extending = sf.volumes.extend(volume.id, 2)
    with pytest.raises(ResourceBusyError, match="still working on it"):
        sf.volumes.reset_status(volume.id, status="available")
    with pytest.raises(ResourceBusyError, match="still working on it"):
        sf.volumes.delete(volume.id, force=True)
    assert extending.wait(timeout=WAIT).size_gib == 2
    assert sf.volumes.get(volume.id).status == VolumeStatus.AVAILABLE


HOST_A = {"host": "compute-a", "initiator": "iqn.2026-11.test.compute:a"}
HOST_B = {"host": "compute-b", "initiator": "iqn.2026-11.test.compute:b"}


def test_force_detach_removes_attachments_before_a_reset(
    sf: basalt.Basalt, sf_backend: SolidFireBackend
) -> None:
    volume = sf.volumes.create(size_gib=1, multiattach=True).wait(timeout=WAIT)
    first = sf.attachments.attach(volume.id, HOST_A).attachment
    sf.attachments.attach(volume.id, HOST_B)
    with pytest.raises(basalt.VolumeAttachedError, match="force-detach"):
        sf.volumes.reset_status(volume.id, status="available", attach_status="detached")
    with pytest.raises(PermissionDeniedError, match="volume:force_detach"):
        sf.attachments.force_detach(volume.id, ctx=MEMBER)
    with pytest.raises(basalt.VolumeAttachedError, match="no attachment that matches"):
        sf.attachments.force_detach(volume.id, attachment_id="not-an-attachment")
    assert sf.attachments.force_detach(volume.id, attachment_id=first.id) == [first.id]
    assert [a.attached_host for a in sf.attachments.list(volume_id=volume.id)] == ["compute-b"]
    assert len(sf.attachments.force_detach(volume.id, connector=HOST_B)) == 1
    assert sf.volumes.get(volume.id).status == VolumeStatus.AVAILABLE
    assert sf.volumes.reset_status(volume.id, attach_status="detached").status == (
        VolumeStatus.AVAILABLE
    )

"""Groups, group types and group snapshots through the library, on the embedded file
backend (no volume is exported here, so no I/O is paused; the quiesce over real iSCSI is
tests/integration/test_group_consistency.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

import basalt
from basalt.errors import (
    DuplicateNameError,
    GroupHasSnapshotsError,
    GroupMembershipError,
    GroupNotFoundError,
    InvalidInputError,
    InvalidStateError,
    PermissionDeniedError,
    StillInUseError,
    VolumeNotFoundError,
)
from basalt.model import OperationKind, OperationPhase, SnapshotStatus, VolumeStatus
from basalt.model.group import Group
from basalt.model.states import GroupSnapshotStatus, GroupStatus
from basalt.service.context import RequestContext
from tests.service.conftest import pool_dir, volume_file

WAIT = 30
A = RequestContext(user_id="alice", project_id="pa", roles=frozenset({"member"}))
B = RequestContext(user_id="bob", project_id="pb", roles=frozenset({"member"}))
READER = RequestContext(user_id="rita", project_id="pa", roles=frozenset({"reader"}))
ADMIN = RequestContext(user_id="root", project_id="ops", roles=frozenset({"admin"}))


def make_group(
    b: basalt.Basalt, *, ctx: RequestContext = A, types: list[str] | None = None
) -> Group:
    if not b.group_types.list(ctx=ADMIN):
        b.group_types.create("cg", group_specs={"consistent_group_snapshot_enabled": "<is> True"})
    group = b.groups.create(
        group_type="cg", volume_types=types or ["__DEFAULT__"], name="db", ctx=ctx
    ).wait(timeout=WAIT)
    assert group.status == GroupStatus.AVAILABLE and group.backend == "file"
    return group


def write(b: basalt.Basalt, volume_id: str, byte: int) -> None:
    with volume_file(b, volume_id).open("r+b") as f:
        f.write(bytes([byte]) * 512)


def state(b: basalt.Basalt) -> tuple[object, ...]:
    """Everything a refused request must leave alone."""
    volumes = sorted((v.id, v.status, v.group_id) for v in b.volumes.list(all_projects=True))
    groups = sorted((g.id, g.status, g.name) for g in b.groups.list(all_projects=True))
    snaps = sorted((s.id, s.status) for s in b.snapshots.list(all_projects=True))
    files = sorted(p.name for d in ("volumes", "snapshots") for p in (pool_dir(b) / d).iterdir())
    return volumes, groups, snaps, files


def test_group_types_are_made_by_admins_and_read_by_everyone(b: basalt.Basalt) -> None:
    made = b.group_types.create("cg", description="consistent", group_specs={"a": 1})
    assert made.group_specs == {"a": "1"}
    with pytest.raises(DuplicateNameError):
        b.group_types.create("cg")
    with pytest.raises(PermissionDeniedError):
        b.group_types.create("mine", ctx=A)
    assert [t.name for t in b.group_types.list(ctx=READER)] == ["cg"]
    assert b.group_types.set_specs(made.id, {"b": "2"}) == {"a": "1", "b": "2"}
    b.group_types.delete_spec(made.id, "a")
    assert b.group_types.get("cg", ctx=A).group_specs == {"b": "2"}
    hidden = b.group_types.create("hidden", is_public=False)
    assert [t.name for t in b.group_types.list(ctx=A)] == ["cg"]
    assert {t.name for t in b.group_types.list()} == {"cg", "hidden"}
    b.group_types.delete(hidden.id)
    make_group(b)
    with pytest.raises(StillInUseError):
        b.group_types.delete(made.id)


def test_volumes_join_leave_and_are_made_in_a_group(b: basalt.Basalt) -> None:
    group = make_group(b)
    first = b.volumes.create(size_gib=1, ctx=A).wait(timeout=WAIT)
    second = b.volumes.create(size_gib=1, ctx=A).wait(timeout=WAIT)
    updated = b.groups.update(group.id, add_volumes=f"{first.id},{second.id}", name="db2", ctx=A)
    assert updated.name == "db2" and updated.status == GroupStatus.AVAILABLE
    assert {v.id for v in b.groups.volumes(group.id, ctx=READER)} == {first.id, second.id}
    assert b.volumes.get(first.id).group_id == group.id
    made = b.volumes.create(size_gib=1, group_id=group.id, ctx=A).wait(timeout=WAIT)
    assert made.group_id == group.id and made.backend == "file"
    b.groups.update(group.id, remove_volumes=[second.id], ctx=A)
    assert b.volumes.get(second.id).group_id is None
    assert {v.id for v in b.volumes.list(basalt.ListQuery(group_id=group.id), ctx=A)} == {
        first.id,
        made.id,
    }
    kinds = [o.kind for o in b.operations.list(resource_id=group.id, all_projects=True)]
    assert kinds.count(OperationKind.UPDATE_GROUP) == 2


def test_bad_members_are_refused_and_nothing_changes(b: basalt.Basalt) -> None:
    group = make_group(b)
    other_group = make_group(b)
    mine = b.volumes.create(size_gib=1, ctx=A).wait(timeout=WAIT)
    theirs = b.volumes.create(size_gib=1, ctx=B).wait(timeout=WAIT)
    in_other = b.volumes.create(size_gib=1, group_id=other_group.id, ctx=A).wait(timeout=WAIT)
    b.types.create("gold")
    gold = b.volumes.create(size_gib=1, volume_type="gold", ctx=A).wait(timeout=WAIT)
    busy = b.volumes.create(size_gib=1, ctx=A).wait(timeout=WAIT)
    b.volumes.reset_status(busy.id, status="error", ctx=ADMIN)
    before = state(b)
    with pytest.raises(VolumeNotFoundError):  # another project's, as a member sees it
        b.groups.update(group.id, add_volumes=f"{mine.id},{theirs.id}", ctx=A)
    with pytest.raises(GroupMembershipError, match="belongs to project pb"):
        b.groups.update(group.id, add_volumes=[mine.id, theirs.id], ctx=ADMIN)
    with pytest.raises(GroupMembershipError, match="already in group"):
        b.groups.update(group.id, add_volumes=[mine.id, in_other.id], ctx=A)
    with pytest.raises(GroupMembershipError, match="does not allow"):
        b.groups.update(group.id, add_volumes=[gold.id], ctx=A)
    with pytest.raises(InvalidStateError, match="error"):
        b.groups.update(group.id, add_volumes=[mine.id, busy.id], ctx=A)
    with pytest.raises(GroupMembershipError, match="not in group"):
        b.groups.update(group.id, remove_volumes=[mine.id], ctx=A)
    with pytest.raises(GroupMembershipError):
        b.volumes.create(size_gib=1, volume_type="gold", group_id=group.id, ctx=A).wait()
    with pytest.raises(GroupNotFoundError):
        b.groups.update(group.id, add_volumes=[theirs.id], ctx=B)
    with pytest.raises(PermissionDeniedError):
        b.groups.update(group.id, add_volumes=[mine.id], ctx=READER)
    assert state(b) == before
    assert b.groups.get(group.id, ctx=A).status == GroupStatus.AVAILABLE


def test_a_group_snapshot_captures_every_member_and_a_group_is_made_from_it(
    b: basalt.Basalt,
) -> None:
    group = make_group(b)
    members = [b.volumes.create(size_gib=1, group_id=group.id, ctx=A).wait() for _ in range(3)]
    for index, volume in enumerate(members):
        write(b, volume.id, 0x41 + index)
    gsnap = b.group_snapshots.create(group.id, name="nightly", ctx=A).wait(timeout=WAIT)
    assert gsnap.status == GroupSnapshotStatus.AVAILABLE and gsnap.group_id == group.id
    assert gsnap.cut["quiesced"] is False  # nothing exported: nothing to pause
    assert set(gsnap.cut["members"]) == {v.id for v in members}  # type: ignore[arg-type]
    snaps = b.group_snapshots.members(gsnap.id, ctx=READER)
    assert {s.volume_id for s in snaps} == {v.id for v in members}
    assert all(s.status == SnapshotStatus.AVAILABLE and s.group_snapshot_id for s in snaps)
    for volume in members:
        write(b, volume.id, 0x7F)  # after the cut

    copy = b.groups.create_from_src(group_snapshot_id=gsnap.id, name="restore", ctx=A).wait()
    assert copy.status == GroupStatus.AVAILABLE and copy.group_snapshot_id == gsnap.id
    restored = b.groups.volumes(copy.id, ctx=A)
    assert len(restored) == 3
    for volume in restored:
        source = next(s for s in snaps if s.id == volume.snapshot_id)
        index = [v.id for v in members].index(source.volume_id)
        assert volume_file(b, volume.id).read_bytes()[:512] == bytes([0x41 + index]) * 512
    clone = b.groups.create_from_src(source_group_id=group.id, ctx=A).wait(timeout=WAIT)
    cloned = b.groups.volumes(clone.id, ctx=A)
    assert all(volume_file(b, v.id).read_bytes()[:512] == b"\x7f" * 512 for v in cloned)
    assert clone.source_group_id == group.id and clone.group_type_id == group.group_type_id


def test_member_snapshots_and_member_volumes_do_not_go_alone(b: basalt.Basalt) -> None:
    group = make_group(b)
    volume = b.volumes.create(size_gib=1, group_id=group.id, ctx=A).wait(timeout=WAIT)
    gsnap = b.group_snapshots.create(group.id, ctx=A).wait(timeout=WAIT)
    member = b.group_snapshots.members(gsnap.id)[0]
    before = state(b)
    with pytest.raises(GroupMembershipError, match="in group"):
        b.volumes.delete(volume.id, ctx=A)
    with pytest.raises(GroupMembershipError, match="group snapshot"):
        b.snapshots.delete(member.id, ctx=A)
    with pytest.raises(GroupHasSnapshotsError):
        b.groups.delete(group.id, delete_volumes=True, ctx=A)
    with pytest.raises(InvalidInputError):
        b.groups.create_from_src(ctx=A)
    assert state(b) == before
    b.group_snapshots.delete(gsnap.id, ctx=A).wait(timeout=WAIT)
    assert b.snapshots.list(all_projects=True) == []
    assert list((pool_dir(b) / "snapshots").iterdir()) == []


def test_a_group_is_deleted_with_or_without_its_volumes(b: basalt.Basalt) -> None:
    group = make_group(b)
    volume = b.volumes.create(size_gib=1, group_id=group.id, ctx=A).wait(timeout=WAIT)
    before = state(b)
    with pytest.raises(GroupMembershipError, match="delete-volumes"):
        b.groups.delete(group.id, ctx=A)
    assert state(b) == before
    b.groups.delete(group.id, delete_volumes=True, ctx=A).wait(timeout=WAIT)
    with pytest.raises(GroupNotFoundError):
        b.groups.get(group.id, ctx=A)
    assert not volume_file(b, volume.id).exists()
    with pytest.raises(VolumeNotFoundError):
        b.volumes.get(volume.id)
    empty = make_group(b)
    b.groups.delete(empty.id, ctx=A).wait(timeout=WAIT)
    assert b.groups.list(all_projects=True) == []


def test_reset_status_is_for_admins(b: basalt.Basalt) -> None:
    group = make_group(b)
    with pytest.raises(PermissionDeniedError):
        b.groups.reset_status(group.id, "error", ctx=A)
    assert b.groups.reset_status(group.id, "error", ctx=ADMIN).status == GroupStatus.ERROR
    with pytest.raises(InvalidInputError):
        b.groups.reset_status(group.id, "creating", ctx=ADMIN)
    b.groups.reset_status(group.id, "available", ctx=ADMIN)
    b.volumes.create(size_gib=1, group_id=group.id, ctx=A).wait(timeout=WAIT)
    gsnap = b.group_snapshots.create(group.id, ctx=A).wait(timeout=WAIT)
    assert b.group_snapshots.reset_status(gsnap.id, "error", ctx=ADMIN).status == "error"


def test_a_crash_during_a_group_snapshot_is_rolled_back(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with basalt.open(data_dir=data) as first:
        group = make_group(first)
        volume = first.volumes.create(size_gib=1, group_id=group.id, ctx=A).wait(timeout=WAIT)
    # What a crash after the first transaction leaves: the rows and an open operation.
    with basalt.open(data_dir=data) as second:
        service = second.group_snapshots
        service._start = lambda operation, body, fetch: None  # type: ignore[assignment,method-assign,misc,return-value]
        service.create(group.id, ctx=A)
    with basalt.open(data_dir=data) as third:
        report = third.last_reconcile
        assert report is not None and len(report.rolled_back) == 1
        gsnap = third.group_snapshots.list(all_projects=True)[0]
        assert gsnap.status == GroupSnapshotStatus.ERROR
        assert [s.status for s in third.group_snapshots.members(gsnap.id)] == ["error"]
        operation = third.operations.list(resource_id=gsnap.id, all_projects=True)[0]
        assert operation.phase == OperationPhase.ROLLED_BACK
        assert third.volumes.get(volume.id).status == VolumeStatus.AVAILABLE
        third.group_snapshots.delete(gsnap.id, ctx=A).wait(timeout=WAIT)
        assert third.groups.get(group.id).status == GroupStatus.AVAILABLE


def test_a_backend_without_group_support_is_named(b: basalt.Basalt) -> None:
    from basalt.errors import NotSupportedError

    b.group_types.create("cg")
    driver = b.pools.driver("file")
    b.pools._drivers["file"] = object()  # type: ignore[attr-defined,assignment]
    try:
        with pytest.raises(NotSupportedError, match="groups"):
            b.groups.create(group_type="cg", volume_types=["__DEFAULT__"], ctx=A)
    finally:
        b.pools._drivers["file"] = driver  # type: ignore[attr-defined]

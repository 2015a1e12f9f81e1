"""CloneVolume, snapshots, rollback and group snapshots, down to the bytes."""

from __future__ import annotations

import dataclasses

from .conftest import GIB, Element, read_at, write_at

MARK = b"basalt-was-here!"


def _volume_with_mark(sf: Element, account: int, offset: int = 5 * 1024 * 1024) -> int:
    volume = sf.volume(account, attributes={"uuid": "src"})
    write_at(sf.backend.volume_path(volume), offset, MARK)
    return volume


def test_clone_copies_bytes_and_keeps_holes(sf: Element) -> None:
    account = sf.account()
    source = _volume_with_mark(sf, account)
    result = sf.call("CloneVolume", volumeID=source, name="UUID-clone", newSize=2 * GIB)
    clone = result["volumeID"]
    assert clone != source and {"cloneID", "asyncHandle", "volume"} <= set(result)
    path = sf.backend.volume_path(clone)
    assert read_at(path, 5 * 1024 * 1024, len(MARK)) == MARK
    assert path.stat().st_size == 2 * GIB
    assert path.stat().st_blocks * 512 < 1024 * 1024  # still sparse
    assert result["volume"]["attributes"] == {"uuid": "src"}
    assert result["volume"]["totalSize"] == 2 * GIB
    # The clone is independent of its source.
    write_at(sf.backend.volume_path(source), 5 * 1024 * 1024, b"X" * len(MARK))
    assert read_at(path, 5 * 1024 * 1024, len(MARK)) == MARK


def test_clone_async_result_is_complete(sf: Element) -> None:
    source = sf.volume(sf.account())
    result = sf.call("CloneVolume", volumeID=source, name="c")
    outcome = sf.call("GetAsyncResult", asyncHandle=result["asyncHandle"])
    assert outcome["status"] == "complete"
    assert outcome["resultType"] == "Clone"
    assert outcome["result"]["volumeID"] == result["volumeID"]
    assert outcome["result"]["cloneID"] == result["cloneID"]


def test_clone_options(sf: Element) -> None:
    account, other = sf.account("p1"), sf.account("p2")
    source = sf.volume(account)
    clone = sf.call(
        "CloneVolume", volumeID=source, name="c", newAccountID=other, access="readOnly",
        attributes={"is_clone": True},
    )["volume"]  # fmt: skip
    assert (clone["accountID"], clone["access"]) == (other, "readOnly")
    assert clone["attributes"] == {"is_clone": True}
    assert clone["totalSize"] == GIB


def test_clone_errors(sf: Element) -> None:
    account = sf.account()
    source = sf.volume(account, size=2 * GIB)
    other = sf.volume(account, name="other")
    snapshot = sf.call("CreateSnapshot", volumeID=other)["snapshotID"]
    assert sf.error("CloneVolume", volumeID=source, name="c", newSize=GIB).name == (
        "xInvalidParameter"
    )
    assert sf.error("CloneVolume", volumeID=99, name="c").name == "xVolumeIDDoesNotExist"
    assert sf.error("CloneVolume", volumeID=source, name="c", newAccountID=9).name == (
        "xAccountIDDoesNotExist"
    )
    assert sf.error("CloneVolume", volumeID=source, name="c", snapshotID=snapshot).name == (
        "xSnapshotIDDoesNotExist"
    )
    assert sf.error("CloneVolume", volumeID=source).name == "xMissingParameter"
    assert len(sf.call("ListActiveVolumes")["volumes"]) == 2


def test_snapshot_freezes_bytes_and_clone_from_snapshot(sf: Element) -> None:
    account = sf.account()
    volume = _volume_with_mark(sf, account)
    result = sf.call(
        "CreateSnapshot", volumeID=volume, name="UUID-snap", attributes={"a": 1},
        enableRemoteReplication=True,
    )  # fmt: skip
    snapshot = result["snapshotID"]
    assert result["snapshot"]["name"] == "UUID-snap"
    write_at(sf.backend.volume_path(volume), 5 * 1024 * 1024, b"Y" * len(MARK))
    assert read_at(sf.backend.snapshot_path(snapshot), 5 * 1024 * 1024, len(MARK)) == MARK
    clone = sf.call("CloneVolume", volumeID=volume, snapshotID=snapshot, name="from-snap")
    assert read_at(sf.backend.volume_path(clone["volumeID"]), 5 * 1024 * 1024, 16) == MARK


def test_list_and_delete_snapshots(sf: Element) -> None:
    account = sf.account()
    first, second = sf.volume(account, name="a"), sf.volume(account, name="b")
    s1 = sf.call("CreateSnapshot", volumeID=first, name="s1")["snapshotID"]
    s2 = sf.call("CreateSnapshot", volumeID=second)["snapshotID"]
    listed = sf.call("ListSnapshots")["snapshots"]
    assert [(s["snapshotID"], s["volumeID"]) for s in listed] == [(s1, first), (s2, second)]
    assert listed[0]["groupID"] == 0 and listed[0]["status"] == "done"
    assert listed[1]["name"]  # defaults to the creation time
    mine = sf.call("ListSnapshots", volumeID=first)["snapshots"]
    assert [s["name"] for s in mine] == ["s1"]
    assert sf.error("ListSnapshots", volumeID=50).name == "xVolumeIDDoesNotExist"
    assert sf.call("DeleteSnapshot", snapshotID=s1) == {}
    assert not sf.backend.snapshot_path(s1).exists()
    assert sf.error("DeleteSnapshot", snapshotID=s1).name == "xSnapshotIDDoesNotExist"
    assert sf.error("CreateSnapshot", volumeID=50).name == "xVolumeIDDoesNotExist"


def test_snapshot_limit_per_volume(sf: Element) -> None:
    sf.backend.limits = dataclasses.replace(sf.backend.limits, snapshots_per_volume_max=2)
    volume = sf.volume(sf.account())
    sf.call("CreateSnapshot", volumeID=volume)
    sf.call("CreateSnapshot", volumeID=volume)
    assert sf.error("CreateSnapshot", volumeID=volume).name == "xMaxSnapshotsPerVolumeExceeded"


def test_rollback_restores_bytes_and_size(sf: Element) -> None:
    volume = _volume_with_mark(sf, sf.account())
    snapshot = sf.call("CreateSnapshot", volumeID=volume)["snapshotID"]
    write_at(sf.backend.volume_path(volume), 5 * 1024 * 1024, b"Z" * len(MARK))
    sf.call("ModifyVolume", volumeID=volume, totalSize=2 * GIB)
    result = sf.call(
        "RollbackToSnapshot", volumeID=volume, snapshotID=snapshot, saveCurrentState=False
    )
    assert result["snapshotID"] == 0
    path = sf.backend.volume_path(volume)
    assert read_at(path, 5 * 1024 * 1024, len(MARK)) == MARK
    assert path.stat().st_size == GIB
    assert sf.call("ListActiveVolumes")["volumes"][0]["totalSize"] == GIB


def test_rollback_can_save_the_current_state(sf: Element) -> None:
    volume = _volume_with_mark(sf, sf.account())
    snapshot = sf.call("CreateSnapshot", volumeID=volume)["snapshotID"]
    write_at(sf.backend.volume_path(volume), 5 * 1024 * 1024, b"Z" * len(MARK))
    result = sf.call(
        "RollbackToSnapshot", volumeID=volume, snapshotID=snapshot, saveCurrentState=True,
        name="before-rollback",
    )  # fmt: skip
    saved = result["snapshotID"]
    assert result["snapshot"]["name"] == "before-rollback"
    assert read_at(sf.backend.snapshot_path(saved), 5 * 1024 * 1024, 1) == b"Z"
    assert read_at(sf.backend.volume_path(volume), 5 * 1024 * 1024, len(MARK)) == MARK


def test_rollback_errors(sf: Element) -> None:
    account = sf.account()
    volume, other = sf.volume(account, name="a"), sf.volume(account, name="b")
    foreign = sf.call("CreateSnapshot", volumeID=other)["snapshotID"]
    assert sf.error("RollbackToSnapshot", volumeID=volume, snapshotID=foreign,
                    saveCurrentState=False).name == "xSnapshotIDDoesNotExist"  # fmt: skip
    assert sf.error("RollbackToSnapshot", volumeID=volume, snapshotID=foreign).name == (
        "xMissingParameter"
    )


def test_group_snapshot_members_share_the_groups_name(sf: Element) -> None:
    account = sf.account()
    first, second = _volume_with_mark(sf, account), sf.volume(account, name="b")
    result = sf.call("CreateGroupSnapshot", name="UUID-cg", volumes=[first, second])
    group_id = result["groupSnapshotID"]
    members = {m["volumeID"]: m["snapshotID"] for m in result["members"]}
    assert set(members) == {first, second}
    assert read_at(sf.backend.snapshot_path(members[first]), 5 * 1024 * 1024, 16) == MARK
    listed = sf.call("ListGroupSnapshots")["groupSnapshots"]
    assert [g["groupSnapshotID"] for g in listed] == [group_id]
    assert {m["name"] for m in listed[0]["members"]} == {"UUID-cg"}
    assert {m["groupID"] for m in listed[0]["members"]} == {group_id}
    by_volume = sf.call("ListGroupSnapshots", volumes=[second])["groupSnapshots"]
    assert len(by_volume) == 1
    assert sf.call("ListGroupSnapshots", groupSnapshotID=group_id + 1)["groupSnapshots"] == []
    clone = sf.call("CloneVolume", volumeID=first, snapshotID=members[first], name="c")
    assert read_at(sf.backend.volume_path(clone["volumeID"]), 5 * 1024 * 1024, 16) == MARK


def test_delete_group_snapshot_with_and_without_members(sf: Element) -> None:
    account = sf.account()
    volumes = [sf.volume(account, name=f"v{n}") for n in range(2)]
    kept = sf.call("CreateGroupSnapshot", volumes=volumes)["groupSnapshotID"]
    gone = sf.call("CreateGroupSnapshot", volumes=volumes)["groupSnapshotID"]
    sf.call("DeleteGroupSnapshot", groupSnapshotID=kept, saveMembers=True)
    sf.call("DeleteGroupSnapshot", groupSnapshotID=gone, saveMembers=False)
    assert sf.call("ListGroupSnapshots")["groupSnapshots"] == []
    remaining = sf.call("ListSnapshots")["snapshots"]
    assert len(remaining) == 2 and {s["groupID"] for s in remaining} == {0}
    assert sf.error("DeleteGroupSnapshot", groupSnapshotID=kept).name == (
        "xGroupSnapshotIDDoesNotExist"
    )


def test_group_snapshot_errors_create_nothing(sf: Element) -> None:
    volume = sf.volume(sf.account())
    assert sf.error("CreateGroupSnapshot", volumes=[volume, 42]).name == "xVolumeIDDoesNotExist"
    assert sf.error("CreateGroupSnapshot", volumes=[]).name == "xInvalidParameter"
    assert sf.error("CreateGroupSnapshot", volumes=[volume, volume]).name == "xInvalidParameter"
    assert sf.error("CreateGroupSnapshot").name == "xMissingParameter"
    assert sf.call("ListSnapshots")["snapshots"] == []


def test_purge_removes_the_volumes_snapshots(sf: Element) -> None:
    volume = sf.volume(sf.account())
    snapshot = sf.call("CreateSnapshot", volumeID=volume)["snapshotID"]
    sf.call("CreateGroupSnapshot", volumes=[volume])
    sf.call("DeleteVolume", volumeID=volume)
    assert len(sf.call("ListSnapshots")["snapshots"]) == 2  # kept until the purge
    assert sf.error("CreateSnapshot", volumeID=volume).name == "xVolumeIDDoesNotExist"
    sf.call("PurgeDeletedVolume", volumeID=volume)
    assert sf.call("ListSnapshots")["snapshots"] == []
    assert sf.call("ListGroupSnapshots")["groupSnapshots"] == []
    assert not sf.backend.snapshot_path(snapshot).exists()

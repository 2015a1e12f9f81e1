"""Groups through the library on a SolidFire backend (the Element emulator): a group
snapshot is one CreateGroupSnapshot, groups from a group snapshot or a source group
are CloneVolumes, and at every step the cluster holds what the database says.
A restart finds the group snapshot's members although they carry their group's name."""

from __future__ import annotations

from pathlib import Path

from basalt_emulators.solidfire import SolidFireBackend

from ..integration.test_solidfire_service import open_basalt

WAIT = 30


def names(backend: SolidFireBackend) -> set[str]:
    return {v["name"] for v in backend.active_volumes()}


def test_group_snapshots_and_groups_from_source_on_the_cluster(tmp_path: Path) -> None:
    backend = SolidFireBackend(tmp_path / "cluster")
    with open_basalt(tmp_path, backend) as b:
        b.group_types.create("cg", group_specs={"consistent_group_snapshot_enabled": "<is> True"})
        group = b.groups.create(group_type="cg", volume_types=["__DEFAULT__"]).wait(WAIT)
        members = [
            b.volumes.create(size_gib=1 + i, group_id=group.id).wait(timeout=WAIT) for i in range(3)
        ]
        cut = b.group_snapshots.create(group.id).wait(timeout=WAIT)
        (taken,) = backend.group_snapshots()
        assert len(taken["members"]) == 3
        assert {m["volumeID"] for m in taken["members"]} == {
            v["volumeID"] for v in backend.active_volumes()
        }
        snapshots = b.group_snapshots.members(cut.id)
        assert sorted(s.volume_id for s in snapshots) == sorted(v.id for v in members)
        assert all(s.status == "available" and s.provider_location for s in snapshots)

        restored = b.groups.create_from_src(group_snapshot_id=cut.id).wait(timeout=WAIT)
        copied = b.groups.create_from_src(source_group_id=group.id).wait(timeout=WAIT)
        for made in (restored, copied):
            volumes = b.groups.volumes(made.id)
            assert sorted(v.size_gib for v in volumes) == [1, 2, 3]
            assert {f"UUID-{v.id}" for v in volumes} <= names(backend)
        assert len(backend.group_snapshots()) == 1  # the temporary one is gone
        source = snapshots[1]
        single = b.volumes.create(size_gib=source.size_gib, snapshot_id=source.id).wait(WAIT)
        assert f"UUID-{single.id}" in names(backend)

    with open_basalt(tmp_path, backend) as b:  # members are found, not reported lost
        assert b.last_reconcile is not None
        assert b.last_reconcile.lost_objects == [] and b.last_reconcile.unknown_objects == []
        assert b.last_reconcile.provider_locations == []
        assert all(s.status == "available" for s in b.group_snapshots.members(cut.id))
        b.volumes.delete(single.id).wait(timeout=WAIT)
        b.group_snapshots.delete(cut.id).wait(timeout=WAIT)
        assert backend.group_snapshots() == [] and backend.snapshots() == []
        for made in (group, restored, copied):
            b.groups.delete(made.id, delete_volumes=True).wait(timeout=WAIT)
        assert backend.active_volumes() == []
        assert b.volumes.list() == []

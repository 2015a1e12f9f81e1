"""The persistence contract for group types, groups and group snapshots, on SQLite and
PostgreSQL."""

from __future__ import annotations

from basalt.model.group import Group, GroupSnapshot, GroupType
from basalt.model.states import GroupSnapshotStatus, GroupStatus
from basalt.persistence.base import ListQuery
from basalt.persistence.sql import SqlDatabase
from tests.persistence_fixtures import (  # noqa: F401  (the *_fixture names are fixtures)
    at,
    db_fixture,
    make_snapshot,
    make_volume,
    new_id,
)


def make_group_type(name: str = "cg", **overrides: object) -> GroupType:
    values: dict[str, object] = {
        "id": new_id(),
        "name": name,
        "description": "",
        "is_public": True,
        "created_at": at(0),
        "updated_at": at(0),
        "group_specs": {"consistent_group_snapshot_enabled": "<is> True"},
    }
    values.update(overrides)
    return GroupType(**values)  # type: ignore[arg-type]


def make_group(type_id: str, seconds: float = 0, **overrides: object) -> Group:
    values: dict[str, object] = {
        "id": new_id(),
        "project_id": "project-a",
        "user_id": "user-a",
        "name": "db",
        "description": "",
        "status": GroupStatus.AVAILABLE,
        "group_type_id": type_id,
        "volume_type_ids": [new_id()],
        "availability_zone": "nova",
        "created_at": at(seconds),
        "updated_at": at(seconds),
    }
    values.update(overrides)
    return Group(**values)  # type: ignore[arg-type]


def test_group_types_round_trip_and_names_are_unique(db: SqlDatabase) -> None:
    public, private = make_group_type("cg"), make_group_type("hidden", is_public=False)
    with db.transaction() as tx:
        assert tx.group_types.add(public) and tx.group_types.add(private)
        assert not tx.group_types.add(make_group_type("cg"))
    with db.transaction() as tx:
        assert tx.group_types.get(public.id) == public
        assert tx.group_types.get_by_name("hidden") == private
        assert tx.group_types.find(public_only=True) == [public]
        assert [t.name for t in tx.group_types.find(public_only=False)] == ["cg", "hidden"]
        private.name = "cg"
        assert not tx.group_types.save(private)
        public.group_specs = {"k": "v"}
        assert tx.group_types.save(public)
        tx.groups.add(make_group(public.id))
        assert tx.group_types.group_count(public.id) == 1
        tx.group_types.delete(private.id)
    with db.transaction(write=False) as tx:
        assert tx.group_types.get(public.id) == public
        assert tx.group_types.get(private.id) is None


def test_groups_round_trip_compare_and_set_and_their_volumes(db: SqlDatabase) -> None:
    type_id = new_id()
    old, new = make_group(type_id, 1), make_group(type_id, 2, project_id="project-b")
    member, other = make_volume(), make_volume()
    member.group_id = old.id
    with db.transaction() as tx:
        tx.groups.add(old)
        tx.groups.add(new)
        tx.volumes.add(member)
        tx.volumes.add(other)
    with db.transaction() as tx:
        assert tx.groups.get(old.id) == old
        assert tx.groups.find(project_id=None) == [new, old]
        assert tx.groups.find(project_id="project-a") == [old]
        assert tx.groups.set_status(
            old.id, expected=[GroupStatus.AVAILABLE], new=GroupStatus.UPDATING, updated_at=at(3)
        )
        assert not tx.groups.set_status(
            old.id, expected=[GroupStatus.AVAILABLE], new=GroupStatus.DELETING, updated_at=at(3)
        )
        assert [g.id for g in tx.groups.in_statuses([GroupStatus.UPDATING])] == [old.id]
        old.backend, old.name = "file", "renamed"
        tx.groups.save(old)
        assert [v.id for v in tx.volumes.in_group(old.id)] == [member.id]
        assert [v.id for v in tx.volumes.find(ListQuery(group_id=old.id))] == [member.id]
    with db.transaction() as tx:
        stored = tx.groups.get(old.id)
        assert stored is not None
        assert (stored.status, stored.backend, stored.name) == (
            GroupStatus.UPDATING,
            "file",
            "renamed",
        )
        tx.groups.delete(old.id)
        assert tx.groups.get(old.id) is None


def test_groups_served_elsewhere_are_those_with_a_replication_target(db: SqlDatabase) -> None:
    type_id = new_id()
    home = make_group(type_id, 1, backend="file", replication_status="enabled")
    away = make_group(
        type_id, 2, backend="file", replication_status="failed-over", replication_target="dr"
    )
    elsewhere = make_group(
        type_id, 3, backend="other", replication_status="error", replication_target="dr"
    )
    with db.transaction() as tx:
        for group in (home, away, elsewhere):
            tx.groups.add(group)
    with db.transaction(write=False) as tx:
        assert tx.groups.served_elsewhere() == [elsewhere, away]
        assert tx.groups.served_elsewhere(backend="file") == [away]
        assert tx.groups.served_elsewhere(backend="none") == []


def test_group_snapshots_round_trip_with_their_members(db: SqlDatabase) -> None:
    group_id = new_id()
    volume = make_volume()
    cut = {"quiesced": True, "pause_ms": 1.5, "members": {volume.id: "2026-01-01T00:00:00+00:00"}}
    group_snapshot = GroupSnapshot(
        id=new_id(),
        project_id="project-a",
        user_id="user-a",
        group_id=group_id,
        group_type_id=new_id(),
        name="nightly",
        description="",
        status=GroupSnapshotStatus.CREATING,
        created_at=at(1),
        updated_at=at(1),
        cut=cut,
    )
    member = make_snapshot(volume, group_snapshot_id=group_snapshot.id)
    with db.transaction() as tx:
        tx.volumes.add(volume)
        tx.group_snapshots.add(group_snapshot)
        tx.snapshots.add(member)
        tx.snapshots.add(make_snapshot(volume))
    with db.transaction() as tx:
        assert tx.group_snapshots.get(group_snapshot.id) == group_snapshot
        assert tx.group_snapshots.find(project_id=None, group_id=group_id) == [group_snapshot]
        assert tx.group_snapshots.find(project_id="project-b") == []
        assert tx.snapshots.in_group_snapshot(group_snapshot.id) == [member]
        assert tx.group_snapshots.set_status(
            group_snapshot.id,
            expected=[GroupSnapshotStatus.CREATING],
            new=GroupSnapshotStatus.AVAILABLE,
            updated_at=at(2),
        )
        listed = tx.group_snapshots.in_statuses([GroupSnapshotStatus.AVAILABLE])
        assert [s.id for s in listed] == [group_snapshot.id]
        tx.group_snapshots.delete(group_snapshot.id)
        assert tx.group_snapshots.get(group_snapshot.id) is None

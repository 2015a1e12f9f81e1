"""The persistence contract for quotas (SQLite, PostgreSQL): stored limits, usage counted
from the rows, the per-project lock, and the upgrade of a database that has rows."""

from __future__ import annotations

import threading
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config

from basalt.model import OperationKind, OperationPhase, SnapshotStatus, VolumeStatus
from basalt.model.quota import QuotaResource
from basalt.persistence.sql import SqlDatabase, open_database
from basalt.persistence.sql.database import MIGRATIONS_DIR
from tests.contract.test_persistence import race
from tests.persistence_fixtures import (  # noqa: F401  (the *_fixture names are fixtures)
    at,
    db_fixture,
    insert_old_rows,
    make_operation,
    make_snapshot,
    make_volume,
    postgres_database,
)

VOLUMES, SNAPSHOTS, GIGABYTES = (QuotaResource(n) for n in ("volumes", "snapshots", "gigabytes"))
PER_VOLUME = QuotaResource("per_volume_gigabytes")


def test_project_limits_round_trip_per_resource_and_type(db: SqlDatabase) -> None:
    gold_volumes = QuotaResource("volumes", "gold-type-id")
    with db.transaction() as tx:
        assert tx.quotas.limits("project-a") == {}
        tx.quotas.set_limits("project-a", {VOLUMES: 5, gold_volumes: 2}, at=at(1))
        tx.quotas.set_limits("project-b", {VOLUMES: -1}, at=at(1))
    with db.transaction() as tx:
        tx.quotas.set_limits("project-a", {VOLUMES: 7, PER_VOLUME: 100}, at=at(2))
    with db.transaction(write=False) as tx:
        assert tx.quotas.limits("project-a") == {VOLUMES: 7, gold_volumes: 2, PER_VOLUME: 100}
        assert tx.quotas.limits("project-b") == {VOLUMES: -1}
        assert tx.quotas.class_limits("default") == {}
    with db.transaction() as tx:
        assert tx.quotas.clear("project-a") == 3
        assert tx.quotas.clear("project-a") == 0
    with db.transaction(write=False) as tx:
        assert tx.quotas.limits("project-a") == {}
        assert tx.quotas.limits("project-b") == {VOLUMES: -1}


def test_class_limits_are_apart_from_projects(db: SqlDatabase) -> None:
    with db.transaction() as tx:
        tx.quotas.set_class_limits("default", {GIGABYTES: 50, SNAPSHOTS: 0}, at=at(1))
        tx.quotas.set_class_limits("default", {GIGABYTES: 2**31 - 1}, at=at(2))
    with db.transaction() as tx:
        tx.quotas.set_limits("project-a", {GIGABYTES: 5}, at=at(3))
    with db.transaction(write=False) as tx:
        assert tx.quotas.class_limits("default") == {GIGABYTES: 2**31 - 1, SNAPSHOTS: 0}
        assert tx.quotas.limits("default") == {}
        assert tx.quotas.limits_and_class("project-a", "default") == (
            {GIGABYTES: 5},
            {GIGABYTES: 2**31 - 1, SNAPSHOTS: 0},
        )
        assert tx.quotas.limits_and_class("project-b", "gold") == ({}, {})


def test_usage_is_counted_from_the_rows_but_those_being_deleted(db: SqlDatabase) -> None:
    gold, silver = "gold-type-id", "silver-type-id"
    kept = make_volume(size_gib=10, volume_type_id=gold)
    failed = make_volume(size_gib=3, volume_type_id=silver, status=VolumeStatus.ERROR)
    going = make_volume(size_gib=100, status=VolumeStatus.DELETING, volume_type_id=gold)
    other = make_volume(size_gib=7, project_id="project-b", volume_type_id=gold)
    snaps = [
        make_snapshot(kept, size_gib=10),
        make_snapshot(failed, size_gib=3, status=SnapshotStatus.ERROR),
        make_snapshot(kept, status=SnapshotStatus.DELETING),
        make_snapshot(kept, status=SnapshotStatus.UNMANAGING),
    ]
    with db.transaction() as tx:
        for volume in (kept, failed, going, other):
            tx.volumes.add(volume)
        for snap in snaps:
            tx.snapshots.add(snap)
    with db.transaction(write=False) as tx:
        usage = tx.quotas.usage("project-a")
        assert tx.quotas.usage("project-c").in_use == {}
    assert usage.in_use[VOLUMES] == 2 and usage.in_use[SNAPSHOTS] == 2
    assert usage.in_use[GIGABYTES] == 10 + 3 + 10 + 3
    assert usage.in_use[QuotaResource("volumes", gold)] == 1
    assert usage.in_use[QuotaResource("gigabytes", gold)] == 20
    assert usage.in_use[QuotaResource("snapshots", silver)] == 1
    assert usage.reserved == {}


def test_a_running_extend_reserves_its_growth(db: SqlDatabase) -> None:
    growing = make_volume(size_gib=4, status=VolumeStatus.EXTENDING, volume_type_id="gold")
    grown = make_volume(size_gib=9, volume_type_id="gold")
    params = {"new_size_gib": 9, "old_size_gib": 4}
    running = make_operation(
        kind=OperationKind.EXTEND_VOLUME,
        resource_id=growing.id,
        phase=OperationPhase.RUNNING,
        params=params,
        project_id="admins",  # an administrator's extend of project-a's volume
    )
    finished = make_operation(
        kind=OperationKind.EXTEND_VOLUME,
        resource_id=grown.id,
        phase=OperationPhase.SUCCEEDED,
        params={"new_size_gib": 9, "old_size_gib": 1},
    )
    with db.transaction() as tx:
        tx.volumes.add(growing)
        tx.volumes.add(grown)
        tx.operations.add(running)
        tx.operations.add(finished)
    with db.transaction(write=False) as tx:
        usage = tx.quotas.usage("project-a")
    assert usage.in_use[GIGABYTES] == 13
    assert usage.reserved == {GIGABYTES: 5, QuotaResource("gigabytes", "gold"): 5}
    assert usage.used(GIGABYTES) == 18
    with db.transaction() as tx:  # the extend failed: the volume left "extending"
        tx.volumes.set_status(
            growing.id,
            expected=[VolumeStatus.EXTENDING],
            new=VolumeStatus.ERROR_EXTENDING,
            updated_at=at(5),
        )
    with db.transaction(write=False) as tx:
        assert tx.quotas.usage("project-a").reserved == {}


def test_the_lock_makes_count_then_insert_atomic(db: SqlDatabase) -> None:
    """16 writers each count, then add a volume if fewer than 10 exist: exactly 10 do."""

    def add_if_room() -> bool:
        with db.transaction() as tx:
            tx.quotas.lock("project-a")
            if tx.quotas.usage("project-a").in_use.get(VOLUMES, 0) >= 10:
                return False
            time.sleep(0.01)  # widen the window a missing lock would leave open
            tx.volumes.add(make_volume())
            return True

    results = race(16, add_if_room)
    assert sorted(results) == [False] * 6 + [True] * 10
    with db.transaction(write=False) as tx:
        assert tx.quotas.usage("project-a").in_use[VOLUMES] == 10


def test_the_lock_holds_until_the_transaction_ends(db: SqlDatabase) -> None:
    taken, release = threading.Event(), threading.Event()
    order: list[str] = []

    def holder() -> None:
        with db.transaction() as tx:
            tx.quotas.lock("project-a")
            taken.set()
            release.wait(10)
            order.append("holder commits")

    thread = threading.Thread(target=holder)
    thread.start()
    assert taken.wait(10)
    if db.dialect == "postgresql":  # SQLite has one writer at a time anyway
        with db.transaction() as tx:
            tx.quotas.lock("project-b")  # another project's lock does not wait
            order.append("project-b locked")
    waiter = threading.Thread(target=lambda: _lock_and_note(db, order))
    waiter.start()
    time.sleep(0.3)
    release.set()
    thread.join(10)
    waiter.join(10)
    expected = ["holder commits", "project-a locked again"]
    if db.dialect == "postgresql":
        expected.insert(0, "project-b locked")
    assert order == expected


def _lock_and_note(db: SqlDatabase, order: list[str]) -> None:
    with db.transaction() as tx:
        tx.quotas.lock("project-a")
        order.append("project-a locked again")


def test_upgrading_from_0006_with_rows_counts_them(db: SqlDatabase, tmp_path: Path) -> None:
    """An existing deployment's volumes and snapshots are its usage right after 0007."""
    if db.dialect == "sqlite":
        fresh: AbstractContextManager[str] = nullcontext(f"sqlite:///{tmp_path / 'old.db'}")
    else:
        fresh = postgres_database()
    volume = make_volume(size_gib=6)
    with fresh as url:
        old = open_database(url)
        try:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            with old.transaction() as tx:
                config.attributes["connection"] = tx.connection
                command.upgrade(config, "0006")
                insert_old_rows(tx, volume, [make_snapshot(volume)])  # 0007 adds no column
            old.migrate()
            with old.transaction() as tx:
                assert tx.quotas.limits("project-a") == {}
                tx.quotas.set_limits("project-a", {VOLUMES: 1}, at=at(1))
                usage = tx.quotas.usage("project-a")
            assert (usage.in_use[VOLUMES], usage.in_use[SNAPSHOTS]) == (1, 1)
            assert usage.in_use[GIGABYTES] == 12
            with old.transaction(write=False) as tx:
                assert tx.quotas.limits("project-a") == {VOLUMES: 1}
                assert tx.volumes.get(volume.id) == volume
        finally:
            old.close()

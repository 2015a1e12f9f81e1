"""The persistence contract: every repository method, on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import enum
import operator
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg.types.json import Json
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect

from basalt.errors import ConfigError, PersistenceError
from basalt.model import (
    AttachMode,
    AttachStatus,
    EventKind,
    OperationKind,
    OperationPhase,
    SnapshotStatus,
    VolumeStatus,
)
from basalt.model.volume_type import DEFAULT_TYPE_NAME
from basalt.persistence.base import (
    IN_CHUNK,
    Database,
    IdempotencyRecord,
    ListQuery,
    MarkerNotFoundError,
    SortDirection,
)
from basalt.persistence.sql import SqlDatabase, open_database
from basalt.persistence.sql.codec import codec
from basalt.persistence.sql.database import (
    MIGRATIONS_DIR,
    POOL_MAX_OVERFLOW,
    POOL_SIZE,
    normalize_url,
)
from basalt.persistence.sql.tables import UTCDateTime
from basalt.persistence.sql.tables import events as events_table
from basalt.persistence.sql.tables import metadata as schema
from basalt.persistence.sql.tables import operations as operations_table
from basalt.persistence.sql.tables import snapshots as snapshots_table
from basalt.persistence.sql.tables import volumes as volumes_table
from tests.persistence_fixtures import (  # noqa: F401  (the *_fixture names are fixtures)
    at,
    db_fixture,
    make_attachment,
    make_event,
    make_operation,
    make_snapshot,
    make_volume,
    migrated,
    new_id,
    postgres_database,
    sqlite_db_fixture,
)

Sort = tuple[tuple[str, SortDirection], ...]
V = VolumeStatus
S = SnapshotStatus
P = OperationPhase


def race(threads: int, work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` in ``threads`` threads released at once; return results or exceptions."""
    barrier = threading.Barrier(threads)
    results: list[Any] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            outcome = work()
        except Exception as exc:  # collected and asserted on by the test
            outcome = exc
        with lock:
            results.append(outcome)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert len(results) == threads
    return results


# --- database ------------------------------------------------------------------------


def test_sql_database_satisfies_the_contract(db: SqlDatabase) -> None:
    as_contract: Database = db
    assert as_contract.url.startswith(("sqlite", "postgresql+psycopg"))


def test_migrate_twice_is_harmless_and_keeps_data(db: SqlDatabase) -> None:
    volume = make_volume()
    with db.transaction() as tx:
        tx.volumes.add(volume)
    db.migrate()
    with db.transaction(write=False) as tx:
        assert tx.volumes.get(volume.id) == volume


def test_concurrent_first_migrations_do_not_collide(db: SqlDatabase, tmp_path: Path) -> None:
    """Several service processes may start at once on one fresh database."""
    if db.dialect == "sqlite":
        fresh: AbstractContextManager[str] = nullcontext(f"sqlite:///{tmp_path / 'fresh.db'}")
    else:
        fresh = postgres_database()
    with fresh as url:
        stores = [open_database(url) for _ in range(4)]
        waiting = list(stores)  # list.pop is atomic: each thread takes its own store
        try:
            results = race(len(stores), lambda: waiting.pop().migrate())
        finally:
            for store in stores:
                store.close()
        assert results == [None] * 4
        with migrated(url) as again, again.transaction(write=False) as tx:
            assert tx.volumes.ids() == set()


def test_upgrading_a_database_with_rows_keeps_them(db: SqlDatabase, tmp_path: Path) -> None:
    """An existing deployment (volumes with snapshots) upgrades from the first revision."""
    if db.dialect == "sqlite":
        fresh: AbstractContextManager[str] = nullcontext(f"sqlite:///{tmp_path / 'old.db'}")
    else:
        fresh = postgres_database()
    volume = make_volume()
    with fresh as url:
        old = open_database(url)
        try:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            with old.transaction() as tx:
                config.attributes["connection"] = tx.connection
                command.upgrade(config, "0001")
                values = {c.name: getattr(volume, c.name, None) for c in volumes_table.c}
                for later in ("multiattach", "readonly", "volume_type_id", "group_id"):
                    del values[later]  # not in revision 0001
                values.update(status=str(volume.status), metadata={}, bootable=False)
                tx.connection.execute(sa.insert(volumes_table).values(values))
                snap = make_snapshot(volume)
                snap_values = {c.name: getattr(snap, c.name, None) for c in snapshots_table.c}
                del snap_values["group_snapshot_id"]  # not in revision 0001
                snap_values.update(status=str(snap.status), metadata={})
                tx.connection.execute(sa.insert(snapshots_table).values(snap_values))
            old.migrate()
            with old.transaction(write=False) as tx:
                found = tx.volumes.get(volume.id)
                assert found is not None and (found.multiattach, found.readonly) == (False, False)
                default = tx.volume_types.get_by_name(DEFAULT_TYPE_NAME)
                assert default is not None and found.volume_type_id == default.id
                assert [s.id for s in tx.snapshots.for_volume(volume.id)] == [snap.id]
        finally:
            old.close()


def test_migrated_schema_matches_tables(db: SqlDatabase) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, schema) == []
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert version == ScriptDirectory.from_config(config).get_current_head()


def test_commit_on_clean_exit(db: SqlDatabase) -> None:
    volume = make_volume()
    with db.transaction() as tx:
        tx.volumes.add(volume)
    with db.transaction(write=False) as tx:
        assert tx.volumes.get(volume.id) == volume


def test_exception_rolls_back_everything(db: SqlDatabase) -> None:
    volume = make_volume()
    operation = make_operation(resource_id=volume.id)
    with pytest.raises(RuntimeError, match="boom"), db.transaction() as tx:
        tx.volumes.add(volume)
        tx.snapshots.add(make_snapshot(volume))
        tx.operations.add(operation)
        tx.events.add(make_event(volume.id))
        tx.idempotency.claim(_record("key-1", operation_id=operation.id))
        raise RuntimeError("boom")
    with db.transaction(write=False) as tx:
        assert tx.volumes.ids() == set()
        assert tx.snapshots.ids() == set()
        assert tx.operations.get(operation.id) is None
        assert tx.events.timeline(resource_kind="volume", resource_id=volume.id) == []
        assert tx.idempotency.get("project-a", "key-1") is None


def test_database_errors_become_persistence_errors(db: SqlDatabase) -> None:
    volume = make_volume()
    with db.transaction() as tx:
        tx.volumes.add(volume)
    with pytest.raises(PersistenceError) as caught, db.transaction() as tx:
        tx.volumes.add(volume)  # duplicate id
    assert isinstance(caught.value.__cause__, sa.exc.DBAPIError)
    assert db.kind in str(caught.value)


def test_snapshot_needs_its_volume_row(db: SqlDatabase) -> None:
    orphan = make_snapshot(make_volume())
    with pytest.raises(PersistenceError), db.transaction() as tx:
        tx.snapshots.add(orphan)


def test_unreachable_database_is_a_persistence_error_without_password(
    db: SqlDatabase, tmp_path: Path
) -> None:
    if db.dialect == "sqlite":
        broken = open_database(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'basalt.db'}")
    else:
        broken = open_database("postgresql://basalt:s3cret-pw@127.0.0.1:1/basalt?connect_timeout=2")
    try:
        with pytest.raises(PersistenceError) as caught, broken.transaction() as tx:
            tx.volumes.ids()
    finally:
        broken.close()
    assert broken.kind in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)
    assert caught.value.__cause__ is not None


def test_reader_is_not_blocked_by_an_open_writer(db: SqlDatabase) -> None:
    volume = make_volume()
    with db.transaction() as tx:
        tx.volumes.add(volume)
    writer_holds_lock = threading.Event()
    reader_done = threading.Event()

    def writer() -> None:
        with db.transaction() as tx:
            tx.volumes.save(volume)
            writer_holds_lock.set()
            reader_done.wait(timeout=30)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert writer_holds_lock.wait(timeout=30)
        with db.transaction(write=False) as tx:
            assert tx.volumes.get(volume.id) == volume
    finally:
        reader_done.set()
        thread.join(timeout=30)


def test_writer_is_not_blocked_by_an_open_reader(db: SqlDatabase) -> None:
    volume = make_volume()
    with db.transaction() as tx:
        tx.volumes.add(volume)
    with db.transaction(write=False) as reader:
        assert reader.volumes.get(volume.id) == volume
        written = threading.Thread(target=lambda: _rename(db, volume.id, "renamed"))
        written.start()
        written.join(timeout=30)
        assert not written.is_alive()
    with db.transaction(write=False) as tx:
        loaded = tx.volumes.get(volume.id)
    assert loaded is not None and loaded.name == "renamed"


def _rename(db: SqlDatabase, volume_id: str, name: str) -> None:
    with db.transaction() as tx:
        volume = tx.volumes.get(volume_id)
        assert volume is not None
        volume.name = name
        tx.volumes.save(volume)


def test_sqlite_write_transaction_takes_the_lock_at_begin(sqlite_db: SqlDatabase) -> None:
    db = sqlite_db
    order: list[str] = []
    first_began = threading.Event()

    def first() -> None:
        with db.transaction() as tx:
            tx.volumes.ids()  # a read only: the lock must already be held
            first_began.set()
            time.sleep(0.3)
            order.append("first commits")

    def second() -> None:
        assert first_began.wait(timeout=30)
        with db.transaction() as tx:
            order.append("second began")
            tx.volumes.ids()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert order == ["first commits", "second began"]


def test_sqlite_connection_settings(sqlite_db: SqlDatabase) -> None:
    with sqlite_db.engine.connect() as conn:
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 1,
        "foreign_keys": 1,
        "busy_timeout": 30000,
    }


def test_urls() -> None:
    assert normalize_url("postgresql://u@h/d").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql+psycopg://u@h/d").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:////tmp/x.db").drivername == "sqlite"
    with pytest.raises(ConfigError):
        normalize_url("mysql://u@h/d")
    with pytest.raises(ConfigError):
        normalize_url("not a url")
    assert "pw" not in repr(open_database("postgresql://u:pw@h/d"))


def test_in_memory_sqlite_is_shared_by_threads() -> None:
    db = open_database("sqlite://")
    try:
        db.migrate()
        volume = make_volume()
        with db.transaction() as tx:
            tx.volumes.add(volume)
        results = race(4, lambda: _read_volume(db, volume.id))
        assert results == [volume] * 4
    finally:
        db.close()


def _read_volume(db: SqlDatabase, volume_id: str) -> Any:
    with db.transaction(write=False) as tx:
        return tx.volumes.get(volume_id)


# --- volumes -------------------------------------------------------------------------


def test_volume_round_trip_every_field(db: SqlDatabase) -> None:
    plus_two = timezone(timedelta(hours=2))
    volume = make_volume(
        project_id="prøject",
        user_id="üser",
        name="数据卷 ✓",
        description="a \"quoted\" 'description'",
        size_gib=1024 * 1024,
        status=V.IN_USE,
        backend="fast",
        pool="ssd",
        created_at=datetime(2024, 1, 2, 5, 6, 7, 890123, tzinfo=plus_two),
        updated_at=at(0.5),
        metadata={"clé": "välue ✓", "empty": "", 'quo"te': "x", "n": "1"},
        provider_location="/srv/pools/ssd/volume-1",
        source_volume_id=new_id(),
        snapshot_id=new_id(),
        bootable=True,
        availability_zone="zone-b",
        migration_status="migrating",
        replication_status="enabled",
        multiattach=True,
        readonly=True,
    )
    with db.transaction() as tx:
        tx.volumes.add(volume)
    with db.transaction(write=False) as tx:
        loaded = tx.volumes.get(volume.id)
        listed = tx.volumes.find(ListQuery(project_id="prøject"))
    assert loaded == volume
    assert listed == [volume]  # listing decodes its rows apart from get: both must agree
    for read in (loaded, listed[0]):
        assert read is not None
        assert read.created_at.tzinfo == UTC
        assert read.created_at == datetime(2024, 1, 2, 3, 6, 7, 890123, tzinfo=UTC)
        assert read.updated_at.tzinfo == UTC
        assert isinstance(read.status, VolumeStatus)


def test_volume_optional_fields_stay_empty(db: SqlDatabase) -> None:
    volume = make_volume()
    with db.transaction() as tx:
        tx.volumes.add(volume)
        assert tx.volumes.get(volume.id) == volume
        assert tx.volumes.get(new_id()) is None


def test_naive_datetimes_are_refused(db: SqlDatabase) -> None:
    with pytest.raises(sa.exc.StatementError), db.transaction() as tx:
        tx.volumes.add(make_volume(created_at=datetime(2024, 1, 1)))


def test_volume_save_writes_every_field_but_status(db: SqlDatabase) -> None:
    volume = make_volume(status=V.CREATING)
    with db.transaction() as tx:
        tx.volumes.add(volume)
    changed = make_volume(
        id=volume.id,
        project_id="project-b",
        user_id="user-b",
        name="renamed",
        description="new",
        size_gib=9,
        status=V.ERROR,
        backend="other",
        pool="p2",
        created_at=at(1),
        updated_at=at(2),
        metadata={"k": "v"},
        provider_location="loc",
        source_volume_id=new_id(),
        snapshot_id=new_id(),
        bootable=True,
        availability_zone="z",
        migration_status="success",
        replication_status="disabled",
    )
    with db.transaction() as tx:
        tx.volumes.save(changed)
        loaded = tx.volumes.get(volume.id)
    assert loaded is not None
    assert loaded.status == V.CREATING
    loaded.status = V.ERROR
    assert loaded == changed


def test_volume_set_status_is_compare_and_set(db: SqlDatabase) -> None:
    volume = make_volume(status=V.AVAILABLE)
    with db.transaction() as tx:
        tx.volumes.add(volume)
        assert not tx.volumes.set_status(
            volume.id, expected=[V.CREATING, V.ERROR], new=V.DELETING, updated_at=at(5)
        )
        assert not tx.volumes.set_status(volume.id, expected=[], new=V.DELETING, updated_at=at(5))
        assert not tx.volumes.set_status(
            new_id(), expected=[V.AVAILABLE], new=V.DELETING, updated_at=at(5)
        )
        unchanged = tx.volumes.get(volume.id)
        assert unchanged is not None
        assert (unchanged.status, unchanged.updated_at) == (V.AVAILABLE, at(0))
        assert tx.volumes.set_status(
            volume.id, expected={V.AVAILABLE, V.ERROR}, new=V.EXTENDING, updated_at=at(5)
        )
        loaded = tx.volumes.get(volume.id)
    assert loaded is not None
    assert (loaded.status, loaded.updated_at) == (V.EXTENDING, at(5))
    volume.status, volume.updated_at = V.EXTENDING, at(5)
    assert loaded == volume


def test_volume_set_status_race_has_one_winner(db: SqlDatabase) -> None:
    volume = make_volume(status=V.AVAILABLE)
    with db.transaction() as tx:
        tx.volumes.add(volume)

    def attempt() -> bool:
        with db.transaction() as tx:
            current = tx.volumes.get(volume.id)
            assert current is not None
            return tx.volumes.set_status(
                volume.id, expected=[V.AVAILABLE], new=V.DELETING, updated_at=at(1)
            )

    results = race(16, attempt)
    assert sorted(results, key=str) == [False] * 15 + [True]
    with db.transaction(write=False) as tx:
        loaded = tx.volumes.get(volume.id)
    assert loaded is not None and loaded.status == V.DELETING


def test_volume_delete_ids_and_in_statuses(db: SqlDatabase) -> None:
    first = make_volume(status=V.CREATING, created_at=at(1))
    second = make_volume(status=V.DELETING, created_at=at(2))
    third = make_volume(status=V.AVAILABLE, created_at=at(3))
    with db.transaction() as tx:
        for volume in (third, first, second):
            tx.volumes.add(volume)
        assert tx.volumes.ids() == {first.id, second.id, third.id}
        assert tx.volumes.in_statuses([V.DELETING, V.CREATING]) == [first, second]
        assert tx.volumes.in_statuses([]) == []
        tx.volumes.delete(second.id)
        tx.volumes.delete(second.id)  # already gone: no error
        assert tx.volumes.ids() == {first.id, third.id}
        assert tx.volumes.get(second.id) is None


def test_volume_usage_and_provisioned_gib(db: SqlDatabase) -> None:
    with db.transaction() as tx:
        assert tx.volumes.usage("project-a") == (0, 0)
        assert tx.volumes.provisioned_gib("file", "default") == 0
        tx.volumes.add(make_volume(size_gib=3))
        tx.volumes.add(make_volume(size_gib=4, pool="other"))
        tx.volumes.add(make_volume(size_gib=5, project_id="project-b"))
        tx.volumes.add(make_volume(size_gib=6, backend="fast"))
        assert tx.volumes.usage("project-a") == (3, 13)
        assert tx.volumes.usage("project-b") == (1, 5)
        assert tx.volumes.provisioned_gib("file", "default") == 8
        assert tx.volumes.provisioned_gib("file", "other") == 4
        assert tx.volumes.provisioned_gib("fast", "default") == 6


# --- snapshots -----------------------------------------------------------------------


def test_snapshot_round_trip_save_and_set_status(db: SqlDatabase) -> None:
    volume = make_volume()
    snapshot = make_snapshot(
        volume,
        name="snäp ✓",
        description="d",
        size_gib=7,
        status=S.CREATING,
        created_at=at(1),
        updated_at=at(2),
        metadata={"ключ": "значение"},
        provider_location="loc",
    )
    with db.transaction() as tx:
        tx.volumes.add(volume)
        tx.snapshots.add(snapshot)
    with db.transaction() as tx:
        assert tx.snapshots.get(snapshot.id) == snapshot
        assert tx.snapshots.find(ListQuery(volume_id=volume.id)) == [snapshot]
        assert tx.snapshots.get(new_id()) is None
        snapshot.name, snapshot.metadata, snapshot.status = "renamed", {}, S.ERROR
        tx.snapshots.save(snapshot)
        loaded = tx.snapshots.get(snapshot.id)
        assert loaded is not None
        assert (loaded.name, loaded.metadata, loaded.status) == ("renamed", {}, S.CREATING)
        assert not tx.snapshots.set_status(
            snapshot.id, expected=[S.AVAILABLE], new=S.DELETING, updated_at=at(3)
        )
        assert tx.snapshots.set_status(
            snapshot.id, expected=[S.CREATING], new=S.AVAILABLE, updated_at=at(3)
        )
        loaded = tx.snapshots.get(snapshot.id)
    assert loaded is not None
    assert (loaded.status, loaded.updated_at) == (S.AVAILABLE, at(3))


def test_snapshot_set_status_race_has_one_winner(db: SqlDatabase) -> None:
    volume = make_volume()
    snapshot = make_snapshot(volume)
    with db.transaction() as tx:
        tx.volumes.add(volume)
        tx.snapshots.add(snapshot)

    def attempt() -> bool:
        with db.transaction() as tx:
            return tx.snapshots.set_status(
                snapshot.id, expected=[S.AVAILABLE], new=S.DELETING, updated_at=at(1)
            )

    assert sorted(race(16, attempt), key=str) == [False] * 15 + [True]


def test_snapshots_of_a_volume(db: SqlDatabase) -> None:
    volume, other = make_volume(), make_volume()
    older = make_snapshot(volume, created_at=at(1), status=S.DELETING)
    newer = make_snapshot(volume, created_at=at(2))
    elsewhere = make_snapshot(other, status=S.DELETING)
    with db.transaction() as tx:
        tx.volumes.add(volume)
        tx.volumes.add(other)
        for snapshot in (newer, elsewhere, older):
            tx.snapshots.add(snapshot)
        assert tx.snapshots.for_volume(volume.id) == [older, newer]
        assert tx.snapshots.count_for_volume(volume.id) == 2
        assert tx.snapshots.count_for_volume(new_id()) == 0
        assert tx.snapshots.in_statuses([S.DELETING]) == [elsewhere, older]
        assert tx.snapshots.ids() == {older.id, newer.id, elsewhere.id}
        tx.snapshots.delete(older.id)
        assert tx.snapshots.for_volume(volume.id) == [newer]
        assert tx.snapshots.ids() == {newer.id, elsewhere.id}


# --- listing -------------------------------------------------------------------------


def test_list_filters(db: SqlDatabase) -> None:
    a1 = make_volume(name="alpha", metadata={"tier": "gold", "zone": "ü", 'q"k': "1"})
    a2 = make_volume(name="alpha", status=V.ERROR, metadata={"tier": "gold"})
    b1 = make_volume(name="beta", project_id="project-b", metadata={"tier": "silver"})
    with db.transaction() as tx:
        for volume in (a1, a2, b1):
            tx.volumes.add(volume)
        find = tx.volumes.find

        def ids(**filters: Any) -> set[str]:
            return {v.id for v in find(ListQuery(**filters))}

        assert ids() == {a1.id, a2.id, b1.id}
        assert ids(project_id="project-a") == {a1.id, a2.id}
        assert ids(project_id="nobody") == set()
        assert ids(name="alpha") == {a1.id, a2.id}
        assert ids(status="error") == {a2.id}
        assert ids(status=V.AVAILABLE, name="alpha") == {a1.id}
        assert ids(metadata={"tier": "gold"}) == {a1.id, a2.id}
        assert ids(metadata={"tier": "gold", "zone": "ü"}) == {a1.id}
        assert ids(metadata={'q"k': "1"}) == {a1.id}
        assert ids(metadata={"tier": "gold", "zone": "x"}) == set()
        assert ids(metadata={"missing": ""}) == set()
        assert ids(project_id="project-b", metadata={"tier": "silver"}) == {b1.id}


def test_like_filters_match_part_of_a_value_case_sensitively_and_literally(
    db: SqlDatabase,
) -> None:
    names = ["db-primary", "db-replica", "DB-upper", "web", "100%_sure", "naïve-db"]
    volumes = [make_volume(name=n) for n in names]
    with db.transaction() as tx:
        for volume in volumes:
            tx.volumes.add(volume)

        def named(**like: str) -> set[str]:
            return {v.name for v in tx.volumes.find(ListQuery(like=like))}

        assert named(name="db") == {"db-primary", "db-replica", "naïve-db"}
        assert named(name="DB") == {"DB-upper"}
        assert named(name="%") == {"100%_sure"}  # no wildcards
        assert named(name="_") == {"100%_sure"}
        assert named(name="ï") == {"naïve-db"}
        assert named(name="db", status="avail") == {"db-primary", "db-replica", "naïve-db"}
        assert named(name="nothing") == set()
        with pytest.raises(ValueError):
            tx.volumes.find(ListQuery(like={"volume_id": "x"}))


def test_list_snapshots_by_volume(db: SqlDatabase) -> None:
    volume, other = make_volume(), make_volume()
    snapshots = [make_snapshot(volume, created_at=at(i)) for i in range(3)]
    foreign = make_snapshot(other, metadata={"k": "v"})
    with db.transaction() as tx:
        tx.volumes.add(volume)
        tx.volumes.add(other)
        for snapshot in [*snapshots, foreign]:
            tx.snapshots.add(snapshot)
        assert tx.snapshots.find(ListQuery(volume_id=volume.id)) == snapshots[::-1]
        assert tx.snapshots.find(ListQuery(metadata={"k": "v"})) == [foreign]
        with pytest.raises(ValueError):
            tx.volumes.find(ListQuery(volume_id=volume.id))


def test_list_default_order_is_newest_first(db: SqlDatabase) -> None:
    volumes = [make_volume(created_at=at(i)) for i in range(5)]
    with db.transaction() as tx:
        for volume in volumes[::2] + volumes[1::2]:
            tx.volumes.add(volume)
        assert tx.volumes.find(ListQuery()) == volumes[::-1]
        assert tx.volumes.find(ListQuery(limit=2)) == volumes[:2:-1]
        assert tx.volumes.find(ListQuery(limit=0)) == []


def test_list_refuses_unknown_sort_keys_and_markers(db: SqlDatabase) -> None:
    volume = make_volume(project_id="project-b")
    with db.transaction() as tx:
        tx.volumes.add(volume)
        for sort in ((("backend", "asc"),), (("metadata", "asc"),), (("name", "up"),)):
            with pytest.raises(ValueError):
                tx.volumes.find(ListQuery(sort=sort))
        with pytest.raises(ValueError):
            tx.snapshots.find(ListQuery(sort=(("pool", "asc"),)))
        with pytest.raises(MarkerNotFoundError):
            tx.volumes.find(ListQuery(marker=new_id()))
        with pytest.raises(MarkerNotFoundError):
            tx.volumes.find(ListQuery(marker=volume.id, project_id="project-a"))
        with pytest.raises(MarkerNotFoundError):
            tx.snapshots.find(ListQuery(marker=volume.id))
        assert tx.volumes.find(ListQuery(marker=volume.id)) == []


SORTS: list[Sort] = [
    (("size_gib", "asc"),),
    (("size_gib", "desc"),),
    (("size_gib", "asc"), ("name", "desc")),
    (("status", "desc"), ("size_gib", "asc"), ("created_at", "desc")),
    (("created_at", "asc"),),
    (("updated_at", "desc"), ("size_gib", "desc")),
    (("name", "asc"), ("id", "desc")),
    (("id", "asc"),),
]


def _python_order(items: list[Any], sort: Sort) -> list[Any]:
    keys = list(sort) + ([] if any(k == "id" for k, _ in sort) else [("id", sort[-1][1])])
    ordered = list(items)
    for key, direction in reversed(keys):  # stable sorts, least significant first
        ordered.sort(key=operator.attrgetter(key), reverse=direction == "desc")
    return ordered


@pytest.mark.parametrize("sort", SORTS, ids=lambda s: ",".join(f"{k}:{d}" for k, d in s))
def test_marker_pagination_with_duplicate_sort_values(db: SqlDatabase, sort: Sort) -> None:
    volumes = [
        make_volume(
            name=f"vol{i % 5}",
            size_gib=(1, 10, 100)[i % 3],
            status=(V.AVAILABLE, V.ERROR, V.IN_USE)[i % 7 % 3],
            created_at=at(i % 4),
            updated_at=at(i % 2),
        )
        for i in range(50)
    ]
    noise = make_volume(project_id="project-b")
    with db.transaction() as tx:
        for volume in [*volumes, noise]:
            tx.volumes.add(volume)
    pages: list[list[Any]] = []
    marker: str | None = None
    while True:
        query = ListQuery(project_id="project-a", sort=sort, limit=7, marker=marker)
        with db.transaction(write=False) as tx:
            page = tx.volumes.find(query)
        if not page:
            break
        pages.append(page)
        marker = page[-1].id
    assert [len(p) for p in pages] == [7] * 7 + [1]
    seen = [v for page in pages for v in page]
    assert seen == _python_order(volumes, sort)
    with db.transaction(write=False) as tx:
        whole = tx.volumes.find(ListQuery(project_id="project-a", sort=sort))
    assert whole == seen


def test_snapshot_pagination_by_volume_id(db: SqlDatabase) -> None:
    parents = [make_volume() for _ in range(3)]
    snapshots = [make_snapshot(parents[i % 3], size_gib=i % 2 + 1) for i in range(20)]
    with db.transaction() as tx:
        for volume in parents:
            tx.volumes.add(volume)
        for snapshot in snapshots:
            tx.snapshots.add(snapshot)
    sort: Sort = (("volume_id", "desc"), ("size_gib", "asc"))
    seen: list[Any] = []
    marker = None
    with db.transaction(write=False) as tx:
        while page := tx.snapshots.find(ListQuery(sort=sort, limit=3, marker=marker)):
            seen.extend(page)
            marker = page[-1].id
    assert seen == _python_order(snapshots, sort)


def test_sqlite_marker_pages_seek_to_the_marker(sqlite_db: SqlDatabase) -> None:
    # Without a range on the first sort key SQLite walked the index from the first row to
    # the marker, so each page of a long listing cost more than the one before.
    volumes = [make_volume(created_at=at(i)) for i in range(20)]
    with sqlite_db.transaction() as tx:
        for volume in volumes:
            tx.volumes.add(volume)
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, sql: str, params: Any, *_: Any) -> None:
        statements.append((sql, params))

    sa.event.listen(sqlite_db.engine, "before_cursor_execute", capture)
    try:
        with sqlite_db.transaction(write=False) as tx:
            page = tx.volumes.find(
                ListQuery(project_id="project-a", limit=5, marker=volumes[10].id)
            )
    finally:
        sa.event.remove(sqlite_db.engine, "before_cursor_execute", capture)
    assert page == volumes[9:4:-1]
    sql, params = statements[-1]
    with sqlite_db.engine.connect() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
    details = " ".join(str(row[-1]) for row in plan)
    assert "project_id=? AND created_at<?" in details, details


# --- attachments ---------------------------------------------------------------------


def test_attachments_for_many_volumes_in_one_call(db: SqlDatabase) -> None:
    volumes = [make_volume() for _ in range(4)]
    elsewhere = make_volume(project_id="project-b")
    first, second, third = volumes[:3]
    newer = make_attachment(first, created_at=at(2), status=AttachStatus.ATTACHED)
    older = make_attachment(first, created_at=at(1), connector={"host": "h1"})
    only = make_attachment(second, mode=AttachMode.READ_ONLY)
    foreign = make_attachment(elsewhere)
    with db.transaction() as tx:
        for volume in [*volumes, elsewhere]:
            tx.volumes.add(volume)
        for attachment in (newer, older, only, foreign):
            tx.attachments.add(attachment)
    with db.transaction(write=False) as tx:
        ids = [v.id for v in volumes]
        found = tx.attachments.for_volumes(ids)
        assert found == {first.id: [older, newer], second.id: [only], third.id: [], ids[3]: []}
        assert found == {i: tx.attachments.for_volume(i) for i in ids}
        assert tx.attachments.for_volumes([]) == {}
        # More ids than one IN clause takes: the rest are read in further queries.
        many = [new_id() for _ in range(IN_CHUNK + 10)] + [elsewhere.id]
        assert tx.attachments.for_volumes(many)[elsewhere.id] == [foreign]


# --- operations ----------------------------------------------------------------------


def test_operation_round_trip_save_and_progress(db: SqlDatabase) -> None:
    operation = make_operation(
        kind=OperationKind.EXTEND_VOLUME,
        request_id="req-1",
        bytes_done=5,
        bytes_total=2**40,
        started_at=at(1),
        params={"size": 3, "nested": {"list": [1, "ü"]}, "flag": True, "none": None},
    )
    with db.transaction() as tx:
        tx.operations.add(operation)
        assert tx.operations.get(operation.id) == operation
        assert tx.operations.get(new_id()) is None
        operation.phase = P.FAILED
        operation.finished_at = at(9)
        operation.error_code = "driver_error"
        operation.message = "backend said no ✗"
        operation.hint = "try again"
        operation.updated_at = at(9)
        tx.operations.save(operation)
        assert tx.operations.get(operation.id) == operation
        tx.operations.set_progress(
            operation.id, bytes_done=2**39, bytes_total=None, updated_at=at(10)
        )
        loaded = tx.operations.get(operation.id)
    assert loaded is not None
    assert (loaded.bytes_done, loaded.bytes_total, loaded.updated_at) == (2**39, None, at(10))
    assert loaded.phase == P.FAILED and loaded.finished_at == at(9)


def test_operation_find_newest_first_with_filters(db: SqlDatabase) -> None:
    resource = new_id()
    ops = [
        make_operation(created_at=at(1), phase=P.SUCCEEDED, resource_id=resource),
        make_operation(created_at=at(2), phase=P.RUNNING),
        make_operation(created_at=at(2), phase=P.PENDING, resource_id=resource),
        make_operation(created_at=at(3), phase=P.FAILED),
        make_operation(created_at=at(4), phase=P.RUNNING, project_id="project-b"),
    ]
    same_time = sorted(ops[1:3], key=lambda o: o.id, reverse=True)
    newest_a = [ops[3], *same_time, ops[0]]
    with db.transaction() as tx:
        for operation in ops:
            tx.operations.add(operation)
        find = tx.operations.find
        assert find(project_id="project-a") == newest_a
        assert find(project_id=None) == [ops[4], *newest_a]
        assert find(project_id="project-a", limit=2) == newest_a[:2]
        assert find(project_id="project-a", resource_id=resource) == [ops[2], ops[0]]
        assert find(project_id="project-a", open_only=True) == same_time
        assert find(project_id=None, open_only=True, resource_id=resource) == [ops[2]]
        assert tx.operations.in_phases([P.RUNNING, P.PENDING]) == [
            *sorted(ops[1:3], key=lambda o: o.id),
            ops[4],
        ]
        assert tx.operations.in_phases([]) == []


# --- events --------------------------------------------------------------------------


def test_event_timeline_oldest_first(db: SqlDatabase) -> None:
    resource = new_id()
    first = make_event(
        resource,
        kind=EventKind.DRIVER_CALL,
        message="create_volume ✓",
        at=at(5),
        operation_id=new_id(),
        duration_ms=12.5,
        detail={"args": ["x", 1], "ok": True},
    )
    later = [make_event(resource, message=f"m{i}", at=at(1)) for i in range(4)]
    with db.transaction() as tx:
        tx.events.add(first)
        tx.events.add(make_event(resource, resource_kind="snapshot"))
        tx.events.add(make_event(new_id()))
        for event in later:
            tx.events.add(event)
    with db.transaction(write=False) as tx:
        timeline = tx.events.timeline(resource_kind="volume", resource_id=resource)
        newest_two = tx.events.timeline(resource_kind="volume", resource_id=resource, limit=2)
        assert tx.events.timeline(resource_kind="volume", resource_id=new_id()) == []
    assert [e.message for e in timeline] == ["create_volume ✓", "m0", "m1", "m2", "m3"]
    ids = [e.id for e in timeline]
    assert all(isinstance(i, int) for i in ids)
    assert ids == sorted(i or 0 for i in ids)
    loaded = timeline[0]
    first.id = loaded.id
    assert loaded == first
    assert [e.message for e in newest_two] == ["m2", "m3"]


# --- idempotency ---------------------------------------------------------------------


def _record(key: str, **overrides: Any) -> IdempotencyRecord:
    values: dict[str, Any] = {
        "project_id": "project-a",
        "key": key,
        "fingerprint": "fp-1",
        "operation_id": new_id(),
        "resource_id": new_id(),
        "created_at": at(0),
    }
    values.update(overrides)
    return IdempotencyRecord(**values)


def test_idempotency_claim_keeps_the_first_record(db: SqlDatabase) -> None:
    first = _record("key-ü", created_at=at(1))
    second = _record("key-ü", fingerprint="fp-2", created_at=at(2))
    other_project = _record("key-ü", project_id="project-b")
    with db.transaction() as tx:
        assert tx.idempotency.get("project-a", "key-ü") is None
        assert tx.idempotency.claim(first) == first
    with db.transaction() as tx:
        assert tx.idempotency.claim(second) == first
        assert tx.idempotency.claim(other_project) == other_project
        assert tx.idempotency.get("project-a", "key-ü") == first
        assert tx.idempotency.get("project-b", "key-ü") == other_project


def test_idempotency_concurrent_claims_agree(db: SqlDatabase) -> None:
    def claim() -> IdempotencyRecord:
        record = _record("race", fingerprint=new_id())
        with db.transaction() as tx:
            return tx.idempotency.claim(record)

    results = race(16, claim)
    assert all(isinstance(r, IdempotencyRecord) for r in results), results
    assert len(set(results)) == 1
    with db.transaction(write=False) as tx:
        assert tx.idempotency.get("project-a", "race") == results[0]


# --- the fast path (DBAPI cursor) and the Core path agree ----------------------------
#
# The hot repository methods run plain SQL on the DBAPI cursor with their own value
# conversions (basalt.persistence.sql.codec); listing and the rarely used methods go
# through SQLAlchemy Core and its column types. A row written by either path must be
# stored identically and read back identically through the other.

PLUS_TWO = timezone(timedelta(hours=2))
MINUS_FIVE_THIRTY = timezone(-timedelta(hours=5, minutes=30))


def _odd_volume(**overrides: Any) -> Any:
    """A volume with every hard case: unicode, quoting, non-UTC zones, no fraction."""
    values: dict[str, Any] = {
        "project_id": "prøject-ü",
        "user_id": "üser",
        "name": "数据卷 ✓ \"quoted\" 'single' %s ? :name",
        "description": "émoji 🚀 and a\nnewline",
        "size_gib": 2**31 - 1,
        "status": V.IN_USE,
        "created_at": datetime(2024, 1, 2, 5, 6, 7, 890123, tzinfo=PLUS_TWO),
        "updated_at": datetime(1999, 12, 31, 23, 0, 0, tzinfo=MINUS_FIVE_THIRTY),
        "metadata": {"clé": "välue ✓", 'quo"te': "x'y", "empty": "", "🚀": "%(x)s"},
        "provider_location": "/srv/pools/ssd/数据",
        "source_volume_id": new_id(),
        "snapshot_id": new_id(),
        "bootable": True,
        "availability_zone": "zone-ü",
        "migration_status": "migrating",
        "replication_status": "enabled",
    }
    values.update(overrides)
    return make_volume(**values)


def _plain_volume() -> Any:
    """A volume whose optional fields are all empty (NULL columns, empty JSON)."""
    return make_volume(created_at=at(0), updated_at=at(0.000001))


def _odd_operation(resource_id: str, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "kind": OperationKind.CLONE_VOLUME,
        "resource_id": resource_id,
        "project_id": "prøject-ü",
        "phase": P.FAILED,
        "created_at": datetime(2024, 2, 29, 0, 0, 0, tzinfo=MINUS_FIVE_THIRTY),
        "updated_at": at(3),
        "request_id": "req-ü",
        "bytes_done": 2**40,
        "bytes_total": None,
        "started_at": datetime(2024, 2, 29, 1, 0, 0, 5, tzinfo=PLUS_TWO),
        "finished_at": None,
        "error_code": "driver_error",
        "message": "backend said no ✗",
        "hint": None,
        "params": {"size": 3, "nested": {"list": [1, "ü", None, 2.5]}, "flag": True, "none": None},
    }
    values.update(overrides)
    return make_operation(**values)


def _columns(item: Any, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """A model as the column values the Core path binds (enum members as their strings)."""
    values = {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
    return {
        name: str(value) if isinstance(value, enum.Enum) else value
        for name, value in values.items()
        if name not in drop
    }


def _stored(db: SqlDatabase, table: sa.Table, where: sa.ColumnElement[bool]) -> dict[str, Any]:
    """One row exactly as the database holds it: no type processing, JSON as its text."""
    columns = [
        sa.cast(sa.literal_column(c.name), sa.Text).label(c.name)
        if isinstance(c.type, sa.JSON)
        else sa.literal_column(c.name).label(c.name)
        for c in table.c
    ]
    with db.engine.connect() as conn:
        row = conn.execute(sa.select(*columns).select_from(table).where(where)).one()
    return dict(row._mapping)


def _without(row: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in names}


@pytest.mark.parametrize("shape", ["odd", "plain"])
def test_volumes_written_by_either_path_are_stored_and_read_alike(
    db: SqlDatabase, shape: str
) -> None:
    fast = _odd_volume() if shape == "odd" else _plain_volume()
    core = dataclasses.replace(fast, id=new_id(), metadata=dict(fast.metadata))
    with db.transaction() as tx:
        tx.volumes.add(fast)
    with db.transaction() as tx:
        tx.connection.execute(sa.insert(volumes_table), [_columns(core)])
    stored_fast = _stored(db, volumes_table, volumes_table.c.id == fast.id)
    stored_core = _stored(db, volumes_table, volumes_table.c.id == core.id)
    assert _without(stored_fast, "id") == _without(stored_core, "id")
    with db.transaction(write=False) as tx:
        assert tx.volumes.get(fast.id) == fast
        assert tx.volumes.get(core.id) == core
        listed = {v.id: v for v in tx.volumes.find(ListQuery(project_id=fast.project_id))}
        assert listed == {fast.id: fast, core.id: core}
        assert tx.volumes.in_statuses([fast.status]) == sorted([fast, core], key=lambda v: v.id)
    loaded = listed[fast.id]
    assert loaded.created_at.tzinfo == UTC and loaded.updated_at.tzinfo == UTC
    assert isinstance(loaded.status, VolumeStatus) and isinstance(loaded.bootable, bool)


def test_volume_saves_and_status_changes_by_either_path_read_alike(db: SqlDatabase) -> None:
    volume = _plain_volume()
    with db.transaction() as tx:
        tx.volumes.add(volume)
    changed = _odd_volume(id=volume.id, status=volume.status)
    with db.transaction() as tx:
        tx.volumes.save(changed)
        assert tx.volumes.set_status(
            volume.id, expected=[V.AVAILABLE], new=V.ERROR, updated_at=changed.updated_at
        )
    changed.status = V.ERROR
    stored_fast = _stored(db, volumes_table, volumes_table.c.id == volume.id)
    with db.transaction() as tx:
        tx.connection.execute(
            sa.update(volumes_table)
            .where(volumes_table.c.id == volume.id)
            .values(_columns(changed, drop=("id",)))
        )
        assert tx.volumes.get(volume.id) == changed
    assert _stored(db, volumes_table, volumes_table.c.id == volume.id) == stored_fast
    with db.transaction(write=False) as tx:
        assert tx.volumes.find(ListQuery(name=changed.name)) == [changed]


def test_snapshots_written_by_either_path_are_stored_and_read_alike(db: SqlDatabase) -> None:
    volume = _plain_volume()
    fast = make_snapshot(
        volume,
        name="snäp ✓ 🚀",
        status=S.CREATING,
        created_at=datetime(2024, 3, 1, 0, 0, 0, 1, tzinfo=PLUS_TWO),
        updated_at=at(2),
        metadata={"ключ": "значение", 'q"k': "%s"},
        provider_location=None,
    )
    core = dataclasses.replace(fast, id=new_id(), metadata=dict(fast.metadata))
    with db.transaction() as tx:
        tx.volumes.add(volume)
        tx.snapshots.add(fast)
        tx.connection.execute(sa.insert(snapshots_table), [_columns(core)])
    stored_fast = _stored(db, snapshots_table, snapshots_table.c.id == fast.id)
    stored_core = _stored(db, snapshots_table, snapshots_table.c.id == core.id)
    assert _without(stored_fast, "id") == _without(stored_core, "id")
    expected = sorted([fast, core], key=lambda s: s.id)
    with db.transaction(write=False) as tx:
        assert tx.snapshots.get(fast.id) == fast
        assert tx.snapshots.get(core.id) == core
        assert tx.snapshots.for_volume(volume.id) == expected
        assert tx.snapshots.count_for_volume(volume.id) == 2
        assert tx.snapshots.find(ListQuery(volume_id=volume.id, sort=(("id", "asc"),))) == expected


def test_operations_written_by_either_path_are_stored_and_read_alike(db: SqlDatabase) -> None:
    resource = new_id()
    fast = _odd_operation(resource)
    core = dataclasses.replace(fast, id=new_id(), params=dict(fast.params))
    with db.transaction() as tx:
        tx.operations.add(fast)
        tx.connection.execute(sa.insert(operations_table), [_columns(core)])
    stored_fast = _stored(db, operations_table, operations_table.c.id == fast.id)
    stored_core = _stored(db, operations_table, operations_table.c.id == core.id)
    assert _without(stored_fast, "id") == _without(stored_core, "id")
    with db.transaction() as tx:
        assert tx.operations.get(fast.id) == fast
        assert tx.operations.get(core.id) == core
        found = tx.operations.find(project_id=fast.project_id, resource_id=resource)
        assert found == sorted([fast, core], key=lambda o: o.id, reverse=True)
        fast.finished_at, fast.hint, fast.phase = at(9), "ü", P.SUCCEEDED
        tx.operations.save(fast)
        tx.operations.set_progress(fast.id, bytes_done=1, bytes_total=2, updated_at=at(10))
        fast.bytes_done, fast.bytes_total, fast.updated_at = 1, 2, at(10)
        assert tx.operations.get(fast.id) == fast
        assert tx.operations.in_phases([P.SUCCEEDED]) == [fast]


def test_events_written_by_either_path_are_stored_and_read_alike(db: SqlDatabase) -> None:
    resource = new_id()
    fast = make_event(
        resource,
        kind=EventKind.DRIVER_CALL,
        message="fast ✓",
        at=datetime(2024, 1, 1, 1, 0, 0, tzinfo=PLUS_TWO),
        operation_id=None,
        duration_ms=12.5,
        detail={"args": ["x", 1, None], "ü": {"ok": True}},
    )
    core = dataclasses.replace(fast, message="core ✓", detail=dict(fast.detail))
    with db.transaction() as tx:
        tx.events.add(fast)
        tx.connection.execute(sa.insert(events_table), [_columns(core, drop=("id",))])
    stored_fast = _stored(db, events_table, events_table.c.message == fast.message)
    stored_core = _stored(db, events_table, events_table.c.message == core.message)
    assert _without(stored_fast, "id", "message") == _without(stored_core, "id", "message")
    with db.transaction(write=False) as tx:
        timeline = tx.events.timeline(resource_kind="volume", resource_id=resource)
    fast.id, core.id = timeline[0].id, timeline[1].id
    assert timeline == [fast, core]
    assert timeline[0].at.tzinfo == UTC


def test_both_paths_share_one_transaction(db: SqlDatabase) -> None:
    volume = make_volume()
    operation = make_operation(resource_id=volume.id)
    with db.transaction() as tx:
        tx.volumes.add(volume)  # fast path
        assert tx.volumes.find(ListQuery()) == [volume]  # Core sees it, uncommitted
        tx.operations.add(operation)
        tx.operations.set_progress(operation.id, bytes_done=7, bytes_total=9, updated_at=at(1))
        loaded = tx.operations.get(operation.id)  # fast path sees the Core write
        assert loaded is not None and (loaded.bytes_done, loaded.bytes_total) == (7, 9)
    with pytest.raises(RuntimeError), db.transaction() as tx:
        tx.volumes.delete(volume.id)
        tx.operations.set_progress(operation.id, bytes_done=8, bytes_total=9, updated_at=at(2))
        raise RuntimeError("roll both back")
    with db.transaction(write=False) as tx:
        assert tx.volumes.get(volume.id) == volume
        loaded = tx.operations.get(operation.id)
        assert loaded is not None and loaded.bytes_done == 7


def test_core_only_engine_transactions_stay_atomic(db: SqlDatabase) -> None:
    """Tools may use ``db.engine`` directly; on SQLite that still means BEGIN IMMEDIATE."""
    volume = make_volume()
    with pytest.raises(RuntimeError), db.engine.begin() as conn:
        conn.execute(sa.insert(volumes_table), [_columns(volume)])
        raise RuntimeError("roll back")
    with db.transaction(write=False) as tx:
        assert tx.volumes.get(volume.id) is None
    if db.dialect == "sqlite":
        with db.engine.connect() as conn:
            conn.execute(sa.select(volumes_table.c.id)).all()
            assert conn.connection.driver_connection.in_transaction


def test_fast_path_refuses_naive_datetimes_everywhere(db: SqlDatabase) -> None:
    naive = datetime(2024, 1, 1)
    volume = make_volume()
    with db.transaction() as tx:
        tx.volumes.add(volume)
    attempts: list[Callable[[Any], Any]] = [
        lambda tx: tx.volumes.save(make_volume(id=volume.id, updated_at=naive)),
        lambda tx: tx.volumes.set_status(
            volume.id, expected=[V.AVAILABLE], new=V.ERROR, updated_at=naive
        ),  # fmt: skip
        lambda tx: tx.volumes.set_status(volume.id, expected=[], new=V.ERROR, updated_at=naive),
        lambda tx: tx.operations.add(make_operation(started_at=naive)),
        lambda tx: tx.events.add(make_event(volume.id, at=naive)),
        lambda tx: tx.snapshots.add(make_snapshot(volume, created_at=naive)),
    ]
    for attempt in attempts:
        with pytest.raises(sa.exc.StatementError, match="naive datetime"), db.transaction() as tx:
            attempt(tx)
    with db.transaction(write=False) as tx:
        assert tx.volumes.get(volume.id) == volume


def test_failed_units_give_their_connections_back(db: SqlDatabase) -> None:
    """More failures than the pool holds: a leaked connection would exhaust it."""
    volume = make_volume()
    with db.transaction() as tx:
        tx.volumes.add(volume)
    for _ in range(POOL_SIZE + POOL_MAX_OVERFLOW + 5):
        with pytest.raises(PersistenceError), db.transaction() as tx:
            tx.volumes.add(volume)  # duplicate id
        with pytest.raises(KeyError), db.transaction(write=False) as tx:
            tx.volumes.get(volume.id)
            assert tx.volumes.ids() == {volume.id}  # the Core path's connection, too
            raise KeyError("not a database error")
        with pytest.raises(PersistenceError), db.transaction() as tx:
            tx.volumes.ids()
            tx.volumes.add(volume)
    with db.transaction(write=False) as tx:
        assert tx.volumes.get(volume.id) == volume
    assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def _terminate_other_backends(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.mark.postgres
@pytest.mark.parametrize("with_core", [False, True], ids=["fast-only", "with-core"])
def test_postgres_connections_lost_mid_unit_are_discarded(with_core: bool) -> None:
    with postgres_database() as url, migrated(url) as db:
        volume = make_volume()
        with db.transaction() as tx:
            tx.volumes.add(volume)
        with pytest.raises(PersistenceError) as caught, db.transaction(write=False) as tx:
            assert tx.volumes.get(volume.id) == volume
            if with_core:
                assert tx.volumes.ids() == {volume.id}
            _terminate_other_backends(url)
            tx.volumes.get(volume.id)
        assert db.kind in str(caught.value)
        assert isinstance(caught.value.__cause__, sa.exc.DBAPIError)
        for _ in range(3):  # the dead connection was not pooled again
            with db.transaction(write=False) as tx:
                assert tx.volumes.get(volume.id) == volume
        assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


# --- the fast path's value conversions match SQLAlchemy's column types ---------------

_DIALECTS = {"sqlite": sqlite_dialect.dialect(), "postgresql": psycopg_dialect.dialect()}
_SAMPLES: dict[type, list[Any]] = {
    UTCDateTime: [
        None,
        at(0),
        datetime(2024, 1, 2, 5, 6, 7, 0, tzinfo=PLUS_TWO),
        datetime(1000, 1, 1, 12, 0, 0, 1, tzinfo=MINUS_FIVE_THIRTY),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
    sa.JSON: [{}, {"clé": "välue ✓", "n": [1, None, 2.5, True]}, {'q"': "\\"}],
    sa.Boolean: [None, True, False, 0, 1],
}


def _sample_columns() -> list[sa.Column[Any]]:
    tables = (volumes_table, snapshots_table, operations_table, events_table)
    return [c for t in tables for c in t.c if any(isinstance(c.type, k) for k in _SAMPLES)]


@pytest.mark.parametrize("dialect", sorted(_DIALECTS))
def test_codecs_match_sqlalchemy_processors(dialect: str) -> None:
    engine_dialect = _DIALECTS[dialect]
    for column in _sample_columns():
        impl = column.type.dialect_impl(engine_dialect)
        bind = impl.bind_processor(engine_dialect) or (lambda v: v)
        result = impl.result_processor(engine_dialect, None) or (lambda v: v)
        found = codec(column, dialect)
        encode, decode = found.encode or (lambda v: v), found.decode or (lambda v: v)
        kind = next(k for k in _SAMPLES if isinstance(column.type, k))
        for value in _SAMPLES[kind]:
            ours, theirs = encode(value), bind(value)
            if isinstance(theirs, Json):
                assert isinstance(ours, Json) and ours.obj == theirs.obj, column
            else:
                assert (type(ours), ours) == (type(theirs), theirs), (column, value)
                assert decode(ours) == result(theirs), (column, value)
        if kind is UTCDateTime:
            naive = datetime(2024, 1, 1)
            for convert in (encode, bind):
                with pytest.raises(ValueError, match="naive"):
                    convert(naive)
        if kind is sa.Boolean:
            for convert in (encode, bind):
                with pytest.raises(TypeError):
                    convert("yes")


def test_sqlite_datetime_text_is_sqlalchemys_format() -> None:
    encode = codec(volumes_table.c.created_at, "sqlite").encode
    assert encode is not None
    assert encode(datetime(2024, 1, 2, 5, 6, 7, tzinfo=PLUS_TWO)) == "2024-01-02 03:06:07.000000"
    assert encode(datetime(1000, 1, 1, 0, 0, 0, 5, tzinfo=UTC)) == "1000-01-01 00:00:00.000005"


def test_codec_refuses_unknown_column_types() -> None:
    odd = sa.Table("odd", sa.MetaData(), sa.Column("price", sa.Numeric(10, 2)))
    for dialect in _DIALECTS:
        with pytest.raises(TypeError, match="no .* codec for odd.price"):
            codec(odd.c.price, dialect)

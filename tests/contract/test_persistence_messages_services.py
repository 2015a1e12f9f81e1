"""The persistence contract for user messages and backend services, on SQLite and PostgreSQL.

Messages are failed operations (``OperationRepository.failures`` / ``dismiss``);
services are the records of backends an administrator enabled or disabled.
"""

from __future__ import annotations

import dataclasses
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from basalt.model import Operation, OperationKind, OperationPhase
from basalt.model.service import ServiceRecord
from basalt.persistence.sql import SqlDatabase, open_database
from basalt.persistence.sql.database import MIGRATIONS_DIR
from basalt.persistence.sql.tables import operations as operations_table
from tests.contract.test_persistence import race
from tests.persistence_fixtures import (  # noqa: F401  (the *_fixture names are fixtures)
    at,
    db_fixture,
    make_operation,
    new_id,
    postgres_database,
)

P = OperationPhase
K = OperationKind


def _failed(seconds: float, **overrides: object) -> Operation:
    values: dict[str, object] = {
        "phase": P.FAILED,
        "created_at": at(seconds - 1),
        "updated_at": at(seconds),
        "finished_at": at(seconds),
        "error_code": "driver_error",
        "message": "backend file: no",
    }
    values.update(overrides)
    return make_operation(**values)


# --- messages (failed operations) ----------------------------------------------------


def test_failures_are_failed_or_rolled_back_newest_first_within_the_window(
    db: SqlDatabase,
) -> None:
    resource = new_id()
    old = _failed(1)
    rolled_back = _failed(5, phase=P.ROLLED_BACK, resource_id=resource)
    failed = _failed(7, kind=K.EXTEND_VOLUME, resource_id=resource)
    other_project = _failed(8, project_id="project-b")
    succeeded = make_operation(phase=P.SUCCEEDED, finished_at=at(9))
    running = make_operation(phase=P.RUNNING)
    with db.transaction() as tx:
        for operation in (old, rolled_back, failed, other_project, succeeded, running):
            tx.operations.add(operation)
    with db.transaction(write=False) as tx:
        find = tx.operations.failures
        assert find(project_id="project-a", finished_since=at(0)) == [failed, rolled_back, old]
        assert find(project_id=None, finished_since=at(5)) == [other_project, failed, rolled_back]
        assert find(project_id="project-a", finished_since=at(0), resource_id=resource) == [
            failed,
            rolled_back,
        ]
        assert find(project_id=None, finished_since=at(0), kinds=[K.EXTEND_VOLUME]) == [failed]
        assert find(project_id=None, finished_since=at(0), kinds=[]) == []
        assert find(project_id="project-a", finished_since=at(7.5)) == []


def test_failures_with_the_same_finish_time_order_by_id(db: SqlDatabase) -> None:
    same = [_failed(3) for _ in range(4)]
    with db.transaction() as tx:
        for operation in same:
            tx.operations.add(operation)
    with db.transaction(write=False) as tx:
        found = tx.operations.failures(project_id="project-a", finished_since=at(0))
    assert found == sorted(same, key=lambda o: o.id, reverse=True)


def test_dismiss_hides_a_failure_once_and_keeps_the_operation(db: SqlDatabase) -> None:
    failed = _failed(2)
    succeeded = make_operation(phase=P.SUCCEEDED, finished_at=at(2))
    with db.transaction() as tx:
        tx.operations.add(failed)
        tx.operations.add(succeeded)
        assert tx.operations.dismiss(failed.id, at=at(3))
        assert not tx.operations.dismiss(failed.id, at=at(4))  # already dismissed
        assert not tx.operations.dismiss(succeeded.id, at=at(4))  # not a failure
        assert not tx.operations.dismiss(new_id(), at=at(4))
    with db.transaction(write=False) as tx:
        assert tx.operations.failures(project_id=None, finished_since=at(0)) == []
        kept = tx.operations.get(failed.id)
        assert kept == dataclasses.replace(failed, dismissed_at=at(3))
        assert tx.operations.get(succeeded.id) == succeeded


def test_save_never_undoes_a_dismissal(db: SqlDatabase) -> None:
    failed = _failed(2)
    with db.transaction() as tx:
        tx.operations.add(failed)
        tx.operations.dismiss(failed.id, at=at(3))
        failed.hint = "a late save from a copy read before the dismissal"
        tx.operations.save(failed)  # failed.dismissed_at is still None in memory
    with db.transaction(write=False) as tx:
        stored = tx.operations.get(failed.id)
    assert stored is not None and stored.dismissed_at == at(3) and stored.hint == failed.hint


def test_dismissed_at_round_trips_through_add(db: SqlDatabase) -> None:
    dismissed = _failed(2, dismissed_at=at(2) + timedelta(microseconds=7))
    with db.transaction() as tx:
        tx.operations.add(dismissed)
    with db.transaction(write=False) as tx:
        assert tx.operations.get(dismissed.id) == dismissed
        assert tx.operations.failures(project_id=None, finished_since=at(0)) == []


def test_upgrading_from_0003_keeps_failures_as_undismissed_messages(
    db: SqlDatabase, tmp_path: Path
) -> None:
    """A deployment's failed operations become messages after the upgrade to 0004."""
    if db.dialect == "sqlite":
        fresh: AbstractContextManager[str] = nullcontext(f"sqlite:///{tmp_path / 'old.db'}")
    else:
        fresh = postgres_database()
    operation = _failed(2)
    with fresh as url:
        old = open_database(url)
        try:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            with old.transaction() as tx:
                config.attributes["connection"] = tx.connection
                command.upgrade(config, "0003")
                values = {c.name: getattr(operation, c.name) for c in operations_table.c}
                del values["dismissed_at"]  # not in revision 0003
                values.update(kind=str(operation.kind), phase=str(operation.phase))
                tx.connection.execute(sa.insert(operations_table).values(values))
            old.migrate()
            with old.transaction(write=False) as tx:
                found = tx.operations.failures(project_id=None, finished_since=at(0))
                assert found == [operation]
                assert tx.services.all() == []
        finally:
            old.close()


# --- services ------------------------------------------------------------------------


def test_service_records_round_trip_and_replace(db: SqlDatabase) -> None:
    disabled = ServiceRecord(
        backend="fast", disabled=True, disabled_reason="firmware ✓ upgrade", updated_at=at(1)
    )
    other = ServiceRecord(backend="bulk", disabled=False, disabled_reason=None, updated_at=at(2))
    with db.transaction() as tx:
        assert tx.services.get("fast") is None and tx.services.all() == []
        tx.services.put(disabled)
        tx.services.put(other)
        assert tx.services.get("fast") == disabled
    enabled = ServiceRecord(backend="fast", disabled=False, disabled_reason=None, updated_at=at(3))
    with db.transaction() as tx:
        tx.services.put(enabled)
    with db.transaction(write=False) as tx:
        assert tx.services.get("fast") == enabled
        assert tx.services.all() == [other, enabled]  # by backend name
        assert tx.services.get("nope") is None


def test_a_rolled_back_put_leaves_the_previous_record(db: SqlDatabase) -> None:
    first = ServiceRecord(backend="fast", disabled=True, disabled_reason="a", updated_at=at(1))
    with db.transaction() as tx:
        tx.services.put(first)
    try:
        with db.transaction() as tx:
            tx.services.put(dataclasses.replace(first, disabled=False, updated_at=at(2)))
            raise RuntimeError("abandon the unit of work")
    except RuntimeError:
        pass
    with db.transaction(write=False) as tx:
        assert tx.services.all() == [first]


def test_concurrent_puts_leave_one_whole_record(db: SqlDatabase) -> None:
    records = [
        ServiceRecord(
            backend="fast", disabled=bool(i % 2), disabled_reason=f"r{i}", updated_at=at(i)
        )
        for i in range(6)
    ]
    waiting = list(records)

    def put() -> None:
        record = waiting.pop()
        with db.transaction() as tx:
            tx.services.put(record)

    assert race(len(records), put) == [None] * len(records)
    with db.transaction(write=False) as tx:
        [stored] = tx.services.all()
    assert stored in records

"""Fixtures and builders for the persistence contract suite.

``db_fixture`` (used as ``db``) yields a migrated SqlDatabase, once on SQLite in
a temporary directory and once on a throwaway PostgreSQL database that is
dropped afterwards. Without PostgreSQL the PostgreSQL case is skipped, unless
BASALT_REQUIRE_POSTGRES=1 turns the skip into a failure.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import psycopg
import pytest
from psycopg import sql

from basalt.model import (
    Attachment,
    AttachMode,
    AttachStatus,
    Event,
    EventKind,
    Operation,
    OperationKind,
    OperationPhase,
    Snapshot,
    SnapshotStatus,
    Volume,
    VolumeStatus,
)
from basalt.persistence.sql import SqlDatabase, open_database

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_ADMIN_URL = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"
BASE_TIME = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def _unreachable(reason: str) -> NoReturn:
    message = f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT}: {reason}"
    if os.environ.get("BASALT_REQUIRE_POSTGRES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create ``basalt_test_<hex>``, yield its URL, drop it (also on failure)."""
    name = f"basalt_test_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        _unreachable(str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc))
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def migrated(url: str) -> Iterator[SqlDatabase]:
    """Open ``url``, migrate it, yield it, close its engine."""
    db = open_database(url)
    try:
        db.migrate()
        yield db
    finally:
        db.close()


@pytest.fixture(
    name="db",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def db_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlDatabase]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        with migrated(f"sqlite:///{tmp_path / 'basalt.db'}") as db:
            yield db
        return
    with postgres_database() as url, migrated(url) as db:
        yield db


@pytest.fixture(name="sqlite_db")
def sqlite_db_fixture(tmp_path: Path) -> Iterator[SqlDatabase]:
    """A migrated, empty SQLite database, for SQLite-only behaviour."""
    with migrated(f"sqlite:///{tmp_path / 'basalt.db'}") as db:
        yield db


def new_id() -> str:
    return str(uuid.uuid4())


def at(seconds: float) -> datetime:
    """A fixed instant plus ``seconds`` (UTC, aware, with microseconds)."""
    return BASE_TIME + timedelta(seconds=seconds)


def make_volume(**overrides: Any) -> Volume:
    values: dict[str, Any] = {
        "id": new_id(),
        "project_id": "project-a",
        "user_id": "user-a",
        "name": "vol",
        "description": "",
        "size_gib": 1,
        "status": VolumeStatus.AVAILABLE,
        "backend": "file",
        "pool": "default",
        "created_at": at(0),
        "updated_at": at(0),
    }
    values.update(overrides)
    return Volume(**values)


def make_snapshot(volume: Volume, **overrides: Any) -> Snapshot:
    values: dict[str, Any] = {
        "id": new_id(),
        "volume_id": volume.id,
        "project_id": volume.project_id,
        "user_id": volume.user_id,
        "name": "snap",
        "description": "",
        "size_gib": volume.size_gib,
        "status": SnapshotStatus.AVAILABLE,
        "created_at": at(0),
        "updated_at": at(0),
    }
    values.update(overrides)
    return Snapshot(**values)


def make_operation(**overrides: Any) -> Operation:
    values: dict[str, Any] = {
        "id": new_id(),
        "kind": OperationKind.CREATE_VOLUME,
        "resource_kind": "volume",
        "resource_id": new_id(),
        "project_id": "project-a",
        "phase": OperationPhase.PENDING,
        "created_at": at(0),
        "updated_at": at(0),
    }
    values.update(overrides)
    return Operation(**values)


def make_event(resource_id: str, **overrides: Any) -> Event:
    values: dict[str, Any] = {
        "resource_kind": "volume",
        "resource_id": resource_id,
        "kind": EventKind.NOTE,
        "message": "note",
        "at": at(0),
    }
    values.update(overrides)
    return Event(**values)


def make_attachment(volume: Volume, **overrides: Any) -> Attachment:
    values: dict[str, Any] = {
        "id": new_id(),
        "volume_id": volume.id,
        "project_id": volume.project_id,
        "user_id": volume.user_id,
        "status": AttachStatus.RESERVED,
        "mode": AttachMode.READ_WRITE,
        "created_at": at(0),
        "updated_at": at(0),
    }
    values.update(overrides)
    return Attachment(**values)


GROUP_COLUMNS = {"volumes": ("group_id",), "snapshots": ("group_snapshot_id",)}
"""Columns revision 0008 added: absent from a database at an older revision."""


def insert_old_rows(tx: Any, volume: Volume, snapshots: list[Snapshot]) -> None:
    """Insert a volume and its snapshots into a database migrated only up to 0007 (or
    any revision from 0005 on), without the columns later revisions added."""
    import sqlalchemy as sa

    from basalt.persistence.sql.tables import snapshots as snapshot_table
    from basalt.persistence.sql.tables import volumes as volume_table

    for table, row, status in (
        (volume_table, volume, volume.status),
        *((snapshot_table, s, s.status) for s in snapshots),
    ):
        values = {
            c.name: getattr(row, c.name) for c in table.c if c.name not in GROUP_COLUMNS[table.name]
        }
        values.update(status=str(status), metadata=dict(row.metadata))  # type: ignore[union-attr]
        tx.connection.execute(sa.insert(table).values(values))

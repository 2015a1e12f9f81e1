"""SqlDatabase: the engine, units of work and migrations, for SQLite and PostgreSQL.

SQLite (the default) runs in WAL mode. pysqlite's own transaction handling is
switched off and Basalt emits BEGIN itself (see connection.py): ``BEGIN
IMMEDIATE`` for write transactions, so the write lock is taken up front and a
read-then-write unit of work never fails half-way on a lock upgrade, and a
deferred ``BEGIN`` for reads, which WAL lets run next to a writer. PostgreSQL
uses ordinary READ COMMITTED transactions; row-level compare-and-set and ``ON
CONFLICT`` make the repositories safe under it.

A unit of work runs its hot statements on the DBAPI cursor (statements.py) and
lends the Core paths a SQLAlchemy Connection on the same DBAPI connection; no
SQLAlchemy event hook runs on a unit's fast path.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.pool import QueuePool, StaticPool

from basalt.errors import ConfigError, PersistenceError
from basalt.persistence.base import (
    AttachmentRepository,
    CredentialRepository,
    EventRepository,
    GroupRepository,
    GroupSnapshotRepository,
    GroupTypeRepository,
    IdempotencyRepository,
    OperationRepository,
    QosSpecsRepository,
    QuotaRepository,
    ReplicaRepository,
    ServiceRepository,
    SnapshotRepository,
    TransferRepository,
    VolumeRepository,
    VolumeTypeRepository,
)
from basalt.persistence.sql.attachments import SqlAttachmentRepository, SqlCredentialRepository
from basalt.persistence.sql.connection import UnitConnection
from basalt.persistence.sql.events import SqlEventRepository
from basalt.persistence.sql.groups import (
    SqlGroupRepository,
    SqlGroupSnapshotRepository,
    SqlGroupTypeRepository,
)
from basalt.persistence.sql.idempotency import SqlIdempotencyRepository
from basalt.persistence.sql.operations import SqlOperationRepository
from basalt.persistence.sql.quotas import SqlQuotaRepository
from basalt.persistence.sql.replicas import SqlReplicaRepository
from basalt.persistence.sql.services import SqlServiceRepository
from basalt.persistence.sql.snapshots import SqlSnapshotRepository
from basalt.persistence.sql.transfers import SqlTransferRepository
from basalt.persistence.sql.types import SqlQosSpecsRepository, SqlVolumeTypeRepository
from basalt.persistence.sql.volumes import SqlVolumeRepository

if TYPE_CHECKING:
    from basalt.persistence.base import Database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
POOL_SIZE = 10
POOL_MAX_OVERFLOW = 30
BUSY_TIMEOUT_SECONDS = 30
# Any fixed 64-bit number: serialises concurrent migrate() calls on one PostgreSQL database.
_MIGRATION_LOCK_KEY = 0x6261_7361_6C74  # "basalt"
_KINDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


class _Lock(Protocol):
    def acquire(self, blocking: bool = ..., timeout: float = ...) -> bool: ...
    def release(self) -> None: ...


def normalize_url(url: str) -> URL:
    """Parse a database URL; plain ``postgresql://`` URLs get the psycopg 3 driver.

    Raises:
        ConfigError: the URL cannot be parsed or names another database.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            "database URL cannot be parsed", hint="see the database_url setting"
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in _KINDS:
        raise ConfigError(
            f"database {parsed.get_backend_name()!r} is not supported; use sqlite or postgresql"
        )
    return parsed


class SqlTransaction:
    """One unit of work: every repository bound to the same connection."""

    def __init__(self, unit: UnitConnection) -> None:
        self._unit = unit
        self.volumes: VolumeRepository = SqlVolumeRepository(unit)
        self.snapshots: SnapshotRepository = SqlSnapshotRepository(unit)
        self.operations: OperationRepository = SqlOperationRepository(unit)
        self.events: EventRepository = SqlEventRepository(unit)
        self.idempotency: IdempotencyRepository = SqlIdempotencyRepository(unit)
        self.attachments: AttachmentRepository = SqlAttachmentRepository(unit)
        self.credentials: CredentialRepository = SqlCredentialRepository(unit)
        self.services: ServiceRepository = SqlServiceRepository(unit)
        self.replicas: ReplicaRepository = SqlReplicaRepository(unit)
        self.volume_types: VolumeTypeRepository = SqlVolumeTypeRepository(unit)
        self.qos_specs: QosSpecsRepository = SqlQosSpecsRepository(unit)
        self.transfers: TransferRepository = SqlTransferRepository(unit)
        self.quotas: QuotaRepository = SqlQuotaRepository(unit)
        self.group_types: GroupTypeRepository = SqlGroupTypeRepository(unit)
        self.groups: GroupRepository = SqlGroupRepository(unit)
        self.group_snapshots: GroupSnapshotRepository = SqlGroupSnapshotRepository(unit)

    @property
    def connection(self) -> Connection:
        """A SQLAlchemy Connection inside this unit's transaction (made on first use)."""
        return self._unit.core


class _UnitOfWork(AbstractContextManager[SqlTransaction]):
    """What :meth:`SqlDatabase.transaction` returns: locks, a connection, commit or rollback.

    A class rather than ``@contextmanager``: the generator machinery costs a few
    microseconds on a path every request takes several times.
    """

    __slots__ = ("_db", "_write", "_locks", "_unit")

    def __init__(self, db: SqlDatabase, write: bool) -> None:
        self._db = db
        self._write = write
        self._locks = db._write_locks if write else db._read_locks
        self._unit: UnitConnection | None = None

    def __enter__(self) -> SqlTransaction:
        for lock in self._locks:
            lock.acquire()
        try:
            self._unit = UnitConnection.open(self._db.engine, write=self._write)
        except BaseException as exc:
            self._release()
            if isinstance(exc, (DBAPIError, PoolTimeoutError)):
                raise self._db._error(exc) from exc
            raise
        return SqlTransaction(self._unit)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        unit = self._unit
        assert unit is not None, "__exit__ follows a successful __enter__"
        try:
            if exc_type is None:
                unit.commit()
            else:
                unit.rollback()
        except (DBAPIError, PoolTimeoutError) as failed:
            raise self._db._error(failed) from failed
        finally:
            unit.close()
            self._release()
        if isinstance(exc, (DBAPIError, PoolTimeoutError)):
            raise self._db._error(exc) from exc

    def _release(self) -> None:
        for lock in reversed(self._locks):
            lock.release()


class SqlDatabase:
    """A SQLite or PostgreSQL store opened by URL (see :func:`open_database`)."""

    def __init__(self, url: str) -> None:
        """Create the engine; no connection is made until the first transaction.

        Raises:
            ConfigError: the URL cannot be used.
        """
        self._url = normalize_url(url)
        self.url = self._url.render_as_string(hide_password=False)
        self.dialect = self._url.get_backend_name()
        self.kind = _KINDS[self.dialect]
        try:
            self.engine = (
                _sqlite_engine(self._url) if self.dialect == "sqlite" else _pg_engine(self._url)
            )
        except (ArgumentError, NoSuchModuleError) as exc:
            raise ConfigError(f"cannot open {self.kind} database: {exc}") from exc
        # An in-memory SQLite database is one shared connection: take turns on it.
        memory = self.dialect == "sqlite" and _is_memory(self._url)
        serial = (threading.RLock(),) if memory else ()
        # SQLite has one writer at a time. Threads of this process queue for it here,
        # and are woken the moment it is free, instead of sleeping in SQLite's busy
        # handler (which backs off up to 100 ms and made p99 latency seconds long under
        # 16 concurrent clients). Other processes still wait through busy_timeout.
        writer = (threading.RLock(),) if self.dialect == "sqlite" else ()
        self._read_locks: tuple[_Lock, ...] = serial
        self._write_locks: tuple[_Lock, ...] = serial + writer  # always taken in this order

    def __repr__(self) -> str:
        return f"SqlDatabase({self._url.render_as_string(hide_password=True)!r})"

    def transaction(self, *, write: bool = True) -> AbstractContextManager[SqlTransaction]:
        """Open a unit of work; commit on clean exit, roll back on any exception.

        Args:
            write: take the write lock at the start (SQLite ``BEGIN IMMEDIATE``);
                False for read-only work.

        Returns:
            A context manager yielding the repositories, bound to one connection.

        Raises:
            PersistenceError: the database failed (unreachable, locked, a constraint),
                or no pooled connection came free in time.
        """
        return _UnitOfWork(self, write)

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (harmless when it is there).

        The upgrade runs in one write unit of work: it commits or rolls back whole.

        Raises:
            PersistenceError: the database failed during the upgrade.
        """
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
        with self.transaction() as tx:
            conn = tx.connection
            if self.dialect == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK_KEY)))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def _error(self, exc: DBAPIError | PoolTimeoutError) -> PersistenceError:
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        lines = str(cause).strip().splitlines()
        detail = lines[0] if lines else type(cause).__name__
        password = self._url.password
        if password:
            detail = detail.replace(str(password), "***")
        where = self._url.render_as_string(hide_password=True)
        return PersistenceError(f"{self.kind} database error ({where}): {detail}")


def open_database(url: str) -> SqlDatabase:
    """Open the store at ``url`` (``sqlite:////abs/path.db`` or ``postgresql://...``).

    The schema is not touched; call :meth:`SqlDatabase.migrate` before use.

    Raises:
        ConfigError: the URL cannot be used.
    """
    return SqlDatabase(url)


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or "mode=memory" in str(url.database)


def _sqlite_engine(url: URL) -> Engine:
    connect_args = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_SECONDS}
    if _is_memory(url):
        engine = sa.create_engine(url, poolclass=StaticPool, connect_args=connect_args)
    else:
        engine = sa.create_engine(
            url,
            poolclass=QueuePool,
            pool_size=POOL_SIZE,
            max_overflow=POOL_MAX_OVERFLOW,
            connect_args=connect_args,
            # transaction() always commits or rolls back; a reset on check-in would
            # only add a ROLLBACK round trip to every unit of work.
            pool_reset_on_return=None,
        )
    sa.event.listen(engine, "connect", _sqlite_on_connect)
    sa.event.listen(engine, "begin", _sqlite_on_core_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # pysqlite must not emit BEGIN/COMMIT on its own
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        _enter_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _enter_wal(cursor: Any) -> None:
    """Switch the file to WAL (persistent; a no-op once it is WAL).

    SQLite answers SQLITE_BUSY to the switch at once, without its busy handler,
    while another connection is opening or switching the same fresh file (several
    services starting together): retry here within the usual busy timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _sqlite_on_core_begin(conn: Connection) -> None:
    """BEGIN IMMEDIATE for Core-only users of the engine (``engine.begin()``, tools).

    Without it pysqlite (isolation_level None) would run their statements in
    autocommit mode. Units of work send BEGIN themselves (connection.py) before
    their Core connection begins, so for them this sees a transaction and returns.
    """
    sqlite_connection = conn.connection.driver_connection
    assert sqlite_connection is not None, "a live connection has a DBAPI connection"
    if not sqlite_connection.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _pg_engine(url: URL) -> Engine:
    return sa.create_engine(
        url, pool_size=POOL_SIZE, max_overflow=POOL_MAX_OVERFLOW, pool_pre_ping=True
    )


if TYPE_CHECKING:

    def _conforms(db: SqlDatabase) -> Database:
        return db  # mypy checks SqlDatabase against the Database protocol here

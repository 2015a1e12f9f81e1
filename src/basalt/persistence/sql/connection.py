"""One unit of work's pooled DBAPI connection: the fast path's cursor, and Core beside it.

Why: SQLAlchemy's Connection, its transaction objects and a ``begin`` event hook
cost ~100 us per unit of work on SQLite, several times the BEGIN and COMMIT
themselves, and the REST control plane opens ~5 units per volume cycle. A unit
now checks a DBAPI connection out of the engine's pool (thread-safe, as
before), sends SQLite's BEGIN itself (psycopg opens PostgreSQL transactions on
its own before the first statement), runs the hot statements of
:mod:`basalt.persistence.sql.statements` on one DBAPI cursor, and commits or
rolls back on the DBAPI connection.

The Core paths (listing, migrations, rarely used methods) get a SQLAlchemy
Connection over the same DBAPI connection, made on first use only, so they see
and join the same transaction.

Errors look as they did under Core: DBAPI errors become SQLAlchemy DBAPIError
subclasses (IntegrityError, OperationalError, ...) naming the SQL, and a value
the codec refuses (a naive datetime) becomes a StatementError.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor, DBAPIModule
from sqlalchemy.pool import PoolProxiedConnection

from basalt.persistence.sql.statements import Statement


class UnitConnection:
    """A pooled DBAPI connection inside one open transaction; used by one thread."""

    __slots__ = ("dialect", "_engine", "_pooled", "_dbapi", "_cursor", "_core", "_broken")

    def __init__(self, engine: Engine, pooled: PoolProxiedConnection) -> None:
        self.dialect = engine.dialect
        self._engine = engine
        self._pooled = pooled
        dbapi = pooled.dbapi_connection
        assert dbapi is not None, "a checked-out connection has a DBAPI connection"
        self._dbapi: DBAPIConnection = dbapi
        self._cursor: DBAPICursor | None = None
        self._core: Connection | None = None
        self._broken = False

    @classmethod
    def open(cls, engine: Engine, *, write: bool) -> UnitConnection:
        """Check a connection out of the pool and begin a transaction on it.

        SQLite gets ``BEGIN IMMEDIATE`` for writers (the write lock up front, so a
        read-then-write unit never fails half-way on a lock upgrade) and a
        deferred ``BEGIN`` for readers, which WAL lets run beside a writer.

        Raises:
            sqlalchemy.exc.DBAPIError: the database cannot be reached or locked.
            sqlalchemy.exc.TimeoutError: no pooled connection came free in time.
        """
        error = engine.dialect.loaded_dbapi.Error
        try:
            pooled = engine.raw_connection()
        except error as exc:
            raise sa.exc.DBAPIError.instance(
                None, None, exc, error, dialect=engine.dialect
            ) from exc
        unit = cls(engine, pooled)
        try:
            unit._begin(write)
        except BaseException:
            unit.close()
            raise
        return unit

    @property
    def core(self) -> Connection:
        """A SQLAlchemy Connection in this unit's transaction, for the Core paths.

        Its ``begin()`` sends nothing: the DBAPI transaction is already open on
        SQLite (the engine's begin hook sees that and steps aside), and psycopg
        opens it before the first statement. Commit and rollback then go
        through this Connection, so SQLAlchemy's bookkeeping stays right.
        """
        if self._core is None:
            core = Connection(self._engine, connection=self._pooled)
            core.begin()
            self._core = core
        return self._core

    def convert(self, statement: Statement, values: Sequence[Any]) -> Sequence[Any]:
        """The DBAPI parameters for ``values``.

        Raises:
            sqlalchemy.exc.StatementError: a value its column cannot store.
        """
        try:
            return statement.parameters(values)
        except (TypeError, ValueError) as exc:
            message = f"({type(exc).__module__}.{type(exc).__name__}) {exc}"
            raise sa.exc.StatementError(message, statement.sql, values, exc) from exc

    def fetch(self, statement: Statement, values: Sequence[Any]) -> Sequence[Any]:
        """Every row ``statement`` returns, as DBAPI tuples (see ``Statement.mapping``)."""
        params = self.convert(statement, values)
        cursor = self._live_cursor()
        try:
            cursor.execute(statement.sql, params)
            return cursor.fetchall()
        except self.dialect.loaded_dbapi.Error as exc:
            raise self._wrap(exc, statement.sql, params) from exc

    def execute(self, statement: Statement, values: Sequence[Any]) -> int:
        """Run ``statement``; the number of rows it changed."""
        params = self.convert(statement, values)
        cursor = self._live_cursor()
        try:
            cursor.execute(statement.sql, params)
            return cursor.rowcount
        except self.dialect.loaded_dbapi.Error as exc:
            raise self._wrap(exc, statement.sql, params) from exc

    def commit(self) -> None:
        """Commit the unit's transaction.

        Raises:
            sqlalchemy.exc.DBAPIError: the database refused (PostgreSQL may check
                deferred constraints here) or the connection failed.
        """
        if self._core is not None:
            self._core.commit()  # SQLAlchemy wraps its own errors
            return
        try:
            self._dbapi.commit()
        except self.dialect.loaded_dbapi.Error as exc:
            raise self._wrap(exc, "COMMIT", None) from exc

    def rollback(self) -> None:
        """Roll back; never raises, since an error is already on its way out.

        A connection that cannot roll back is not trusted again: it is discarded
        on close instead of going back to the pool.
        """
        try:
            if self._core is not None:
                self._core.rollback()
            else:
                self._dbapi.rollback()
        except Exception:
            self._broken = True

    def close(self) -> None:
        """Give the connection back to the pool, or discard it when it broke."""
        if self._cursor is not None:
            try:
                self._cursor.close()
            except Exception:
                self._broken = True
        if self._core is not None:
            if self._broken:
                self._core.invalidate()
            self._core.close()
        elif self._broken:
            self._pooled.invalidate()  # closes it; the pool opens a fresh one when needed
        else:
            self._pooled.close()

    def _live_cursor(self) -> DBAPICursor:
        assert self._cursor is not None, "the unit is open"
        return self._cursor

    def _begin(self, write: bool) -> None:
        try:
            self._cursor = self._dbapi.cursor()
        except self.dialect.loaded_dbapi.Error as exc:
            self._broken = True
            raise self._wrap(exc, None, None) from exc
        if self.dialect.name == "sqlite":
            self._command("BEGIN IMMEDIATE" if write else "BEGIN")

    def _command(self, sql: str) -> None:
        try:
            self._live_cursor().execute(sql)
        except self.dialect.loaded_dbapi.Error as exc:
            raise self._wrap(exc, sql, None) from exc

    def _wrap(self, exc: DBAPIModule.Error, sql: str | None, params: Any) -> sa.exc.StatementError:
        """``exc`` as SQLAlchemy would have raised it; remembers a lost connection."""
        lost = self.dialect.is_disconnect(exc, self._dbapi, self._cursor)
        self._broken = self._broken or lost
        return sa.exc.DBAPIError.instance(
            sql,
            params,
            exc,
            self.dialect.loaded_dbapi.Error,
            connection_invalidated=lost,
            dialect=self.dialect,
        )

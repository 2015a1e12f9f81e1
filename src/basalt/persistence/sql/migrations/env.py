"""Alembic environment: runs on the connection that SqlDatabase.migrate() passes in.

There is no alembic.ini. ``SqlDatabase.migrate()`` builds the Config, opens a
transaction and hands its connection over in ``config.attributes["connection"]``,
so the whole upgrade commits or rolls back as one unit (both SQLite and
PostgreSQL have transactional DDL). SQLite gets batch mode, which later
migrations need to alter tables.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from basalt.persistence.sql.tables import metadata

config = context.config


def run_migrations_online(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("Basalt migrations run online only, through SqlDatabase.migrate()")
_connection = config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError("no connection given; run migrations through SqlDatabase.migrate()")
run_migrations_online(_connection)

"""The SQL store: SQLAlchemy Core repositories over SQLite or PostgreSQL, with Alembic."""

from basalt.persistence.sql.database import SqlDatabase, open_database

__all__ = ["SqlDatabase", "open_database"]

"""The SQL store over SQLite or PostgreSQL: repositories, Alembic migrations.

Hot statements run as precompiled SQL on the DBAPI cursor (statements.py, codec.py,
connection.py); listing, migrations and rare methods use SQLAlchemy Core.
"""

from basalt.persistence.sql.database import SqlDatabase, open_database

__all__ = ["SqlDatabase", "open_database"]

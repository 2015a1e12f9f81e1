"""The schema as SQLAlchemy Core tables, and the few dialect-portable helpers.

One ``Table`` per aggregate. This module describes the *current* schema; the
Alembic revisions under ``migrations/versions`` build it step by step and never
import this module, so old revisions stay as they were written. A contract test
checks that the migrated database and these tables agree.

Conventions:
- ids are UUID strings; statuses and phases hold the StrEnum value strings in
  plain VARCHAR columns (no CHECK constraints, so new states need no migration);
- every timestamp goes through :class:`UTCDateTime`;
- ``metadata``/``params``/``detail`` are JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Deterministic constraint names, so later migrations (and SQLite batch mode) can name them."""

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware in UTC.

    PostgreSQL stores ``timestamptz``. SQLite has no time zones: the value is
    stored as naive UTC text (fixed width, so text order is time order) and gets
    ``tzinfo=UTC`` back on read. Naive datetimes are refused, because their zone
    is a guess.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = to_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else utc_from_db(value)


def to_utc(value: datetime) -> datetime:
    """``value`` converted to UTC, for storage (the Core path and the fast path share it).

    Raises:
        ValueError: ``value`` is naive; its zone would be a guess.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} given; Basalt stores UTC only")
    return value.astimezone(UTC)


def utc_from_db(value: datetime) -> datetime:
    """A stored timestamp as an aware UTC datetime (SQLite hands back naive UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _id(name: str = "id", *args: Any, **kwargs: Any) -> sa.Column[str]:
    """A UUID-string column (ids of Basalt's own resources)."""
    return sa.Column(name, sa.String(36), *args, **kwargs)


volumes = sa.Table(
    "volumes",
    metadata,
    _id(primary_key=True),
    sa.Column("project_id", sa.String(255), nullable=False),
    sa.Column("user_id", sa.String(255), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.String(255), nullable=False),
    sa.Column("size_gib", sa.Integer, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("backend", sa.String(255), nullable=False),
    sa.Column("pool", sa.String(255), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("provider_location", sa.Text, nullable=True),
    _id("source_volume_id", nullable=True),
    _id("snapshot_id", nullable=True),
    sa.Column("bootable", sa.Boolean, nullable=False),
    sa.Column("availability_zone", sa.String(255), nullable=False),
    sa.Column("migration_status", sa.String(32), nullable=True),
    sa.Column("replication_status", sa.String(32), nullable=True),
    sa.Column("multiattach", sa.Boolean, nullable=False),
    sa.Column("readonly", sa.Boolean, nullable=False),
    _id("volume_type_id", nullable=True),  # set on every volume; nullable only for 0005
    _id("group_id", nullable=True),  # the group it is in (at most one)
    sa.Index(None, "project_id", "created_at"),
    sa.Index(None, "status"),
    sa.Index(None, "name"),
    sa.Index(None, "backend", "pool"),
    sa.Index(None, "group_id"),
)

snapshots = sa.Table(
    "snapshots",
    metadata,
    _id(primary_key=True),
    # RESTRICT: a volume row goes only after its snapshots' rows.
    _id("volume_id", sa.ForeignKey("volumes.id"), nullable=False),
    sa.Column("project_id", sa.String(255), nullable=False),
    sa.Column("user_id", sa.String(255), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.String(255), nullable=False),
    sa.Column("size_gib", sa.Integer, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("provider_location", sa.Text, nullable=True),
    _id("group_snapshot_id", nullable=True),  # a member of that group snapshot
    sa.Index(None, "project_id", "created_at"),
    sa.Index(None, "status"),
    sa.Index(None, "name"),
    sa.Index(None, "volume_id"),
    sa.Index(None, "group_snapshot_id"),
)

operations = sa.Table(
    "operations",
    metadata,
    _id(primary_key=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("resource_kind", sa.String(32), nullable=False),
    _id("resource_id", nullable=False),
    sa.Column("project_id", sa.String(255), nullable=False),
    sa.Column("phase", sa.String(32), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("request_id", sa.String(255), nullable=True),
    sa.Column("bytes_done", sa.BigInteger, nullable=False),
    sa.Column("bytes_total", sa.BigInteger, nullable=True),
    sa.Column("started_at", UTCDateTime, nullable=True),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    sa.Column("error_code", sa.String(64), nullable=True),
    sa.Column("message", sa.Text, nullable=True),
    sa.Column("hint", sa.Text, nullable=True),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("dismissed_at", UTCDateTime, nullable=True),  # its user message was dismissed
    sa.Index(None, "project_id", "created_at"),
    sa.Index(None, "phase"),
    sa.Index(None, "resource_id"),
)

attachments = sa.Table(
    "attachments",
    metadata,
    _id(primary_key=True),
    # RESTRICT: a volume with attachments is never deleted.
    _id("volume_id", sa.ForeignKey("volumes.id"), nullable=False),
    sa.Column("project_id", sa.String(255), nullable=False),
    sa.Column("user_id", sa.String(255), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("mode", sa.String(8), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("instance_id", sa.String(255), nullable=True),
    sa.Column("connector", sa.JSON, nullable=True),
    sa.Column("attached_host", sa.String(255), nullable=True),
    sa.Column("mountpoint", sa.String(255), nullable=True),
    sa.Column("attached_at", UTCDateTime, nullable=True),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Index(None, "volume_id"),
    sa.Index(None, "project_id", "created_at"),
    sa.Index(None, "status"),
)

volume_types = sa.Table(
    "volume_types",
    metadata,
    _id(primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("description", sa.String(255), nullable=False),
    sa.Column("is_public", sa.Boolean, nullable=False),
    sa.Column("extra_specs", sa.JSON, nullable=False),
    _id("qos_specs_id", nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

volume_type_access = sa.Table(
    "volume_type_access",
    metadata,
    # The projects that may use a private type; rows go with their type.
    _id("volume_type_id", sa.ForeignKey("volume_types.id"), nullable=False),
    sa.Column("project_id", sa.String(255), nullable=False),
    sa.PrimaryKeyConstraint("volume_type_id", "project_id"),
)

qos_specs = sa.Table(
    "qos_specs",
    metadata,
    _id(primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("consumer", sa.String(16), nullable=False),
    sa.Column("specs", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

transfers = sa.Table(
    "transfers",
    metadata,
    _id(primary_key=True),
    # No foreign key: an accepted transfer is a record that outlives its volume.
    _id("volume_id", nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("salt", sa.String(64), nullable=False),
    sa.Column("crypt_hash", sa.String(64), nullable=False),  # never the key itself
    sa.Column("source_project_id", sa.String(255), nullable=False),
    sa.Column("destination_project_id", sa.String(255), nullable=True),
    sa.Column("accepted", sa.Boolean, nullable=False),
    sa.Column("no_snapshots", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index(None, "source_project_id", "created_at"),
    sa.Index(None, "volume_id"),
)

group_types = sa.Table(
    "group_types",
    metadata,
    _id(primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("description", sa.String(255), nullable=False),
    sa.Column("is_public", sa.Boolean, nullable=False),
    sa.Column("group_specs", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

groups = sa.Table(
    "groups",
    metadata,
    _id(primary_key=True),
    sa.Column("project_id", sa.String(255), nullable=False),
    sa.Column("user_id", sa.String(255), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.String(255), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    # No foreign keys: a group type in use is refused deletion by the service.
    _id("group_type_id", nullable=False),
    sa.Column("volume_type_ids", sa.JSON, nullable=False),
    sa.Column("availability_zone", sa.String(255), nullable=False),
    sa.Column("backend", sa.String(255), nullable=True),
    _id("group_snapshot_id", nullable=True),
    _id("source_group_id", nullable=True),
    sa.Column("replication_status", sa.String(32), nullable=True),
    sa.Column("replication_target", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index(None, "project_id", "created_at"),
    sa.Index(None, "group_type_id"),
)

group_snapshots = sa.Table(
    "group_snapshots",
    metadata,
    _id(primary_key=True),
    sa.Column("project_id", sa.String(255), nullable=False),
    sa.Column("user_id", sa.String(255), nullable=False),
    _id("group_id", nullable=False),
    _id("group_type_id", nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.String(255), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("cut", sa.JSON, nullable=False),  # pause and per-member capture times
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index(None, "project_id", "created_at"),
    sa.Index(None, "group_id"),
)

services = sa.Table(
    "services",
    metadata,
    # One row per backend an administrator enabled or disabled (os-services); a
    # backend without a row is enabled.
    sa.Column("backend", sa.String(255), primary_key=True),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("disabled_reason", sa.String(255), nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("frozen", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("active_backend_id", sa.String(64), nullable=True),
    sa.Column("replication_status", sa.String(32), nullable=True),
)

volume_replicas = sa.Table(
    "volume_replicas",
    metadata,
    # One row per replicated volume: its last shipments to its replication target.
    sa.Column("volume_id", sa.String(36), primary_key=True),
    sa.Column("backend", sa.String(255), nullable=False, index=True),
    sa.Column("target_id", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("last_sync_at", UTCDateTime, nullable=True),
    sa.Column("last_attempt_at", UTCDateTime, nullable=True),
    sa.Column("last_duration_ms", sa.Float, nullable=True),
    sa.Column("last_bytes_shipped", sa.BigInteger, nullable=False),
    sa.Column("bytes_shipped_total", sa.BigInteger, nullable=False),
    sa.Column("syncs", sa.Integer, nullable=False),
    sa.Column("last_method", sa.String(16), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
)

QUOTA_FOR_EVERY_TYPE = ""
"""``volume_type_id`` of a limit that counts the volumes of every type (a key column
cannot be NULL, and the value must be comparable in ``ON CONFLICT``)."""

quotas = sa.Table(
    "quotas",
    metadata,
    # A project's own limits (os-quota-sets). A resource without a row has the default
    # quota class's limit, else the settings'. Usage is never stored: it is counted.
    sa.Column("project_id", sa.String(255), nullable=False),
    sa.Column("resource", sa.String(32), nullable=False),  # volumes, snapshots, gigabytes, ...
    sa.Column("volume_type_id", sa.String(36), nullable=False),  # or QUOTA_FOR_EVERY_TYPE
    sa.Column("hard_limit", sa.Integer, nullable=False),  # -1: unlimited
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("project_id", "resource", "volume_type_id"),
)

quota_classes = sa.Table(
    "quota_classes",
    metadata,
    # The limits of a quota class (only ``default`` is used: every project's fallback).
    sa.Column("class_name", sa.String(255), nullable=False),
    sa.Column("resource", sa.String(32), nullable=False),
    sa.Column("volume_type_id", sa.String(36), nullable=False),
    sa.Column("hard_limit", sa.Integer, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("class_name", "resource", "volume_type_id"),
)

chap_credentials = sa.Table(
    "chap_credentials",
    metadata,
    sa.Column("project_id", sa.String(255), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("secret", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# SQLite only autoincrements an INTEGER PRIMARY KEY (the rowid); PostgreSQL gets BIGSERIAL.
EVENT_ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", EVENT_ID_TYPE, primary_key=True, autoincrement=True),
    sa.Column("resource_kind", sa.String(32), nullable=False),
    _id("resource_id", nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    _id("operation_id", nullable=True),
    sa.Column("duration_ms", sa.Float, nullable=True),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Index(None, "resource_kind", "resource_id", "id"),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("project_id", sa.String(255), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("fingerprint", sa.String(255), nullable=False),
    _id("operation_id", nullable=False),
    _id("resource_id", nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("project_id", "key"),  # the unique key ON CONFLICT names
)


def insert_ignoring_conflict(
    conn: Connection, table: sa.Table, *, values: dict[str, Any], conflict_on: Sequence[str]
) -> sa.Executable:
    """``INSERT ... ON CONFLICT (conflict_on) DO NOTHING`` in the connection's dialect.

    Args:
        conn: the connection the statement will run on (its dialect picks the syntax).
        table: the target table.
        values: the row.
        conflict_on: the columns of the unique constraint that may conflict.

    Returns:
        The statement, ready to execute.

    Raises:
        ValueError: the dialect is neither SQLite nor PostgreSQL.
    """
    name = conn.dialect.name
    if name == "sqlite":
        return (
            sqlite.insert(table).values(values).on_conflict_do_nothing(index_elements=conflict_on)
        )
    if name == "postgresql":
        return (
            postgresql.insert(table)
            .values(values)
            .on_conflict_do_nothing(index_elements=conflict_on)
        )
    raise ValueError(f"unsupported database dialect {name!r}")

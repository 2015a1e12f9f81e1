"""Initial schema: volumes, snapshots, operations, events, idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2024-11-21

Hand-written; does not import basalt.persistence.sql.tables (see script.py.mako).
Timestamps are plain ``DateTime(timezone=True)`` here: the UTC handling lives in
the application's column type, not in the schema.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def _id(name: str = "id", *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(36), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "volumes",
        _id(),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("size_gib", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("backend", sa.String(255), nullable=False),
        sa.Column("pool", sa.String(255), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("provider_location", sa.Text(), nullable=True),
        _id("source_volume_id", nullable=True),
        _id("snapshot_id", nullable=True),
        sa.Column("bootable", sa.Boolean(), nullable=False),
        sa.Column("availability_zone", sa.String(255), nullable=False),
        sa.Column("migration_status", sa.String(32), nullable=True),
        sa.Column("replication_status", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_volumes"),
    )
    op.create_index("ix_volumes_project_id_created_at", "volumes", ["project_id", "created_at"])
    op.create_index("ix_volumes_status", "volumes", ["status"])
    op.create_index("ix_volumes_name", "volumes", ["name"])
    op.create_index("ix_volumes_backend_pool", "volumes", ["backend", "pool"])

    op.create_table(
        "snapshots",
        _id(),
        _id("volume_id"),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("size_gib", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("provider_location", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_snapshots"),
        sa.ForeignKeyConstraint(
            ["volume_id"], ["volumes.id"], name="fk_snapshots_volume_id_volumes"
        ),
    )
    op.create_index("ix_snapshots_project_id_created_at", "snapshots", ["project_id", "created_at"])
    op.create_index("ix_snapshots_status", "snapshots", ["status"])
    op.create_index("ix_snapshots_name", "snapshots", ["name"])
    op.create_index("ix_snapshots_volume_id", "snapshots", ["volume_id"])

    op.create_table(
        "operations",
        _id(),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("resource_kind", sa.String(32), nullable=False),
        _id("resource_id"),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("request_id", sa.String(255), nullable=True),
        sa.Column("bytes_done", sa.BigInteger(), nullable=False),
        sa.Column("bytes_total", sa.BigInteger(), nullable=True),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("hint", sa.Text(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_operations"),
    )
    op.create_index(
        "ix_operations_project_id_created_at", "operations", ["project_id", "created_at"]
    )
    op.create_index("ix_operations_phase", "operations", ["phase"])
    op.create_index("ix_operations_resource_id", "operations", ["resource_id"])

    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("resource_kind", sa.String(32), nullable=False),
        _id("resource_id"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        _id("operation_id", nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index(
        "ix_events_resource_kind_resource_id_id", "events", ["resource_kind", "resource_id", "id"]
    )

    op.create_table(
        "idempotency_keys",
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(255), nullable=False),
        _id("operation_id"),
        _id("resource_id"),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "key", name="pk_idempotency_keys"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_index("ix_events_resource_kind_resource_id_id", table_name="events")
    op.drop_table("events")
    for name in ("project_id_created_at", "phase", "resource_id"):
        op.drop_index(f"ix_operations_{name}", table_name="operations")
    op.drop_table("operations")
    for name in ("project_id_created_at", "status", "name", "volume_id"):
        op.drop_index(f"ix_snapshots_{name}", table_name="snapshots")
    op.drop_table("snapshots")
    for name in ("project_id_created_at", "status", "name", "backend_pool"):
        op.drop_index(f"ix_volumes_{name}", table_name="volumes")
    op.drop_table("volumes")

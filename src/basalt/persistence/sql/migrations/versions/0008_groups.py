"""Groups: group types, groups, group snapshots; volumes.group_id, snapshots.group_snapshot_id.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10

Existing volumes are in no group and existing snapshots in no group snapshot: the new
columns are nullable and need no fill.

Hand-written; does not import basalt.persistence.sql.tables (see script.py.mako).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def _id(name: str, *, nullable: bool) -> sa.Column[str]:
    return sa.Column(name, sa.String(36), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "group_types",
        _id("id", nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("group_specs", sa.JSON(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_group_types"),
        sa.UniqueConstraint("name", name="uq_group_types_name"),
    )
    op.create_table(
        "groups",
        _id("id", nullable=False),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        _id("group_type_id", nullable=False),
        sa.Column("volume_type_ids", sa.JSON(), nullable=False),
        sa.Column("availability_zone", sa.String(255), nullable=False),
        sa.Column("backend", sa.String(255), nullable=True),
        _id("group_snapshot_id", nullable=True),
        _id("source_group_id", nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_groups"),
    )
    op.create_index("ix_groups_project_id_created_at", "groups", ["project_id", "created_at"])
    op.create_index("ix_groups_group_type_id", "groups", ["group_type_id"])
    op.create_table(
        "group_snapshots",
        _id("id", nullable=False),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        _id("group_id", nullable=False),
        _id("group_type_id", nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("cut", sa.JSON(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_group_snapshots"),
    )
    op.create_index(
        "ix_group_snapshots_project_id_created_at",
        "group_snapshots",
        ["project_id", "created_at"],
    )
    op.create_index("ix_group_snapshots_group_id", "group_snapshots", ["group_id"])
    op.add_column("volumes", _id("group_id", nullable=True))
    op.create_index("ix_volumes_group_id", "volumes", ["group_id"])
    op.add_column("snapshots", _id("group_snapshot_id", nullable=True))
    op.create_index("ix_snapshots_group_snapshot_id", "snapshots", ["group_snapshot_id"])


def downgrade() -> None:
    op.drop_index("ix_snapshots_group_snapshot_id", table_name="snapshots")
    with op.batch_alter_table("snapshots") as batch:
        batch.drop_column("group_snapshot_id")
    op.drop_index("ix_volumes_group_id", table_name="volumes")
    with op.batch_alter_table("volumes") as batch:
        batch.drop_column("group_id")
    op.drop_index("ix_group_snapshots_group_id", table_name="group_snapshots")
    op.drop_index("ix_group_snapshots_project_id_created_at", table_name="group_snapshots")
    op.drop_table("group_snapshots")
    op.drop_index("ix_groups_group_type_id", table_name="groups")
    op.drop_index("ix_groups_project_id_created_at", table_name="groups")
    op.drop_table("groups")
    op.drop_table("group_types")

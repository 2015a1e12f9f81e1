"""Attachments, per-project CHAP credentials, and the volumes' multiattach flag.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Hand-written; does not import basalt.persistence.sql.tables (see script.py.mako).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def _id(name: str = "id", *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(36), nullable=nullable)


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite has it): batch mode would copy and drop the volumes
    # table, which foreign keys from snapshots forbid once there are rows.
    op.add_column(
        "volumes",
        sa.Column("multiattach", sa.Boolean(), nullable=False, server_default=sa.false()),
    )

    op.create_table(
        "attachments",
        _id(),
        _id("volume_id"),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("instance_id", sa.String(255), nullable=True),
        sa.Column("connector", sa.JSON(), nullable=True),
        sa.Column("attached_host", sa.String(255), nullable=True),
        sa.Column("mountpoint", sa.String(255), nullable=True),
        sa.Column("attached_at", TIMESTAMP, nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_attachments"),
        sa.ForeignKeyConstraint(
            ["volume_id"], ["volumes.id"], name="fk_attachments_volume_id_volumes"
        ),
    )
    op.create_index("ix_attachments_volume_id", "attachments", ["volume_id"])
    op.create_index(
        "ix_attachments_project_id_created_at", "attachments", ["project_id", "created_at"]
    )
    op.create_index("ix_attachments_status", "attachments", ["status"])

    op.create_table(
        "chap_credentials",
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("project_id", name="pk_chap_credentials"),
    )


def downgrade() -> None:
    op.drop_table("chap_credentials")
    op.drop_index("ix_attachments_status", table_name="attachments")
    op.drop_index("ix_attachments_project_id_created_at", table_name="attachments")
    op.drop_index("ix_attachments_volume_id", table_name="attachments")
    op.drop_table("attachments")
    op.drop_column("volumes", "multiattach")

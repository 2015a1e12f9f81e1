"""Replication: a backend's frozen flag and active target, and one record per replicated volume.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

The services columns are plain ADD COLUMNs (``frozen`` with a server default, the
others nullable). Hand-written; does not import basalt.persistence.sql.tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column(
        "services", sa.Column("frozen", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("services", sa.Column("active_backend_id", sa.String(64), nullable=True))
    op.add_column("services", sa.Column("replication_status", sa.String(32), nullable=True))
    op.create_table(
        "volume_replicas",
        sa.Column("volume_id", sa.String(36), nullable=False),
        sa.Column("backend", sa.String(255), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("last_sync_at", TIMESTAMP, nullable=True),
        sa.Column("last_attempt_at", TIMESTAMP, nullable=True),
        sa.Column("last_duration_ms", sa.Float(), nullable=True),
        sa.Column("last_bytes_shipped", sa.BigInteger(), nullable=False),
        sa.Column("bytes_shipped_total", sa.BigInteger(), nullable=False),
        sa.Column("syncs", sa.Integer(), nullable=False),
        sa.Column("last_method", sa.String(16), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("volume_id", name="pk_volume_replicas"),
    )
    op.create_index("ix_volume_replicas_backend", "volume_replicas", ["backend"])


def downgrade() -> None:
    op.drop_index("ix_volume_replicas_backend", table_name="volume_replicas")
    op.drop_table("volume_replicas")
    op.drop_column("services", "replication_status")
    op.drop_column("services", "active_backend_id")
    op.drop_column("services", "frozen")

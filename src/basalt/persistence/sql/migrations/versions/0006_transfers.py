"""Volume transfers between projects (salt and key hash only, never the key).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Hand-written; does not import basalt.persistence.sql.tables (see script.py.mako).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "transfers",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("volume_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("crypt_hash", sa.String(64), nullable=False),
        sa.Column("source_project_id", sa.String(255), nullable=False),
        sa.Column("destination_project_id", sa.String(255), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("no_snapshots", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_transfers"),
    )
    op.create_index(
        "ix_transfers_source_project_id_created_at",
        "transfers",
        ["source_project_id", "created_at"],
    )
    op.create_index("ix_transfers_volume_id", "transfers", ["volume_id"])


def downgrade() -> None:
    op.drop_index("ix_transfers_volume_id", table_name="transfers")
    op.drop_index("ix_transfers_source_project_id_created_at", table_name="transfers")
    op.drop_table("transfers")

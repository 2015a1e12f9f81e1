"""The volumes' readonly flag (os-update_readonly_flag).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Hand-written; does not import basalt.persistence.sql.tables (see script.py.mako).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: batch mode would copy and drop the volumes table (see 0002).
    op.add_column(
        "volumes", sa.Column("readonly", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.drop_column("volumes", "readonly")

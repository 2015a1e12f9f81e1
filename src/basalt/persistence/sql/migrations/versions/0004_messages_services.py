"""Dismissed user messages (operations.dismissed_at) and the backends' services table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

Hand-written; does not import basalt.persistence.sql.tables (see script.py.mako).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    # A plain ADD COLUMN of a nullable column: no batch copy of the table (see 0002).
    op.add_column("operations", sa.Column("dismissed_at", TIMESTAMP, nullable=True))
    op.create_table(
        "services",
        sa.Column("backend", sa.String(255), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(255), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("backend", name="pk_services"),
    )


def downgrade() -> None:
    op.drop_table("services")
    op.drop_column("operations", "dismissed_at")

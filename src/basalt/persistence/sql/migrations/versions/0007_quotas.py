"""Quotas: each project's own limits and the quota classes' limits.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08

Only limits are stored; usage is counted from the volume and snapshot rows when it
is needed, so nothing here has to be filled from the existing rows. A limit for
every volume type has ``volume_type_id`` '' (a key column cannot be NULL).

Hand-written; does not import basalt.persistence.sql.tables (see script.py.mako).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    for table, owner in (("quotas", "project_id"), ("quota_classes", "class_name")):
        op.create_table(
            table,
            sa.Column(owner, sa.String(255), nullable=False),
            sa.Column("resource", sa.String(32), nullable=False),
            sa.Column("volume_type_id", sa.String(36), nullable=False),
            sa.Column("hard_limit", sa.Integer(), nullable=False),
            sa.Column("updated_at", TIMESTAMP, nullable=False),
            sa.PrimaryKeyConstraint(owner, "resource", "volume_type_id", name=f"pk_{table}"),
        )


def downgrade() -> None:
    op.drop_table("quota_classes")
    op.drop_table("quotas")

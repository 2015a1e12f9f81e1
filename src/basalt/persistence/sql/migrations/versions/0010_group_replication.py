"""Group replication: a group's replication_status and the target it is failed over to.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

Both columns are nullable: existing groups have no replication of their own until
their type asks for it. Hand-written; does not import basalt.persistence.sql.tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("groups", sa.Column("replication_status", sa.String(32), nullable=True))
    op.add_column("groups", sa.Column("replication_target", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("groups", "replication_target")
    op.drop_column("groups", "replication_status")

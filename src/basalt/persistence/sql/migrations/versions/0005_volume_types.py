"""Volume types (extra specs, project access), QoS specs, and each volume's type.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

The default type (``__DEFAULT__``, public, no extra specs) is made here, as
Cinder's schema makes its own, and every existing volume gets it.

Hand-written; does not import basalt.persistence.sql.tables (see script.py.mako).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
DEFAULT_TYPE_NAME = "__DEFAULT__"


def upgrade() -> None:
    types = op.create_table(
        "volume_types",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("extra_specs", sa.JSON(), nullable=False),
        sa.Column("qos_specs_id", sa.String(36), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_volume_types"),
        sa.UniqueConstraint("name", name="uq_volume_types_name"),
    )
    op.create_table(
        "volume_type_access",
        sa.Column("volume_type_id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("volume_type_id", "project_id", name="pk_volume_type_access"),
        sa.ForeignKeyConstraint(
            ["volume_type_id"],
            ["volume_types.id"],
            name="fk_volume_type_access_volume_type_id_volume_types",
        ),
    )
    op.create_table(
        "qos_specs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("consumer", sa.String(16), nullable=False),
        sa.Column("specs", sa.JSON(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_qos_specs"),
        sa.UniqueConstraint("name", name="uq_qos_specs_name"),
    )
    # A plain ADD COLUMN of a nullable column: no batch copy of the table (see 0002).
    op.add_column("volumes", sa.Column("volume_type_id", sa.String(36), nullable=True))
    default_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    if op.get_context().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # stored as naive UTC text (tables.UTCDateTime)
    op.bulk_insert(
        types,
        [
            {
                "id": default_id,
                "name": DEFAULT_TYPE_NAME,
                "description": "Default Volume Type",
                "is_public": True,
                "extra_specs": {},
                "qos_specs_id": None,
                "created_at": now,
                "updated_at": now,
            }
        ],
    )
    volumes = sa.table("volumes", sa.column("volume_type_id", sa.String(36)))
    op.execute(volumes.update().values(volume_type_id=default_id))


def downgrade() -> None:
    op.drop_column("volumes", "volume_type_id")
    op.drop_table("qos_specs")
    op.drop_table("volume_type_access")
    op.drop_table("volume_types")

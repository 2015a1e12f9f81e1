"""Volume transfers: the SQL TransferRepository (SQLAlchemy Core; a rare path).

Who holds a transfer changes only through conditional UPDATEs and DELETEs whose
WHERE clause states the expected holder, so under READ COMMITTED (PostgreSQL) or
one writer (SQLite) exactly one of two racing accepts, or of an accept and a
cancel, sees its row count be 1.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from basalt.model.transfer import Transfer
from basalt.persistence.sql.connection import UnitConnection
from basalt.persistence.sql.tables import transfers

_NEWEST_FIRST = (transfers.c.created_at.desc(), transfers.c.id.desc())


def _transfer(m: Any) -> Transfer:
    return Transfer(
        id=m["id"],
        volume_id=m["volume_id"],
        name=m["name"],
        source_project_id=m["source_project_id"],
        created_at=m["created_at"],
        salt=m["salt"],
        crypt_hash=m["crypt_hash"],
        no_snapshots=bool(m["no_snapshots"]),
        destination_project_id=m["destination_project_id"],
        accepted=bool(m["accepted"]),
    )


class SqlTransferRepository:
    """Transfers in one transaction's connection."""

    def __init__(self, unit: UnitConnection) -> None:
        self._unit = unit

    def add(self, transfer: Transfer) -> None:
        """Insert a new transfer."""
        values = {
            "id": transfer.id,
            "volume_id": transfer.volume_id,
            "name": transfer.name,
            "salt": transfer.salt,
            "crypt_hash": transfer.crypt_hash,
            "source_project_id": transfer.source_project_id,
            "destination_project_id": transfer.destination_project_id,
            "accepted": transfer.accepted,
            "no_snapshots": transfer.no_snapshots,
            "created_at": transfer.created_at,
        }
        self._unit.core.execute(sa.insert(transfers).values(values))

    def get(self, transfer_id: str) -> Transfer | None:
        """The transfer with that id, or None."""
        row = self._unit.core.execute(
            sa.select(transfers).where(transfers.c.id == transfer_id)
        ).first()
        return None if row is None else _transfer(row._mapping)

    def find(
        self, *, project_id: str | None, volume_id: str | None = None, accepted: bool = False
    ) -> list[Transfer]:
        """The project's (None: every project's) transfers, accepted or not, newest first."""
        statement = sa.select(transfers).where(transfers.c.accepted.is_(accepted))
        if project_id is not None:
            statement = statement.where(transfers.c.source_project_id == project_id)
        if volume_id is not None:
            statement = statement.where(transfers.c.volume_id == volume_id)
        rows = self._unit.core.execute(statement.order_by(*_NEWEST_FIRST))
        return [_transfer(r._mapping) for r in rows]

    def claim(self, transfer_id: str, *, destination_project_id: str) -> bool:
        """Open -> being accepted by the project; False when it was not open."""
        return self._change(
            transfer_id,
            holder=None,
            values={"destination_project_id": destination_project_id},
        )

    def release(self, transfer_id: str, *, destination_project_id: str) -> bool:
        """Being accepted by the project -> open; False when the project held no claim."""
        return self._change(
            transfer_id, holder=destination_project_id, values={"destination_project_id": None}
        )

    def mark_accepted(self, transfer_id: str, *, destination_project_id: str) -> bool:
        """Being accepted by the project -> accepted; False when the project held no claim."""
        return self._change(transfer_id, holder=destination_project_id, values={"accepted": True})

    def withdraw(self, transfer_id: str, *, claimed_by: str | None = None) -> bool:
        """Delete it if not accepted and held by ``claimed_by`` (None: by nobody)."""
        statement = sa.delete(transfers).where(*self._held(transfer_id, claimed_by))
        return bool(self._unit.core.execute(statement).rowcount)

    def claimed(self) -> list[Transfer]:
        """Claimed and not accepted, oldest first."""
        statement = (
            sa.select(transfers)
            .where(transfers.c.accepted.is_(False), transfers.c.destination_project_id.is_not(None))
            .order_by(transfers.c.created_at, transfers.c.id)
        )
        return [_transfer(r._mapping) for r in self._unit.core.execute(statement)]

    def _change(self, transfer_id: str, *, holder: str | None, values: dict[str, Any]) -> bool:
        statement = sa.update(transfers).where(*self._held(transfer_id, holder)).values(values)
        return bool(self._unit.core.execute(statement).rowcount)

    @staticmethod
    def _held(transfer_id: str, holder: str | None) -> tuple[sa.ColumnElement[bool], ...]:
        destination = transfers.c.destination_project_id
        return (
            transfers.c.id == transfer_id,
            transfers.c.accepted.is_(False),
            destination.is_(None) if holder is None else destination == holder,
        )

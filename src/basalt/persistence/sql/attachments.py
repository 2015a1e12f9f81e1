"""Attachment and CHAP credential rows: the SQL implementations of their repositories.

Attach and detach are rare next to volume creates, so these run on SQLAlchemy Core.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from basalt.drivers.types import ChapCredentials
from basalt.model import Attachment, AttachMode, AttachStatus
from basalt.persistence.base import IN_CHUNK, chunks
from basalt.persistence.sql.connection import UnitConnection
from basalt.persistence.sql.statements import RowValues
from basalt.persistence.sql.tables import attachments, chap_credentials, insert_ignoring_conflict

_ORDER = (attachments.c.created_at.asc(), attachments.c.id.asc())


def _values(attachment: Attachment) -> dict[str, Any]:
    """Every column but ``id`` and ``status``."""
    return {
        "volume_id": attachment.volume_id,
        "project_id": attachment.project_id,
        "user_id": attachment.user_id,
        "mode": str(attachment.mode),
        "created_at": attachment.created_at,
        "updated_at": attachment.updated_at,
        "instance_id": attachment.instance_id,
        "connector": attachment.connector,
        "attached_host": attachment.attached_host,
        "mountpoint": attachment.mountpoint,
        "attached_at": attachment.attached_at,
        "metadata": dict(attachment.metadata),
    }


def _attachment(m: RowValues) -> Attachment:
    return Attachment(
        id=m["id"],
        volume_id=m["volume_id"],
        project_id=m["project_id"],
        user_id=m["user_id"],
        status=AttachStatus(m["status"]),
        mode=AttachMode(m["mode"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        instance_id=m["instance_id"],
        connector=None if m["connector"] is None else dict(m["connector"]),
        attached_host=m["attached_host"],
        mountpoint=m["mountpoint"],
        attached_at=m["attached_at"],
        metadata=dict(m["metadata"]),
    )


class SqlAttachmentRepository:
    """Attachments in one transaction's connection."""

    def __init__(self, unit: UnitConnection) -> None:
        self._core = unit.core

    def add(self, attachment: Attachment) -> None:
        """Insert a new attachment, status included."""
        values = {**_values(attachment), "id": attachment.id, "status": str(attachment.status)}
        self._core.execute(sa.insert(attachments).values(values))

    def get(self, attachment_id: str) -> Attachment | None:
        """The attachment with that id, or None."""
        row = self._core.execute(
            sa.select(attachments).where(attachments.c.id == attachment_id)
        ).first()
        return None if row is None else _attachment(row._mapping)

    def save(self, attachment: Attachment) -> None:
        """Write every field but ``status``."""
        self._core.execute(
            sa.update(attachments)
            .where(attachments.c.id == attachment.id)
            .values(_values(attachment))
        )

    def set_status(
        self,
        attachment_id: str,
        *,
        expected: Collection[AttachStatus],
        new: AttachStatus,
        updated_at: datetime,
    ) -> bool:
        """Compare-and-set the status; True when the row was in one of ``expected``."""
        result = self._core.execute(
            sa.update(attachments)
            .where(
                attachments.c.id == attachment_id,
                attachments.c.status.in_([str(s) for s in expected]),
            )
            .values(status=str(new), updated_at=updated_at)
        )
        return result.rowcount == 1

    def delete(self, attachment_id: str) -> None:
        """Remove the row (nothing happens when it is already gone)."""
        self._core.execute(sa.delete(attachments).where(attachments.c.id == attachment_id))

    def for_volume(self, volume_id: str) -> list[Attachment]:
        """A volume's attachments, oldest first."""
        statement = sa.select(attachments).where(attachments.c.volume_id == volume_id)
        return [_attachment(r._mapping) for r in self._core.execute(statement.order_by(*_ORDER))]

    def for_volumes(self, volume_ids: Collection[str]) -> dict[str, list[Attachment]]:
        """Each volume's attachments, oldest first; every id asked for is a key.

        One query per IN_CHUNK ids: a listing page asked one query per volume before.
        """
        found: dict[str, list[Attachment]] = {volume_id: [] for volume_id in volume_ids}
        for ids in chunks(list(found), IN_CHUNK):
            statement = sa.select(attachments).where(attachments.c.volume_id.in_(ids))
            for row in self._core.execute(statement.order_by(*_ORDER)):
                attachment = _attachment(row._mapping)
                found[attachment.volume_id].append(attachment)
        return found

    def find(
        self, *, project_id: str | None, volume_id: str | None = None, limit: int | None = None
    ) -> list[Attachment]:
        """Attachments of a project (every project when None), oldest first."""
        statement = sa.select(attachments).order_by(*_ORDER)
        if project_id is not None:
            statement = statement.where(attachments.c.project_id == project_id)
        if volume_id is not None:
            statement = statement.where(attachments.c.volume_id == volume_id)
        if limit is not None:
            statement = statement.limit(limit)
        return [_attachment(r._mapping) for r in self._core.execute(statement)]

    def in_statuses(self, statuses: Collection[AttachStatus]) -> list[Attachment]:
        """Attachments in any of ``statuses``, oldest first."""
        statement = (
            sa.select(attachments)
            .where(attachments.c.status.in_([str(s) for s in statuses]))
            .order_by(*_ORDER)
        )
        return [_attachment(r._mapping) for r in self._core.execute(statement)]


class SqlCredentialRepository:
    """Per-project CHAP credentials in one transaction's connection."""

    def __init__(self, unit: UnitConnection) -> None:
        self._core = unit.core

    def get(self, project_id: str) -> ChapCredentials | None:
        """The project's credentials, or None before its first export."""
        row = self._core.execute(
            sa.select(chap_credentials.c.username, chap_credentials.c.secret).where(
                chap_credentials.c.project_id == project_id
            )
        ).first()
        return None if row is None else ChapCredentials(username=row[0], secret=row[1])

    def claim(
        self, project_id: str, credentials: ChapCredentials, *, created_at: datetime
    ) -> ChapCredentials:
        """Store ``credentials`` unless the project has some; return what is stored."""
        values = {
            "project_id": project_id,
            "username": credentials.username,
            "secret": credentials.secret,
            "created_at": created_at,
        }
        self._core.execute(
            insert_ignoring_conflict(
                self._core, chap_credentials, values=values, conflict_on=["project_id"]
            )
        )
        stored = self.get(project_id)
        assert stored is not None, "credentials vanished inside their transaction"
        return stored

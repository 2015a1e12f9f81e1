"""The one clock Basalt reads (UTC, timezone-aware)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A new resource id (UUID4 string)."""
    return str(uuid.uuid4())

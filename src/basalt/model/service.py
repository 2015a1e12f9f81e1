"""Basalt's services as the Block Storage ``os-services`` API shows them.

Basalt runs as one process: it is the ``cinder-scheduler`` (host ``basalt``) and,
for each configured backend, a ``cinder-volume`` service whose host is
``basalt@<backend>``, the host part of volumes' ``os-vol-host-attr:host``. What an
administrator may change about a backend's service (whether it takes new volumes,
and why not) is stored as a :class:`ServiceRecord`; the rest is read from the
configuration and the driver each time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

HOST_PREFIX = "basalt"
"""The host name of the Basalt process; a backend's host is ``basalt@<backend>``."""
SCHEDULER_BINARY = "cinder-scheduler"
VOLUME_BINARY = "cinder-volume"


def backend_host(backend: str) -> str:
    """``file`` -> ``basalt@file``: the service host of a backend."""
    return f"{HOST_PREFIX}@{backend}"


def backend_of_host(host: str) -> str | None:
    """``basalt@file`` -> ``file``; None when ``host`` is not a backend's host."""
    prefix, at, backend = host.partition("@")
    if prefix != HOST_PREFIX or not at or not backend or "#" in backend:
        return None
    return backend


@dataclass(frozen=True, slots=True)
class ServiceRecord:
    """What Basalt stores about a backend's service: whether an administrator disabled
    or froze it, and where it serves from (replication).

    A backend without a record is enabled, not frozen, and serves from its own pools.
    """

    backend: str
    disabled: bool
    disabled_reason: str | None
    updated_at: datetime
    frozen: bool = False
    """Control-plane changes are refused (os-services freeze); I/O goes on."""
    active_backend_id: str | None = None
    """The replication target it serves from; None: its own pools."""
    replication_status: str | None = None
    """failing-over, failed-over or failover-error; None: as configured (enabled or
    disabled)."""


@dataclass(frozen=True, slots=True)
class Service:
    """One entry of ``GET /os-services``."""

    binary: str
    host: str
    zone: str
    disabled: bool
    up: bool
    updated_at: datetime | None
    disabled_reason: str | None = None
    backend: str | None = None
    """The backend of a cinder-volume service; None for the scheduler."""
    down_reason: str | None = None
    """Why the backend's driver could not report just now (state down)."""
    replication_status: str = "disabled"
    """disabled (no target), enabled, failing-over, failed-over or failover-error."""
    active_backend_id: str | None = None
    frozen: bool = False

    @property
    def status(self) -> str:
        """``enabled`` or ``disabled``, as the API names it."""
        return "disabled" if self.disabled else "enabled"

    @property
    def state(self) -> str:
        """``up`` or ``down``, as the API names it."""
        return "up" if self.up else "down"

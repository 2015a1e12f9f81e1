"""Replication: what each replicated volume's secondary copy is, and a backend's state.

A volume whose type says ``replication_enabled <is> True`` is placed only on a
backend with a replication target; it gets replication_status ``enabled`` and a
:class:`VolumeReplica` record, which Basalt's replicator updates after every
shipment (when the last one completed, what it carried, the error of the last
failed one). Lag is the age of the last completed shipment's point: what a
failover now would lose at most.

A backend's replication state (os-services ``replication_status``,
``active_backend_id``, ``frozen``) lives in its :class:`basalt.model.service.ServiceRecord`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ReplicationStatus(StrEnum):
    """Cinder's replication_status values, for volumes and backends alike."""

    DISABLED = "disabled"
    ENABLED = "enabled"
    ERROR = "error"
    FAILING_OVER = "failing-over"
    FAILED_OVER = "failed-over"
    FAILOVER_ERROR = "failover-error"


DEFAULT_BACKEND_ID = "default"
"""The ``backend_id`` of failback: the backend's own (primary) pools."""


@dataclass(slots=True)
class VolumeReplica:
    """The replication record of one replicated volume."""

    volume_id: str
    backend: str
    target_id: str
    """The replication target's backend_id."""
    created_at: datetime
    updated_at: datetime
    last_sync_at: datetime | None = None
    """When the point of the last completed shipment was taken."""
    last_attempt_at: datetime | None = None
    last_duration_ms: float | None = None
    last_bytes_shipped: int = 0
    bytes_shipped_total: int = 0
    syncs: int = 0
    """Completed shipments."""
    last_method: str | None = None
    error: str | None = None
    """Why the last shipment failed (None once one succeeds again)."""

    def lag_seconds(self, now: datetime) -> float | None:
        """Age of the last completed shipment's point; None before the first one."""
        if self.last_sync_at is None:
            return None
        return max(0.0, (now - self.last_sync_at).total_seconds())

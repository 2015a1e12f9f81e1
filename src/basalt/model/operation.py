"""Operation records: one per mutating request, with progress and outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from basalt.model.states import OperationPhase


class OperationKind(StrEnum):
    CREATE_VOLUME = "create_volume"
    CLONE_VOLUME = "clone_volume"
    CREATE_VOLUME_FROM_SNAPSHOT = "create_volume_from_snapshot"
    DELETE_VOLUME = "delete_volume"
    EXTEND_VOLUME = "extend_volume"
    REVERT_VOLUME = "revert_volume"
    MIGRATE_VOLUME = "migrate_volume"
    RETYPE_VOLUME = "retype_volume"
    UPDATE_VOLUME = "update_volume"
    MANAGE_VOLUME = "manage_volume"
    UNMANAGE_VOLUME = "unmanage_volume"
    CREATE_SNAPSHOT = "create_snapshot"
    DELETE_SNAPSHOT = "delete_snapshot"
    UPDATE_SNAPSHOT = "update_snapshot"
    MANAGE_SNAPSHOT = "manage_snapshot"
    UNMANAGE_SNAPSHOT = "unmanage_snapshot"
    RESERVE_VOLUME = "reserve_volume"
    ATTACH_VOLUME = "attach_volume"
    DETACH_VOLUME = "detach_volume"
    ACCEPT_TRANSFER = "accept_transfer"
    CREATE_GROUP = "create_group"
    CREATE_GROUP_FROM_SRC = "create_group_from_src"
    UPDATE_GROUP = "update_group"
    DELETE_GROUP = "delete_group"
    CREATE_GROUP_SNAPSHOT = "create_group_snapshot"
    DELETE_GROUP_SNAPSHOT = "delete_group_snapshot"
    FAILOVER_BACKEND = "failover_backend"
    FAILBACK_BACKEND = "failback_backend"
    FAILOVER_GROUP = "failover_group"
    FAILBACK_GROUP = "failback_group"


@dataclass(slots=True)
class Operation:
    """What a mutating request asked for and how far it got."""

    id: str
    kind: OperationKind
    resource_kind: str
    resource_id: str
    project_id: str
    phase: OperationPhase
    created_at: datetime
    updated_at: datetime
    request_id: str | None = None
    bytes_done: int = 0
    bytes_total: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error_code: str | None = None
    message: str | None = None
    hint: str | None = None
    params: dict[str, object] = field(default_factory=dict)
    dismissed_at: datetime | None = None
    """When the user message derived from this failed operation was dismissed
    (``DELETE /messages/{id}``); written only by ``OperationRepository.dismiss``."""

    @property
    def progress_percent(self) -> float | None:
        """Percent done, when the total is known."""
        if self.phase == OperationPhase.SUCCEEDED:
            return 100.0
        if not self.bytes_total:
            return None
        return min(100.0, 100.0 * self.bytes_done / self.bytes_total)

    @property
    def finished(self) -> bool:
        return self.phase not in (OperationPhase.PENDING, OperationPhase.RUNNING)

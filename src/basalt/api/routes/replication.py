"""/v3/{project_id}/volumes/{volume_id}/replication: a volume's replication (Basalt's own).

Cinder shows only ``replication_status`` in the volume; this adds when the last
shipment to the secondary completed, the lag (its age: what a failover now would
lose at most), the bytes shipped and the last error.
"""

from __future__ import annotations

from fastapi import Request

from basalt.api.auth import context_from
from basalt.api.responses import VolumeReplicationAnswer, answers
from basalt.api.routes.common import api_router, basalt_of
from basalt.api.schemas import stamp
from basalt.service.replication import VolumeReplication

router = api_router(prefix="/v3/{project_id}/volumes", tags=["volumes"])


@router.get("/{volume_id}/replication", **answers(VolumeReplicationAnswer))
def show_replication(project_id: str, volume_id: str, request: Request) -> dict[str, object]:
    """The volume's replication; status ``disabled`` and no figures when not replicated."""
    found = basalt_of(request).replication.volume_replication(volume_id, ctx=context_from(request))
    return {"replication": replication_view(volume_id, found)}


def replication_view(volume_id: str, found: VolumeReplication | None) -> dict[str, object]:
    """The ``replication`` object of one volume."""
    if found is None:
        return {
            "volume_id": volume_id,
            "status": "disabled",
            "target_id": None,
            "last_sync_at": None,
            "lag_seconds": None,
            "last_bytes_shipped": 0,
            "bytes_shipped_total": 0,
            "syncs": 0,
            "last_method": None,
            "last_duration_ms": None,
            "error": None,
        }
    return {
        "volume_id": found.volume_id,
        "status": found.status,
        "target_id": found.target_id,
        "last_sync_at": stamp(found.last_sync_at),
        "lag_seconds": found.lag_seconds,
        "last_bytes_shipped": found.last_bytes_shipped,
        "bytes_shipped_total": found.bytes_shipped_total,
        "syncs": found.syncs,
        "last_method": found.last_method,
        "last_duration_ms": found.last_duration_ms,
        "error": found.error,
    }

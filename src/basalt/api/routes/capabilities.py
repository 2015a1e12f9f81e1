"""/v3/{project_id}/capabilities/{hostname}: what a backend's driver reports (administrators)."""

from __future__ import annotations

from fastapi import Request

from basalt.api.auth import context_from
from basalt.api.responses import Capabilities, answers
from basalt.api.routes.common import api_router, basalt_of
from basalt.service.deployment import BackendCapabilities

router = api_router(prefix="/v3/{project_id}/capabilities", tags=["capabilities"])

# Capabilities a volume type could ask for, when some pool of the backend has them.
_PROPERTIES: dict[str, tuple[str, str]] = {
    "thin_provisioning": ("Thin Provisioning", "Volumes take space as data is written."),
    "reflink": ("Reflink", "Snapshots and clones share blocks and take constant time."),
    "qos": ("QoS", "The backend enforces IOPS limits per volume."),
    "multiattach": ("Multiattach", "A volume can be attached to several hosts at once."),
}


@router.get("/{hostname}", **answers(Capabilities))
def show_capabilities(project_id: str, hostname: str, request: Request) -> dict[str, object]:
    """The backend on ``basalt@<backend>``: vendor, driver, protocol, pools and properties."""
    found = basalt_of(request).deployment.capabilities(hostname, ctx=context_from(request))
    return capabilities_view(found)


def capabilities_view(found: BackendCapabilities) -> dict[str, object]:
    """Cinder's capabilities shape from the driver's stats."""
    stats = found.stats
    pools = stats.pools
    held = {
        "thin_provisioning": any(p.thin_provisioning for p in pools),
        "reflink": any(p.reflink for p in pools),
        "qos": any(p.capabilities.get("qos") is True for p in pools),
        "multiattach": True,  # the service's attachments, whatever the backend
    }
    return {
        "namespace": f"OS::Storage::Capabilities::{found.host}",
        "vendor_name": stats.vendor_name,
        "volume_backend_name": found.backend,
        "pool_name": pools[0].name if len(pools) == 1 else None,
        "driver_version": stats.driver_version,
        "storage_protocol": stats.storage_protocol,
        "display_name": f"Capabilities of backend {found.backend} ({found.driver} driver)",
        "description": f"What volumes on {found.host} can use, as its driver reports it.",
        "visibility": "public",
        "replication_targets": list(found.replication_targets),
        "properties": {
            name: {"title": title, "description": text, "type": "boolean"}
            for name, (title, text) in _PROPERTIES.items()
            if held[name]
        },
    }

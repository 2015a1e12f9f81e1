"""Backends and pools as the service sees them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from basalt.model import capacity


@dataclass(frozen=True, slots=True)
class Pool:
    """Capacity and capabilities of one pool, as last reported by its driver."""

    backend: str
    name: str
    driver: str
    total_capacity_gib: float
    free_capacity_gib: float
    provisioned_capacity_gib: float
    max_over_subscription_ratio: float
    thin_provisioning: bool
    reflink: bool
    location: str
    allocated_capacity_gib: float | None = None
    reserved_percentage: float = 0.0
    """Share of the total kept free (the backend's configuration)."""
    availability_zone: str = "nova"
    capabilities: Mapping[str, object] = field(default_factory=dict)
    """What the scheduler matches extra specs against (volume_backend_name,
    storage_protocol, QoS_support, multiattach...)."""

    @property
    def thin_ratio(self) -> float | None:
        """Provisioned over allocated capacity of the pool's own objects (how thin it is).

        None when the backend does not report allocation or nothing is allocated yet.
        """
        if not self.allocated_capacity_gib:
            return None
        return self.provisioned_capacity_gib / self.allocated_capacity_gib

    @property
    def provisionable_gib(self) -> float:
        """GiB of new volumes the pool can still take (the capacity rule, model/capacity.py)."""
        return capacity.provisionable_gib(self)

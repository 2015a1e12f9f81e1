"""Backends and pools as the service sees them."""

from __future__ import annotations

from dataclasses import dataclass


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
        """GiB that can still be promised under the over-subscription ratio."""
        limit = self.total_capacity_gib * self.max_over_subscription_ratio
        return max(0.0, limit - self.provisioned_capacity_gib)

"""What the scheduler decides over: the pools it may choose and the request it places.

Both are plain frozen values built by the service (pools from the drivers' stats and
the database, affinity hints already resolved from volume ids to backend names); the
scheduler never reads a database or calls a driver.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from basalt.errors import InvalidInputError
from basalt.model.service import backend_host


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolCandidate:
    """One pool as the scheduler sees it: where it is, whether it may take volumes,
    its capacity in GiB and what its driver reports it can do."""

    backend: str
    pool: str
    availability_zone: str
    total_capacity_gib: float
    free_capacity_gib: float
    provisioned_capacity_gib: float
    allocated_capacity_gib: float | None = None
    """What Basalt has placed on the pool, when known (else the allocated weigher uses
    the provisioned capacity)."""
    max_over_subscription_ratio: float = 1.0
    reserved_percentage: float = 0.0
    """Share of the total capacity kept free (0..100)."""
    thin_provisioning: bool = False
    enabled: bool = True
    """False when an administrator disabled the backend (os-services)."""
    disabled_reason: str | None = None
    up: bool = True
    """False when the backend's driver cannot report."""
    down_reason: str | None = None
    volume_count: int = 0
    capabilities: Mapping[str, object] = field(default_factory=dict)
    """What the driver reports: volume_backend_name, storage_protocol, vendor keys..."""

    def __post_init__(self) -> None:
        for name in ("total_capacity_gib", "free_capacity_gib", "provisioned_capacity_gib"):
            _require_gib(self, name, getattr(self, name))
        if self.allocated_capacity_gib is not None:
            _require_gib(self, "allocated_capacity_gib", self.allocated_capacity_gib)
        ratio = self.max_over_subscription_ratio
        if not (math.isfinite(ratio) and ratio > 0):
            raise InvalidInputError(
                f"pool {self.host} max_over_subscription_ratio", f"{ratio!r} is not above 0"
            )
        if not 0 <= self.reserved_percentage <= 100:
            raise InvalidInputError(
                f"pool {self.host} reserved_percentage",
                f"{self.reserved_percentage!r} not in 0..100",
            )
        if self.volume_count < 0:
            raise InvalidInputError(f"pool {self.host} volume_count", "is negative")

    @property
    def host(self) -> str:
        """``basalt@<backend>#<pool>``, the name Cinder's scheduler gives a pool."""
        return f"{backend_host(self.backend)}#{self.pool}"


def _require_gib(pool: PoolCandidate, name: str, value: float) -> None:
    if isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise InvalidInputError(f"pool {pool.host} {name}", f"{value!r} is not a size in GiB")


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleRequest:
    """Where may a new volume of ``size_gib`` go."""

    size_gib: int
    extra_specs: Mapping[str, str] = field(default_factory=dict)
    """The volume type's extra specs."""
    availability_zone: str | None = None
    """None: any zone."""
    same_backend_as: frozenset[str] = frozenset()
    """Backends the volume must share (resolved from the hint's volume ids)."""
    different_backend_from: frozenset[str] = frozenset()
    """Backends the volume must avoid."""

    def __post_init__(self) -> None:
        size = self.size_gib
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise InvalidInputError("size", f"{size!r} is not a whole number of GiB >= 1")

    def as_dict(self) -> dict[str, object]:
        """The request as JSON-able values (echoed in explanations)."""
        return {
            "size_gib": self.size_gib,
            "extra_specs": dict(self.extra_specs),
            "availability_zone": self.availability_zone,
            "same_backend_as": sorted(self.same_backend_as),
            "different_backend_from": sorted(self.different_backend_from),
        }


def consume(pool: PoolCandidate, size_gib: int) -> PoolCandidate:
    """The pool as it is once a new volume of ``size_gib`` is placed on it.

    Provisioned and allocated capacity grow by the size and the volume count by one,
    so decisions made before the next report see the earlier placements. Free
    capacity shrinks by the size (never below 0) on thick pools only: a new thin
    volume takes no space until it is written (a clone on a reflink pool, none even
    then), and the next stats report shows what writes took. Thin pools are held
    back by the over-subscription limit, which the provisioned growth moves.

    Args:
        pool: the pool before the placement.
        size_gib: the new volume's size.

    Returns:
        A new candidate; ``pool`` is unchanged.
    """
    allocated = pool.allocated_capacity_gib
    return PoolCandidate(  # not dataclasses.replace: this runs for every placement
        backend=pool.backend,
        pool=pool.pool,
        availability_zone=pool.availability_zone,
        total_capacity_gib=pool.total_capacity_gib,
        free_capacity_gib=pool.free_capacity_gib
        if pool.thin_provisioning
        else max(0.0, pool.free_capacity_gib - size_gib),
        provisioned_capacity_gib=pool.provisioned_capacity_gib + size_gib,
        allocated_capacity_gib=None if allocated is None else allocated + size_gib,
        max_over_subscription_ratio=pool.max_over_subscription_ratio,
        reserved_percentage=pool.reserved_percentage,
        thin_provisioning=pool.thin_provisioning,
        enabled=pool.enabled,
        disabled_reason=pool.disabled_reason,
        up=pool.up,
        down_reason=pool.down_reason,
        volume_count=pool.volume_count + 1,
        capabilities=pool.capabilities,
    )

"""Backends and pools: which drivers exist, their capacity, and where a volume goes.

Capacity comes from each driver's ``get_stats``, cached for a few seconds so the
create path does not walk a pool directory on every request.
"""

from __future__ import annotations

import builtins
import threading
import time
from collections.abc import Mapping

from basalt.config import BackendSettings
from basalt.drivers.base import VolumeDriver
from basalt.drivers.types import BackendStats
from basalt.errors import (
    BackendNotFoundError,
    InsufficientCapacityError,
    InvalidInputError,
    PoolNotFoundError,
)
from basalt.model import Pool

STATS_MAX_AGE_S = 5.0


class PoolService:
    """Knows every configured backend and pool."""

    def __init__(
        self, drivers: Mapping[str, VolumeDriver], settings: Mapping[str, BackendSettings]
    ) -> None:
        self._drivers = dict(drivers)
        self._settings = dict(settings)
        self._stats: dict[str, tuple[float, BackendStats]] = {}
        self._claimed: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    @property
    def backend_names(self) -> list[str]:
        return list(self._drivers)

    def driver(self, backend: str) -> VolumeDriver:
        """The driver of ``backend``.

        Raises:
            BackendNotFoundError: no such backend is configured.
        """
        try:
            return self._drivers[backend]
        except KeyError:
            raise BackendNotFoundError(backend) from None

    def list(self, *, refresh: bool = False) -> builtins.list[Pool]:
        """Every pool of every backend with its capacity."""
        return [pool for name in self._drivers for pool in self._pools_of(name, refresh=refresh)]

    def get(self, backend: str, pool: str, *, refresh: bool = False) -> Pool:
        """One pool.

        Raises:
            BackendNotFoundError, PoolNotFoundError: it does not exist.
        """
        for candidate in self._pools_of(backend, refresh=refresh):
            if candidate.name == pool:
                return candidate
        raise PoolNotFoundError(f"{backend}#{pool}")

    def resolve(self, spec: str | None) -> tuple[str, str]:
        """Turn ``backend#pool``, ``basalt@backend#pool``, ``pool`` or None into (backend, pool).

        None picks the pool that can still take the most GiB.

        Raises:
            InvalidInputError: the spec is ambiguous.
            BackendNotFoundError, PoolNotFoundError: it names nothing.
        """
        if spec is None:
            best = max(self.list(), key=lambda p: p.provisionable_gib)
            return best.backend, best.name
        text = spec.split("@", 1)[1] if "@" in spec else spec
        if "#" in text:
            backend, pool = text.split("#", 1)
            return backend, self.get(backend, pool).name
        if text in self._drivers:
            pools = self._pools_of(text)
            return text, max(pools, key=lambda p: p.provisionable_gib).name
        matches = [p for p in self.list() if p.name == text]
        if not matches:
            raise PoolNotFoundError(text)
        if len(matches) > 1:
            raise InvalidInputError(
                "pool", f"{text!r} exists on several backends; use backend#pool"
            )
        return matches[0].backend, matches[0].name

    def availability_zone(self, backend: str) -> str:
        """The availability zone a backend's volumes are in.

        Raises:
            BackendNotFoundError: no such backend.
        """
        self.driver(backend)
        return self._settings[backend].availability_zone

    def require_zone(self, backend: str, zone: str | None) -> None:
        """Refuse a placement outside the zone a request asked for (None: any zone).

        Raises:
            InvalidInputError: no configured backend is in that zone, or the chosen
                backend is not.
        """
        if zone is None or zone == self.availability_zone(backend):
            return
        zones = sorted({s.availability_zone for s in self._settings.values()})
        if zone not in zones:
            raise InvalidInputError(
                "availability_zone",
                f"{zone[:64]!r} is not a zone of this deployment",
                hint=f"zones: {', '.join(zones)}",
            )
        raise InvalidInputError(
            "availability_zone",
            f"the volume would be placed on backend {backend}, in zone "
            f"{self.availability_zone(backend)!r}, not {zone!r}",
            hint="name a pool in that zone, or leave the zone out",
        )

    def claim_capacity(self, backend: str, pool: str, size_gib: int) -> None:
        """Refuse a request the pool cannot provision, else count it as provisioned.

        The count is added to the cached figures until the next refresh from the
        driver (at most STATS_MAX_AGE_S later), so a burst of creates cannot all
        pass on one stale figure.

        Raises:
            InsufficientCapacityError: it does not fit under the over-subscription ratio.
        """
        target = self.get(backend, pool)
        if size_gib > target.provisionable_gib:
            target = self.get(backend, pool, refresh=True)
        with self._lock:
            claimed = self._claimed.get((backend, pool), 0)
            available = max(0.0, target.provisionable_gib - claimed)
            if size_gib > available:
                raise InsufficientCapacityError(
                    pool=f"{backend}#{pool}", requested_gib=size_gib, available_gib=available
                )
            self._claimed[(backend, pool)] = claimed + size_gib

    def _pools_of(self, backend: str, *, refresh: bool = False) -> builtins.list[Pool]:
        driver = self.driver(backend)
        settings = self._settings[backend]
        now = time.monotonic()
        with self._lock:
            cached = self._stats.get(backend)
        if refresh or cached is None or now - cached[0] > STATS_MAX_AGE_S:
            cached = (now, driver.get_stats())
            with self._lock:
                self._stats[backend] = cached
                for key in [k for k in self._claimed if k[0] == backend]:
                    del self._claimed[key]
        return [
            Pool(
                backend=backend,
                name=p.name,
                driver=driver.driver_name,
                total_capacity_gib=p.total_capacity_gib,
                free_capacity_gib=p.free_capacity_gib,
                provisioned_capacity_gib=p.provisioned_capacity_gib,
                max_over_subscription_ratio=settings.max_over_subscription_ratio,
                thin_provisioning=p.thin_provisioning,
                reflink=p.reflink,
                location=p.location,
                allocated_capacity_gib=p.allocated_capacity_gib,
            )
            for p in cached[1].pools
        ]

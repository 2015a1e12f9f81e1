"""Backends and pools: which drivers exist, their capacity and whether they are up.

Where a new volume goes is decided by ``placement`` (service/placement.py) from
what this service reports.

Capacity comes from each driver's ``get_stats``, cached for a few seconds so the
create path does not walk a pool directory on every request. A failed report is
remembered for as long, so asking whether a backend is up (os-services, zones)
never calls a remote array more often than that.

New volumes go only to enabled backends. Which backends an administrator
disabled is read through a loader (the service records in the database) and
cached for DISABLED_MAX_AGE_S: a change made in this process applies at once
(:meth:`PoolService.forget_disabled`), one made by another process (the CLI
next to ``basalt serve``) within that time.
"""

from __future__ import annotations

import builtins
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from basalt.config import BackendSettings
from basalt.drivers.base import VolumeDriver
from basalt.drivers.types import BackendStats
from basalt.errors import (
    BackendDisabledError,
    BackendFrozenError,
    BackendNotFoundError,
    BasaltError,
    InvalidInputError,
    PoolNotFoundError,
)
from basalt.model import Pool
from basalt.service.clock import utcnow
from basalt.service.placement import Placement, VolumeCounts, pool_capabilities
from basalt.service.scheduler.settings import SchedulerSettings

STATS_MAX_AGE_S = 5.0
DISABLED_MAX_AGE_S = 2.0
DisabledLoader = Callable[[], Mapping[str, str | None]]
"""Returns the disabled backends and their reasons; opens its own read transaction."""


@dataclass(frozen=True, slots=True)
class BackendReport:
    """What a backend's driver last said about it, at most STATS_MAX_AGE_S old."""

    backend: str
    stats: BackendStats | None
    """None when the driver could not report (the backend is down)."""
    reported_at: datetime | None
    """When the driver last reported successfully (None: never since start)."""
    error: str | None = None
    """Why the last attempt failed, when it did."""

    @property
    def up(self) -> bool:
        return self.stats is not None


class PoolService:
    """Knows every configured backend and pool."""

    def __init__(
        self,
        drivers: Mapping[str, VolumeDriver],
        settings: Mapping[str, BackendSettings],
        *,
        disabled: DisabledLoader | None = None,
        scheduler: SchedulerSettings | None = None,
        volume_counts: VolumeCounts | None = None,
    ) -> None:
        self._drivers = dict(drivers)
        self._settings = dict(settings)
        self._stats: dict[str, tuple[float, BackendStats]] = {}
        self._failures: dict[str, tuple[float, str]] = {}
        self._reported_at: dict[str, datetime] = {}
        self._load_disabled: DisabledLoader = disabled or dict
        self._disabled: tuple[float, dict[str, str | None]] | None = None
        self._frozen: set[str] = set()
        self._lock = threading.Lock()
        self.placement = Placement(self, scheduler or SchedulerSettings(), volume_counts or dict)
        """Where new volumes go, and the capacity claims counted between reports."""

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

    def settings_of(self, backend: str) -> BackendSettings:
        """The configuration of ``backend``.

        Raises:
            BackendNotFoundError: no such backend is configured.
        """
        try:
            return self._settings[backend]
        except KeyError:
            raise BackendNotFoundError(backend) from None

    def report(self, backend: str) -> BackendReport:
        """Whether the backend's driver can report, and what it said.

        Reuses the last answer, good or bad, while it is younger than
        STATS_MAX_AGE_S; only then asks the driver again.

        Raises:
            BackendNotFoundError: no such backend is configured.
        """
        self.driver(backend)
        now = time.monotonic()
        with self._lock:
            cached = self._stats.get(backend)
            failure = self._failures.get(backend)
            reported_at = self._reported_at.get(backend)
        if failure is not None and now - failure[0] <= STATS_MAX_AGE_S:
            return BackendReport(backend, None, reported_at, failure[1])
        if cached is not None and now - cached[0] <= STATS_MAX_AGE_S:
            return BackendReport(backend, cached[1], reported_at)
        try:
            stats = self._stats_of(backend, refresh=True)
        except Exception as exc:  # noqa: BLE001 - a driver that cannot report is down
            return BackendReport(backend, None, reported_at, _reason(exc))
        with self._lock:
            return BackendReport(backend, stats, self._reported_at.get(backend))

    def disabled_backends(self) -> dict[str, str | None]:
        """The backends an administrator disabled, with their reasons.

        Call it outside any transaction: the loader opens its own.
        """
        now = time.monotonic()
        with self._lock:
            cached = self._disabled
        if cached is None or now - cached[0] > DISABLED_MAX_AGE_S:
            cached = (now, dict(self._load_disabled()))
            with self._lock:
                self._disabled = cached
        return dict(cached[1])

    def forget_disabled(self) -> None:
        """Read the disabled backends again on next use (after this process changed them)."""
        with self._lock:
            self._disabled = None

    def set_frozen(self, backend: str, frozen: bool) -> None:
        """Record that the backend is (no longer) frozen; the database holds the truth,
        loaded here at start (one process owns the operations of its database)."""
        with self._lock:
            (self._frozen.add if frozen else self._frozen.discard)(backend)

    def require_not_frozen(self, backend: str, action: str) -> None:
        """The one check of freeze: control-plane changes of a frozen backend's volumes
        and snapshots are refused (attach, detach and I/O go on).

        Raises:
            BackendFrozenError: naming the backend and the action.
        """
        with self._lock:
            frozen = backend in self._frozen
        if frozen:
            raise BackendFrozenError(backend, action)

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

    def resolve(self, spec: str | None, *, new_volume: bool = False) -> tuple[str, str]:
        """Turn ``backend#pool``, ``basalt@backend#pool``, ``pool`` or None into (backend, pool).

        None picks the pool that can still take the most GiB.

        Args:
            spec: what the caller named, or None.
            new_volume: the pool is for a new volume: disabled backends are skipped
                (None) or refused (named). Work on existing volumes passes False.

        Raises:
            InvalidInputError: the spec is ambiguous.
            BackendNotFoundError, PoolNotFoundError: it names nothing.
            BackendDisabledError: a new volume, and no enabled backend fits the spec.
        """
        disabled = self.disabled_backends() if new_volume else {}
        if spec is None:
            enabled = [name for name in self._drivers if name not in disabled]
            if not enabled:
                raise BackendDisabledError(disabled)
            candidates = [pool for name in enabled for pool in self._pools_of(name)]
            best = max(candidates, key=lambda p: p.provisionable_gib)
            return best.backend, best.name
        backend, pool = self._named(spec)
        if backend in disabled:
            raise BackendDisabledError({backend: disabled[backend]})
        return backend, pool

    def _named(self, spec: str) -> tuple[str, str]:
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

    def require_known_zone(self, zone: str | None) -> None:
        """Refuse a zone no configured backend is in (None: any zone).

        Raises:
            InvalidInputError: no backend is in that zone.
        """
        zones = sorted({s.availability_zone for s in self._settings.values()})
        if zone is not None and zone not in zones:
            raise InvalidInputError(
                "availability_zone",
                f"{zone[:64]!r} is not a zone of this deployment",
                hint=f"zones: {', '.join(zones)}",
            )

    def require_zone(self, backend: str, zone: str | None) -> None:
        """Refuse a placement outside the zone a request asked for (None: any zone).

        Raises:
            InvalidInputError: no configured backend is in that zone, or the chosen
                backend is not.
        """
        if zone is None or zone == self.availability_zone(backend):
            return
        self.require_known_zone(zone)
        raise InvalidInputError(
            "availability_zone",
            f"the volume would be placed on backend {backend}, in zone "
            f"{self.availability_zone(backend)!r}, not {zone!r}",
            hint="name a pool in that zone, or leave the zone out",
        )

    def refresh(self, backend: str) -> None:
        """Ask the backend's driver for its figures now (a failure is remembered).

        Raises:
            BackendNotFoundError: no such backend is configured.
        """
        try:
            self._stats_of(backend, refresh=True)
        except BackendNotFoundError:
            raise
        except Exception:  # noqa: BLE001 - report() tells the backend is down, and why
            return

    def last_stats(self, backend: str) -> BackendStats | None:
        """What the backend's driver last reported successfully, however old (None: never)."""
        with self._lock:
            cached = self._stats.get(backend)
        return None if cached is None else cached[1]

    def _stats_of(self, backend: str, *, refresh: bool) -> BackendStats:
        """The backend's stats, from the cache unless stale or ``refresh``.

        Raises:
            whatever the driver's get_stats raises (remembered for report()).
        """
        driver = self.driver(backend)
        now = time.monotonic()
        with self._lock:
            cached = self._stats.get(backend)
        if refresh or cached is None or now - cached[0] > STATS_MAX_AGE_S:
            try:
                stats = driver.get_stats()
            except Exception as exc:
                with self._lock:
                    self._failures[backend] = (time.monotonic(), _reason(exc))
                raise
            cached = (now, stats)
            with self._lock:
                self._stats[backend] = cached
                self._failures.pop(backend, None)
                self._reported_at[backend] = utcnow()
        return cached[1]

    def _pools_of(self, backend: str, *, refresh: bool = False) -> builtins.list[Pool]:
        driver = self.driver(backend)
        settings = self._settings[backend]
        stats = self._stats_of(backend, refresh=refresh)
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
                reserved_percentage=settings.reserved_percentage,
                availability_zone=settings.availability_zone,
                capabilities=pool_capabilities(backend, settings, driver, stats, p),
            )
            for p in stats.pools
        ]


def _reason(error: BaseException) -> str:
    if isinstance(error, BasaltError):
        return str(error)
    return f"{type(error).__name__}: {error}"

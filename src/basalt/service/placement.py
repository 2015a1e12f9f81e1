"""Where new volumes go: the scheduler over the pools as their drivers last reported them.

The candidates are built from PoolService's reports (at most STATS_MAX_AGE_S old),
the disabled backends, each backend's configuration (zone, reserved percentage,
over-subscription ratio, volume_backend_name) and the volume count per pool. A
backend that cannot report is a candidate that is down, so explanations still
list it. The fast :class:`Scheduler` keeps them until a report or the disabled set
changes; between reports it counts every placement (the scheduler's choices,
pools named by callers, copies, migration destinations) and every extend's
growth, so a burst of requests cannot all pass on one stale figure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from basalt.config import BackendSettings
from basalt.drivers.base import SupportsQoS, SupportsReplication, VolumeDriver
from basalt.drivers.types import BackendStats, PoolStats
from basalt.errors import InsufficientCapacityError, NoValidBackendError, PoolNotFoundError
from basalt.model.capacity import fits, provisionable_gib
from basalt.model.service import backend_host
from basalt.service.scheduler import (
    Decision,
    Explanation,
    PoolCandidate,
    Scheduler,
    ScheduleRequest,
    explain,
)
from basalt.service.scheduler.filters import FILTERS
from basalt.service.scheduler.settings import SchedulerSettings
from basalt.service.scheduler.specs import compile_extra_specs

if TYPE_CHECKING:
    from basalt.service.pools import BackendReport, PoolService

VolumeCounts = Callable[[], Mapping[tuple[str, str], int]]
"""Returns how many volumes each (backend, pool) holds; opens its own read transaction."""
UNKNOWN_POOL = "unknown"
"""The pool name of a backend that has never reported (its pools are not known)."""


class Placement:
    """Chooses pools for new volumes and counts capacity claims between reports."""

    def __init__(
        self, pools: PoolService, settings: SchedulerSettings, volume_counts: VolumeCounts
    ) -> None:
        self._pools = pools
        self._settings = settings
        self._volume_counts = volume_counts
        self._scheduler: Scheduler | None = None
        self._seen: _Seen | None = None
        self._lock = threading.Lock()

    @property
    def settings(self) -> SchedulerSettings:
        return self._settings

    def candidates(self) -> tuple[PoolCandidate, ...]:
        """Every pool as the scheduler now sees it (placements since the last report counted)."""
        return self._current().pools

    def place(self, request: ScheduleRequest) -> Decision:
        """Choose the best pool for a new volume and count it there.

        Raises:
            NoValidBackendError: no pool passes every filter; it carries the explanation.
        """
        scheduler = self._current()
        with self._lock:
            return scheduler.place(request)

    def explain(self, request: ScheduleRequest) -> Explanation:
        """Every pool with each filter's verdict and each weigher's score for ``request``."""
        return self._current().explain(request)

    def place_on(
        self, backend: str, pool: str, request: ScheduleRequest, *, enabled: bool | None = None
    ) -> None:
        """Check a pool the caller chose against every filter, then count the volume there.

        Args:
            backend, pool: the chosen pool (it exists: the caller resolved it).
            request: the new volume.
            enabled: override the enabled filter's input (copies are made in their
                source's pool even when its backend is disabled); None: as it is.

        Raises:
            NoValidBackendError: the pool fails a filter; the explanation has only it.
        """
        scheduler = self._current()
        with self._lock:
            candidate = _candidate(scheduler, backend, pool)
            if enabled is not None:
                candidate = replace(candidate, enabled=enabled, disabled_reason=None)
            explanation = explain([candidate], request, self._settings)
            if explanation.chosen is None:
                raise NoValidBackendError(explanation.failure_summary(), lambda: explanation)
            scheduler.consume(candidate.host, request.size_gib)

    def unmet_in_place(self, backend: str, pool: str, request: ScheduleRequest) -> list[str]:
        """Why a volume already in the pool cannot stay there under the request's type:
        every filter but capacity (the volume holds its space already), the pool taken
        as enabled (a disabled backend keeps serving its volumes).

        Returns:
            The reasons of the filters the pool fails (empty: it meets them all).
        """
        candidate = _candidate(self._current(), backend, pool)
        candidate = replace(candidate, enabled=True, disabled_reason=None)
        specs = compile_extra_specs(request.extra_specs)
        return [
            verdict.reason
            for name in self._settings.filters
            if name != "capacity"
            for verdict in [FILTERS[name].verdict(candidate, request, specs)]
            if not verdict.passed
        ]

    def claim(self, backend: str, pool: str, size_gib: int) -> None:
        """Refuse ``size_gib`` more on a pool that cannot provision it, else count it.

        For growth of an existing volume (extend): only the capacity rule applies. New
        volumes, copies and migration destinations go through :meth:`place` or
        :meth:`place_on`, which count them the same way.

        Raises:
            InsufficientCapacityError: it does not fit (the backend's pools are read
                again first, in case the cached figures are stale).
        """
        for refresh in (False, True):
            if refresh:
                self._pools.refresh(backend)
            scheduler = self._current()
            with self._lock:
                candidate = _candidate(scheduler, backend, pool)
                if fits(candidate, size_gib):
                    scheduler.consume(candidate.host, size_gib)
                    return
        raise InsufficientCapacityError(
            pool=f"{backend}#{pool}",
            requested_gib=size_gib,
            available_gib=provisionable_gib(candidate),
        )

    def _current(self) -> Scheduler:
        """The scheduler, reloaded when a backend's report or the disabled set changed."""
        reports = tuple(self._pools.report(name) for name in self._pools.backend_names)
        seen = _Seen(reports, tuple(sorted(self._pools.disabled_backends().items())))
        with self._lock:
            if self._scheduler is not None and seen.same_as(self._seen):
                return self._scheduler
        counts = self._volume_counts()
        disabled = dict(seen.disabled)
        pools: list[PoolCandidate] = []
        for report in reports:
            stats = report.stats or self._pools.last_stats(report.backend)
            pools += self._candidates_of(
                report.backend, stats, disabled, counts, down=None if report.up else report.error
            )
        with self._lock:
            if self._scheduler is None:
                self._scheduler = Scheduler(pools, self._settings)
            else:
                self._scheduler.reload(pools)
            self._seen = seen
            return self._scheduler

    def _candidates_of(
        self,
        backend: str,
        stats: BackendStats | None,
        disabled: Mapping[str, str | None],
        counts: Mapping[tuple[str, str], int],
        *,
        down: str | None,
    ) -> list[PoolCandidate]:
        settings = self._pools.settings_of(backend)
        driver = self._pools.driver(backend)
        reported: Sequence[PoolStats] = (
            stats.pools if stats is not None else [_unknown_pool(backend)]
        )
        return [
            PoolCandidate(
                backend=backend,
                pool=p.name,
                availability_zone=settings.availability_zone,
                total_capacity_gib=p.total_capacity_gib,
                free_capacity_gib=p.free_capacity_gib,
                provisioned_capacity_gib=p.provisioned_capacity_gib,
                allocated_capacity_gib=p.allocated_capacity_gib,
                max_over_subscription_ratio=settings.max_over_subscription_ratio,
                reserved_percentage=settings.reserved_percentage,
                thin_provisioning=p.thin_provisioning,
                enabled=backend not in disabled,
                disabled_reason=disabled.get(backend),
                up=down is None,
                down_reason=down,
                volume_count=counts.get((backend, p.name), 0),
                capabilities=pool_capabilities(backend, settings, driver, stats, p),
            )
            for p in reported
        ]


def pool_capabilities(
    backend: str,
    settings: BackendSettings,
    driver: VolumeDriver,
    stats: BackendStats | None,
    pool: PoolStats,
) -> dict[str, object]:
    """What a pool offers, as volume types' extra specs name it (the one list of them).

    The driver's own capabilities come first; the keys Basalt defines win over them.

    Args:
        backend: the backend's name.
        settings: its configuration (volume_backend_name).
        driver: its driver (QoS support, name).
        stats: its last report (None: it never reported).
        pool: the pool's figures.

    Returns:
        volume_backend_name, pool_name, driver, QoS_support, multiattach,
        replication_enabled, thin/thick_provisioning_support, reflink, and once
        reported storage_protocol, vendor_name and driver_version.
    """
    found: dict[str, object] = {
        **pool.capabilities,
        "volume_backend_name": settings.volume_backend_name or backend,
        "pool_name": pool.name,
        "driver": driver.driver_name,
        "QoS_support": isinstance(driver, SupportsQoS),
        "multiattach": True,
        **_replication_capabilities(driver),
        "thin_provisioning_support": pool.thin_provisioning,
        "thick_provisioning_support": not pool.thin_provisioning,
        "reflink": pool.reflink,
    }
    if stats is not None:
        found.update(
            storage_protocol=stats.storage_protocol,
            vendor_name=stats.vendor_name,
            driver_version=stats.driver_version,
        )
    return found


def _replication_capabilities(driver: VolumeDriver) -> dict[str, object]:
    """replication_enabled (a target, and serving from its own pools: a failed-over backend
    takes no new replicated volumes), replication_type and replication_targets."""
    if not isinstance(driver, SupportsReplication) or not driver.replication_targets():
        return {"replication_enabled": False}
    return {
        "replication_enabled": driver.active_backend_id() is None,
        "replication_type": "async",
        "replication_targets": [t.backend_id for t in driver.replication_targets()],
    }


@dataclass(frozen=True, slots=True)
class _Seen:
    """What the candidates were built from."""

    reports: tuple[BackendReport, ...]
    disabled: tuple[tuple[str, str | None], ...]

    def same_as(self, before: _Seen | None) -> bool:
        """Whether nothing changed: the same report objects, not merely equal ones (a
        new report with equal figures already counts the placements made since)."""
        if before is None or self.disabled != before.disabled:
            return False
        if len(self.reports) != len(before.reports):
            return False
        return all(
            now.backend == then.backend and now.stats is then.stats and now.error == then.error
            for now, then in zip(self.reports, before.reports, strict=True)
        )


def _candidate(scheduler: Scheduler, backend: str, pool: str) -> PoolCandidate:
    """The scheduler's candidate for a pool.

    Raises:
        PoolNotFoundError: the backend does not report that pool (now).
    """
    host = f"{backend_host(backend)}#{pool}"
    for candidate in scheduler.pools:
        if candidate.host == host:
            return candidate
    raise PoolNotFoundError(f"{backend}#{pool}")


def _unknown_pool(backend: str) -> PoolStats:
    return PoolStats(
        name=UNKNOWN_POOL,
        total_capacity_gib=0.0,
        free_capacity_gib=0.0,
        provisioned_capacity_gib=0.0,
        thin_provisioning=True,
        reflink=False,
        location=f"backend {backend} has not reported",
    )

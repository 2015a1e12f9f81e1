"""The deployment itself: services (os-services), zones, capabilities, clusters, extensions.

Basalt is one process. It shows itself as the ``cinder-scheduler`` service on
host ``basalt`` and each configured backend as a ``cinder-volume`` service on
``basalt@<backend>``. A backend is *up* while its driver can report its stats
(the cached report of :meth:`PoolService.report`, so a remote array is asked at
most every few seconds) and *enabled* unless an administrator disabled it; a
disabled backend takes no new volumes (:meth:`PoolService.resolve`) while its
existing volumes keep working. Basalt runs no clusters: the cluster calls say so.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, replace
from typing import NoReturn

from basalt.drivers.base import SupportsReplication
from basalt.drivers.types import BackendStats
from basalt.errors import (
    BackendUnavailableError,
    ClusterNotFoundError,
    ExtensionNotFoundError,
    InvalidInputError,
    ServiceNotFoundError,
)
from basalt.model.extension import EXTENSIONS, Extension
from basalt.model.service import (
    HOST_PREFIX,
    SCHEDULER_BINARY,
    VOLUME_BINARY,
    Service,
    ServiceRecord,
    backend_host,
    backend_of_host,
)
from basalt.persistence.base import Database
from basalt.service.clock import utcnow
from basalt.service.context import RequestContext
from basalt.service.policy import authorize
from basalt.service.pools import PoolService

MAX_REASON_LENGTH = 255


@dataclass(frozen=True, slots=True)
class BackendCapabilities:
    """What a backend's driver reports it is and can do."""

    backend: str
    host: str
    driver: str
    stats: BackendStats
    replication_targets: tuple[str, ...] = ()
    """The backend_ids failover may name."""


def disabled_backends(db: Database) -> dict[str, str | None]:
    """The backends recorded as disabled, with their reasons (PoolService's loader).

    Raises:
        PersistenceError: the database failed.
    """
    with db.transaction(write=False) as tx:
        return {r.backend: r.disabled_reason for r in tx.services.all() if r.disabled}


class DeploymentService:
    """Services of this deployment, for administrators."""

    def __init__(
        self, *, db: Database, pools: PoolService, default_context: RequestContext
    ) -> None:
        self.db = db
        self.pools = pools
        self.default_context = default_context

    def services(
        self,
        *,
        host: str | None = None,
        binary: str | None = None,
        ctx: RequestContext | None = None,
    ) -> builtins.list[Service]:
        """The scheduler, then one cinder-volume service per backend.

        Args:
            host: only the services on this host (exact match).
            binary: only the services of this binary (exact match).
            ctx: the caller; the default context when None.

        Returns:
            The services; a backend's state is down when its driver cannot report now.

        Raises:
            PermissionDeniedError: the caller is not an administrator.
        """
        authorize(ctx or self.default_context, "service:get")
        found: builtins.list[Service] = []
        if host in (None, HOST_PREFIX) and binary in (None, SCHEDULER_BINARY):
            found.append(self._scheduler())
        if binary not in (None, VOLUME_BINARY):
            return found
        with self.db.transaction(write=False) as tx:
            records = {r.backend: r for r in tx.services.all()}
        for backend in self.pools.backend_names:
            if host in (None, backend_host(backend)):
                found.append(self._volume_service(backend, records.get(backend)))
        return found

    def enable(
        self, host: str, *, binary: str = VOLUME_BINARY, ctx: RequestContext | None = None
    ) -> Service:
        """Let a backend take new volumes again (and forget why it was disabled).

        Args:
            host: ``basalt@<backend>``.
            binary: ``cinder-volume`` (the scheduler is always enabled).
            ctx: the caller; the default context when None.

        Returns:
            The service as it is now.

        Raises:
            PermissionDeniedError: the caller is not an administrator.
            ServiceNotFoundError: no such service.
        """
        authorize(ctx or self.default_context, "service:update")
        if (host, binary) == (HOST_PREFIX, SCHEDULER_BINARY):
            return self._scheduler()
        backend = self._backend(host, binary)
        return self._store(backend, disabled=False, reason=None)

    def disable(
        self,
        host: str,
        *,
        binary: str = VOLUME_BINARY,
        reason: object = None,
        ctx: RequestContext | None = None,
    ) -> Service:
        """Stop placing new volumes on a backend; its volumes keep working.

        Args:
            host: ``basalt@<backend>``.
            binary: ``cinder-volume``.
            reason: why (at most 255 characters); None keeps an earlier reason.
            ctx: the caller; the default context when None.

        Returns:
            The service as it is now.

        Raises:
            PermissionDeniedError: the caller is not an administrator.
            ServiceNotFoundError: no such service.
            InvalidInputError: the scheduler was named, or the reason is not acceptable.
        """
        authorize(ctx or self.default_context, "service:update")
        if (host, binary) == (HOST_PREFIX, SCHEDULER_BINARY):
            raise InvalidInputError(
                "binary",
                "the cinder-scheduler service is the Basalt process itself and cannot be disabled",
                hint="disable a backend's cinder-volume service (host basalt@<backend>)",
            )
        checked = None if reason is None else _checked_reason(reason)
        backend = self._backend(host, binary)
        return self._store(backend, disabled=True, reason=checked)

    def availability_zones(
        self, *, ctx: RequestContext | None = None
    ) -> builtins.list[tuple[str, bool]]:
        """Each configured backend's zone, in configuration order, and whether it is
        available: some enabled backend in it is up.

        Raises:
            PermissionDeniedError: the caller may not read zones.
        """
        authorize(ctx or self.default_context, "availability_zone:get")
        with self.db.transaction(write=False) as tx:
            disabled = {r.backend for r in tx.services.all() if r.disabled}
        zones: dict[str, bool] = {}
        for backend in self.pools.backend_names:
            zone = self.pools.settings_of(backend).availability_zone
            usable = backend not in disabled and self.pools.report(backend).up
            zones[zone] = zones.get(zone, False) or usable
        return list(zones.items())

    def capabilities(self, host: str, *, ctx: RequestContext | None = None) -> BackendCapabilities:
        """What the backend on ``host`` (``basalt@<backend>``) reports.

        Raises:
            PermissionDeniedError: the caller is not an administrator.
            ServiceNotFoundError: no backend has that host.
            BackendUnavailableError: its driver cannot report right now.
        """
        authorize(ctx or self.default_context, "pool:get")
        backend = self._backend(host, VOLUME_BINARY)
        report = self.pools.report(backend)
        if report.stats is None:
            raise BackendUnavailableError(
                backend, f"cannot report its capabilities now: {report.error}"
            )
        driver = self.pools.driver(backend)
        targets = (
            tuple(t.backend_id for t in driver.replication_targets())
            if isinstance(driver, SupportsReplication)
            else ()
        )
        return BackendCapabilities(
            backend, backend_host(backend), driver.driver_name, report.stats, targets
        )

    def clusters(self, *, ctx: RequestContext | None = None) -> builtins.list[str]:
        """Cluster names: none, Basalt runs as one service process.

        Raises:
            PermissionDeniedError: the caller is not an administrator.
        """
        authorize(ctx or self.default_context, "cluster:get")
        return []

    def cluster(self, name: str, *, ctx: RequestContext | None = None) -> NoReturn:
        """One cluster: there are none.

        Raises:
            PermissionDeniedError: the caller is not an administrator.
            ClusterNotFoundError: always, once the caller may ask.
        """
        authorize(ctx or self.default_context, "cluster:get")
        raise ClusterNotFoundError(name[:255])

    def set_cluster_status(
        self, name: str, *, disabled: bool, ctx: RequestContext | None = None
    ) -> NoReturn:
        """Enable or disable a cluster: there are none.

        Raises:
            PermissionDeniedError: the caller is not an administrator.
            ClusterNotFoundError: always, once the caller may ask.
        """
        authorize(ctx or self.default_context, "cluster:update")
        raise ClusterNotFoundError(name[:255])

    def extensions(self, *, ctx: RequestContext | None = None) -> tuple[Extension, ...]:
        """The API extensions Basalt honours.

        Raises:
            PermissionDeniedError: the caller may not read them.
        """
        authorize(ctx or self.default_context, "extension:get")
        return EXTENSIONS

    def extension(self, alias: str, *, ctx: RequestContext | None = None) -> Extension:
        """One honoured extension by alias.

        Raises:
            PermissionDeniedError: the caller may not read them.
            ExtensionNotFoundError: Basalt does not honour it.
        """
        for extension in self.extensions(ctx=ctx):
            if extension.alias == alias:
                return extension
        raise ExtensionNotFoundError(alias[:64], hint="the extensions listing names them all")

    def _store(self, backend: str, *, disabled: bool, reason: str | None) -> Service:
        """Record the backend's status; a disable without a reason keeps an earlier one,
        an enable clears it."""
        with self.db.transaction() as tx:
            current = tx.services.get(backend)
            if disabled and reason is None and current is not None:
                reason = current.disabled_reason
            base = current or ServiceRecord(backend, False, None, utcnow())
            record = replace(
                base,
                disabled=disabled,
                disabled_reason=reason if disabled else None,
                updated_at=utcnow(),
            )
            tx.services.put(record)
        self.pools.forget_disabled()
        return self._volume_service(backend, record)

    def _backend(self, host: str, binary: str) -> str:
        backend = backend_of_host(host)
        if binary != VOLUME_BINARY or backend not in self.pools.backend_names:
            hosts = ", ".join(backend_host(b) for b in self.pools.backend_names)
            raise ServiceNotFoundError(
                host=str(host)[:255],
                binary=str(binary)[:64],
                hint=f"{SCHEDULER_BINARY} runs on {HOST_PREFIX}; {VOLUME_BINARY} on {hosts}",
            )
        assert backend is not None
        return backend

    def _scheduler(self) -> Service:
        zones = [self.pools.settings_of(b).availability_zone for b in self.pools.backend_names]
        return Service(
            binary=SCHEDULER_BINARY,
            host=HOST_PREFIX,
            zone=zones[0] if zones else "nova",
            disabled=False,
            up=True,  # it is the process answering
            updated_at=utcnow(),
        )

    def _volume_service(self, backend: str, record: ServiceRecord | None) -> Service:
        report = self.pools.report(backend)
        times = [report.reported_at, None if record is None else record.updated_at]
        known = [t for t in times if t is not None]
        return Service(
            binary=VOLUME_BINARY,
            host=backend_host(backend),
            zone=self.pools.settings_of(backend).availability_zone,
            disabled=record is not None and record.disabled,
            up=report.up,
            updated_at=max(known) if known else None,
            disabled_reason=None if record is None else record.disabled_reason,
            backend=backend,
            down_reason=report.error,
            replication_status=self._replication_status(backend, record),
            active_backend_id=None if record is None else record.active_backend_id,
            frozen=record is not None and record.frozen,
        )

    def _replication_status(self, backend: str, record: ServiceRecord | None) -> str:
        """disabled without a target; else the recorded state, enabled by default."""
        driver = self.pools.driver(backend)
        if not isinstance(driver, SupportsReplication) or not driver.replication_targets():
            return "disabled"
        return (record.replication_status if record is not None else None) or "enabled"


def _checked_reason(reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInputError("disabled_reason", "must be a non-empty string")
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidInputError(
            "disabled_reason", f"is {len(reason)} characters long; at most {MAX_REASON_LENGTH}"
        )
    return reason.strip()

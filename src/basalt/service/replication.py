"""Replication use cases: freeze and thaw a backend, fail it over and back, show lag.

An administrator acts on a backend's ``cinder-volume`` service (host
``basalt@<backend>``), as os-services does:

- **freeze** records the backend as frozen: every control-plane change of its
  volumes and snapshots is refused (:meth:`PoolService.require_not_frozen`)
  while attached hosts keep doing I/O; **thaw** lifts it.
- **failover** to a replication target is an operation on the backend: it stops
  shipping (waiting for a shipment under way), makes the secondary copies whole
  at their last completed shipment, serves the replicated volumes from them
  (re-pointing exported LUNs), marks them ``failed-over`` and the volumes without
  a copy ``error`` (as Cinder does), and records the target as the backend's
  active_backend_id. What was written after the last completed shipment is lost:
  that is the recovery point.
- **failback** (backend_id ``default``) copies what changed on the secondary
  copies back, serves from the primary again, gives the volumes failover put in
  error their status back, and replication resumes.

Every refusal (unknown target, frozen, already failed over, a volume busy) is
raised before anything is written.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, replace
from datetime import datetime

from basalt.drivers.base import SupportsReplication
from basalt.errors import (
    BackendFrozenError,
    FailoverStateError,
    InvalidInputError,
    NotSupportedError,
    ReplicationNotConfiguredError,
    ReplicationTargetNotFoundError,
    ServiceNotFoundError,
)
from basalt.model import (
    EventKind,
    Operation,
    OperationKind,
    Volume,
    VolumeStatus,
    volume_status_for,
)
from basalt.model.replication import DEFAULT_BACKEND_ID, ReplicationStatus, VolumeReplica
from basalt.model.service import VOLUME_BINARY, ServiceRecord, backend_host, backend_of_host
from basalt.model.states import BACKEND_REPLICATION_TRANSITIONS, VOLUME_BUSY, check_transition
from basalt.persistence.base import Transaction
from basalt.service.base import UseCases
from basalt.service.clock import utcnow
from basalt.service.context import RequestContext
from basalt.service.journal import move_volume
from basalt.service.pools import PoolService
from basalt.service.refs import volume_ref
from basalt.service.replicator import SHIPPING, Replicator, set_volume_replication
from basalt.service.runner import OperationHandle, OperationScope

V = VolumeStatus
R = ReplicationStatus
K = OperationKind


@dataclass(frozen=True, slots=True)
class VolumeReplication:
    """A replicated volume's replication as a caller sees it."""

    volume_id: str
    status: str
    """The volume's replication_status."""
    target_id: str
    last_sync_at: datetime | None
    lag_seconds: float | None
    """Age of the last completed shipment: at most what a failover now would lose."""
    last_bytes_shipped: int
    bytes_shipped_total: int
    syncs: int
    last_method: str | None
    last_duration_ms: float | None
    error: str | None


class ReplicationService(UseCases):
    """freeze, thaw, failover, failback (administrators) and replication status."""

    replicator: Replicator
    """Set by the Basalt facade."""

    # -- freeze and thaw -------------------------------------------------------------

    def freeze(self, host: str, *, ctx: RequestContext | None = None) -> ServiceRecord:
        """Refuse control-plane changes on the backend until it is thawed (I/O goes on).

        Raises:
            PermissionDeniedError, ServiceNotFoundError.
            NotSupportedError: the backend's driver does not replicate.
            ReplicationNotConfiguredError: it has no replication target.
        """
        return self._set_frozen(host, True, ctx)

    def thaw(self, host: str, *, ctx: RequestContext | None = None) -> ServiceRecord:
        """Accept control-plane changes on the backend again.

        Raises:
            As :meth:`freeze`.
        """
        return self._set_frozen(host, False, ctx)

    def _set_frozen(self, host: str, frozen: bool, ctx: RequestContext | None) -> ServiceRecord:
        self._ctx(ctx, "service:failover")
        backend = self._backend(host)
        driver = self._driver(backend, "thaw" if not frozen else "freeze")
        with self.db.transaction() as tx:
            record = replace(_record(tx, backend), frozen=frozen, updated_at=utcnow())
            tx.services.put(record)
        (driver.freeze if frozen else driver.thaw)()
        self.pools.set_frozen(backend, frozen)
        return record

    # -- failover and failback -----------------------------------------------------

    def failover(
        self, host: str, backend_id: str | None = None, *, ctx: RequestContext | None = None
    ) -> OperationHandle[ServiceRecord]:
        """Serve the backend from replication target ``backend_id`` (None: its only target),
        or from its own pools again (``default``: failback).

        Raises:
            PermissionDeniedError, ServiceNotFoundError.
            NotSupportedError: the driver does not replicate.
            ReplicationNotConfiguredError: the backend has no replication target.
            ReplicationTargetNotFoundError: no target of that backend_id.
            BackendFrozenError: the backend is frozen.
            FailoverStateError: already failed over (or not, for a failback), a failover
                under way, or a volume of the backend busy.
        """
        context = self._ctx(ctx, "service:failover")
        backend = self._backend(host)
        driver = self._driver(backend, "failover")
        targets = [t.backend_id for t in driver.replication_targets()]
        wanted = checked_target(backend_id, targets, backend)
        with self.db.transaction() as tx:
            record = _record(tx, backend)
            kind = self._check_failover(tx, record, wanted)
            status = record.replication_status or R.ENABLED
            _check_backend_move(backend, status, R.FAILING_OVER)
            tx.services.put(replace(record, replication_status=R.FAILING_OVER, updated_at=utcnow()))
            operation = self._new_operation(
                tx,
                kind=kind,
                resource_kind="backend",
                resource_id=backend,
                ctx=context,
                params={
                    "backend_id": wanted,
                    "from": str(status),
                    "target": record.active_backend_id if kind == K.FAILBACK_BACKEND else wanted,
                },
            )
        return self._start(
            operation,
            lambda scope: self.run_failover(scope, operation),
            lambda: self._record_of(backend),
        )

    def _check_failover(self, tx: Transaction, record: ServiceRecord, wanted: str) -> K:
        backend = record.backend
        if record.frozen:
            raise BackendFrozenError(backend, "fail over")
        status = record.replication_status or R.ENABLED
        if status == R.FAILING_OVER:
            raise FailoverStateError(backend, "a failover or failback is under way")
        if wanted == DEFAULT_BACKEND_ID:
            if status not in (R.FAILED_OVER, R.FAILOVER_ERROR):
                raise FailoverStateError(
                    backend,
                    "is not failed over: it serves from its own pools already",
                    hint="failback (backend_id default) follows a failover",
                )
            kind = K.FAILBACK_BACKEND
        else:
            if status in (R.FAILED_OVER, R.FAILOVER_ERROR):
                raise FailoverStateError(
                    backend,
                    f"is failed over to {record.active_backend_id} already",
                    hint="fail back first (backend_id default)",
                )
            kind = K.FAILOVER_BACKEND
        on_their_own = tx.groups.served_elsewhere(backend=backend)
        if on_their_own:
            group = on_their_own[0]
            raise FailoverStateError(
                backend,
                f"group {group.id} is {group.replication_status} to "
                f"{group.replication_target} on its own",
                hint="fail the group back first (failover_replication, secondary_backend_id "
                "default)",
            )
        busy = [v for v in tx.volumes.on_backend(backend) if v.status in VOLUME_BUSY]
        if busy:
            raise FailoverStateError(
                backend,
                f"volume {busy[0].id} is {busy[0].status} ({len(busy)} volume(s) busy)",
                hint="wait for their operations to finish",
            )
        return kind

    def run_failover(self, scope: OperationScope, operation: Operation) -> None:
        """The body of a failover or failback (also re-driven after a restart)."""
        backend = operation.resource_id
        wanted = str(operation.params["target"])
        driver = self._driver(backend, "failover")
        before = str(operation.params.get("from", R.ENABLED))
        try:
            with self.replicator.paused(backend):
                if operation.kind == K.FAILBACK_BACKEND:
                    self._failback(scope, driver, backend, wanted)
                else:
                    self._failover(scope, driver, backend, wanted)
        except Exception:
            self._after_failure(backend, driver, before)
            raise
        self.pools.refresh(backend)

    def _failover(
        self, scope: OperationScope, driver: SupportsReplication, backend: str, target: str
    ) -> None:
        with self.db.transaction(write=False) as tx:
            volumes = tx.volumes.on_backend(backend)
            replicated = _shipped(tx, backend, volumes)
        refs = [volume_ref(v) for v in volumes if v.id in replicated]
        scope.progress(0, len(volumes) + 1)
        lines = scope.driver_call("failover", lambda: driver.failover(target, refs))
        for line in lines:
            scope.note(EventKind.NOTE, line)
        errored = _str_map(scope.operation.params.get("errored"))
        with self.db.transaction() as tx:
            for volume in tx.volumes.on_backend(backend):
                if volume.id in replicated or volume.replication_status == R.FAILED_OVER:
                    set_volume_replication(
                        tx, volume, R.FAILED_OVER, operation_id=scope.operation.id
                    )
                elif volume.status in (V.AVAILABLE, V.IN_USE):
                    errored[volume.id] = str(volume.status)
                    move_volume(
                        tx,
                        volume,
                        V.ERROR,
                        action="fail over",
                        operation_id=scope.operation.id,
                        reason=f"backend {backend} failed over to {target}; this volume is "
                        "not replicated (or its group's replication is disabled) and its data "
                        "stays on the primary",
                    )
            scope.operation.params["errored"] = errored
            record = _record(tx, backend)
            _check_backend_move(backend, R.FAILING_OVER, R.FAILED_OVER)
            record = replace(
                record,
                replication_status=R.FAILED_OVER,
                active_backend_id=target,
                updated_at=utcnow(),
            )
            tx.services.put(record)
            scope.finish(tx, result=record)

    def _failback(
        self, scope: OperationScope, driver: SupportsReplication, backend: str, target: str
    ) -> None:
        with self.db.transaction(write=False) as tx:
            volumes = tx.volumes.on_backend(backend)
            errored = _errored_by_last_failover(tx, backend)
        # Everything served from the secondary comes back (the failed-over volumes and
        # those created meanwhile); not the volumes failover put in error, whose data
        # stayed on the primary (a secondary copy of one, if its group's replication was
        # disabled, is older than its primary file).
        refs = [volume_ref(v) for v in volumes if v.id not in errored]
        scope.driver_call(
            "failback", lambda: driver.failback(target, refs, progress=scope.progress)
        )
        with self.db.transaction() as tx:
            for volume in tx.volumes.on_backend(backend):
                if volume.replication_status == R.FAILED_OVER:
                    set_volume_replication(tx, volume, R.ENABLED, operation_id=scope.operation.id)
                elif volume.id in errored and volume.status == V.ERROR:
                    attachments = tx.attachments.for_volume(volume.id)
                    move_volume(
                        tx,
                        volume,
                        volume_status_for(a.status for a in attachments),
                        action="fail back",
                        operation_id=scope.operation.id,
                        reason=f"backend {backend} serves from its own pools again",
                    )
            record = _record(tx, backend)
            _check_backend_move(backend, R.FAILING_OVER, R.ENABLED)
            record = replace(
                record, replication_status=None, active_backend_id=None, updated_at=utcnow()
            )
            tx.services.put(record)
            scope.finish(tx, result=record)

    def _after_failure(self, backend: str, driver: SupportsReplication, before: str) -> None:
        """A failed failover or failback: record where the backend really serves from."""
        active = driver.active_backend_id()
        with self.db.transaction() as tx:
            record = _record(tx, backend)
            if record.replication_status != R.FAILING_OVER:
                return
            # Nothing switched: back where it was. Switched half-way: failover-error.
            status = before if active == record.active_backend_id else R.FAILOVER_ERROR
            _check_backend_move(backend, R.FAILING_OVER, status)
            tx.services.put(
                replace(
                    record,
                    replication_status=None if status == R.ENABLED else status,
                    active_backend_id=active,
                    updated_at=utcnow(),
                )
            )

    def recover(self, operation: Operation, scope: OperationScope) -> bool:
        """Re-drive a failover or failback a restart interrupted (its steps are idempotent)."""
        self.run_failover(scope, operation)
        return True

    # -- status --------------------------------------------------------------------

    def volume_replication(
        self, volume_id: str, *, ctx: RequestContext | None = None
    ) -> VolumeReplication | None:
        """The volume's replication: status, last shipment, lag. None: not replicated.

        Raises:
            VolumeNotFoundError: no such volume visible to the caller.
        """
        context = self._ctx(ctx, "volume_replication:get")
        with self.db.transaction(write=False) as tx:
            volume = self._volume(tx, volume_id, context)
            replica = tx.replicas.get(volume.id)
        if replica is None:
            return None
        return _view(replica, volume.replication_status or R.ENABLED)

    def replications(
        self, host: str, *, ctx: RequestContext | None = None
    ) -> builtins.list[VolumeReplication]:
        """Every replicated volume of the backend on ``host`` (administrators).

        Raises:
            PermissionDeniedError, ServiceNotFoundError.
        """
        self._ctx(ctx, "service:get")
        backend = self._backend(host)
        with self.db.transaction(write=False) as tx:
            replicas = tx.replicas.for_backend(backend)
            statuses = {v.id: v.replication_status for v in tx.volumes.on_backend(backend)}
        return [_view(r, statuses.get(r.volume_id) or R.ENABLED) for r in replicas]

    # -- helpers -------------------------------------------------------------------

    def _backend(self, host: object) -> str:
        if not isinstance(host, str) or not host:
            raise InvalidInputError("host", "is required (basalt@<backend>)")
        backend = backend_of_host(host) if "@" in host else host
        if backend not in self.pools.backend_names:
            hosts = ", ".join(backend_host(b) for b in self.pools.backend_names)
            raise ServiceNotFoundError(
                host=host[:255], binary=VOLUME_BINARY, hint=f"backends: {hosts}"
            )
        assert backend is not None
        return backend

    def _driver(self, backend: str, action: str) -> SupportsReplication:
        return replicating_driver(
            self.pools, backend, action, feature="replication (freeze, thaw, failover)"
        )

    def _record_of(self, backend: str) -> ServiceRecord:
        with self.db.transaction(write=False) as tx:
            return _record(tx, backend)


def _shipped(tx: Transaction, backend: str, volumes: builtins.list[Volume]) -> set[str]:
    """The backend's volumes whose copies are current: replicated, shipping not off."""
    replicated = {r.volume_id for r in tx.replicas.for_backend(backend)}
    return {v.id for v in volumes if v.id in replicated and v.replication_status in SHIPPING}


def replicating_driver(
    pools: PoolService, backend: str, action: str, *, feature: str
) -> SupportsReplication:
    """The backend's driver, once it replicates and has a target.

    Raises:
        NotSupportedError: its driver does not replicate (``feature`` names what was asked).
        ReplicationNotConfiguredError: it has no replication target.
    """
    driver = pools.driver(backend)
    if not isinstance(driver, SupportsReplication):
        raise NotSupportedError(backend, feature)
    if not driver.replication_targets():
        raise ReplicationNotConfiguredError(action, backend)
    return driver


def _str_map(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _record(tx: Transaction, backend: str) -> ServiceRecord:
    return tx.services.get(backend) or ServiceRecord(backend, False, None, utcnow())


def checked_target(backend_id: object, targets: list[str], backend: str) -> str:
    """The target a failover asks for: ``backend_id`` once it is known (None: the first).

    Raises:
        InvalidInputError, ReplicationTargetNotFoundError.
    """
    if backend_id is None:
        return targets[0]
    if not isinstance(backend_id, str) or not backend_id:
        raise InvalidInputError("backend_id", "must be a non-empty string")
    if backend_id != DEFAULT_BACKEND_ID and backend_id not in targets:
        raise ReplicationTargetNotFoundError(backend, backend_id[:64], targets)
    return backend_id


def _check_backend_move(backend: str, current: str, wanted: str) -> None:
    check_transition(
        BACKEND_REPLICATION_TRANSITIONS,
        kind="backend",
        resource_id=backend,
        current=current,
        wanted=wanted,
        action=f"set replication {wanted}",
    )


def _errored_by_last_failover(tx: Transaction, backend: str) -> dict[str, str]:
    """The volumes the backend's last finished failover put in error (not replicated)."""
    found = tx.operations.find(project_id=None, resource_id=backend, open_only=False, limit=50)
    for operation in sorted(found, key=lambda o: o.created_at, reverse=True):
        if operation.kind == K.FAILOVER_BACKEND and operation.finished:
            return _str_map(operation.params.get("errored"))
    return {}


def _view(replica: VolumeReplica, status: str) -> VolumeReplication:
    return VolumeReplication(
        volume_id=replica.volume_id,
        status=status,
        target_id=replica.target_id,
        last_sync_at=replica.last_sync_at,
        lag_seconds=replica.lag_seconds(utcnow()),
        last_bytes_shipped=replica.last_bytes_shipped,
        bytes_shipped_total=replica.bytes_shipped_total,
        syncs=replica.syncs,
        last_method=replica.last_method,
        last_duration_ms=replica.last_duration_ms,
        error=replica.error,
    )

"""The replicator: a thread that ships replicated volumes to their targets on schedule.

Every ``tick_seconds`` it looks, per backend that replicates and serves from its
own pools (not failed over, not failing over), for replicated volumes whose last
attempt is older than their target's interval and whose replication is on (not
``disabled`` by their group, not ``failed-over`` with it), and ships each through the
driver (:meth:`SupportsReplication.replicate_volume`). The point's time, the
bytes shipped and the error of a failed shipment go to the volume's
:class:`~basalt.model.replication.VolumeReplica`; a failure moves the volume's
replication_status to ``error`` and a later success back to ``enabled``.

Shipping one volume holds its backend's lock. Deleting a replica and failover
take the same lock, so neither runs in the middle of a shipment; failover also
pauses the backend (:meth:`Replicator.paused`), so nothing more is shipped.
The thread is owned by the Basalt instance: started after reconciliation,
stopped on close. Tests and benchmarks call :meth:`Replicator.run_once` instead.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

from basalt.drivers.base import SupportsReplication
from basalt.errors import InvalidStateError, NotSupportedError
from basalt.model import Event, EventKind, Volume, VolumeStatus
from basalt.model.group import Group
from basalt.model.replication import ReplicationStatus, VolumeReplica
from basalt.model.states import VOLUME_REPLICATION_TRANSITIONS, check_transition
from basalt.persistence.base import Database, Transaction
from basalt.service.clock import utcnow
from basalt.service.pools import PoolService
from basalt.service.refs import volume_ref

log = logging.getLogger(__name__)
V = VolumeStatus
SHIPPABLE = frozenset(
    {V.AVAILABLE, V.IN_USE, V.RESERVED, V.ATTACHING, V.DETACHING, V.AWAITING_TRANSFER}
)
"""Statuses in which a volume's file is whole and stays where it is."""
SHIPPING = frozenset({ReplicationStatus.ENABLED, ReplicationStatus.ERROR})
"""Replication statuses that are shipped: not ``disabled`` (its group's replication is
off) nor ``failed-over`` (served from its copy)."""


@dataclass(frozen=True, slots=True)
class ShipOutcome:
    """What one shipment of one volume did (for tests, benchmarks and the log)."""

    volume_id: str
    backend: str
    bytes_shipped: int
    full: bool
    method: str
    error: str | None = None


class Replicator:
    """Ships replicated volumes on schedule (see the module docstring).

    Args:
        db: the store.
        pools: the backends and their drivers.
        tick_seconds: how often the thread looks for due volumes.
    """

    def __init__(self, *, db: Database, pools: PoolService, tick_seconds: float = 1.0) -> None:
        self.db = db
        self.pools = pools
        self.tick_seconds = tick_seconds
        self._locks = {name: threading.Lock() for name in pools.backend_names}
        self._paused: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the thread ----------------------------------------------------------------

    def start(self) -> None:
        """Start the thread (once); nothing happens if no backend replicates."""
        if self._thread is not None or not self.replicating_backends():
            return
        self._thread = threading.Thread(target=self._loop, name="basalt-replicator", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread, letting a shipment in progress finish. Idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - the thread must outlive any one failure
                log.exception("replication pass failed")
            self._stop.wait(self.tick_seconds)

    # -- coordination ----------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, backend: str) -> Iterator[None]:
        """Hold the backend's shipping lock (no shipment runs meanwhile)."""
        with self._locks[backend]:
            yield

    @contextlib.contextmanager
    def paused(self, backend: str) -> Iterator[None]:
        """Ship nothing more for ``backend`` while inside; waits for a shipment in progress."""
        with self._locks[backend]:
            self._paused.add(backend)
        try:
            with self._locks[backend]:
                yield
        finally:
            self._paused.discard(backend)

    def replicating_backends(self) -> list[str]:
        """The backends whose driver has a replication target."""
        return [
            name
            for name in self.pools.backend_names
            if isinstance(driver := self.pools.driver(name), SupportsReplication)
            and driver.replication_targets()
        ]

    def drop(self, volume: Volume) -> None:
        """Delete a deleted volume's secondary copy and its record (not mid-shipment).

        Raises:
            DriverError: the copy could not be removed (the record stays, to retry).
        """
        driver = self.pools.driver(volume.backend)
        with self.db.transaction(write=False) as tx:
            replica = tx.replicas.get(volume.id)
        if replica is None or not isinstance(driver, SupportsReplication):
            return
        with self._locks[volume.backend]:
            driver.delete_replica(volume_ref(volume), replica.target_id)
            with self.db.transaction() as tx:
                tx.replicas.delete(volume.id)

    def follow_type(self, volume_id: str, *, moved_from: str | None = None) -> list[str]:
        """Keep a volume's replication in line with its type and place after a retype or
        a migration: drop the secondary copy it had when its type no longer replicates
        or it moved (``moved_from``: its former ``backend#pool``, where that copy
        belongs), and start one (a whole first shipment) when its type replicates and
        it has none.

        Returns:
            What was done, a line each. A copy that could not be deleted is reported
            in a line, not raised: the volume itself is where it should be.
        """
        with self.db.transaction(write=False) as tx:
            volume = tx.volumes.get(volume_id)
            if volume is None:
                return []
            kind = (
                None
                if volume.volume_type_id is None
                else tx.volume_types.get(volume.volume_type_id)
            )
            replica = tx.replicas.get(volume.id)
        wanted = kind is not None and kind.replication_enabled
        lines: list[str] = []
        if replica is not None and (not wanted or moved_from is not None):
            lines.append(self._drop_copy(volume, replica, moved_from, keep_status=wanted))
            replica = None
        if replica is None and wanted:
            try:
                with self.db.transaction() as tx:
                    fresh = tx.volumes.get(volume_id)
                    assert fresh is not None
                    group = None if fresh.group_id is None else tx.groups.get(fresh.group_id)
                    self.record_new(tx, fresh, group=group)
                    tx.volumes.save(fresh)
                lines.append("replicated from now on: its first shipment copies it whole")
            except NotSupportedError as exc:  # the scheduler keeps this from happening
                lines.append(f"its type asks for replication, but: {exc}")
        return lines

    def _drop_copy(
        self, volume: Volume, replica: VolumeReplica, moved_from: str | None, *, keep_status: bool
    ) -> str:
        backend, pool = (moved_from or f"{volume.backend}#{volume.pool}").split("#", 1)
        driver = self.pools.driver(backend)
        line = f"dropped its secondary copy at {replica.target_id} (of {backend}#{pool})"
        try:
            if isinstance(driver, SupportsReplication):
                with self._locks[backend]:
                    where = replace(volume_ref(volume), pool=pool, provider_location=None)
                    driver.delete_replica(where, replica.target_id)
        except Exception as exc:  # noqa: BLE001 - reported; the volume is fine
            line = f"its secondary copy at {replica.target_id} stayed behind: {exc}"
        with self.db.transaction() as tx:
            tx.replicas.delete(volume.id)
            fresh = tx.volumes.get(volume.id)
            if fresh is not None and not keep_status and fresh.replication_status in SHIPPING:
                set_volume_replication(
                    tx, fresh, ReplicationStatus.DISABLED, reason="its type does not replicate"
                )
        return line

    def record_new(self, tx: Transaction, volume: Volume, *, group: Group | None = None) -> None:
        """Make a volume of a replicated type replicated: a record that makes it due at
        once (its initial full copy), status enabled, or disabled when it is in ``group``
        and the group's replication is disabled.

        Raises:
            NotSupportedError: its backend has no replication target (the scheduler's
                replication_enabled capability keeps this from happening).
        """
        driver = self.pools.driver(volume.backend)
        targets = driver.replication_targets() if isinstance(driver, SupportsReplication) else ()
        if not targets:
            raise NotSupportedError(volume.backend, "replicated volumes (replication_enabled)")
        group_off = group is not None and group.replication_status == ReplicationStatus.DISABLED
        volume.replication_status = str(
            ReplicationStatus.DISABLED if group_off else ReplicationStatus.ENABLED
        )
        now = utcnow()
        tx.replicas.put(VolumeReplica(volume.id, volume.backend, targets[0].backend_id, now, now))

    # -- shipping --------------------------------------------------------------------

    def run_once(self, *, force: bool = False, backend: str | None = None) -> list[ShipOutcome]:
        """Ship every due replicated volume once (``force``: every one, due or not).

        Returns:
            One outcome per volume shipped or failed.
        """
        outcomes: list[ShipOutcome] = []
        for name in self.replicating_backends():
            if backend is None or name == backend:
                outcomes += self._pass(name, force=force)
        return outcomes

    def _pass(self, backend: str, *, force: bool) -> list[ShipOutcome]:
        driver = self.pools.driver(backend)
        assert isinstance(driver, SupportsReplication)
        intervals = {t.backend_id: t.interval_seconds for t in driver.replication_targets()}
        with self.db.transaction(write=False) as tx:
            if not _ships(tx, backend):
                return []
            replicas = tx.replicas.for_backend(backend)
        now = utcnow()
        due = [
            r
            for r in replicas
            if force
            or r.last_attempt_at is None
            or (now - r.last_attempt_at).total_seconds() >= intervals.get(r.target_id, 0.0)
        ]
        outcomes: list[ShipOutcome] = []
        for replica in due:
            with self._locks[backend]:
                if backend in self._paused or self._stop.is_set() and not force:
                    break
                outcome = self._ship(driver, replica)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def _ship(self, driver: SupportsReplication, replica: VolumeReplica) -> ShipOutcome | None:
        with self.db.transaction(write=False) as tx:
            volume = tx.volumes.get(replica.volume_id)
            if (
                volume is None
                or volume.status not in SHIPPABLE
                or volume.replication_status not in SHIPPING
                or not _ships(tx, volume.backend)
            ):
                return None
        point_at, started = utcnow(), time.perf_counter()
        error: str | None = None
        try:
            shipment = driver.replicate_volume(volume_ref(volume), replica.target_id)
        except Exception as exc:  # noqa: BLE001 - recorded on the volume, retried next time
            error = str(exc) or type(exc).__name__
            log.warning("replicating volume %s failed: %s", volume.id, error)
        elapsed_ms = (time.perf_counter() - started) * 1000
        with self.db.transaction() as tx:
            current = tx.replicas.get(replica.volume_id)
            fresh = tx.volumes.get(replica.volume_id)
            if current is None or fresh is None:
                return None  # deleted meanwhile (cannot happen under the lock; be safe)
            current.last_attempt_at, current.last_duration_ms = point_at, elapsed_ms
            current.updated_at = utcnow()
            current.error = error
            if error is None:
                current.last_sync_at = point_at
                current.last_bytes_shipped = shipment.bytes_shipped
                current.bytes_shipped_total += shipment.bytes_shipped
                current.syncs += 1
                current.last_method = shipment.method
            tx.replicas.put(current)
            wanted = ReplicationStatus.ERROR if error else ReplicationStatus.ENABLED
            set_volume_replication(tx, fresh, wanted, reason=error)
        if error is not None:
            return ShipOutcome(volume.id, volume.backend, 0, False, "", error)
        return ShipOutcome(
            volume.id, volume.backend, shipment.bytes_shipped, shipment.full, shipment.method
        )


def _ships(tx: Transaction, backend: str) -> bool:
    """Whether the backend ships now: it serves from its own pools, no failover under way."""
    record = tx.services.get(backend)
    return record is None or (
        record.active_backend_id is None and record.replication_status is None
    )


def set_volume_replication(
    tx: Transaction,
    volume: Volume,
    wanted: str,
    *,
    reason: str | None = None,
    operation_id: str | None = None,
) -> bool:
    """Change a volume's replication_status through the table (no-op when it has it).

    Returns:
        Whether it changed.

    Raises:
        InvalidStateError: the table does not allow the change.
    """
    current = volume.replication_status or ReplicationStatus.DISABLED
    if current == wanted:
        return False
    check_transition(
        VOLUME_REPLICATION_TRANSITIONS,
        kind="volume replication",
        resource_id=volume.id,
        current=current,
        wanted=wanted,
        action=f"set replication {wanted}",
    )
    now = utcnow()
    volume.replication_status = str(wanted)
    volume.updated_at = now
    tx.volumes.save(volume)
    detail: dict[str, object] = {"replication_from": str(current), "replication_to": str(wanted)}
    tx.events.add(
        Event(
            resource_kind="volume",
            resource_id=volume.id,
            kind=EventKind.STATUS_CHANGE,
            message=f"replication {current} -> {wanted}" + (f": {reason}" if reason else ""),
            at=now,
            operation_id=operation_id,
            detail=detail,
        )
    )
    return True


def refuse_failed_over(volume: Volume, action: str) -> None:
    """A volume served from its secondary copy (its backend or its group failed over)
    stays where its copies are until it fails back.

    Raises:
        InvalidStateError: its replication_status is ``failed-over``.
    """
    if volume.replication_status == ReplicationStatus.FAILED_OVER:
        raise InvalidStateError(
            kind="volume",
            resource_id=volume.id,
            status="failed-over (replication)",
            action=action,
            hint="fail its backend or its group back first",
        )

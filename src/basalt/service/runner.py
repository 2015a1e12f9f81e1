"""Runs operations on a worker pool and hands callers a handle to wait on.

Each mutating use case writes its resource and an ``Operation`` record in one
transaction, then submits its body here. The runner moves the operation through
running -> succeeded / failed / rolled_back, throttles progress writes, and keeps
the events a body produces until the body's next transaction writes them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast

from basalt.errors import BasaltError, OperationFailedError, OperationTimeoutError
from basalt.model import Event, EventKind, Operation, OperationPhase
from basalt.model.states import OPERATION_TRANSITIONS, check_transition
from basalt.persistence.base import Database, Transaction
from basalt.service.clock import utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

PROGRESS_WRITE_INTERVAL_S = 0.5


@dataclass
class OperationScope:
    """What an operation body uses while it runs."""

    operation: Operation
    db: Database
    rolled_back: bool = False
    result: object = None
    events: list[Event] = field(default_factory=list)
    _last_progress_write: float = 0.0

    def note(
        self,
        kind: EventKind,
        message: str,
        *,
        resource_kind: str | None = None,
        resource_id: str | None = None,
        duration_ms: float | None = None,
        detail: dict[str, object] | None = None,
    ) -> None:
        """Queue an event for this operation's resource (written with the next flush)."""
        self.events.append(
            Event(
                resource_kind=resource_kind or self.operation.resource_kind,
                resource_id=resource_id or self.operation.resource_id,
                kind=kind,
                message=message,
                at=utcnow(),
                operation_id=self.operation.id,
                duration_ms=duration_ms,
                detail=detail or {},
            )
        )

    def driver_call(self, name: str, call: Callable[[], R], *, resource_id: str | None = None) -> R:
        """Run a driver call, recording its name, duration and outcome as an event."""
        started = time.perf_counter()
        try:
            result = call()
        except Exception as exc:
            elapsed = (time.perf_counter() - started) * 1000
            self.note(
                EventKind.ERROR,
                f"driver {name} failed: {exc}",
                duration_ms=elapsed,
                resource_id=resource_id,
            )
            raise
        elapsed = (time.perf_counter() - started) * 1000
        self.note(
            EventKind.DRIVER_CALL, f"driver {name}", duration_ms=elapsed, resource_id=resource_id
        )
        return result

    def flush(self, tx: Transaction) -> None:
        """Write queued events and the operation's current record in ``tx``."""
        for event in self.events:
            tx.events.add(event)
        self.events.clear()
        tx.operations.save(self.operation)

    def finish(self, tx: Transaction, *, result: object = None) -> None:
        """Mark the operation succeeded inside the body's last transaction.

        Saves a commit per operation: the resource's final status and the
        operation's outcome land together, so no reader sees one without the other.
        ``result`` is the resource as that transaction wrote it; a waiter in this
        process gets it without reading it back.
        """
        mark_phase(self.operation, OperationPhase.SUCCEEDED)
        self.flush(tx)
        self.result = result

    def progress(self, done: int, total: int) -> None:
        """Record bytes done/total, at most every half second (and at the end)."""
        now = time.monotonic()
        if done < total and now - self._last_progress_write < PROGRESS_WRITE_INTERVAL_S:
            return
        self._last_progress_write = now
        self.operation.bytes_done, self.operation.bytes_total = done, total
        self.operation.updated_at = utcnow()
        with self.db.transaction() as tx:
            self.flush(tx)


def mark_phase(
    operation: Operation, phase: OperationPhase, error: BaseException | None = None
) -> None:
    """Move an operation (in memory) to ``phase``, checked against the table."""
    check_transition(
        OPERATION_TRANSITIONS,
        kind="operation",
        resource_id=operation.id,
        current=operation.phase,
        wanted=phase,
        action=f"mark {phase}",
    )
    now = utcnow()
    operation.phase = phase
    operation.updated_at = now
    if phase == OperationPhase.RUNNING:
        operation.started_at = now
    else:
        operation.finished_at = now
    if phase == OperationPhase.SUCCEEDED and operation.bytes_total:
        operation.bytes_done = operation.bytes_total
    if error is not None:
        operation.error_code = getattr(error, "code", "internal_error")
        operation.message = str(getattr(error, "message", error)) or type(error).__name__
        operation.hint = getattr(error, "hint", None)


class OperationHandle(Generic[T]):
    """A started operation: poll it, or ``wait()`` for its result."""

    def __init__(
        self,
        *,
        operation: Operation,
        fetch: Callable[[], T],
        reload: Callable[[], Operation],
        future: Future[object] | None,
    ) -> None:
        self._operation = operation
        self._fetch = fetch
        self._reload = reload
        self._future = future

    @property
    def operation_id(self) -> str:
        return self._operation.id

    @property
    def resource_id(self) -> str:
        return self._operation.resource_id

    @property
    def operation(self) -> Operation:
        """The operation record as stored now."""
        self._operation = self._reload()
        return self._operation

    def done(self) -> bool:
        """Whether the operation has finished, well or not."""
        if self._future is not None:
            return self._future.done()
        return self.operation.finished

    def resource(self) -> T:
        """The resource as it is now, finished or not."""
        return self._fetch()

    def wait(
        self,
        timeout: float | None = None,
        *,
        on_progress: Callable[[Operation], None] | None = None,
        poll_interval: float = 0.2,
    ) -> T:
        """Block until the operation ends and return the resulting resource.

        Args:
            timeout: seconds to wait at most; None waits for ever.
            on_progress: called with the fresh operation record while waiting.
            poll_interval: seconds between progress calls.

        Returns:
            The resource (for deletes: the resource as it was last seen).

        Raises:
            BasaltError: the error that failed the operation, when it ran here.
            OperationFailedError: it failed in another process, or with an error that
                is not a BasaltError (chained as its cause).
            OperationTimeoutError: it did not finish within ``timeout``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._wait_step(deadline, poll_interval):
            if on_progress is not None:
                on_progress(self.operation)
        if on_progress is not None:
            on_progress(self.operation)
        if self._future is not None:
            # It ran here: the future holds the error that failed it, if any.
            error = self._future.exception()
            if isinstance(error, BasaltError):
                raise error
            if error is not None:  # a bug, not a refusal: say which operation it broke
                raise OperationFailedError(self.operation) from error
            result = self._future.result()
            return cast(T, result) if result is not None else self._fetch()
        operation = self.operation
        if operation.phase != OperationPhase.SUCCEEDED:
            raise OperationFailedError(operation)
        return self._fetch()

    def _wait_step(self, deadline: float | None, interval: float) -> bool:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise OperationTimeoutError(self._operation.id)
        step = interval if remaining is None else min(interval, remaining)
        if self._future is not None:
            try:
                self._future.result(timeout=step)
            except FutureTimeout:
                return False
            except Exception:  # noqa: BLE001 - re-raised by wait()
                return True
            return True
        if self.operation.finished:
            return True
        time.sleep(step)
        return False


class OperationRunner:
    """A pool of worker threads that run operation bodies."""

    def __init__(self, db: Database, *, workers: int) -> None:
        self._db = db
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="basalt-op")
        self._closed = threading.Event()

    def submit(
        self, operation: Operation, body: Callable[[OperationScope], None]
    ) -> Future[object]:
        """Run ``body`` for ``operation`` on a worker; the future holds its error, if any."""
        if self._closed.is_set():
            raise BasaltError("Basalt is shutting down; no new operations are accepted")
        return self._executor.submit(self._run, operation, body)

    def run_inline(self, operation: Operation, body: Callable[[OperationScope], None]) -> object:
        """Run ``body`` in the calling thread (short work a caller waits for: attach, detach).

        Records the outcome like a worker would; returns what ``finish`` was given, or
        raises the body's error.
        """
        if self._closed.is_set():
            raise BasaltError("Basalt is shutting down; no new operations are accepted")
        return self._run(operation, body)

    def _run(self, operation: Operation, body: Callable[[OperationScope], None]) -> object:
        # "running" is written with the body's first transaction (or progress report),
        # not in a commit of its own.
        scope = OperationScope(operation=operation, db=self._db)
        mark_phase(operation, OperationPhase.RUNNING)
        try:
            body(scope)
        except BaseException as exc:
            if operation.finished:  # finish() ran, but its transaction did not commit
                operation.phase = OperationPhase.RUNNING
            phase = OperationPhase.ROLLED_BACK if scope.rolled_back else OperationPhase.FAILED
            self._record_end(scope, phase, error=exc)
            if not isinstance(exc, BasaltError):
                log.exception("operation %s (%s) failed unexpectedly", operation.id, operation.kind)
            raise
        if not operation.finished:
            self._record_end(scope, OperationPhase.SUCCEEDED)
        return scope.result

    def _record_end(
        self, scope: OperationScope, phase: OperationPhase, error: BaseException | None = None
    ) -> None:
        mark_phase(scope.operation, phase, error)
        with self._db.transaction() as tx:
            scope.flush(tx)

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop taking work; by default finish what is running."""
        self._closed.set()
        self._executor.shutdown(wait=wait)

"""Plumbing every use case shares: visibility, operation records, idempotency, submit."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from basalt.errors import (
    IdempotencyConflictError,
    InvalidInputError,
    MetadataKeyNotFoundError,
    ResourceBusyError,
    SnapshotNotFoundError,
    VolumeNotFoundError,
)
from basalt.model import (
    Event,
    EventKind,
    Operation,
    OperationKind,
    OperationPhase,
    Snapshot,
    SnapshotStatus,
    Volume,
    VolumeStatus,
)
from basalt.model.quota import QuotaDeltas
from basalt.model.validation import validate_metadata, validate_request_id
from basalt.persistence.base import (
    Database,
    IdempotencyRecord,
    ListQuery,
    MarkerNotFoundError,
    Transaction,
)
from basalt.service.clock import new_id, utcnow
from basalt.service.context import RequestContext
from basalt.service.journal import move
from basalt.service.policy import authorize
from basalt.service.pools import PoolService
from basalt.service.runner import OperationHandle, OperationRunner, OperationScope
from basalt.service.undo import UndoList

if TYPE_CHECKING:
    from basalt.service.quotas import QuotaService

T = TypeVar("T")
R = TypeVar("R")


class Replay(Exception):  # noqa: N818 - control flow, never escapes the service
    """Raised inside a transaction to roll it back when an idempotency key was used before."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__(record.key)
        self.record = record


class UseCases:
    """Base of the per-aggregate services."""

    quotas: QuotaService
    """Set by the Basalt facade (basalt.service.instance); the quota check of new resources."""

    def __init__(
        self,
        *,
        db: Database,
        runner: OperationRunner,
        pools: PoolService,
        default_context: RequestContext,
    ) -> None:
        self.db = db
        self.runner = runner
        self.pools = pools
        self.default_context = default_context

    def _ctx(self, ctx: RequestContext | None, action: str) -> RequestContext:
        """The caller (the default context when None), once policy allows ``action``.

        Raises:
            PermissionDeniedError: the caller's roles do not allow it.
        """
        return authorize(ctx or self.default_context, action)

    def _volume(self, tx: Transaction, volume_id: str, ctx: RequestContext) -> Volume:
        volume = tx.volumes.get(volume_id)
        if volume is None or not ctx.can_see(volume.project_id):
            raise VolumeNotFoundError(volume_id)
        return volume

    def _find(
        self,
        query: ListQuery | None,
        ctx: RequestContext | None,
        *,
        all_projects: bool,
        what: str,
        action: str,
        find: Callable[[Transaction, ListQuery], list[T]],
    ) -> list[T]:
        """One page of a listing, limited to the caller's project unless an admin asks.

        Raises:
            InvalidInputError: an unknown marker, sort key or other bad parameter.
        """
        context = self._ctx(ctx, action)
        query = query or ListQuery()
        asked = query.project_id  # a project filter (``--tenant``): only admins see others
        if context.is_admin and (all_projects or asked is not None):
            project = asked
        elif asked not in (None, context.project_id):
            return []
        else:
            project = context.project_id
        query = replace(query, project_id=project)
        try:
            with self.db.transaction(write=False) as tx:
                return find(tx, query)
        except MarkerNotFoundError as exc:
            raise InvalidInputError("marker", f"no {what} {query.marker} to page after") from exc
        except ValueError as exc:
            raise InvalidInputError("query", str(exc)) from exc

    def _load_volume(self, volume_id: str, ctx: RequestContext) -> Volume:
        with self.db.transaction(write=False) as tx:
            return self._volume(tx, volume_id, ctx)

    def _load_snapshot(self, snapshot_id: str, ctx: RequestContext) -> Snapshot:
        with self.db.transaction(write=False) as tx:
            return self._snapshot(tx, snapshot_id, ctx)

    def _snapshot(self, tx: Transaction, snapshot_id: str, ctx: RequestContext) -> Snapshot:
        snapshot = tx.snapshots.get(snapshot_id)
        if snapshot is None or not ctx.can_see(snapshot.project_id):
            raise SnapshotNotFoundError(snapshot_id)
        return snapshot

    def _save_note(self, tx: Transaction, resource: Volume | Snapshot, message: str) -> None:
        """Save a changed resource (not its status) with a note on its timeline."""
        resource.updated_at = utcnow()
        kind = "volume" if isinstance(resource, Volume) else "snapshot"
        if isinstance(resource, Volume):
            tx.volumes.save(resource)
        else:
            tx.snapshots.save(resource)
        tx.events.add(
            Event(
                resource_kind=kind,
                resource_id=resource.id,
                kind=EventKind.NOTE,
                at=resource.updated_at,
                message=message,
            )
        )

    def _merge_metadata(
        self,
        tx: Transaction,
        resource: Volume | Snapshot,
        items: dict[str, str],
        *,
        replace: bool,
    ) -> dict[str, str]:
        """Add or change checked items (all of them with ``replace``); return the result.

        Raises:
            InvalidInputError: too many items in the end.
        """
        merged = items if replace else {**resource.metadata, **items}
        resource.metadata = validate_metadata(merged)
        self._save_note(tx, resource, f"metadata {'replaced' if replace else 'set'}")
        return dict(resource.metadata)

    def _drop_metadata_key(self, tx: Transaction, resource: Volume | Snapshot, key: str) -> None:
        """Remove one metadata item.

        Raises:
            MetadataKeyNotFoundError: the resource has no such key.
        """
        if key not in resource.metadata:
            kind = "volume" if isinstance(resource, Volume) else "snapshot"
            raise MetadataKeyNotFoundError(key, hint=f"{kind} {resource.id} has no such key")
        del resource.metadata[key]
        self._save_note(tx, resource, f"metadata key {key!r} removed")

    def _refuse_if_busy(self, tx: Transaction, resource: Volume | Snapshot, action: str) -> None:
        """Refuse an administrator's override while an operation still works on the resource.

        Raises:
            ResourceBusyError: naming the open operation.
        """
        running = tx.operations.find(
            project_id=None, resource_id=resource.id, open_only=True, limit=1
        )
        if running:
            kind = "volume" if isinstance(resource, Volume) else "snapshot"
            raise ResourceBusyError(
                f"cannot {action} {kind} {resource.id}: operation {running[0].id} "
                f"({running[0].kind}) is still working on it",
                hint="wait for that operation to finish (basalt operation show)",
            )

    def _new_operation(
        self,
        tx: Transaction,
        *,
        kind: OperationKind,
        resource_kind: str,
        resource_id: str,
        ctx: RequestContext,
        request_id: str | None = None,
        params: dict[str, object] | None = None,
    ) -> Operation:
        now = utcnow()
        operation = Operation(
            id=new_id(),
            kind=kind,
            resource_kind=resource_kind,
            resource_id=resource_id,
            project_id=ctx.project_id,
            phase=OperationPhase.PENDING,
            created_at=now,
            updated_at=now,
            request_id=request_id,
            params=dict(params or {}),
        )
        tx.operations.add(operation)
        return operation

    def _open_for_new(
        self,
        tx: Transaction,
        *,
        kind: OperationKind,
        resource: Volume | Snapshot,
        ctx: RequestContext,
        request_id: str | None,
        params: dict[str, object],
        message: str,
        quota: QuotaDeltas,
    ) -> Operation:
        """Record the operation that creates ``resource``, its idempotency key and the first
        event, then the resource itself, all in ``tx``, once the quota of the resource's
        project allows ``quota`` (checked after the key: a retry gets its resource back
        even when the quota is full now).

        Raises:
            Replay: the key was used before for the same request (the caller returns that).
            IdempotencyConflictError: the key was used for a different request.
            QuotaExceededError: the project's quota refuses it.
        """
        resource_kind = "volume" if isinstance(resource, Volume) else "snapshot"
        operation = self._new_operation(
            tx,
            kind=kind,
            resource_kind=resource_kind,
            resource_id=resource.id,
            ctx=ctx,
            request_id=request_id,
            params=params,
        )
        self._claim(
            tx, ctx=ctx, request_id=request_id, kind=kind, params=params, operation=operation
        )
        self.quotas.check(tx, resource.project_id, quota)
        if isinstance(resource, Volume):
            tx.volumes.add(resource)
        else:
            tx.snapshots.add(resource)
        tx.events.add(
            Event(
                resource_kind=resource_kind,
                resource_id=resource.id,
                kind=EventKind.STATUS_CHANGE,
                message=message,
                at=operation.created_at,
                operation_id=operation.id,
                detail={"to": str(resource.status)},
            )
        )
        return operation

    def _claim(
        self,
        tx: Transaction,
        *,
        ctx: RequestContext,
        request_id: str | None,
        kind: OperationKind,
        params: dict[str, object],
        operation: Operation,
    ) -> None:
        """Record the idempotency key; raise Replay if it was used before for the same request.

        Raises:
            IdempotencyConflictError: the key was used for a different request.
        """
        if request_id is None:
            return
        fingerprint = _fingerprint(kind, params)
        stored = tx.idempotency.claim(
            IdempotencyRecord(
                project_id=ctx.project_id,
                key=request_id,
                fingerprint=fingerprint,
                operation_id=operation.id,
                resource_id=operation.resource_id,
                created_at=operation.created_at,
            )
        )
        if stored.operation_id == operation.id:
            return
        if stored.fingerprint != fingerprint:
            raise IdempotencyConflictError(request_id)
        raise Replay(stored)

    def _checked_request_id(self, request_id: str | None) -> str | None:
        return None if request_id is None else validate_request_id(request_id)

    def _replayed(self, record: IdempotencyRecord, fetch: Callable[[], T]) -> OperationHandle[T]:
        with self.db.transaction(write=False) as tx:
            operation = tx.operations.get(record.operation_id)
        assert operation is not None, "idempotency record without its operation"
        return OperationHandle(
            operation=operation, fetch=fetch, reload=lambda: self._reload(operation.id), future=None
        )

    def _drive(
        self,
        scope: OperationScope,
        name: str,
        call: Callable[[], R],
        *,
        resource: Volume | Snapshot,
        on_failure: VolumeStatus | SnapshotStatus,
        done: Callable[[Transaction, R], object],
        undo: Callable[[], None] | None = None,
    ) -> None:
        """Run one driver step of an operation body and record its outcome.

        On success ``done`` writes the result in the same transaction that marks the
        operation succeeded, and returns what a waiter gets. On failure (of the driver
        call or of that transaction) ``undo`` runs first, if given, and the resource,
        read back from the database because ``done`` may have changed the in-memory
        copy, moves to ``on_failure`` if it still has the status it started with; the
        error propagates.
        """
        started = resource.status
        try:
            result = scope.driver_call(name, call)
            with self.db.transaction() as tx:
                scope.finish(tx, result=done(tx, result))
        except Exception as exc:
            if undo is not None:
                steps = UndoList()
                steps.push(f"undo {name}", undo)
                scope.rolled_back = steps.run()
            with self.db.transaction() as tx:
                current = (
                    tx.volumes.get(resource.id)
                    if isinstance(resource, Volume)
                    else tx.snapshots.get(resource.id)
                )
                scope.flush(tx)  # the driver's error first, then the status it caused
                if current is not None and current.status == started:
                    move(
                        tx,
                        current,
                        on_failure,
                        action=f"fail {name}",
                        operation_id=scope.operation.id,
                        reason=str(exc),
                    )
            raise

    def _start(
        self, operation: Operation, body: Callable[[OperationScope], None], fetch: Callable[[], T]
    ) -> OperationHandle[T]:
        future = self.runner.submit(operation, body)
        return OperationHandle(
            operation=operation,
            fetch=fetch,
            reload=lambda: self._reload(operation.id),
            future=future,
        )

    def _reload(self, operation_id: str) -> Operation:
        with self.db.transaction(write=False) as tx:
            operation = tx.operations.get(operation_id)
        assert operation is not None, f"operation {operation_id} vanished"
        return operation


def _fingerprint(kind: OperationKind, params: dict[str, object]) -> str:
    canonical = json.dumps({"kind": str(kind), "params": params}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def metadata_etag(metadata: Mapping[str, str]) -> str:
    """The version tag of a resource's metadata (HTTP ETag, without quotes): equal for
    equal metadata, whatever the order of its items."""
    encoded = json.dumps(dict(sorted(metadata.items())), separators=(",", ":")).encode()
    return hashlib.blake2b(encoded, digest_size=16).hexdigest()

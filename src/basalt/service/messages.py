"""User messages: list, show and dismiss the failures of asynchronous work.

A message is a failed or rolled-back operation seen through
:func:`basalt.model.message.message_from`; nothing else is written when work
fails. Messages older than the TTL (``api.message_ttl_seconds``) are not shown.

Listing reads the caller's undismissed failures of the TTL window (narrowed in
SQL by project, resource and kind) and filters, sorts and pages the derived
messages here, because event ids, resource types and request ids are derived
values, not columns.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cmp_to_key

from basalt.errors import InvalidInputError, MessageNotFoundError
from basalt.model import Operation, OperationKind, OperationPhase
from basalt.model.message import (
    MESSAGE_LEVEL,
    OUTCOMES,
    Message,
    events_with_id,
    is_message,
    kinds_of_type,
    message_from,
)
from basalt.persistence.base import Database, SortDirection
from basalt.service.clock import utcnow
from basalt.service.context import RequestContext
from basalt.service.policy import authorize

MESSAGE_SORT_KEYS = frozenset(
    {
        "id",
        "event_id",
        "resource_type",
        "resource_uuid",
        "message_level",
        "created_at",
        "guaranteed_until",
        "request_id",
    }
)


@dataclass(frozen=True, slots=True)
class MessageQuery:
    """Filters, order and page of a message listing (every filter is an exact match)."""

    resource_uuid: str | None = None
    resource_type: str | None = None
    event_id: str | None = None
    request_id: str | None = None
    message_level: str | None = None
    limit: int | None = None
    marker: str | None = None
    sort: tuple[tuple[str, SortDirection], ...] = (("created_at", "desc"),)


class MessageService:
    """The messages visible to a caller."""

    def __init__(self, *, db: Database, default_context: RequestContext, ttl: timedelta) -> None:
        self.db = db
        self.default_context = default_context
        self.ttl = ttl

    def list(
        self,
        query: MessageQuery | None = None,
        *,
        ctx: RequestContext | None = None,
        all_projects: bool = False,
    ) -> builtins.list[Message]:
        """One page of messages, newest first unless ``query.sort`` says otherwise.

        Args:
            query: filters, order, limit and marker (the id of the previous page's last).
            ctx: the caller; the default context when None.
            all_projects: every project's messages (administrators only; ignored otherwise).

        Returns:
            The page.

        Raises:
            PermissionDeniedError: the caller may not read messages.
            InvalidInputError: an unknown sort key or direction, or an unknown marker.
        """
        context = authorize(ctx or self.default_context, "message:get")
        query = query or MessageQuery()
        order = _order(query.sort)
        project = None if (all_projects and context.is_admin) else context.project_id
        wanted = _wanted(query)
        with self.db.transaction(write=False) as tx:
            marker = None if query.marker is None else tx.operations.get(query.marker)
            failures = tx.operations.failures(
                project_id=project,
                finished_since=utcnow() - self.ttl,
                resource_id=query.resource_uuid,
                kinds=None if wanted is None else {kind for kind, _ in wanted},
            )
        if query.marker is not None and (
            marker is None
            or (project is not None and marker.project_id != project)
            or marker.phase not in OUTCOMES
            or marker.finished_at is None
        ):
            raise InvalidInputError("marker", f"no message {query.marker[:64]} to page after")
        messages = [
            message_from(op, ttl=self.ttl)
            for op in failures
            if (wanted is None or (op.kind, op.phase) in wanted)
            and query.message_level in (None, MESSAGE_LEVEL)
            and query.request_id in (None, op.request_id or f"req-{op.id}")
        ]
        after = None if marker is None else message_from(marker, ttl=self.ttl)
        return _page(messages, order, after=after, limit=query.limit)

    def get(self, message_id: str, *, ctx: RequestContext | None = None) -> Message:
        """One message.

        Raises:
            PermissionDeniedError: the caller may not read messages.
            MessageNotFoundError: unknown, another project's, dismissed or expired.
        """
        context = authorize(ctx or self.default_context, "message:get")
        with self.db.transaction(write=False) as tx:
            operation = tx.operations.get(message_id)
        return self._live(message_id, operation, context)

    def delete(self, message_id: str, *, ctx: RequestContext | None = None) -> None:
        """Dismiss a message: it is no longer shown; its operation record stays.

        Raises:
            PermissionDeniedError: the caller may not dismiss messages (readers).
            MessageNotFoundError: unknown, another project's, dismissed or expired.
        """
        context = authorize(ctx or self.default_context, "message:delete")
        with self.db.transaction() as tx:
            self._live(message_id, tx.operations.get(message_id), context)
            if not tx.operations.dismiss(message_id, at=utcnow()):
                raise MessageNotFoundError(message_id)  # dismissed by a concurrent request

    def _live(
        self, message_id: str, operation: Operation | None, context: RequestContext
    ) -> Message:
        """The message of ``operation`` if the caller may see it and it is still shown.

        Raises:
            MessageNotFoundError: otherwise.
        """
        if (
            operation is None
            or not context.can_see(operation.project_id)
            or not is_message(operation)
        ):
            raise MessageNotFoundError(message_id)
        message = message_from(operation, ttl=self.ttl)
        if message.guaranteed_until < utcnow():
            raise MessageNotFoundError(message_id, hint="it expired")
        return message


def _wanted(query: MessageQuery) -> set[tuple[OperationKind, OperationPhase]] | None:
    """The (kind, phase) pairs the type and event filters allow; None when unfiltered."""
    wanted: set[tuple[OperationKind, OperationPhase]] | None = None
    if query.event_id is not None:
        wanted = set(events_with_id(query.event_id))
    if query.resource_type is not None:
        pairs = {(k, p) for k in kinds_of_type(query.resource_type) for p in OUTCOMES}
        wanted = pairs if wanted is None else wanted & pairs
    return wanted


Order = list[tuple[str, bool]]


def _order(sort: tuple[tuple[str, str], ...]) -> Order:
    """(key, descending) pairs, checked, ending with ``id`` so the order is total.

    Raises:
        InvalidInputError: an unknown key or direction.
    """
    order: Order = []
    for key, direction in sort:
        if key not in MESSAGE_SORT_KEYS:
            raise InvalidInputError(
                "sort_key", f"{key[:32]!r} is not one of {sorted(MESSAGE_SORT_KEYS)}"
            )
        if direction not in ("asc", "desc"):
            raise InvalidInputError("sort_dir", f"{direction[:32]!r} is not asc or desc")
        if key not in {k for k, _ in order}:
            order.append((key, direction == "desc"))
    if "id" not in {k for k, _ in order}:
        order.append(("id", order[-1][1] if order else False))
    return order


def _compare(order: Order) -> Callable[[Message, Message], int]:
    def compare(a: Message, b: Message) -> int:
        for key, descending in order:
            left, right = getattr(a, key), getattr(b, key)
            if left != right:
                smaller = -1 if left < right else 1
                return -smaller if descending else smaller
        return 0

    return compare


def _page(
    messages: builtins.list[Message], order: Order, *, after: Message | None, limit: int | None
) -> builtins.list[Message]:
    """Sort, skip up to and including the marker's place, and cut at ``limit``.

    The marker's place is found by its sort values, so paging goes on where it
    stopped even when the marker message was dismissed or expired meanwhile.
    """
    compare = _compare(order)
    ordered = sorted(messages, key=cmp_to_key(compare))
    if after is not None:
        ordered = [m for m in ordered if compare(m, after) > 0]
    return ordered if limit is None else ordered[:limit]

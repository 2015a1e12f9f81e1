"""/v3/{project_id}/messages: why asynchronous work failed (microversions 3.3 and 3.5)."""

from __future__ import annotations

from fastapi import Request, Response

from basalt.api.auth import context_from
from basalt.api.filters import RESOURCE_FILTERS
from basalt.api.responses import LISTING_PAGE, MessageList, OneMessage, answers, query
from basalt.api.routes.common import api_router, basalt_of, base_url, list_query, next_link
from basalt.api.schemas import links, stamp
from basalt.model.message import Message
from basalt.service.messages import MESSAGE_SORT_KEYS, MessageQuery

router = api_router(prefix="/v3/{project_id}/messages", tags=["messages"])
FILTERS = RESOURCE_FILTERS["message"]


@router.get(
    "",
    **answers(MessageList),
    **query(*LISTING_PAGE, "all_tenants", *FILTERS),
)
def list_messages(project_id: str, request: Request) -> dict[str, object]:
    """Messages, newest first; filters ``resource_uuid``, ``resource_type``, ``event_id``,
    ``request_id``, ``message_level``; ``sort``/``sort_key``/``sort_dir``, ``limit``,
    ``marker``; ``all_tenants`` for administrators."""
    ctx = context_from(request)
    page, all_tenants = list_query(request, allowed_sort_keys=MESSAGE_SORT_KEYS, resource="message")
    params = request.query_params
    query = MessageQuery(
        **{name: params.get(name) for name in FILTERS},
        limit=page.limit,
        marker=page.marker,
        sort=page.sort,
    )
    messages = basalt_of(request).messages.list(query, ctx=ctx, all_projects=all_tenants)
    root = base_url(request)
    body: dict[str, object] = {"messages": [message_view(m, root) for m in messages]}
    more = next_link(request, messages, query.limit, messages[-1].id if messages else None)
    if more:
        body["messages_links"] = more
    return body


@router.get("/{message_id}", **answers(OneMessage))
def show_message(project_id: str, message_id: str, request: Request) -> dict[str, object]:
    """One message."""
    message = basalt_of(request).messages.get(message_id, ctx=context_from(request))
    return {"message": message_view(message, base_url(request))}


@router.delete("/{message_id}", **answers(None, 204))
def delete_message(project_id: str, message_id: str, request: Request) -> Response:
    """Dismiss a message (its operation record stays)."""
    basalt_of(request).messages.delete(message_id, ctx=context_from(request))
    return Response(status_code=204)


def message_view(message: Message, base_url: str) -> dict[str, object]:
    """One user message, as ``GET /messages`` shows it."""
    return {
        "id": message.id,
        "message_level": message.message_level,
        "event_id": message.event_id,
        "user_message": message.user_message,
        "request_id": message.request_id,
        "resource_type": message.resource_type,
        "resource_uuid": message.resource_uuid,
        "created_at": stamp(message.created_at),
        "guaranteed_until": stamp(message.guaranteed_until),
        "links": links(base_url, message.project_id, "messages", message.id),
    }

"""/v3/{project_id}/attachments: the Block Storage v3 attachments resource (microversion 3.27+).

create (reserve, or attach when a connector is given), update (connect), complete,
delete (detach), list and show. Responses are 200 as in Cinder: attaching is quick
and the caller needs the connection info in the answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from basalt.api.auth import context_from
from basalt.api.bodies import (
    AttachmentActionRequest,
    AttachmentCreateRequest,
    AttachmentUpdateRequest,
)
from basalt.api.filters import checked_filters
from basalt.api.responses import (
    AttachmentDetailList,
    AttachmentList,
    OneAttachment,
    answers,
    query,
)
from basalt.api.routes.common import api_router, basalt_of, flag
from basalt.api.schemas import attachment_detail, attachment_summary

router = api_router(prefix="/v3/{project_id}/attachments", tags=["attachments"])


@router.post("", **answers(OneAttachment))
def create_attachment(
    project_id: str, body: AttachmentCreateRequest, request: Request
) -> dict[str, object]:
    """Reserve a volume for an instance; with a connector, also export it and connect."""
    ctx = context_from(request)
    spec = body.attachment
    service = basalt_of(request).attachments
    if spec.connector is None:
        attachment = service.reserve(
            spec.volume_uuid, instance_id=spec.instance_uuid, mode=spec.mode, ctx=ctx
        )
        return {"attachment": attachment_detail(attachment)}
    result = service.attach(
        spec.volume_uuid, spec.connector, instance_id=spec.instance_uuid, mode=spec.mode, ctx=ctx
    )
    return {"attachment": attachment_detail(result.attachment, result.connection_info)}


@router.get("", **answers(AttachmentList), **query("volume_id", "all_tenants"))
def list_attachments(project_id: str, request: Request) -> dict[str, object]:
    """Attachments: id, status, instance and volume."""
    return {"attachments": [attachment_summary(a) for a in _listed(request)]}


@router.get("/detail", **answers(AttachmentDetailList), **query("volume_id", "all_tenants"))
def list_attachments_detail(project_id: str, request: Request) -> dict[str, object]:
    """Attachments with every field (no connection info: it holds the CHAP secret)."""
    return {"attachments": [attachment_detail(a) for a in _listed(request)]}


def _listed(request: Request) -> list[Any]:
    ctx = context_from(request)
    checked_filters(request, "attachment")
    params = request.query_params
    return basalt_of(request).attachments.list(
        volume_id=params.get("volume_id"), ctx=ctx, all_projects=flag(params.get("all_tenants"))
    )


@router.get("/{attachment_id}", **answers(OneAttachment))
def show_attachment(project_id: str, attachment_id: str, request: Request) -> dict[str, object]:
    """One attachment."""
    attachment = basalt_of(request).attachments.get(attachment_id, ctx=context_from(request))
    return {"attachment": attachment_detail(attachment)}


@router.put("/{attachment_id}", **answers(OneAttachment))
def update_attachment(
    project_id: str, attachment_id: str, body: AttachmentUpdateRequest, request: Request
) -> dict[str, object]:
    """Give a reserved attachment its connector: export and return the connection info."""
    result = basalt_of(request).attachments.connect(
        attachment_id, body.attachment.connector, ctx=context_from(request)
    )
    return {"attachment": attachment_detail(result.attachment, result.connection_info)}


@router.post("/{attachment_id}/action", **answers(None, 204))
def attachment_action(
    project_id: str, attachment_id: str, body: AttachmentActionRequest, request: Request
) -> Response:
    """``os-complete``: the host has the volume in use."""
    basalt_of(request).attachments.complete(attachment_id, ctx=context_from(request))
    return Response(status_code=204)


@router.delete("/{attachment_id}", **answers(AttachmentList))
def delete_attachment(project_id: str, attachment_id: str, request: Request) -> dict[str, object]:
    """Detach: narrow or remove the export, delete the attachment; list what remains."""
    ctx = context_from(request)
    service = basalt_of(request).attachments
    volume_id = service.get(attachment_id, ctx=ctx).volume_id
    service.detach(attachment_id, ctx=ctx)
    remaining = service.list(volume_id=volume_id, ctx=ctx, all_projects=ctx.is_admin)
    return {"attachments": [attachment_summary(a) for a in remaining]}

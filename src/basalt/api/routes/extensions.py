"""/v3/{project_id}/extensions: the API extensions Basalt honours."""

from __future__ import annotations

from fastapi import Request

from basalt.api.auth import context_from
from basalt.api.responses import ExtensionList, OneExtension, answers
from basalt.api.routes.common import api_router, basalt_of
from basalt.model.extension import Extension

router = api_router(prefix="/v3/{project_id}/extensions", tags=["extensions"])


@router.get("", **answers(ExtensionList))
def list_extensions(project_id: str, request: Request) -> dict[str, object]:
    """Every honoured extension."""
    found = basalt_of(request).deployment.extensions(ctx=context_from(request))
    return {"extensions": [_view(e) for e in found]}


@router.get("/{alias}", **answers(OneExtension))
def show_extension(project_id: str, alias: str, request: Request) -> dict[str, object]:
    """One extension by alias; 404 when Basalt does not honour it."""
    found = basalt_of(request).deployment.extension(alias, ctx=context_from(request))
    return {"extension": _view(found)}


def _view(extension: Extension) -> dict[str, object]:
    return {
        "alias": extension.alias,
        "name": extension.name,
        "description": extension.description,
        "links": [],
        "updated": extension.updated,
    }

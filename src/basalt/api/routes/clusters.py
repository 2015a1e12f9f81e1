"""/v3/{project_id}/clusters (microversion 3.7): Basalt runs as one process and has none."""

from __future__ import annotations

from typing import NoReturn

from fastapi import Request

from basalt.api.auth import context_from
from basalt.api.bodies import ClusterChange
from basalt.api.responses import ClusterList, answers
from basalt.api.routes.common import api_router, basalt_of
from basalt.errors import InvalidInputError

router = api_router(prefix="/v3/{project_id}/clusters", tags=["clusters"])


@router.get("", **answers(ClusterList))
def list_clusters(project_id: str, request: Request) -> dict[str, object]:
    """No clusters (administrators)."""
    return {"clusters": basalt_of(request).deployment.clusters(ctx=context_from(request))}


@router.get("/detail", **answers(ClusterList))
def list_clusters_detail(project_id: str, request: Request) -> dict[str, object]:
    """No clusters, in detail (administrators)."""
    return {"clusters": basalt_of(request).deployment.clusters(ctx=context_from(request))}


@router.get("/{name}", response_model=None)
def show_cluster(project_id: str, name: str, request: Request) -> NoReturn:
    """404: there is no such cluster."""
    basalt_of(request).deployment.cluster(name, ctx=context_from(request))


@router.put("/enable", response_model=None)
def enable_cluster(project_id: str, body: ClusterChange, request: Request) -> NoReturn:
    """404 naming the cluster: there is none to enable."""
    _set(request, body, disabled=False)


@router.put("/disable", response_model=None)
def disable_cluster(project_id: str, body: ClusterChange, request: Request) -> NoReturn:
    """404 naming the cluster: there is none to disable."""
    _set(request, body, disabled=True)


def _set(request: Request, body: ClusterChange, *, disabled: bool) -> NoReturn:
    ctx = context_from(request)
    name = body.name
    if not isinstance(name, str) or not name:
        raise InvalidInputError("name", "is required (the cluster's name)")
    basalt_of(request).deployment.set_cluster_status(name, disabled=disabled, ctx=ctx)

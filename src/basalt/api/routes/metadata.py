"""Metadata routes, the same for volumes and snapshots.

``GET/POST/PUT .../{id}/metadata`` (all items / add or change items / replace all)
and ``GET/PUT/DELETE .../{id}/metadata/{key}`` (one item as ``{"meta": {key: value}}``).
From microversion 3.15 a volume's metadata comes with an ``ETag``, and a replace with
``If-Match`` is refused (412) when the metadata changed since that ETag.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse

from basalt.api.auth import context_from
from basalt.api.bodies import MetadataBody, MetadataItemBody
from basalt.api.responses import Metadata, MetadataItem, answers
from basalt.api.routes.common import basalt_of
from basalt.api.versions import METADATA_ETAG, api_version
from basalt.errors import InvalidInputError, MetadataKeyNotFoundError
from basalt.service.base import metadata_etag
from basalt.service.context import RequestContext
from basalt.service.instance import Basalt


class WithMetadata(Protocol):
    metadata: dict[str, str]


class MetadataUseCases(Protocol):
    """What the volume and snapshot services both offer for metadata."""

    def get(self, resource_id: str, *, ctx: RequestContext | None = None) -> WithMetadata: ...

    def set_metadata(
        self,
        resource_id: str,
        items: dict[str, str],
        *,
        replace: bool = False,
        ctx: RequestContext | None = None,
    ) -> dict[str, str]: ...

    def delete_metadata_key(
        self, resource_id: str, key: str, *, ctx: RequestContext | None = None
    ) -> None: ...


def add_metadata_routes(
    router: APIRouter, *, kind: str, service: Callable[[Basalt], MetadataUseCases]
) -> None:
    """Add the six metadata routes under ``/{<kind>_id}/metadata`` to ``router``.

    Args:
        router: the resource's router (its prefix names the collection).
        kind: ``volume`` or ``snapshot``: names the path parameter and the messages.
        service: picks the use cases from the Basalt instance.
    """
    param = f"{kind}_id"
    whole, item = f"/{{{param}}}/metadata", f"/{{{param}}}/metadata/{{key}}"
    resource_id = Path(alias=param)

    def uses(request: Request) -> MetadataUseCases:
        return service(basalt_of(request))

    etags = kind == "volume"  # Cinder's lost-update check covers volume metadata only

    @router.get(whole, name=f"show {kind} metadata", **answers(Metadata))
    def show_all(project_id: str, request: Request, rid: str = resource_id) -> Response:
        metadata = uses(request).get(rid, ctx=context_from(request)).metadata
        headers = {}
        if etags and api_version(request) >= METADATA_ETAG:
            headers["ETag"] = f'"{metadata_etag(metadata)}"'
        return JSONResponse({"metadata": metadata}, headers=headers)

    @router.post(whole, name=f"set {kind} metadata", **answers(Metadata))
    def set_items(
        project_id: str, body: MetadataBody, request: Request, rid: str = resource_id
    ) -> dict[str, object]:
        merged = uses(request).set_metadata(rid, body.metadata, ctx=context_from(request))
        return {"metadata": merged}

    @router.put(whole, name=f"replace {kind} metadata", **answers(Metadata))
    def replace_all(
        project_id: str, body: MetadataBody, request: Request, rid: str = resource_id
    ) -> dict[str, object]:
        if_match = request.headers.get("if-match")
        if etags and if_match is not None and api_version(request) >= METADATA_ETAG:
            result = basalt_of(request).volumes.set_metadata(
                rid,
                body.metadata,
                replace=True,
                if_match=[t.strip().removeprefix("W/").strip('"') for t in if_match.split(",")],
                ctx=context_from(request),
            )
        else:
            result = uses(request).set_metadata(
                rid, body.metadata, replace=True, ctx=context_from(request)
            )
        return {"metadata": result}

    @router.get(item, name=f"show {kind} metadata item", **answers(MetadataItem))
    def show_item(
        project_id: str, key: str, request: Request, rid: str = resource_id
    ) -> dict[str, object]:
        metadata = uses(request).get(rid, ctx=context_from(request)).metadata
        if key not in metadata:
            raise MetadataKeyNotFoundError(key, hint=f"{kind} {rid} has no such key")
        return {"meta": {key: metadata[key]}}

    @router.put(item, name=f"set {kind} metadata item", **answers(MetadataItem))
    def set_item(
        project_id: str, key: str, body: MetadataItemBody, request: Request, rid: str = resource_id
    ) -> dict[str, object]:
        if not isinstance(body.meta, dict) or list(body.meta) != [key]:
            raise InvalidInputError("meta", f'must be {{"meta": {{"{key[:64]}": <value>}}}}')
        uses(request).set_metadata(rid, body.meta, ctx=context_from(request))
        return {"meta": body.meta}

    @router.delete(item, name=f"delete {kind} metadata item", **answers(None, 200))
    def delete_item(
        project_id: str, key: str, request: Request, rid: str = resource_id
    ) -> Response:
        uses(request).delete_metadata_key(rid, key, ctx=context_from(request))
        return Response(status_code=200)

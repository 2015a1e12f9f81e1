"""The FastAPI application: routes, error handlers, body limit, version documents."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from basalt.api import errors, unserved
from basalt.api.auth import authenticator_for, caller_project
from basalt.api.limits import BodyLimit
from basalt.api.openapi import openapi_document
from basalt.api.paths import ProjectlessPaths, collections_of
from basalt.api.routes import (
    attachments,
    capabilities,
    clusters,
    extensions,
    groups,
    manage,
    messages,
    operations,
    pools,
    qos,
    quotas,
    replication,
    resource_filters,
    services,
    snapshots,
    transfers,
    types,
    volume_actions,
    volumes,
    zones,
)
from basalt.api.versions import MAX_VERSION, MIN_VERSION, Microversions, version_document
from basalt.errors import BasaltError
from basalt.service.instance import Basalt

ROUTERS = (
    volumes.router,
    volume_actions.router,
    replication.router,
    snapshots.router,
    attachments.router,
    manage.router,
    operations.router,
    pools.router,
    messages.router,
    services.router,
    clusters.router,
    zones.router,
    capabilities.router,
    extensions.router,
    types.router,
    qos.router,
    transfers.legacy_router,
    transfers.router,
    quotas.router,
    groups.type_router,
    groups.router,
    groups.snapshot_router,
    resource_filters.router,
    *unserved.ROUTERS,  # 501 for the collections Basalt does not serve
)


def create_app(basalt: Basalt) -> FastAPI:
    """Build the app around an opened Basalt instance."""
    app = FastAPI(
        title="Basalt",
        version="0.1.0",
        description="Block storage control plane: the OpenStack Block Storage (Cinder) v3 "
        f"API, microversions {MIN_VERSION} to {MAX_VERSION} (docs/api.md)",
    )
    app.state.basalt = basalt
    authenticator = authenticator_for(basalt.settings)
    app.state.authenticator = authenticator
    for router in ROUTERS:
        app.include_router(router)
    app.add_exception_handler(BasaltError, errors.basalt_error_handler)
    app.add_exception_handler(RequestValidationError, errors.validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(BodyLimit, limit=basalt.settings.api.max_body_bytes)
    app.add_middleware(
        ProjectlessPaths,
        collections=collections_of(
            route.path for r in ROUTERS for route in r.routes if isinstance(route, APIRoute)
        ),
        project_of=lambda headers: caller_project(headers, authenticator),
    )
    app.add_middleware(Microversions)
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    app.get("/", include_in_schema=False)(_versions)
    app.get("/v3", include_in_schema=False)(_v3)
    app.get("/v3/", include_in_schema=False)(_v3)
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = {
        404: "The resource could not be found.",
        405: "The method is not allowed for this resource.",
    }.get(exc.status_code, str(exc.detail))
    return errors.error_response(exc.status_code, message)


def _versions(request: Request) -> JSONResponse:
    root = str(request.base_url).rstrip("/")
    # 300 Multiple Choices, as Cinder answers its root; clients read the body either way.
    return JSONResponse(status_code=300, content={"versions": [version_document(root)]})


def _v3(request: Request) -> dict[str, object]:
    root = str(request.base_url).rstrip("/")
    return {"version": version_document(root)}

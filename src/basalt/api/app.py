"""The FastAPI application: routes, error handlers, body limit, version documents."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from basalt.api import errors
from basalt.api.limits import BodyLimit
from basalt.api.routes import attachments, manage, operations, pools, snapshots, volumes
from basalt.errors import BasaltError
from basalt.service.instance import Basalt

ROUTERS = (
    volumes.router,
    snapshots.router,
    attachments.router,
    manage.router,
    operations.router,
    pools.router,
)


def create_app(basalt: Basalt) -> FastAPI:
    """Build the app around an opened Basalt instance."""
    app = FastAPI(
        title="Basalt",
        version="0.1.0",
        description="Block storage control plane (OpenStack Block Storage v3 shapes)",
    )
    app.state.basalt = basalt
    for router in ROUTERS:
        app.include_router(router)
    app.add_exception_handler(BasaltError, errors.basalt_error_handler)
    app.add_exception_handler(RequestValidationError, errors.validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(BodyLimit, limit=basalt.settings.api.max_body_bytes)
    app.get("/", include_in_schema=False)(_versions)
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = {
        404: "The resource could not be found.",
        405: "The method is not allowed for this resource.",
    }.get(exc.status_code, str(exc.detail))
    return errors.error_response(exc.status_code, message)


def _versions(request: Request) -> dict[str, object]:
    root = str(request.base_url).rstrip("/")
    return {
        "versions": [
            {
                "id": "v3.0",
                "status": "CURRENT",
                "version": "3.0",
                "min_version": "3.0",
                "updated": "2026-11-21T00:00:00Z",
                "links": [{"rel": "self", "href": f"{root}/v3/"}],
                "media-types": [
                    {
                        "base": "application/json",
                        "type": "application/vnd.openstack.volume+json;version=3",
                    }
                ],
            }
        ]
    }

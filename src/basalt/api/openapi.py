"""Basalt's OpenAPI document (``GET /openapi.json``), built once from the routes.

FastAPI describes each route from its body model and the ``answers``/``query``
keyword arguments in basalt.api.responses. This adds what holds for every route:
the error answers in Cinder's shape (no route answers 422: a body that does not
fit is a 400, see api/errors.py), the ``OpenStack-API-Version`` header, the
``X-Auth-Token`` credentials, and the same routes without the project segment
(microversion 3.67 allows both; basalt.api.paths serves them).
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from basalt.api.errors import KIND_BY_STATUS
from basalt.api.paths import PREFIX
from basalt.api.responses import ERROR_BODY, ErrorDetail
from basalt.api.versions import MAX_VERSION, MIN_VERSION

ERROR_STATUSES = (400, 401, 403, 404, 406, 409, 413, 501, 503)
"""What any route may answer besides its success (never 500: that is a bug)."""

VERSION_HEADER: dict[str, Any] = {
    "name": "OpenStack-API-Version",
    "in": "header",
    "required": False,
    "description": f"volume 3.N ({MIN_VERSION} to {MAX_VERSION}) or volume latest; "
    f"absent: {MIN_VERSION}. Outside the range: 406.",
    "schema": {"type": "string", "pattern": r"^volume (3\.[0-9]+|latest)$"},
}


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The app's document, made on first use and kept."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    detail = ErrorDetail.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(detail.pop("$defs", {}))
    schemas["ErrorDetail"] = detail
    schemas["Error"] = ERROR_BODY
    components["securitySchemes"] = {
        "token": {
            "type": "apiKey",
            "in": "header",
            "name": "X-Auth-Token",
            "description": "noauth: user:project (or nothing: the default caller); "
            "token: a token of the deployment's token file",
        }
    }
    paths: dict[str, Any] = {}
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            _complete(operation)
        paths[path] = item
        if path.startswith(PREFIX):
            paths["/v3/" + path[len(PREFIX) :]] = _without_project(item)
    document["paths"] = paths
    app.openapi_schema = document
    return document


def _complete(operation: dict[str, Any]) -> None:
    operation.setdefault("parameters", []).append(VERSION_HEADER)
    operation["security"] = [{"token": []}, {}]
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    for status in ERROR_STATUSES:
        responses.setdefault(
            str(status),
            {
                "description": KIND_BY_STATUS[status],
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        )


def _without_project(item: dict[str, Any]) -> dict[str, Any]:
    """The same operations on the project-less path: no project parameter, own ids."""
    copied = copy.deepcopy(item)
    for operation in copied.values():
        operation["parameters"] = [
            p for p in operation.get("parameters", []) if p.get("name") != "project_id"
        ]
        if "operationId" in operation:
            operation["operationId"] += "_projectless"
    return copied

"""Basalt against its own OpenAPI document, with schemathesis.

Every operation of ``/openapi.json`` (with and without the project segment) gets
generated requests, valid and not, from a real server. Each answer must be no
server error (no 5xx but the documented 501 and 503), carry a documented status
and content type, and have a body that fits the documented schema: the document
says what Basalt does, and Basalt does what the document says.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import basalt
from basalt.api.app import create_app
from tests.support.server import ServerProcess, start_server

pytestmark = pytest.mark.slow


@schemathesis.check
def no_server_error_but_not_implemented(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """5xx is a bug, except 501: a feature Basalt says plainly it does not have."""
    assert response.status_code < 500 or response.status_code == 501, (
        f"{response.status_code}: {response.text[:500]}"
    )
    return True


CHECKS = [
    no_server_error_but_not_implemented,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def openapi_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = start_server(tmp_path_factory.mktemp("openapi") / "data")
    yield process
    process.stop()


def built_document() -> dict[str, Any]:
    """The document the server serves, built from the same code (at collection time, so
    that schemathesis can make one test per operation)."""
    with tempfile.TemporaryDirectory() as data_dir, basalt.open(data_dir=data_dir) as instance:
        return create_app(instance).openapi()


DOCUMENT = built_document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_answers_are_never_server_errors_and_match_the_document(
    case: schemathesis.Case, openapi_server: ServerProcess
) -> None:
    case.call_and_validate(base_url=openapi_server.url, checks=CHECKS)


def test_the_document_covers_every_route_with_and_without_the_project(
    openapi_server: ServerProcess,
) -> None:
    document = httpx.get(f"{openapi_server.url}/openapi.json", timeout=30).json()
    assert document == DOCUMENT
    paths = set(document["paths"])
    assert "/v3/{project_id}/volumes/{volume_id}" in paths
    assert "/v3/volumes/{volume_id}" in paths
    projected = {p for p in paths if p.startswith("/v3/{project_id}/")}
    assert {p.replace("/{project_id}", "", 1) for p in projected} <= paths
    for item in document["paths"].values():
        for operation in item.values():
            assert "422" not in operation["responses"], operation["operationId"]
            assert "500" not in operation["responses"], operation["operationId"]

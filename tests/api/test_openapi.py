"""Basalt against its own OpenAPI document, with schemathesis.

Every operation of ``/openapi.json`` (with and without the project segment) gets
generated requests, valid and not, from a real server. Each answer must be no
server error (no 5xx but the documented 501 and 503), carry a documented status
and content type, and have a body that fits the documented schema: the document
says what Basalt does, and Basalt does what the document says.
"""

from __future__ import annotations

import tempfile
import zlib
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


def seeded(client: httpx.Client, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """The volume called ``name``, made (from ``body``) if it is gone."""
    found = client.get("/volumes/detail", params={"name": name}).json()["volumes"]
    if found:
        return dict(found[0])
    answer = client.post("/volumes", json={"volume": {"size": 1, "name": name, **body}})
    assert answer.status_code == 202, answer.text
    return dict(answer.json()["volume"])


def seeded_transfer(client: httpx.Client) -> str:
    """The id of an open transfer of the volume ``seed-transfer``, offered (again) if none is
    (a generated request may have deleted it)."""
    volume = seeded(client, "seed-transfer", {})
    open_ones = client.get("/volume-transfers", params={"volume_id": volume["id"]}).json()
    if open_ones["transfers"]:
        return str(open_ones["transfers"][0]["id"])
    made = client.post("/volume-transfers", json={"transfer": {"volume_id": volume["id"]}})
    assert made.status_code == 202, made.text
    return str(made.json()["transfer"]["id"])


@pytest.fixture
def seeds(openapi_server: ServerProcess) -> dict[str, str]:
    """Real resources for the generated requests to reach (re-made for each operation, as
    the previous operation's requests may have deleted them): a volume with metadata and
    a snapshot, a volume with a reservation, a failed operation (a message), a volume
    offered in a transfer."""
    with httpx.Client(base_url=openapi_server.project_url, timeout=30) as client:
        # Generated requests may have lowered the quotas (the default class's, or the
        # project's): lift them, or the seeds below could not be made.
        unlimited = {"volumes": -1, "snapshots": -1, "gigabytes": -1, "per_volume_gigabytes": -1}
        lifted = client.put("/os-quota-sets/basalt", json={"quota_set": unlimited})
        assert lifted.status_code == 200, lifted.text
        volume = seeded(client, "seed", {"metadata": {"seed-key": "v"}})
        snapshots = client.get("/snapshots", params={"volume_id": volume["id"]}).json()
        if not snapshots["snapshots"]:
            made = client.post(
                "/snapshots",
                json={"snapshot": {"volume_id": volume["id"], "metadata": {"seed-key": "v"}}},
            )
            snapshots = {"snapshots": [made.json()["snapshot"]]}
        reserved = seeded(client, "seed-reserved", {})
        attachments = client.get("/attachments", params={"volume_id": reserved["id"]}).json()
        if not attachments["attachments"]:
            made = client.post("/attachments", json={"attachment": {"volume_uuid": reserved["id"]}})
            attachments = {"attachments": [made.json()["attachment"]]}
        messages = client.get("/messages").json()["messages"]
        if not messages:
            failing = seeded(client, "seed-failing", {})
            path = openapi_server.data_dir / "pools/file/default/volumes" / f"{failing['id']}.raw"
            path.unlink(missing_ok=True)
            client.post(f"/volumes/{failing['id']}/action", json={"os-extend": {"new_size": 2}})
            messages = client.get("/messages").json()["messages"]
        operations = client.get("/operations").json()["operations"]
        kinds = client.get("/types").json()["volume_types"]
        kind = (
            next((t for t in kinds if t["name"] == "seed-type"), None)
            or client.post(
                "/types",
                json={"volume_type": {"name": "seed-type", "extra_specs": {"seed-key": "v"}}},
            ).json()["volume_type"]
        )
        qos_specs = client.get("/qos-specs").json()["qos_specs"]
        qos = (
            next((q for q in qos_specs if q["name"] == "seed-qos"), None)
            or client.post(
                "/qos-specs", json={"qos_specs": {"name": "seed-qos", "total_iops_sec": "100"}}
            ).json()["qos_specs"]
        )
        transfer = seeded_transfer(client)
    return {
        "transfer_id": transfer,
        "type_id": kind["id"],
        "qos_id": qos["id"],
        "project_id": "basalt",
        "volume_id": volume["id"],
        "snapshot_id": snapshots["snapshots"][0]["id"],
        "attachment_id": attachments["attachments"][0]["id"],
        "operation_id": operations[0]["id"],
        "message_id": messages[0]["id"],
        "key": "seed-key",
        "hostname": "basalt@file",
        "alias": "os-vol-host-attr",
        "target_project_id": "basalt",
        "quota_class": "default",
    }


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_answers_are_never_server_errors_and_match_the_document(
    case: schemathesis.Case, openapi_server: ServerProcess, seeds: dict[str, str]
) -> None:
    # Three requests in four name real resources (the same ones for the same generated
    # case), so that answers with bodies are checked too, not only the 404s of made-up ids.
    if zlib.crc32(repr(sorted((case.path_parameters or {}).items())).encode()) % 4:
        for name in case.path_parameters or {}:
            if name in seeds:
                case.path_parameters[name] = seeds[name]
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

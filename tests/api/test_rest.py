"""The REST service over a real socket: shapes, status codes and error bodies."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import pool_dir
from tests.support.server import ServerProcess


def _create(client: httpx.Client, **fields: object) -> dict:
    response = client.post("/volumes", json={"volume": {"size": 1, **fields}})
    assert response.status_code == 202, response.text
    return response.json()["volume"]


def test_version_document(server: ServerProcess) -> None:
    body = httpx.get(server.url + "/").json()
    assert body["versions"][0]["id"] == "v3.0"
    assert body["versions"][0]["status"] == "CURRENT"


def test_volume_lifecycle_in_cinder_shapes(client: httpx.Client) -> None:
    volume = _create(client, name="web", metadata={"a": "1"})
    assert volume["status"] == "available" and volume["size"] == 1
    for field in (
        "id",
        "name",
        "description",
        "status",
        "size",
        "availability_zone",
        "created_at",
        "updated_at",
        "attachments",
        "bootable",
        "encrypted",
        "metadata",
        "snapshot_id",
        "source_volid",
        "user_id",
        "volume_type",
        "links",
        "multiattach",
        "os-vol-tenant-attr:tenant_id",
        "os-vol-host-attr:host",
    ):
        assert field in volume, field
    assert volume["os-vol-host-attr:host"] == "basalt@file#default"
    listed = client.get("/volumes").json()["volumes"]
    assert {"id": volume["id"], "name": "web"}.items() <= next(
        v for v in listed if v["id"] == volume["id"]
    ).items()
    assert set(listed[0]) == {"id", "name", "links"}
    renamed = client.put(f"/volumes/{volume['id']}", json={"volume": {"name": "web2"}})
    assert renamed.status_code == 200 and renamed.json()["volume"]["name"] == "web2"
    extend = client.post(f"/volumes/{volume['id']}/action", json={"os-extend": {"new_size": 3}})
    assert extend.status_code == 202
    assert client.get(f"/volumes/{volume['id']}").json()["volume"]["size"] == 3
    snap = client.post("/snapshots", json={"snapshot": {"volume_id": volume["id"], "name": "s"}})
    assert snap.status_code == 202
    snapshot = snap.json()["snapshot"]
    assert snapshot["status"] == "available" and snapshot["size"] == 3
    from_snap = _create(client, size=3, snapshot_id=snapshot["id"])
    assert from_snap["snapshot_id"] == snapshot["id"] and from_snap["status"] == "available"
    refused = client.delete(f"/volumes/{volume['id']}")
    assert refused.status_code == 400
    assert "snapshot" in refused.json()["badRequest"]["message"]
    assert client.delete(f"/volumes/{volume['id']}", params={"cascade": "true"}).status_code == 202
    missing = client.get(f"/volumes/{volume['id']}")
    assert missing.status_code == 404
    assert missing.json()["itemNotFound"]["code"] == 404
    events = client.get(f"/volumes/{from_snap['id']}/events").json()["events"]
    assert events[0]["message"] == "created as create_volume_from_snapshot"


@pytest.mark.parametrize(
    "body, words",
    [
        ({"volume": {"size": 0}}, "at least 1 GiB"),
        ({"volume": {"size": -3}}, "at least 1 GiB"),
        ({"volume": {"size": 1.5}}, "whole number"),
        ({"volume": {"size": "big"}}, "whole number"),
        ({"volume": {"size": 10**12}}, "maximum"),
        ({"volume": {"size": 1, "name": "../etc"}}, "path separators"),
        ({"volume": {"size": 1, "name": "x" * 10_000}}, "limit is 255"),
        ({"volume": {"size": 1, "metadata": {"k": "a\u0000b"}}}, "control characters"),
        ({"volume": {"size": 1, "metadata": "nope"}}, "mapping"),
        ({"volume": {"size": 1, "snapshot_id": "nope"}}, "could not be found"),
        ({"nothing": {}}, "volume"),
        ([1, 2], "Invalid input"),
    ],
)
def test_bad_creates_are_4xx_and_change_nothing(
    client: httpx.Client, server: ServerProcess, body: object, words: str
) -> None:
    before = {v["id"] for v in client.get("/volumes").json()["volumes"]}
    files_before = set((pool_dir(server) / "volumes").iterdir())
    response = client.post("/volumes", json=body)
    assert 400 <= response.status_code < 500, response.text
    error = next(iter(response.json().values()))
    assert error["code"] == response.status_code
    assert words in error["message"]
    assert {v["id"] for v in client.get("/volumes").json()["volumes"]} == before
    assert set((pool_dir(server) / "volumes").iterdir()) == files_before


def test_malformed_json_and_huge_bodies(client: httpx.Client) -> None:
    response = client.post(
        "/volumes", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400 and "badRequest" in response.json()
    huge = client.post(
        "/volumes",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413 and "overLimit" in huge.json()

    def chunks():
        yield b'{"volume": {"size": 1, "name": "'
        for _ in range(64):
            yield b"x" * 65536
        yield b'"}}'

    streamed = client.post(
        "/volumes", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413 and "overLimit" in streamed.json()


def test_idempotency_key_returns_the_same_volume(client: httpx.Client) -> None:
    headers = {"Idempotency-Key": "abc-123"}
    first = client.post("/volumes", json={"volume": {"size": 1}}, headers=headers)
    second = client.post("/volumes", json={"volume": {"size": 1}}, headers=headers)
    assert first.json()["volume"]["id"] == second.json()["volume"]["id"]
    other = client.post("/volumes", json={"volume": {"size": 2}}, headers=headers)
    assert other.status_code == 409 and "conflict" in other.json()


def test_operations_resource(client: httpx.Client) -> None:
    response = client.post("/volumes", json={"volume": {"size": 1}})
    operation_id = response.headers["x-basalt-operation-id"]
    operation = client.get(f"/operations/{operation_id}").json()["operation"]
    assert operation["kind"] == "create_volume" and operation["phase"] == "succeeded"
    assert operation["resource_id"] == response.json()["volume"]["id"]
    listed = client.get("/operations", params={"resource_id": operation["resource_id"]})
    assert [o["id"] for o in listed.json()["operations"]] == [operation_id]
    assert client.get("/operations/nope").status_code == 404


def test_pagination_and_sorting(client: httpx.Client) -> None:
    ids = {_create(client, name=f"page-{i}", metadata={"set": "pages"})["id"] for i in range(5)}
    seen: list[str] = []
    marker = None
    while True:
        params = {"limit": "2", "sort": "name:asc", "metadata": '{"set": "pages"}'}
        if marker:
            params["marker"] = marker
        body = client.get("/volumes/detail", params=params).json()
        seen += [v["id"] for v in body["volumes"]]
        if "volumes_links" not in body:
            break
        marker = body["volumes"][-1]["id"]
    assert len(seen) == 5 and set(seen) == ids
    bad = client.get("/volumes", params={"sort_key": "secret"})
    assert bad.status_code == 400 and "sort_key" in bad.json()["badRequest"]["message"]
    assert client.get("/volumes", params={"marker": "nope"}).status_code == 400


def test_another_project_cannot_see_or_touch(client: httpx.Client, server: ServerProcess) -> None:
    volume = _create(client)
    other = {"X-Auth-Token": "alice:project-a"}
    url = f"{server.url}/v3/project-a/volumes/{volume['id']}"
    assert httpx.get(url, headers=other).status_code == 404
    assert httpx.delete(url, headers=other).status_code == 404
    own = httpx.get(f"{server.url}/v3/project-b/volumes", headers=other)
    assert own.status_code == 403 and "forbidden" in own.json()
    listed = httpx.get(f"{server.url}/v3/project-a/volumes", headers=other).json()["volumes"]
    assert listed == []


def test_version_documents_and_microversion_header(server: ServerProcess) -> None:
    root = httpx.get(server.url + "/")
    assert root.status_code == 300  # Multiple Choices, as Cinder answers its root
    (v3,) = root.json()["versions"]
    assert (v3["id"], v3["status"], v3["min_version"]) == ("v3.0", "CURRENT", "3.0")
    assert httpx.get(server.url + "/v3/").json()["version"]["version"] == v3["version"]
    plain = httpx.get(server.project_url + "/volumes")
    assert plain.headers["openstack-api-version"] == "volume 3.0"
    assert "openstack-api-version" in plain.headers["vary"].lower()
    asked = httpx.get(
        server.project_url + "/volumes",
        headers={"OpenStack-API-Version": f"volume {v3['version']}"},
    )
    assert asked.headers["openstack-api-version"] == f"volume {v3['version']}"
    for bad in ("volume 3.999", "volume 2.0", "volume three"):
        refused = httpx.get(server.project_url + "/volumes", headers={"OpenStack-API-Version": bad})
        assert refused.status_code == 406, bad
        assert "notAcceptable" in refused.json()


def test_routes_answer_with_and_without_the_project_segment(server: ServerProcess) -> None:
    headers = {"X-Auth-Token": "alice:proj-a"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        created = http.post("/v3/volumes", json={"volume": {"size": 1, "name": "pl"}})
        assert created.status_code == 202, created.text
        volume_id = created.json()["volume"]["id"]
        assert created.json()["volume"]["os-vol-tenant-attr:tenant_id"] == "proj-a"
        assert http.get(f"/v3/proj-a/volumes/{volume_id}").status_code == 200
        assert http.get(f"/v3/volumes/{volume_id}").json()["volume"]["name"] == "pl"
        listed = http.get("/v3/volumes/detail").json()["volumes"]
        assert [v["id"] for v in listed] == [volume_id]
        assert http.get(f"/v3/other-project/volumes/{volume_id}").status_code == 403
        assert http.delete(f"/v3/volumes/{volume_id}").status_code == 202


def test_volume_metadata_routes(client: httpx.Client) -> None:
    volume = _create(client, metadata={"a": "1"})
    base = f"/volumes/{volume['id']}/metadata"
    assert client.get(base).json() == {"metadata": {"a": "1"}}
    merged = client.post(base, json={"metadata": {"b": "2"}})
    assert merged.status_code == 200 and merged.json() == {"metadata": {"a": "1", "b": "2"}}
    assert client.get(f"{base}/b").json() == {"meta": {"b": "2"}}
    assert client.put(f"{base}/b", json={"meta": {"b": "3"}}).json() == {"meta": {"b": "3"}}
    wrong = client.put(f"{base}/b", json={"meta": {"c": "3"}})
    assert wrong.status_code == 400 and "badRequest" in wrong.json()
    assert client.delete(f"{base}/a").status_code == 200
    missing = client.delete(f"{base}/a")
    assert (
        missing.status_code == 404 and "metadata key a" in missing.json()["itemNotFound"]["message"]
    )
    replaced = client.put(base, json={"metadata": {"only": "x"}})
    assert replaced.json() == {"metadata": {"only": "x"}}
    too_long = client.post(base, json={"metadata": {"k" * 300: "v"}})
    assert too_long.status_code == 400
    assert client.get(base).json() == {"metadata": {"only": "x"}}


def test_set_bootable_and_readonly_flags(client: httpx.Client) -> None:
    volume = _create(client)
    action = f"/volumes/{volume['id']}/action"
    assert client.post(action, json={"os-set_bootable": {"bootable": True}}).status_code == 200
    assert client.get(f"/volumes/{volume['id']}").json()["volume"]["bootable"] == "true"
    flag = client.post(action, json={"os-update_readonly_flag": {"readonly": True}})
    assert flag.status_code == 202
    shown = client.get(f"/volumes/{volume['id']}").json()["volume"]
    assert shown["metadata"].get("readonly") == "True"
    bad = client.post(action, json={"os-set_bootable": {"bootable": "maybe"}})
    assert bad.status_code == 400 and "bootable" in bad.json()["badRequest"]["message"]
    missing = client.post(action, json={"os-update_readonly_flag": {}})
    assert missing.status_code == 400

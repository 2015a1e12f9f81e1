"""Volume and snapshot actions, summary and snapshot metadata over a real server.

The default caller (no token) is the deployment's admin; ``alice:basalt`` is a
member of the same project.
"""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import pool_dir
from tests.support.server import ServerProcess

MEMBER = {"X-Auth-Token": "alice:basalt"}


def create(client: httpx.Client, **fields: object) -> dict:
    response = client.post("/volumes", json={"volume": {"size": 1, **fields}})
    assert response.status_code == 202, response.text
    return response.json()["volume"]


def snapshot(client: httpx.Client, volume_id: str, **fields: object) -> dict:
    response = client.post("/snapshots", json={"snapshot": {"volume_id": volume_id, **fields}})
    assert response.status_code == 202, response.text
    return response.json()["snapshot"]


def act(client: httpx.Client, volume_id: str, body: object, **kw: object) -> httpx.Response:
    return client.post(f"/volumes/{volume_id}/action", json=body, **kw)  # type: ignore[arg-type]


def error(response: httpx.Response) -> dict:
    ((kind, body),) = response.json().items()
    assert body["code"] == response.status_code, response.text
    return {"kind": kind, **body}


def test_revert_through_the_api_restores_the_bytes(
    client: httpx.Client, server: ServerProcess
) -> None:
    volume = create(client)
    path = pool_dir(server) / "volumes" / f"{volume['id']}.raw"
    with path.open("r+b") as handle:
        handle.write(b"before" * 100)
    snap = snapshot(client, volume["id"])
    with path.open("r+b") as handle:
        handle.write(b"AFTER!" * 100)
    answer = act(client, volume["id"], {"revert": {"snapshot_id": snap["id"]}}, headers=MEMBER)
    assert answer.status_code == 202, answer.text
    assert client.get(f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"
    with path.open("rb") as handle:
        assert handle.read(600) == b"before" * 100
    stale = act(client, volume["id"], {"revert": {"snapshot_id": "nope"}})
    assert stale.status_code == 404 and "nope" in error(stale)["message"]


def test_action_bodies_are_closed_and_name_one_known_action(client: httpx.Client) -> None:
    volume = create(client)
    cases = [
        ({"os-extend": {"new_size": 2, "force": True}}, "force"),
        ({"os-extend": {}}, "new_size"),
        ({"os-frobnicate": {}}, "unknown action 'os-frobnicate'"),
        ({"os-extend": {"new_size": 2}, "os-reserve": None}, "exactly one action"),
        ({}, "exactly one action"),
        ({"revert": {}}, "snapshot_id"),
        ({"os-set_bootable": {"bootable": "perhaps"}}, "bootable"),
        ({"os-reset_status": {"status": "creating"}}, "status"),
    ]
    for body, words in cases:
        answer = act(client, volume["id"], body)
        assert answer.status_code == 400, (body, answer.text)
        assert words in error(answer)["message"], (body, answer.text)
    shown = client.get(f"/volumes/{volume['id']}").json()["volume"]
    assert (shown["size"], shown["status"], shown["bootable"]) == (1, "available", "false")


def test_admin_actions_are_refused_to_members_with_403(client: httpx.Client) -> None:
    volume = create(client)
    for body in (
        {"os-reset_status": {"status": "error"}},
        {"os-force_delete": {}},
        {"os-force_detach": {}},
        {"os-migrate_volume": {"host": "basalt@file#default"}},
        {"os-migrate_volume_completion": {"new_volume": volume["id"]}},
        {"os-unmanage": None},
    ):
        answer = act(client, volume["id"], body, headers=MEMBER)
        assert answer.status_code == 403, (body, answer.text)
        assert error(answer)["kind"] == "forbidden"
    assert client.get(f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"


def test_actions_basalt_lacks_answer_501_after_the_policy_check(client: httpx.Client) -> None:
    volume = create(client)
    for body, words in (
        ({"os-migrate_volume_completion": {"new_volume": volume["id"]}}, "no host-side copy"),
        ({"os-volume_upload_image": {"image_name": "img"}}, "image service"),
    ):
        answer = act(client, volume["id"], body)
        assert answer.status_code == 501, answer.text
        assert error(answer)["kind"] == "notImplemented" and words in error(answer)["message"]
    missing = act(client, "no-such-volume", {"os-volume_upload_image": {"image_name": "img"}})
    assert missing.status_code == 404


def test_reset_status_and_force_delete_as_admin(client: httpx.Client) -> None:
    volume = create(client)
    reset = act(client, volume["id"], {"os-reset_status": {"status": "error"}})
    assert reset.status_code == 202
    assert client.get(f"/volumes/{volume['id']}").json()["volume"]["status"] == "error"
    events = client.get(f"/volumes/{volume['id']}/events").json()["events"]
    assert any("reset by basalt" in e["message"] for e in events)
    assert act(client, volume["id"], {"os-force_delete": {}}).status_code == 202
    assert client.get(f"/volumes/{volume['id']}").status_code == 404
    other = create(client)
    assert client.delete(f"/volumes/{other['id']}", params={"force": "true"}).status_code == 202
    assert client.get(f"/volumes/{other['id']}").status_code == 404


def test_snapshot_actions_and_metadata(client: httpx.Client) -> None:
    volume = create(client)
    snap = snapshot(client, volume["id"], metadata={"a": "1"})
    base = f"/snapshots/{snap['id']}"
    assert client.post(f"{base}/metadata", json={"metadata": {"b": "2"}}).json() == {
        "metadata": {"a": "1", "b": "2"}
    }
    assert client.put(f"{base}/metadata/b", json={"meta": {"b": "3"}}).json() == {
        "meta": {"b": "3"}
    }
    assert client.get(f"{base}/metadata/b").json() == {"meta": {"b": "3"}}
    assert client.delete(f"{base}/metadata/a").status_code == 200
    assert client.get(f"{base}/metadata").json() == {"metadata": {"b": "3"}}
    assert client.get(f"{base}/metadata/a").status_code == 404
    assert client.put(f"{base}/metadata/b", json={"meta": {"c": "3"}}).status_code == 400
    readers = client.post(f"{base}/metadata", json={"metadata": {"x": "y"}}, headers=MEMBER)
    assert readers.status_code == 200  # members may change their project's metadata

    action = f"{base}/action"
    assert client.post(action, json={"os-reset_status": {"status": "error"}}).status_code == 202
    assert client.get(base).json()["snapshot"]["status"] == "error"
    denied = client.post(action, json={"os-force_delete": {}}, headers=MEMBER)
    assert denied.status_code == 403
    nope = client.post(action, json={"os-update_snapshot_status": {"status": "error"}})
    assert nope.status_code == 501
    assert client.post(action, json={"os-force_delete": {}}).status_code == 202
    assert client.get(base).status_code == 404


def test_snapshot_bodies_are_closed_as_in_cinder(client: httpx.Client) -> None:
    volume = create(client)
    extra = client.post(
        "/snapshots", json={"snapshot": {"volume_id": volume["id"], "display_description": "x"}}
    )
    assert extra.status_code == 400 and "display_description" in error(extra)["message"]
    snap = snapshot(client, volume["id"])
    empty = client.put(f"/snapshots/{snap['id']}", json={"snapshot": {}})
    assert empty.status_code == 400
    with_metadata = client.put(f"/snapshots/{snap['id']}", json={"snapshot": {"metadata": {}}})
    assert with_metadata.status_code == 400 and "metadata" in error(with_metadata)["message"]
    renamed = client.put(f"/snapshots/{snap['id']}", json={"snapshot": {"name": "s2"}})
    assert renamed.status_code == 200 and renamed.json()["snapshot"]["name"] == "s2"


def test_volume_summary(client: httpx.Client) -> None:
    before = client.get("/volumes/summary").json()["volume-summary"]
    create(client, size=2, metadata={"summary-key": "v1"})
    create(client, size=3, metadata={"summary-key": "v2"})
    after = client.get("/volumes/summary").json()["volume-summary"]
    assert after["total_count"] == before["total_count"] + 2
    assert after["total_size"] == before["total_size"] + 5
    assert after["metadata"]["summary-key"] == ["v1", "v2"]


@pytest.mark.parametrize("name", ["group_id", "glance_metadata"])
def test_filters_no_basalt_volume_can_match(client: httpx.Client, name: str) -> None:
    create(client)
    listed = client.get("/volumes/detail", params={name: "anything"})
    assert listed.status_code == 200 and listed.json()["volumes"] == []


def test_unknown_fields_are_refused_where_cinder_refuses_them(client: httpx.Client) -> None:
    before = {v["id"] for v in client.get("/volumes").json()["volumes"]}
    top = client.post("/volumes", json={"volume": {"size": 1}, "volumes": {}})
    assert top.status_code == 400 and "volumes" in error(top)["message"]
    assert {v["id"] for v in client.get("/volumes").json()["volumes"]} == before
    # Inside "volume", below 3.53, Cinder ignores what clients such as cinderclient add.
    lenient = create(client, status="creating", attach_status="detached", user_id=None)
    assert lenient["status"] == "available" and lenient["user_id"] == "basalt"
    update = client.put(f"/volumes/{lenient['id']}", json={"volume": {"size": 9}})
    assert update.status_code == 400 and "size" in error(update)["message"]
    meta = client.post(f"/volumes/{lenient['id']}/metadata", json={"metadata": {}, "x": 1})
    assert meta.status_code == 400
    typed = client.post(f"/volumes/{lenient['id']}/metadata", json={"metadata": {"k": 5}})
    assert typed.status_code == 400 and "metadata" in error(typed)["message"]
    shown = client.get(f"/volumes/{lenient['id']}").json()["volume"]
    assert (shown["size"], shown["metadata"]) == (1, {})

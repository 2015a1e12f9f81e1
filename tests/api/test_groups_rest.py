"""Groups over REST in Cinder's shapes, against a real server (microversions 3.11-3.14)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from basalt.api.versions import MAX_VERSION
from tests.api.conftest import pool_dir
from tests.support.server import ServerProcess

V314 = {"OpenStack-API-Version": "volume 3.14"}


def as_user(server: ServerProcess, user: str, project: str) -> httpx.Client:
    headers = {"X-Auth-Token": f"{user}:{project}", **V314}
    return httpx.Client(base_url=f"{server.url}/v3/{project}", headers=headers, timeout=30.0)


@pytest.fixture
def alice(server: ServerProcess) -> Iterator[httpx.Client]:
    with as_user(server, "alice", "pa") as http:
        yield http


@pytest.fixture
def admin(client: httpx.Client) -> httpx.Client:
    client.headers.update(V314)  # the default user is an administrator
    return client


def group_type(admin: httpx.Client, name: str) -> dict[str, Any]:
    answer = admin.post(
        "/group_types",
        json={
            "group_type": {
                "name": name,
                "group_specs": {"consistent_group_snapshot_enabled": "<is> True"},
            }
        },
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["group_type"]  # type: ignore[no-any-return]


def new_group(http: httpx.Client, type_id: str) -> dict[str, Any]:
    answer = http.post(
        "/groups",
        json={"group": {"group_type": type_id, "volume_types": ["__DEFAULT__"], "name": "g"}},
    )
    assert answer.status_code == 202, answer.text
    return answer.json()["group"]  # type: ignore[no-any-return]


def everything(http: httpx.Client) -> tuple[Any, ...]:
    return (
        http.get("/volumes/detail").json()["volumes"],
        http.get("/groups/detail?list_volume=true").json()["groups"],
        http.get("/group_snapshots/detail").json()["group_snapshots"],
        http.get("/snapshots/detail").json()["snapshots"],
    )


def test_groups_answer_404_below_their_microversion(client: httpx.Client) -> None:
    for path, version in (
        ("/group_types", "3.10"),
        ("/groups", "3.12"),
        ("/group_snapshots", "3.13"),
    ):
        answer = client.get(path, headers={"OpenStack-API-Version": f"volume {version}"})
        assert answer.status_code == 404, (path, answer.text)
        assert "microversion" in answer.json()["itemNotFound"]["message"]
    latest = client.get("/group_types", headers={"OpenStack-API-Version": "volume latest"})
    assert latest.headers["OpenStack-API-Version"] == f"volume {MAX_VERSION}"


def test_a_group_lives_from_create_to_delete_in_cinders_shapes(
    admin: httpx.Client, alice: httpx.Client, server: ServerProcess
) -> None:
    kind = group_type(admin, "rest-cg")
    assert admin.get(f"/group_types/{kind['id']}/group_specs").json() == {
        "group_specs": {"consistent_group_snapshot_enabled": "<is> True"}
    }
    group = new_group(alice, kind["id"])
    assert group["status"] == "available" and group["group_type"] == kind["id"]
    assert group["project_id"] == "pa" and len(group["volume_types"]) == 1
    volumes = [
        alice.post("/volumes", json={"volume": {"size": 1}}).json()["volume"] for _ in range(2)
    ]
    ids = ",".join(v["id"] for v in volumes)
    updated = alice.put(f"/groups/{group['id']}", json={"group": {"add_volumes": ids}})
    assert updated.status_code == 200, updated.text
    shown = alice.get(f"/groups/{group['id']}?list_volume=True").json()["group"]
    assert sorted(shown["volumes"]) == sorted(v["id"] for v in volumes)
    assert alice.get(f"/volumes/{volumes[0]['id']}").json()["volume"]["group_id"] == group["id"]
    listed = alice.get(f"/volumes?group_id={group['id']}").json()["volumes"]
    assert len(listed) == 2

    made = alice.post(
        "/group_snapshots", json={"group_snapshot": {"group_id": group["id"], "name": "n"}}
    )
    assert made.status_code == 202, made.text
    gsnap = made.json()["group_snapshot"]
    assert gsnap["status"] == "available" and gsnap["group_type_id"] == kind["id"]
    members = alice.get("/snapshots/detail").json()["snapshots"]
    assert {s["group_snapshot_id"] for s in members} == {gsnap["id"]}

    copy = alice.post(
        "/groups/action",
        json={"create-from-src": {"group_snapshot_id": gsnap["id"], "name": "restored"}},
    )
    assert copy.status_code == 202, copy.text
    restored = copy.json()["group"]
    assert restored["group_snapshot_id"] == gsnap["id"] and restored["status"] == "available"

    refused = alice.post(f"/groups/{group['id']}/action", json={"delete": {"delete-volumes": True}})
    assert refused.status_code == 400 and "group snapshot" in refused.text
    assert alice.delete(f"/group_snapshots/{gsnap['id']}").status_code == 202
    for done in (group, restored):
        gone = alice.post(f"/groups/{done['id']}/action", json={"delete": {"delete-volumes": True}})
        assert gone.status_code == 202, gone.text
    assert alice.get(f"/groups/{group['id']}").status_code == 404
    assert alice.get("/volumes").json()["volumes"] == []
    assert list((pool_dir(server) / "volumes").glob("*.raw")) == []


def test_bad_requests_are_refused_and_change_nothing(
    admin: httpx.Client, alice: httpx.Client, server: ServerProcess
) -> None:
    kind = group_type(admin, "rest-bad")
    group = new_group(alice, kind["id"])
    other = new_group(alice, kind["id"])
    member = alice.post("/volumes", json={"volume": {"size": 1, "group_id": other["id"]}}).json()[
        "volume"
    ]
    with as_user(server, "bob", "pb") as bob:
        theirs = bob.post("/volumes", json={"volume": {"size": 1}}).json()["volume"]
    before = everything(alice)
    for add, status, words in (
        (member["id"], 400, "already in group"),
        (theirs["id"], 404, "could not be found"),
    ):
        answer = alice.put(f"/groups/{group['id']}", json={"group": {"add_volumes": add}})
        assert answer.status_code == status and words in answer.text, answer.text
    answer = admin.put(f"/groups/{group['id']}", json={"group": {"add_volumes": theirs["id"]}})
    assert answer.status_code == 400 and "belongs to project pb" in answer.text
    assert alice.post(f"/groups/{other['id']}/action", json={"delete": {}}).status_code == 400
    assert alice.delete(f"/volumes/{member['id']}").status_code == 400
    bad = alice.post("/groups", json={"group": {"group_type": kind["id"], "volume_types": []}})
    assert bad.status_code == 400
    assert (
        alice.post(
            f"/groups/{group['id']}/action", json={"reset_status": {"status": "error"}}
        ).status_code
        == 403
    )
    assert everything(alice) == before


def test_per_group_replication_needs_a_group_type_that_replicates_groups(
    admin: httpx.Client, alice: httpx.Client
) -> None:
    kind = group_type(admin, "repl-check")
    group = new_group(alice, kind["id"])
    before = everything(alice)
    for action in (
        {"enable_replication": {}},
        {"disable_replication": {}},
        {"failover_replication": {"secondary_backend_id": "dr"}},
        {"list_replication_targets": {}},
    ):
        answer = alice.post(f"/groups/{group['id']}/action", json=action)
        assert answer.status_code == 400, answer.text
        message = answer.json()["badRequest"]["message"]
        assert "consistent_group_replication_enabled" in message
        missing = alice.post("/groups/no-such-group/action", json=action)
        assert missing.status_code == 404, missing.text
    bad = alice.post(f"/groups/{group['id']}/action", json={"enable_replication": {"x": 1}})
    assert bad.status_code == 400, bad.text
    assert everything(alice) == before

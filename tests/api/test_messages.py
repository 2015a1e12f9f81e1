"""User messages over REST: failures of real operations on a real server become messages.

Work is made to fail the way it fails in the field: the backend loses the file
behind a volume, so the driver's extend, snapshot or clone fails, and the
operation ends failed or rolled back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest

from tests.api.conftest import pool_dir
from tests.support.server import ServerProcess, start_server

MEMBER = {"X-Auth-Token": "alice:basalt"}
READER = {"X-Auth-Token": "rita:basalt"}
OTHER = {"X-Auth-Token": "bob:other"}
TIME = "%Y-%m-%dT%H:%M:%S.%f"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = start_server(
        tmp_path_factory.mktemp("messages") / "data",
        env={"BASALT_API__READER_USERS": json.dumps(["rita"])},
    )
    yield process
    process.stop()


def create_volume(client: httpx.Client, **headers: str) -> str:
    response = client.post("/volumes", json={"volume": {"size": 1}}, headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["volume"]["status"] == "available"
    return str(response.json()["volume"]["id"])


def lose_file(server: ServerProcess, volume_id: str) -> None:
    (pool_dir(server) / "volumes" / f"{volume_id}.raw").unlink()


def failed_extend(client: httpx.Client, server: ServerProcess, **headers: str) -> tuple[str, str]:
    """A volume whose extend failed: (volume id, operation id)."""
    volume_id = create_volume(client, **headers)
    lose_file(server, volume_id)
    response = client.post(
        f"/volumes/{volume_id}/action", json={"os-extend": {"new_size": 2}}, headers=headers
    )
    assert response.status_code == 202, response.text
    operation_id = response.headers["x-basalt-operation-id"]
    operation = client.get(f"/operations/{operation_id}", headers=headers).json()["operation"]
    assert operation["phase"] == "failed", operation
    return volume_id, operation_id


def messages(client: httpx.Client, **params: str) -> list[dict]:
    response = client.get("/messages", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["messages"])


def test_a_failed_extend_is_a_message_in_cinders_shape(
    client: httpx.Client, server: ServerProcess
) -> None:
    volume_id, operation_id = failed_extend(client, server)
    operation = client.get(f"/operations/{operation_id}").json()["operation"]
    [message] = messages(client, resource_uuid=volume_id)
    assert set(message) == {
        "id",
        "message_level",
        "event_id",
        "user_message",
        "request_id",
        "resource_type",
        "resource_uuid",
        "created_at",
        "guaranteed_until",
        "links",
    }
    assert message["id"] == operation_id
    assert (message["message_level"], message["event_id"]) == ("ERROR", "VOLUME_VOLUME_005_001")
    assert (message["resource_type"], message["resource_uuid"]) == ("VOLUME", volume_id)
    assert message["request_id"] == f"req-{operation_id}"
    assert message["user_message"].startswith(f"Extending volume {volume_id} failed: ")
    assert operation["message"] in message["user_message"]
    failed_at = datetime.strptime(message["created_at"], TIME)
    assert message["created_at"] == operation["finished_at"]
    assert datetime.strptime(message["guaranteed_until"], TIME) - failed_at == timedelta(days=30)
    assert message["links"][0] == {
        "rel": "self",
        "href": f"{server.url}/v3/basalt/messages/{operation_id}",
    }
    shown = client.get(f"/messages/{operation_id}")
    assert shown.status_code == 200 and shown.json() == {"message": message}
    projectless = httpx.get(f"{server.url}/v3/messages/{operation_id}")
    assert projectless.status_code == 200 and projectless.json()["message"]["id"] == operation_id


def test_rolled_back_copies_and_idempotency_keys_show_in_the_message(
    client: httpx.Client, server: ServerProcess
) -> None:
    source = create_volume(client)
    lose_file(server, source)
    response = client.post(
        "/volumes",
        json={"volume": {"size": 1, "source_volid": source}},
        headers={"Idempotency-Key": "clone-of-a-lost-file"},
    )
    assert response.status_code == 202, response.text
    clone = response.json()["volume"]
    assert clone["status"] == "error"
    [message] = messages(client, resource_uuid=clone["id"])
    assert message["request_id"] == "clone-of-a-lost-file"
    assert message["event_id"] == "VOLUME_VOLUME_002_002"  # clone, failed and undone
    assert "as a clone failed and what it had done was undone" in message["user_message"]
    assert messages(client, request_id="clone-of-a-lost-file") == [message]
    snapshot = client.post("/snapshots", json={"snapshot": {"volume_id": source}}).json()
    snapshot_id = snapshot["snapshot"]["id"]
    [snap_message] = messages(client, resource_type="VOLUME_SNAPSHOT", resource_uuid=snapshot_id)
    assert snap_message["event_id"].startswith("VOLUME_VOLUME_SNAPSHOT_012_")
    assert snap_message["user_message"].startswith(f"Creating snapshot {snapshot_id} failed")


def test_filters_match_exactly(client: httpx.Client, server: ServerProcess) -> None:
    volume_id, operation_id = failed_extend(client, server)
    mine = [m["id"] for m in messages(client, resource_uuid=volume_id)]
    assert mine == [operation_id]
    by_event = messages(client, event_id="VOLUME_VOLUME_005_001")
    assert operation_id in [m["id"] for m in by_event]
    assert {m["event_id"] for m in by_event} == {"VOLUME_VOLUME_005_001"}
    assert operation_id in [m["id"] for m in messages(client, message_level="ERROR")]
    assert messages(client, message_level="WARNING") == []
    assert messages(client, event_id="VOLUME_VOLUME_999_001") == []
    assert messages(client, resource_type="VOLUME", resource_uuid=volume_id) != []
    assert messages(client, resource_type="VOLUME_SNAPSHOT", resource_uuid=volume_id) == []
    assert messages(client, resource_type="BACKUP") == []
    assert [m["id"] for m in messages(client, request_id=f"req-{operation_id}")] == [operation_id]


def test_sorting_and_marker_pagination(client: httpx.Client, server: ServerProcess) -> None:
    ids = [failed_extend(client, server)[1] for _ in range(3)]
    everything = messages(client, sort="created_at:asc")
    ordered = [m["id"] for m in everything]
    assert [i for i in ordered if i in ids] == ids  # oldest first
    assert [m["id"] for m in messages(client)] == ordered[::-1]  # default: newest first
    assert [m["id"] for m in messages(client, sort_key="created_at", sort_dir="asc")] == ordered
    seen: list[str] = []
    url: str | None = "/messages?sort=created_at:asc&limit=2"
    while url is not None:
        page = client.get(url).json()
        seen += [m["id"] for m in page["messages"]]
        assert len(page["messages"]) <= 2
        url = next((link["href"] for link in page.get("messages_links", [])), None)
    assert seen == ordered
    by_id = [m["id"] for m in messages(client, sort="id:asc")]
    assert by_id == sorted(ordered)


def test_bad_list_parameters_are_400_naming_them(client: httpx.Client) -> None:
    for params, word in (
        ({"sort": "size:asc"}, "size_gib"),
        ({"sort": "created_at:up"}, "up"),
        ({"marker": "no-such-message"}, "no-such-message"),
        ({"limit": "-1"}, "limit"),
    ):
        response = client.get("/messages", params=params)
        assert response.status_code == 400, (params, response.text)
        assert word in response.json()["badRequest"]["message"], response.text


def test_delete_dismisses_the_message_and_keeps_the_operation(
    client: httpx.Client, server: ServerProcess
) -> None:
    volume_id, operation_id = failed_extend(client, server)
    assert client.delete(f"/messages/{operation_id}", headers=READER).status_code == 403
    deleted = client.delete(f"/messages/{operation_id}", headers=MEMBER)
    assert deleted.status_code == 204 and deleted.content == b""
    missing = client.get(f"/messages/{operation_id}")
    assert missing.status_code == 404
    assert operation_id in missing.json()["itemNotFound"]["message"]
    assert messages(client, resource_uuid=volume_id) == []
    operation = client.get(f"/operations/{operation_id}")
    assert operation.status_code == 200 and operation.json()["operation"]["phase"] == "failed"
    assert client.delete(f"/messages/{operation_id}").status_code == 404
    succeeded = client.get("/operations", params={"resource_id": volume_id}).json()
    create_op = next(o for o in succeeded["operations"] if o["kind"] == "create_volume")
    assert client.get(f"/messages/{create_op['id']}").status_code == 404  # not a failure


def test_messages_stay_in_their_project(client: httpx.Client, server: ServerProcess) -> None:
    _, mine = failed_extend(client, server, **MEMBER)
    with httpx.Client(base_url=f"{server.url}/v3/other", timeout=30.0) as other:
        _, theirs = failed_extend(other, server, **OTHER)
        assert [m["id"] for m in messages_as(other, OTHER)] == [theirs]
        assert other.get(f"/messages/{mine}", headers=OTHER).status_code == 404
        assert other.delete(f"/messages/{mine}", headers=OTHER).status_code == 404
    member_view = [m["id"] for m in messages_as(client, MEMBER)]
    assert mine in member_view and theirs not in member_view
    assert [m["id"] for m in messages_as(client, READER)] == member_view
    assert theirs not in [m["id"] for m in messages(client)]  # an admin, without all_tenants
    assert theirs in [m["id"] for m in messages(client, all_tenants="1")]
    assert theirs not in [m["id"] for m in messages_as(client, MEMBER, all_tenants="1")]


def messages_as(client: httpx.Client, headers: dict[str, str], **params: str) -> list[dict]:
    response = client.get("/messages", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["messages"])


def test_expired_messages_are_gone(tmp_path_factory: pytest.TempPathFactory) -> None:
    ttl = 3
    process = start_server(
        tmp_path_factory.mktemp("ttl") / "data",
        env={"BASALT_API__MESSAGE_TTL_SECONDS": str(ttl)},
    )
    try:
        with httpx.Client(base_url=process.project_url, timeout=30.0) as client:
            _, operation_id = failed_extend(client, process)
            [message] = messages(client)
            created = datetime.strptime(message["created_at"], TIME)
            until = datetime.strptime(message["guaranteed_until"], TIME)
            assert until - created == timedelta(seconds=ttl)
            time.sleep(ttl + 0.5)
            assert messages(client) == []
            expired = client.get(f"/messages/{operation_id}")
            assert expired.status_code == 404 and "expired" in expired.text
            assert client.delete(f"/messages/{operation_id}").status_code == 404
    finally:
        process.stop()

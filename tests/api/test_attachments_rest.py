"""Attachments over REST against a real `basalt serve` with its own tgtd.

The v3 attachments resource (create/update/complete/delete) and the legacy volume
actions (os-reserve, os-initialize_connection, os-attach, os-terminate_connection,
os-detach), in Cinder's shapes, with the data path checked by a real initiator.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.iscsi import login_error, require_iscsi
from tests.support.server import ServerProcess, start_server

pytestmark = pytest.mark.slow
HOST_A = {"host": "compute-a", "initiator": "iqn.2026-11.test.rest:a", "multipath": False}
HOST_B = {"host": "compute-b", "initiator": "iqn.2026-11.test.rest:b"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    require_iscsi()
    process = start_server(tmp_path_factory.mktemp("attach") / "data")
    yield process
    process.stop()


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.project_url, timeout=30.0) as http:
        yield http


def create_volume(client: httpx.Client, **fields: object) -> str:
    response = client.post("/volumes", json={"volume": {"size": 1, **fields}})
    assert response.status_code == 202, response.text
    volume = response.json()["volume"]
    assert volume["status"] == "available", volume
    return str(volume["id"])


def volume(client: httpx.Client, volume_id: str) -> dict[str, object]:
    body: dict[str, object] = client.get(f"/volumes/{volume_id}").json()["volume"]
    return body


def test_attachments_resource_reserve_update_complete_delete(
    client: httpx.Client, server: ServerProcess
) -> None:
    volume_id = create_volume(client)
    created = client.post(
        "/attachments", json={"attachment": {"volume_uuid": volume_id, "instance_uuid": "srv-1"}}
    )
    assert created.status_code == 200, created.text
    attachment = created.json()["attachment"]
    assert (attachment["status"], attachment["connection_info"]) == ("reserved", {})
    assert volume(client, volume_id)["status"] == "reserved"

    updated = client.put(
        f"/attachments/{attachment['id']}", json={"attachment": {"connector": HOST_A}}
    )
    assert updated.status_code == 200, updated.text
    info = updated.json()["attachment"]["connection_info"]
    assert info["driver_volume_type"] == "iscsi"
    data = info["data"]
    assert data["target_iqn"].endswith(f":{volume_id}") and data["target_lun"] == 1
    assert data["auth_method"] == "CHAP" and data["access_mode"] == "rw"
    assert data["discard"] is False and "qos_specs" in data  # aio frees nothing on UNMAP
    where = {
        "portal": data["target_portal"],
        "iqn": data["target_iqn"],
        "user": data["auth_username"],
        "secret": data["auth_password"],
    }
    assert login_error(**where, initiator=HOST_A["initiator"]) == ""

    completed = client.post(f"/attachments/{attachment['id']}/action", json={"os-complete": None})
    assert completed.status_code == 204
    shown = volume(client, volume_id)
    assert shown["status"] == "in-use"
    (entry,) = shown["attachments"]  # type: ignore[misc]
    assert entry["attachment_id"] == attachment["id"] and entry["server_id"] == "srv-1"
    assert entry["host_name"] == "compute-a"

    listing = client.get("/attachments/detail")
    assert listing.status_code == 200
    assert data["auth_password"] not in listing.text  # listings never show the secret
    assert data["auth_password"] not in client.get(f"/attachments/{attachment['id']}").text
    assert data["auth_password"] not in server.log()

    deleted = client.delete(f"/attachments/{attachment['id']}")
    assert deleted.status_code == 200 and deleted.json() == {"attachments": []}
    assert volume(client, volume_id)["status"] == "available"
    assert login_error(**where, initiator=HOST_A["initiator"]) != ""  # the target is gone


def test_legacy_initialize_attach_terminate_detach(client: httpx.Client) -> None:
    volume_id = create_volume(client)
    action = f"/volumes/{volume_id}/action"
    assert client.post(action, json={"os-reserve": None}).status_code == 202
    init = client.post(action, json={"os-initialize_connection": {"connector": HOST_B}})
    assert init.status_code == 200, init.text
    info = init.json()["connection_info"]
    assert info["driver_volume_type"] == "iscsi" and info["data"]["auth_password"]
    attach = {"instance_uuid": "srv-2", "mountpoint": "/dev/vdb", "host_name": "compute-b"}
    assert client.post(action, json={"os-attach": attach}).status_code == 202
    assert volume(client, volume_id)["status"] == "in-use"
    assert client.post(action, json={"os-begin_detaching": None}).status_code == 202
    assert volume(client, volume_id)["status"] == "detaching"
    term = client.post(action, json={"os-terminate_connection": {"connector": HOST_B}})
    assert term.status_code == 202, term.text
    assert client.post(action, json={"os-detach": {}}).status_code == 202
    assert volume(client, volume_id)["status"] == "available"
    assert volume(client, volume_id)["attachments"] == []


@pytest.mark.parametrize(
    ("connector", "words"),
    [
        ({"host": "h"}, "connector.initiator"),
        ({"host": "h", "initiator": "iqn.bad"}, "is not an iSCSI name"),
        ({"initiator": "iqn.2026-11.test:x"}, "connector.host"),
        ("nope", "connector"),
    ],
)
def test_bad_connectors_get_400_naming_the_field_and_change_nothing(
    client: httpx.Client, connector: object, words: str
) -> None:
    volume_id = create_volume(client)
    response = client.post(
        "/attachments", json={"attachment": {"volume_uuid": volume_id, "connector": connector}}
    )
    assert response.status_code == 400, response.text
    assert words in response.json()["badRequest"]["message"]
    assert volume(client, volume_id)["status"] == "available"
    assert client.get("/attachments", params={"volume_id": volume_id}).json() == {"attachments": []}


def test_wrong_state_and_unknown_attachments_are_clear_errors(client: httpx.Client) -> None:
    volume_id = create_volume(client)
    first = client.post(
        "/attachments", json={"attachment": {"volume_uuid": volume_id, "connector": HOST_A}}
    )
    assert first.status_code == 200
    second = client.post(
        "/attachments", json={"attachment": {"volume_uuid": volume_id, "connector": HOST_B}}
    )
    assert second.status_code == 400
    assert "multiattach" in second.json()["badRequest"]["message"]
    assert client.delete(f"/volumes/{volume_id}").status_code == 400
    missing = client.delete("/attachments/7d1c8a62-0e8e-4bb3-9d6a-0d5b3d1f0000")
    assert missing.status_code == 404 and "itemNotFound" in missing.json()
    free = create_volume(client)
    detach = client.post(f"/volumes/{free}/action", json={"os-detach": {}})
    assert detach.status_code == 400 and "not attached" in detach.text
    client.delete(f"/attachments/{first.json()['attachment']['id']}")


def test_snapshots_of_attached_volumes_need_force_below_3_66(client: httpx.Client) -> None:
    volume_id = create_volume(client)
    created = client.post(
        "/attachments", json={"attachment": {"volume_uuid": volume_id, "connector": HOST_A}}
    )
    assert created.status_code == 200, created.text
    attachment_id = created.json()["attachment"]["id"]
    complete = client.post(f"/attachments/{attachment_id}/action", json={"os-complete": None})
    assert complete.status_code == 204 and volume(client, volume_id)["status"] == "in-use"
    refused = client.post("/snapshots", json={"snapshot": {"volume_id": volume_id}})
    assert refused.status_code == 400, refused.text
    assert "force" in refused.json()["badRequest"]["hint"]
    assert client.get("/snapshots", params={"volume_id": volume_id}).json()["snapshots"] == []
    forced = client.post("/snapshots", json={"snapshot": {"volume_id": volume_id, "force": True}})
    assert forced.status_code == 202, forced.text
    assert forced.json()["snapshot"]["status"] == "available"
    assert client.delete(f"/attachments/{attachment_id}").status_code == 200

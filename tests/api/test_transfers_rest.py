"""Volume transfers over a real socket: /os-volume-transfer and /volume-transfers.

alice (project pa) offers volumes; bob (pb) and carl (pc) try to take them. Every
refusal is checked to be a clear 4xx that changes nothing, and the refusal of a
wrong key to be the same bytes whatever the transfer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import pool_dir
from tests.support.server import ServerProcess

WRONG_KEY = "0" * 32


def as_user(server: ServerProcess, user: str, project: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.url}/v3/{project}",
        headers={"X-Auth-Token": f"{user}:{project}"},
        timeout=30.0,
    )


@pytest.fixture
def alice(server: ServerProcess) -> Iterator[httpx.Client]:
    with as_user(server, "alice", "pa") as client:
        yield client


@pytest.fixture
def bob(server: ServerProcess) -> Iterator[httpx.Client]:
    with as_user(server, "bob", "pb") as client:
        yield client


@pytest.fixture
def carl(server: ServerProcess) -> Iterator[httpx.Client]:
    with as_user(server, "carl", "pc") as client:
        yield client


def new_volume(client: httpx.Client, *, snapshots: int = 0) -> dict[str, Any]:
    volume: dict[str, Any] = client.post("/volumes", json={"volume": {"size": 1}}).json()["volume"]
    assert volume["status"] == "available", volume
    for _ in range(snapshots):
        made = client.post("/snapshots", json={"snapshot": {"volume_id": volume["id"]}})
        assert made.json()["snapshot"]["status"] == "available", made.text
    return volume


def offer(client: httpx.Client, volume_id: str, **fields: object) -> dict[str, Any]:
    answer = client.post(
        "/volume-transfers", json={"transfer": {"volume_id": volume_id, "name": "gift", **fields}}
    )
    assert answer.status_code == 202, answer.text
    transfer: dict[str, Any] = answer.json()["transfer"]
    return transfer


def held_by(client: httpx.Client) -> dict[str, Any]:
    """Everything a project sees of its own (what a refused request must not change)."""
    return {
        "volumes": client.get("/volumes/detail").json()["volumes"],
        "snapshots": client.get("/snapshots/detail").json()["snapshots"],
        "transfers": client.get("/volume-transfers/detail").json()["transfers"],
    }


def test_create_shows_the_key_once_and_accept_moves_volume_and_snapshots(
    alice: httpx.Client, bob: httpx.Client
) -> None:
    volume = new_volume(alice, snapshots=2)
    answer = alice.post(
        "/os-volume-transfer", json={"transfer": {"volume_id": volume["id"], "name": None}}
    )
    assert answer.status_code == 202, answer.text
    assert answer.headers["cache-control"] == "no-store"
    created = answer.json()["transfer"]
    key = created["auth_key"]
    assert len(key) == 32 and created["volume_id"] == volume["id"]
    assert (created["source_project_id"], created["accepted"]) == ("pa", False)
    assert created["links"][0]["href"].endswith(f"/v3/pa/os-volume-transfer/{created['id']}")
    assert alice.get(f"/volumes/{volume['id']}").json()["volume"]["status"] == "awaiting-transfer"
    later = [
        alice.get("/os-volume-transfer"),
        alice.get("/os-volume-transfer/detail"),
        alice.get(f"/os-volume-transfer/{created['id']}"),
        alice.get("/volume-transfers/detail", params={"volume_id": volume["id"]}),
        alice.get(f"/volume-transfers/{created['id']}"),
    ]
    for response in later:
        assert response.status_code == 200 and key not in response.text
        assert "auth_key" not in response.text
    assert later[0].json()["transfers"] == [
        {k: created[k] for k in ("id", "name", "volume_id", "links")}
    ]
    shown = later[2].json()["transfer"]
    assert shown == {k: v for k, v in created.items() if k != "auth_key"}

    accepted = bob.post(
        f"/os-volume-transfer/{created['id']}/accept", json={"accept": {"auth_key": key}}
    )

    assert accepted.status_code == 202, accepted.text
    body = accepted.json()["transfer"]
    assert (body["id"], body["volume_id"], set(body)) == (
        created["id"],
        volume["id"],
        {"id", "name", "volume_id", "links"},
    )
    mine = bob.get(f"/volumes/{volume['id']}").json()["volume"]
    assert (mine["status"], mine["os-vol-tenant-attr:tenant_id"], mine["user_id"]) == (
        "available",
        "pb",
        "bob",
    )
    assert {s["volume_id"] for s in bob.get("/snapshots/detail").json()["snapshots"]} == {
        volume["id"]
    }
    assert len(bob.get("/snapshots").json()["snapshots"]) == 2
    assert alice.get(f"/volumes/{volume['id']}").status_code == 404
    assert [v["id"] for v in alice.get("/volumes").json()["volumes"]] == []
    assert alice.get("/snapshots").json()["snapshots"] == []
    assert alice.get(f"/os-volume-transfer/{created['id']}").status_code == 404
    assert alice.get("/os-volume-transfer").json()["transfers"] == []
    operation = bob.get(f"/operations/{accepted.headers['x-basalt-operation-id']}").json()
    assert (operation["operation"]["kind"], operation["operation"]["phase"]) == (
        "accept_transfer",
        "succeeded",
    )
    extend = bob.post(f"/volumes/{volume['id']}/action", json={"os-extend": {"new_size": 2}})
    assert extend.status_code == 202  # bob's to change now


def test_a_wrong_key_is_answered_alike_whatever_the_transfer(
    alice: httpx.Client, bob: httpx.Client, carl: httpx.Client
) -> None:
    first = offer(alice, new_volume(alice)["id"])
    second = offer(alice, new_volume(alice, snapshots=1)["id"], name="other")
    used = offer(alice, new_volume(alice)["id"])
    taken = bob.post(
        f"/volume-transfers/{used['id']}/accept", json={"accept": {"auth_key": used["auth_key"]}}
    )
    assert taken.status_code == 202, taken.text
    before = held_by(alice), held_by(bob), held_by(carl)
    answers = (
        [
            carl.post(f"/os-volume-transfer/{first['id']}/accept", json={"accept": {"auth_key": k}})
            for k in (WRONG_KEY, second["auth_key"], 12345)
        ]
        + [
            carl.post(f"/volume-transfers/{t}/accept", json={"accept": {"auth_key": WRONG_KEY}})
            for t in (second["id"], "3e5b0c4e-0000-4000-8000-00000000abcd", "nope")
        ]
        + [
            carl.post(f"/volume-transfers/{used['id']}/accept", json={"accept": {"auth_key": k}})
            for k in (used["auth_key"], WRONG_KEY)
        ]
        + [
            bob.post(  # accepted already, even by the one who accepted it
                f"/os-volume-transfer/{used['id']}/accept",
                json={"accept": {"auth_key": used["auth_key"]}},
            )
        ]
    )
    assert {a.status_code for a in answers} == {404}
    assert len({a.content for a in answers}) == 1, [a.text for a in answers]
    refusal = answers[0].json()["itemNotFound"]
    assert refusal["basalt_code"] == "transfer_not_found"
    for secret in (first["volume_id"], second["volume_id"], used["volume_id"], "pa", "alice"):
        assert secret not in answers[0].text
    assert (held_by(alice), held_by(bob), held_by(carl)) == before


def test_refusals_are_clear_and_change_nothing(
    server: ServerProcess, alice: httpx.Client, bob: httpx.Client
) -> None:
    transfer = offer(alice, new_volume(alice)["id"])
    reserved = new_volume(alice)
    attach = alice.post("/attachments", json={"attachment": {"volume_uuid": reserved["id"]}})
    assert attach.status_code == 200, attach.text
    broken = new_volume(alice)
    (pool_dir(server) / "volumes" / f"{broken['id']}.raw").unlink()
    alice.post(f"/volumes/{broken['id']}/action", json={"os-extend": {"new_size": 2}})
    assert alice.get(f"/volumes/{broken['id']}").json()["volume"]["status"] == "error_extending"
    with_snapshot = new_volume(alice, snapshots=1)
    before = held_by(alice), held_by(bob)
    cases: list[tuple[httpx.Response, int, str]] = [
        (alice.post(f"/volume-transfers/{transfer['id']}/accept",
                    json={"accept": {"auth_key": transfer["auth_key"]}}), 400, "caller's own"),
        (alice.post("/os-volume-transfer", json={"transfer": {"volume_id": reserved["id"]}}),
         400, "has attachments"),
        (alice.post("/os-volume-transfer", json={"transfer": {"volume_id": broken["id"]}}),
         400, "error_extending"),
        (alice.post("/os-volume-transfer", json={"transfer": {"volume_id": transfer["volume_id"]}}),
         400, "awaiting-transfer"),
        (alice.post("/volume-transfers",
                    json={"transfer": {"volume_id": with_snapshot["id"], "no_snapshots": True}}),
         400, "has 1 snapshot"),
        (alice.post("/os-volume-transfer",
                    json={"transfer": {"volume_id": with_snapshot["id"], "no_snapshots": True}}),
         400, "no_snapshots"),
        (alice.post("/volume-transfers", json={"transfer": {"name": "x"}}), 400, "volume_id"),
        (alice.post("/volume-transfers", json={"transfer": {"volume_id": with_snapshot["id"],
                                                            "name": "a/b"}}), 400, "name"),
        (bob.post("/volume-transfers", json={"transfer": {"volume_id": with_snapshot["id"]}}),
         404, with_snapshot["id"]),
        (bob.post(f"/volume-transfers/{transfer['id']}/accept", json={"accept": {}}),
         400, "auth_key"),
        (bob.post(f"/volume-transfers/{transfer['id']}/accept",
                  json={"accept": {"auth_key": transfer["auth_key"], "extra": 1}}), 400, "extra"),
        (bob.post(f"/volume-transfers/{transfer['id']}/accept",
                  json={"accept": {"auth_key": "k" * 300}}), 400, "auth_key"),
        (bob.post(f"/volume-transfers/{transfer['id']}/accept", content=b"{"), 400, "body"),
        (bob.delete(f"/volume-transfers/{transfer['id']}"), 404, transfer["id"]),
        (bob.get(f"/os-volume-transfer/{transfer['id']}"), 404, transfer["id"]),
    ]  # fmt: skip
    for answer, status, words in cases:
        assert answer.status_code == status, (answer.request.url, answer.text)
        assert words in answer.text, answer.text
    assert (held_by(alice), held_by(bob)) == before
    assert transfer["id"] not in json.dumps(held_by(bob))


def test_deleting_a_transfer_gives_the_volume_back(alice: httpx.Client, bob: httpx.Client) -> None:
    volume = new_volume(alice)
    transfer = offer(alice, volume["id"], no_snapshots=True)
    assert transfer["no_snapshots"] is True
    assert alice.delete(f"/volume-transfers/{transfer['id']}").status_code == 202
    assert alice.get(f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"
    assert alice.get(f"/volume-transfers/{transfer['id']}").status_code == 404
    again = bob.post(
        f"/volume-transfers/{transfer['id']}/accept",
        json={"accept": {"auth_key": transfer["auth_key"]}},
    )
    assert again.status_code == 404
    assert alice.get(f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"


def test_project_less_urls_and_all_tenants(server: ServerProcess, alice: httpx.Client) -> None:
    transfer = offer(alice, new_volume(alice)["id"])
    headers = {"X-Auth-Token": "alice:pa"}
    listed = httpx.get(f"{server.url}/v3/volume-transfers", headers=headers, timeout=30)
    assert transfer["id"] in {t["id"] for t in listed.json()["transfers"]}
    with as_user(server, "admin", "ops") as admin:
        assert admin.get("/os-volume-transfer").json()["transfers"] == []
        every = admin.get("/os-volume-transfer/detail", params={"all_tenants": "1"}).json()
        assert transfer["id"] in {t["id"] for t in every["transfers"]}
        shown = admin.get(f"/os-volume-transfer/{transfer['id']}").json()["transfer"]
        assert shown["source_project_id"] == "pa" and "auth_key" not in shown
    with as_user(server, "alice", "pa") as member:
        mine = member.get("/os-volume-transfer", params={"all_tenants": "1"}).json()
        assert {t["volume_id"] for t in mine["transfers"]} <= {
            v["id"] for v in member.get("/volumes").json()["volumes"]
        }

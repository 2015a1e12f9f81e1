"""Microversions 3.15 to 3.38 against a real server: what each changes, and that the
version below it keeps the old behaviour."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.server import ServerProcess


def at(version: str) -> dict[str, str]:
    return {"OpenStack-API-Version": f"volume {version}"}


@pytest.fixture
def admin(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.project_url, timeout=30.0) as http:
        yield http


@pytest.fixture
def member(server: ServerProcess) -> Iterator[httpx.Client]:
    headers = {"X-Auth-Token": "mia:basalt"}
    with httpx.Client(base_url=server.project_url, headers=headers, timeout=30.0) as http:
        yield http


def wait_available(http: httpx.Client, path: str, key: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        found = http.get(path, headers=at("3.38")).json()[key]
        if found["status"] == "available":
            return found  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, found
        time.sleep(0.05)


def new_volume(http: httpx.Client, name: str, **extra: object) -> dict[str, Any]:
    made = http.post("/volumes", json={"volume": {"size": 1, "name": name, **extra}})
    assert made.status_code == 202, made.text
    return wait_available(http, f"/volumes/{made.json()['volume']['id']}", "volume")


def test_3_15_volume_metadata_has_an_etag_that_guards_a_replace(admin: httpx.Client) -> None:
    volume = new_volume(admin, "etag", metadata={"a": "1"})
    path = f"/volumes/{volume['id']}/metadata"
    assert "etag" not in admin.get(path, headers=at("3.14")).headers
    first = admin.get(path, headers=at("3.15"))
    etag = first.headers["etag"]
    assert etag.startswith('"') and first.json() == {"metadata": {"a": "1"}}
    replaced = admin.put(
        path, headers={**at("3.15"), "If-Match": etag}, json={"metadata": {"b": "2"}}
    )
    assert replaced.status_code == 200, replaced.text
    stale = admin.put(path, headers={**at("3.15"), "If-Match": etag}, json={"metadata": {}})
    assert stale.status_code == 412, stale.text
    assert "changed since it was read" in stale.json()["preconditionFailed"]["message"]
    assert admin.get(path).json() == {"metadata": {"b": "2"}}  # nothing changed
    assert admin.get(path, headers=at("3.15")).headers["etag"] != etag
    old_client = admin.put(
        path, headers={**at("3.14"), "If-Match": etag}, json={"metadata": {"c": "3"}}
    )
    assert old_client.status_code == 200  # below 3.15 If-Match is not Basalt's to check
    anything = admin.put(path, headers={**at("3.15"), "If-Match": "*"}, json={"metadata": {}})
    assert anything.status_code == 200


def test_3_17_manageable_lists_refuse_a_cluster(admin: httpx.Client) -> None:
    answer = admin.get(
        "/manageable_volumes", params={"host": "basalt@file#default", "cluster": "c1"}
    )
    assert answer.status_code == 400 and "no clusters" in answer.json()["badRequest"]["message"]


def test_3_31_unknown_filters_are_refused_and_3_33_lists_the_known_ones(
    member: httpx.Client,
) -> None:
    assert member.get("/volumes", params={"bogus": "1"}, headers=at("3.30")).status_code == 200
    refused = member.get("/volumes", params={"bogus": "1", "limit": 1}, headers=at("3.31"))
    assert refused.status_code == 400
    assert "invalid filters bogus" in refused.json()["badRequest"]["message"]
    assert member.get("/resource_filters", headers=at("3.32")).status_code == 404
    listed = member.get("/resource_filters", params={"resource": "volume"}, headers=at("3.33"))
    assert listed.status_code == 200, listed.text
    [volume] = listed.json()["resource_filters"]
    assert volume["resource"] == "volume" and {"name", "status", "name~"} <= set(volume["filters"])
    every = member.get("/resource_filters", headers=at("3.33")).json()["resource_filters"]
    assert {"volume", "snapshot", "pool", "group_snapshot"} <= {r["resource"] for r in every}
    unknown = member.get("/resource_filters", params={"resource": "x"}, headers=at("3.33"))
    assert unknown.status_code == 400


def test_3_34_like_filters_match_part_of_a_name(member: httpx.Client) -> None:
    for name in ("like-db-1", "like-db-2", "like-web"):
        new_volume(member, name)
    found = member.get("/volumes", params={"name~": "like-db"}, headers=at("3.34"))
    assert sorted(v["name"] for v in found.json()["volumes"]) == ["like-db-1", "like-db-2"]
    assert member.get("/volumes", params={"name~": "LIKE"}, headers=at("3.34")).json() == {
        "volumes": []
    }
    early = member.get("/volumes", params={"name~": "db"}, headers=at("3.33"))
    assert early.status_code == 400 and "3.34" in early.json()["badRequest"]["message"]
    wrong = member.get("/volumes", params={"group_id~": "x"}, headers=at("3.34"))
    assert wrong.status_code == 400 and "group_id" in wrong.json()["badRequest"]["message"]


def test_3_28_and_3_35_pools_filter_by_name_and_volume_type(admin: httpx.Client) -> None:
    every = admin.get("/scheduler-stats/get_pools", headers=at("3.28")).json()["pools"]
    assert [p["name"] for p in every] == ["basalt@file#default"]
    named = admin.get(
        "/scheduler-stats/get_pools", params={"name": "basalt@file#nope"}, headers=at("3.28")
    )
    assert named.json() == {"pools": []}
    old = admin.get(
        "/scheduler-stats/get_pools", params={"name": "basalt@file#nope"}, headers=at("3.27")
    )
    assert len(old.json()["pools"]) == 1  # below 3.28 get_pools has no filters
    for name, specs in (("gets-file", {}), ("gets-none", {"volume_backend_name": "elsewhere"})):
        made = admin.post("/types", json={"volume_type": {"name": name, "extra_specs": specs}})
        assert made.status_code == 200, made.text

    def pools_for(type_name: str) -> list[str]:
        answer = admin.get(
            "/scheduler-stats/get_pools", params={"volume_type": type_name}, headers=at("3.35")
        )
        assert answer.status_code == 200, answer.text
        return [p["name"] for p in answer.json()["pools"]]

    assert pools_for("gets-file") == ["basalt@file#default"]
    assert pools_for("gets-none") == []
    missing = admin.get(
        "/scheduler-stats/get_pools", params={"volume_type": "no-such"}, headers=at("3.35")
    )
    assert missing.status_code == 404
    wrong = admin.get("/scheduler-stats/get_pools", params={"size": "1"}, headers=at("3.35"))
    assert wrong.status_code == 400 and "size" in wrong.json()["badRequest"]["message"]


def test_3_29_group_snapshots_sort_and_page(admin: httpx.Client) -> None:
    kind = admin.post("/group_types", headers=at("3.29"), json={"group_type": {"name": "pages"}})
    group = admin.post(
        "/groups",
        headers=at("3.29"),
        json={
            "group": {
                "group_type": kind.json()["group_type"]["id"],
                "volume_types": ["__DEFAULT__"],
            }
        },
    ).json()["group"]
    wait_available(admin, f"/groups/{group['id']}", "group")
    new_volume(admin, "paged-member", group_id=group["id"])
    for name in ("snap-b", "snap-a", "snap-c"):
        made = admin.post(
            "/group_snapshots",
            headers=at("3.29"),
            json={"group_snapshot": {"group_id": group["id"], "name": name}},
        )
        assert made.status_code == 202, made.text
        wait_available(
            admin, f"/group_snapshots/{made.json()['group_snapshot']['id']}", "group_snapshot"
        )

    def names(version: str, **params: object) -> list[str]:
        answer = admin.get(
            "/group_snapshots", params={"group_id": group["id"], **params}, headers=at(version)
        )
        assert answer.status_code == 200, answer.text
        return [s["name"] for s in answer.json()["group_snapshots"]]

    assert names("3.29", sort="name:asc") == ["snap-a", "snap-b", "snap-c"]
    assert names("3.29", sort="name:asc", limit=2) == ["snap-a", "snap-b"]
    assert names("3.29", sort="name:asc", offset=1, limit=1) == ["snap-b"]
    first = admin.get(
        "/group_snapshots",
        params={"group_id": group["id"], "sort": "name:desc", "limit": 1},
        headers=at("3.29"),
    ).json()["group_snapshots"][0]
    assert names("3.29", sort="name:desc", marker=first["id"]) == ["snap-b", "snap-a"]
    assert names("3.34", **{"name~": "-a"}) == ["snap-a"]
    assert names("3.29", name="snap-c") == ["snap-c"]
    assert len(names("3.28", sort="name:asc", limit=1)) == 3  # below 3.29: no pages


def test_3_32_log_levels_are_read_and_set(admin: httpx.Client, member: httpx.Client) -> None:
    body = {"binary": "cinder-volume", "prefix": "basalt.api.mv-test", "level": "debug"}
    assert admin.put("/os-services/set-log", json=body).status_code == 404  # below 3.32
    assert member.put("/os-services/set-log", json=body, headers=at("3.32")).status_code == 403
    assert admin.put("/os-services/set-log", json=body, headers=at("3.32")).status_code == 202
    read = admin.put(
        "/os-services/get-log", json={"prefix": "basalt.api.mv-test"}, headers=at("3.32")
    )
    levels = read.json()["log_levels"]
    assert {(e["binary"], e["host"]) for e in levels} >= {
        ("cinder-api", "basalt"),
        ("cinder-scheduler", "basalt"),
        ("cinder-volume", "basalt@file"),
    }
    assert all(e["levels"] == {"basalt.api.mv-test": "DEBUG"} for e in levels)
    bad = admin.put("/os-services/set-log", json={**body, "level": "LOUD"}, headers=at("3.32"))
    assert bad.status_code == 400 and "DEBUG" in bad.json()["badRequest"]["message"]


def test_a_project_filter_narrows_an_administrators_list_and_hides_others_from_members(
    admin: httpx.Client, member: httpx.Client, server: ServerProcess
) -> None:
    with httpx.Client(
        base_url=f"{server.url}/v3/elsewhere",
        headers={"X-Auth-Token": "eve:elsewhere"},
        timeout=30.0,
    ) as eve:
        theirs = new_volume(eve, "eve's")
    mine = new_volume(member, "mia's")
    listed = admin.get(
        "/volumes", params={"all_tenants": "1", "project_id": "elsewhere"}, headers=at("3.38")
    )
    assert listed.status_code == 200, listed.text
    assert [v["id"] for v in listed.json()["volumes"]] == [theirs["id"]]
    hidden = member.get("/volumes", params={"project_id": "elsewhere"}, headers=at("3.38"))
    assert hidden.json() == {"volumes": []}
    own = member.get("/volumes", params={"project_id": "basalt"}, headers=at("3.38"))
    assert mine["id"] in [v["id"] for v in own.json()["volumes"]]

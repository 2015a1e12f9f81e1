"""The scheduler over REST: explain, the refusal's table, and pools' capabilities."""

from __future__ import annotations

import httpx

MEMBER = {"X-Auth-Token": "alice:basalt"}


def explain(client: httpx.Client, body: dict[str, object], **kw: object) -> httpx.Response:
    return client.post("/scheduler-stats/explain", json=body, **kw)  # type: ignore[arg-type]


def test_an_administrator_asks_where_a_volume_would_go(client: httpx.Client) -> None:
    before = client.get("/volumes").json()["volumes"]
    answer = explain(client, {"volume": {"size": 3}})
    assert answer.status_code == 200, answer.text
    found = answer.json()["explanation"]
    assert found["chosen"] == "basalt@file#default" and found["summary"] is None
    assert found["request"]["size_gib"] == 3
    (pool,) = found["pools"]
    assert [f["name"] for f in pool["filters"]] == found["filters"]
    assert all(f["passed"] and f["reason"] for f in pool["filters"])
    assert {w["name"] for w in pool["weighers"]} == set(found["weighers"])
    assert client.get("/volumes").json()["volumes"] == before


def test_explain_refuses_members_and_bad_questions(client: httpx.Client) -> None:
    refused = explain(client, {"volume": {"size": 1}}, headers=MEMBER)
    assert refused.status_code == 403 and "scheduler:explain" in refused.text
    for body, words in [
        ({"volume": {"size": 0}}, "size"),
        ({"volume": {"size": 1, "volume_type": "no-such-type"}}, "no-such-type"),
        ({"volume": {"size": 1, "availability_zone": "az9"}}, "not a zone"),
        ({"volume": {"size": 1}, "OS-SCH-HNT:scheduler_hints": {"same_host": 5}}, "same_host"),
        ({"volume": {"size": 1, "colour": "red"}}, "colour"),
    ]:
        answer = explain(client, body)
        assert answer.status_code in (400, 404), (body, answer.text)
        assert words in answer.text, (body, answer.text)


def test_a_refused_create_carries_the_table_for_administrators_only(
    client: httpx.Client,
) -> None:
    kind = client.post(
        "/types",
        json={"volume_type": {"name": "far", "extra_specs": {"volume_backend_name": "far"}}},
    ).json()["volume_type"]
    try:
        body = {"volume": {"size": 1, "volume_type": "far"}}
        as_admin = client.post("/volumes", json=body)
        assert as_admin.status_code == 400
        error = as_admin.json()["badRequest"]
        assert error["basalt_code"] == "no_valid_backend"
        assert "1 fail capabilities (volume_backend_name=far)" in error["message"]
        (pool,) = error["explanation"]["pools"]
        assert pool["host"] == "basalt@file#default" and not pool["passed"]
        as_member = client.post("/volumes", json=body, headers=MEMBER)
        assert as_member.status_code == 400
        assert "explanation" not in as_member.json()["badRequest"]
        assert "far" in as_member.json()["badRequest"]["message"]
        bad = client.post(
            f"/types/{kind['id']}/extra_specs", json={"extra_specs": {"multiattach": "<is> 2"}}
        )
        assert bad.status_code == 400 and "multiattach" in bad.text
    finally:
        client.delete(f"/types/{kind['id']}")


def test_pools_report_their_capabilities(client: httpx.Client) -> None:
    (pool,) = client.get("/scheduler-stats/get_pools", params={"detail": "true"}).json()["pools"]
    capabilities = pool["capabilities"]
    assert capabilities["volume_backend_name"] == "file"
    assert capabilities["pool_name"] == "default"
    assert capabilities["storage_protocol"] == "iSCSI"
    assert capabilities["thin_provisioning_support"] is True
    assert capabilities["availability_zone"] == "nova"

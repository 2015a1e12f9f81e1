"""Every route of the OpenAPI document, walked as an outsider and as a reader.

A real server runs with the ``token`` strategy and four callers: alice (member of
project-a) owns a volume with metadata and a snapshot, a reserved volume, a
volume offered in a transfer and a failed operation; bob is a member of
project-b; carol reads project-a; root is an administrator. For every
operation the document lists (with and without the project segment):

- bob, aiming at alice's resources or alice's project, gets 403 or 404, and no
  listing he can read shows any of alice's ids;
- carol gets 403 for everything that is not a read, and for reads meant for
  administrators;
- afterwards everything of alice's is exactly as before.

A route added to the document without a sample body or path value here fails the
walk, so new routes cannot dodge it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.server import ServerProcess, start_server

pytestmark = pytest.mark.slow
TOKENS = {"root": "root-token-0001", "alice": "alice-token-01", "bob": "bob-token-0001"}
TOKENS["carol"] = "carol-token-01"
ENTRIES = [
    ("root", "ops", ["admin"]),
    ("alice", "project-a", ["member"]),
    ("bob", "project-b", ["member"]),
    ("carol", "project-a", ["reader"]),
]
CONNECTOR = {"host": "walker", "initiator": "iqn.2026-11.test.walk:h"}

# A valid body for every operation that takes one (keyed by method and the path
# after the project segment), so that policy, not validation, is what answers.
BODIES: dict[tuple[str, str], list[Any]] = {
    ("POST", "/volumes"): [{"volume": {"size": 1, "name": "intruder"}}],
    ("PUT", "/volumes/{volume_id}"): [{"volume": {"name": "renamed"}}],
    ("POST", "/volumes/{volume_id}/metadata"): [{"metadata": {"k": "changed"}}],
    ("PUT", "/volumes/{volume_id}/metadata"): [{"metadata": {}}],
    ("PUT", "/volumes/{volume_id}/metadata/{key}"): [{"meta": {"k": "changed"}}],
    ("POST", "/volumes/{volume_id}/action"): [
        {"os-extend": {"new_size": 5}},
        {"os-reset_status": {"status": "error"}},
        {"os-force_delete": {}},
        {"os-force_detach": {}},
        {"os-set_bootable": {"bootable": True}},
        {"os-update_readonly_flag": {"readonly": True}},
        {"os-unmanage": None},
        {"revert": {"snapshot_id": "{snapshot_id}"}},
        {"os-reserve": None},
        {"os-unreserve": None},
        {"os-initialize_connection": {"connector": CONNECTOR}},
        {"os-attach": {"mountpoint": "/dev/vdb", "host_name": "walker"}},
        {"os-begin_detaching": None},
        {"os-roll_detaching": None},
        {"os-terminate_connection": {"connector": CONNECTOR}},
        {"os-detach": {}},
        {"os-retype": {"new_type": "gold"}},
        {"os-migrate_volume": {"host": "basalt@file#default"}},
        {"os-migrate_volume_completion": {"new_volume": "{volume_id}"}},
        {"os-volume_upload_image": {"image_name": "stolen"}},
    ],
    ("POST", "/snapshots"): [{"snapshot": {"volume_id": "{volume_id}", "force": True}}],
    ("PUT", "/snapshots/{snapshot_id}"): [{"snapshot": {"name": "renamed"}}],
    ("POST", "/snapshots/{snapshot_id}/metadata"): [{"metadata": {"k": "changed"}}],
    ("PUT", "/snapshots/{snapshot_id}/metadata"): [{"metadata": {}}],
    ("PUT", "/snapshots/{snapshot_id}/metadata/{key}"): [{"meta": {"k": "changed"}}],
    ("POST", "/snapshots/{snapshot_id}/action"): [
        {"os-reset_status": {"status": "error"}},
        {"os-force_delete": {}},
        {"os-unmanage": None},
        {"os-update_snapshot_status": {"status": "error"}},
    ],
    ("POST", "/attachments"): [
        {"attachment": {"volume_uuid": "{volume_id}"}},
        {"attachment": {"volume_uuid": "{volume_id}", "connector": CONNECTOR}},
    ],
    ("PUT", "/attachments/{attachment_id}"): [{"attachment": {"connector": CONNECTOR}}],
    ("POST", "/attachments/{attachment_id}/action"): [{"os-complete": None}],
    ("POST", "/manageable_volumes"): [
        {"volume": {"host": "basalt@file#default", "ref": {"source-name": "x.raw"}}}
    ],
    ("POST", "/os-volume-manage"): [
        {"volume": {"host": "basalt@file#default", "ref": {"source-name": "x.raw"}}}
    ],
    ("POST", "/manageable_snapshots"): [
        {"snapshot": {"volume_id": "{volume_id}", "ref": {"source-name": "x.raw"}}}
    ],
    ("POST", "/os-snapshot-manage"): [
        {"snapshot": {"volume_id": "{volume_id}", "ref": {"source-name": "x.raw"}}}
    ],
    ("PUT", "/os-services/{action}"): [{"host": "basalt@file", "binary": "cinder-volume"}],
    ("PUT", "/os-services/freeze"): [{"host": "basalt@file"}],
    ("PUT", "/os-services/thaw"): [{"host": "basalt@file"}],
    ("PUT", "/os-services/failover_host"): [{"host": "basalt@file", "backend_id": "dr"}],
    ("PUT", "/os-services/failover"): [{"host": "basalt@file", "backend_id": "dr"}],
    ("PUT", "/os-services/set-log"): [{"binary": "cinder-volume", "level": "DEBUG"}],
    ("PUT", "/os-services/get-log"): [{"binary": "cinder-volume"}],
    ("POST", "/types"): [{"volume_type": {"name": "intruder-type"}}],
    ("PUT", "/types/{type_id}"): [{"volume_type": {"description": "changed"}}],
    ("POST", "/types/{type_id}/extra_specs"): [{"extra_specs": {"k": "changed"}}],
    ("PUT", "/types/{type_id}/extra_specs/{key}"): [{"k": "changed"}],
    ("POST", "/types/{type_id}/action"): [
        {"addProjectAccess": {"project": "project-b"}},
        {"removeProjectAccess": {"project": "project-a"}},
    ],
    ("POST", "/qos-specs"): [{"qos_specs": {"name": "intruder-qos", "total_iops_sec": "1"}}],
    ("PUT", "/qos-specs/{qos_id}"): [{"qos_specs": {"total_iops_sec": "1"}}],
    ("PUT", "/qos-specs/{qos_id}/delete_keys"): [{"keys": ["total_iops_sec"]}],
    ("POST", "/os-volume-transfer"): [{"transfer": {"volume_id": "{volume_id}", "name": "x"}}],
    ("POST", "/volume-transfers"): [
        {"transfer": {"volume_id": "{volume_id}", "name": "x", "no_snapshots": False}}
    ],
    ("POST", "/os-volume-transfer/{transfer_id}/accept"): [{"accept": {"auth_key": "0" * 32}}],
    ("POST", "/volume-transfers/{transfer_id}/accept"): [{"accept": {"auth_key": "0" * 32}}],
    ("PUT", "/os-quota-sets/{target_project_id}"): [{"quota_set": {"volumes": 1}}],
    ("PUT", "/os-quota-class-sets/{quota_class}"): [{"quota_class_set": {"volumes": 0}}],
    ("POST", "/scheduler-stats/explain"): [
        {"volume": {"size": 1}, "OS-SCH-HNT:scheduler_hints": {"same_host": "{volume_id}"}}
    ],
    ("POST", "/group_types"): [{"group_type": {"name": "walk-gt", "group_specs": {"k": "v"}}}],
    ("PUT", "/group_types/{group_type_id}"): [{"group_type": {"description": "x"}}],
    ("POST", "/group_types/{group_type_id}/group_specs"): [{"group_specs": {"k": "w"}}],
    ("POST", "/groups"): [
        {"group": {"group_type": "{group_type_id}", "volume_types": ["__DEFAULT__"]}}
    ],
    ("PUT", "/groups/{group_id}"): [
        {"group": {"name": "x", "remove_volumes": "{group_volume_id}"}}
    ],
    ("POST", "/groups/{group_id}/action"): [
        {"delete": {"delete-volumes": True}},
        {"reset_status": {"status": "error"}},
    ],
    ("POST", "/groups/action"): [
        {"create-from-src": {"group_snapshot_id": "{group_snapshot_id}"}},
        {"create-from-src": {"source_group_id": "{group_id}"}},
    ],
    ("POST", "/group_snapshots"): [{"group_snapshot": {"group_id": "{group_id}"}}],
    ("POST", "/group_snapshots/{group_snapshot_id}/action"): [
        {"reset_status": {"status": "error"}}
    ],
    ("PUT", "/clusters/enable"): [{"name": "c1"}],
    ("PUT", "/clusters/disable"): [{"name": "c1"}],
}
ADMIN_READS = (
    "/manageable_",
    "/scheduler-stats",
    "/os-services",
    "/clusters",
    "/capabilities",
    "/qos-specs",
    "/types/{type_id}/os-volume-type-access",
    "/os-quota-class-sets",
)
"""Reads meant for administrators only."""
HIDDEN_FROM_READERS = ("/types/{type_id}/extra_specs/{key}",)
"""Reads whose item a non-administrator does not see (a deployment-level extra spec: 404)."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("walk")
    token_file = root / "tokens.toml"
    token_file.write_text(
        "".join(
            f'[[tokens]]\ntoken = "{TOKENS[user]}"\nuser_id = "{user}"\n'
            f'project_id = "{project}"\nroles = {json.dumps(roles)}\n\n'
            for user, project, roles in ENTRIES
        ),
        encoding="utf-8",
    )
    process = start_server(
        root / "data",
        env={"BASALT_API__AUTH_STRATEGY": "token", "BASALT_API__TOKEN_FILE": str(token_file)},
    )
    yield process
    process.stop()


def client_of(server: ServerProcess, user: str) -> httpx.Client:
    # The newest microversion: some routes answer 404 below theirs (groups, set-log...).
    headers = {"X-Auth-Token": TOKENS[user], "OpenStack-API-Version": "volume latest"}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30.0)


@pytest.fixture(scope="module")
def alices(server: ServerProcess) -> dict[str, str]:
    """Alice's resources (and a private type shared with her project, with a QoS spec, and
    a volume offered in a transfer), by the path parameter that names each."""
    with client_of(server, "root") as root:
        kind = root.post(
            "/v3/ops/types",
            json={"volume_type": {"name": "a-only", "is_public": False, "extra_specs": {"k": "v"}}},
        ).json()["volume_type"]
        root.post(
            f"/v3/ops/types/{kind['id']}/action",
            json={"addProjectAccess": {"project": "project-a"}},
        )
        qos = root.post(
            "/v3/ops/qos-specs", json={"qos_specs": {"name": "a-qos", "total_iops_sec": "500"}}
        ).json()["qos_specs"]
        root.get(f"/v3/ops/qos-specs/{qos['id']}/associate", params={"vol_type_id": kind["id"]})
        group_type = root.post(
            "/v3/ops/group_types", json={"group_type": {"name": "cg", "group_specs": {"k": "v"}}}
        ).json()["group_type"]
    with client_of(server, "alice") as alice:
        base = "/v3/project-a"
        volume = alice.post(
            f"{base}/volumes", json={"volume": {"size": 1, "metadata": {"k": "v"}}}
        ).json()["volume"]
        snap = alice.post(
            f"{base}/snapshots",
            json={"snapshot": {"volume_id": volume["id"], "metadata": {"k": "v"}}},
        ).json()["snapshot"]
        reserved = alice.post(f"{base}/volumes", json={"volume": {"size": 1}}).json()["volume"]
        attachment = alice.post(
            f"{base}/attachments", json={"attachment": {"volume_uuid": reserved["id"]}}
        ).json()["attachment"]
        failing = alice.post(f"{base}/volumes", json={"volume": {"size": 1}}).json()["volume"]
        pool = server.data_dir / "pools" / "file" / "default" / "volumes"
        (pool / f"{failing['id']}.raw").unlink()
        alice.post(f"{base}/volumes/{failing['id']}/action", json={"os-extend": {"new_size": 2}})
        offered = alice.post(f"{base}/volumes", json={"volume": {"size": 1}}).json()["volume"]
        transfer = alice.post(
            f"{base}/volume-transfers", json={"transfer": {"volume_id": offered["id"]}}
        ).json()["transfer"]
        group = alice.post(
            f"{base}/groups",
            json={"group": {"group_type": group_type["id"], "volume_types": ["__DEFAULT__"]}},
        ).json()["group"]
        member = alice.post(
            f"{base}/volumes", json={"volume": {"size": 1, "group_id": group["id"]}}
        ).json()["volume"]
        group_snapshot = alice.post(
            f"{base}/group_snapshots", json={"group_snapshot": {"group_id": group["id"]}}
        ).json()["group_snapshot"]
        (message,) = alice.get(f"{base}/messages").json()["messages"]
        operation = alice.get(f"{base}/operations").json()["operations"][-1]
    return {
        "volume_id": volume["id"],
        "snapshot_id": snap["id"],
        "attachment_id": attachment["id"],
        "reserved_volume_id": reserved["id"],
        "message_id": message["id"],
        "operation_id": operation["id"],
        "key": "k",
        "action": "disable",
        "name": "c1",
        "hostname": "basalt@file",
        "alias": "os-vol-host-attr",
        "project_id": "project-a",
        "type_id": kind["id"],
        "qos_id": qos["id"],
        "transfer_id": transfer["id"],
        "target_project_id": "project-a",
        "quota_class": "default",
        "group_type_id": group_type["id"],
        "group_id": group["id"],
        "group_volume_id": member["id"],
        "group_snapshot_id": group_snapshot["id"],
    }


def state_of(server: ServerProcess) -> dict[str, Any]:
    """Everything of project-a as its owner sees it, and the types, QoS specs and quotas
    as the administrator sees them (what must not change)."""
    with client_of(server, "root") as root:
        quotas = [
            root.get("/v3/ops/os-quota-sets/project-a").json(),
            root.get("/v3/ops/os-quota-class-sets/default").json(),
        ]
        types = root.get("/v3/ops/types").json()["volume_types"]
        qos = root.get("/v3/ops/qos-specs").json()["qos_specs"]
        access = [
            root.get(f"/v3/ops/types/{t['id']}/os-volume-type-access").json()
            for t in types
            if not t["is_public"]
        ]
    with client_of(server, "alice") as alice:
        base = "/v3/project-a"
        return {
            "quotas": quotas,
            "types": types,
            "qos": qos,
            "access": access,
            "volumes": alice.get(f"{base}/volumes/detail").json()["volumes"],
            "snapshots": alice.get(f"{base}/snapshots/detail").json()["snapshots"],
            "attachments": alice.get(f"{base}/attachments/detail").json()["attachments"],
            "messages": alice.get(f"{base}/messages").json()["messages"],
            "transfers": alice.get(f"{base}/volume-transfers/detail").json()["transfers"],
            "groups": alice.get(f"{base}/groups/detail?list_volume=true").json()["groups"],
            "group_snapshots": alice.get(f"{base}/group_snapshots/detail").json(),
            "group_types": alice.get(f"{base}/group_types").json(),
        }


def operations(server: ServerProcess) -> list[tuple[str, str, str]]:
    """(method, path, path after the project segment) of every documented operation."""
    document = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
    found = []
    for path, item in document["paths"].items():
        tail = path.removeprefix("/v3/{project_id}").removeprefix("/v3")
        for method in item:
            found.append((method.upper(), path, tail))
    return found


def requests_for(
    method: str, path: str, tail: str, values: dict[str, str]
) -> Iterator[tuple[str, Any]]:
    """The URL and each sample body for one operation."""
    names = re.findall(r"{(\w+)}", path)
    missing = [n for n in names if n not in values]
    assert not missing, f"no value for {missing} of {method} {path}: add one to alices()"
    url = path
    for name in names:
        url = url.replace("{" + name + "}", values[name])
    if method in ("GET", "DELETE"):
        yield url, None
        return
    assert (method, tail) in BODIES, f"no sample body for {method} {tail}: add one to BODIES"
    for body in BODIES[(method, tail)]:
        text = json.dumps(body)
        for name, value in values.items():
            text = text.replace("{" + name + "}", value)
        yield url, json.loads(text)


def test_a_member_of_another_project_reaches_nothing_of_alices(
    server: ServerProcess, alices: dict[str, str]
) -> None:
    before = state_of(server)
    shared = ("project_id", "group_type_id")  # a public group type is everyone's to see
    secrets = [v for k, v in alices.items() if k.endswith("_id") and k not in shared]
    walked = 0
    with client_of(server, "bob") as bob:
        for method, path, tail in operations(server):
            for url, body in requests_for(method, path, tail, alices):
                answer = bob.request(method, url, json=body)
                walked += 1
                touches_alice = "project-a" in url or any(s in url for s in secrets)
                if touches_alice or (body and any(s in json.dumps(body) for s in secrets)):
                    assert answer.status_code in (403, 404), (method, url, body, answer.text)
                else:  # bob's own project (project-less URLs)
                    assert answer.status_code < 500, (method, url, answer.text)
                    assert not any(s in answer.text for s in secrets), (method, url)
    assert walked > 100
    assert state_of(server) == before


def test_a_reader_changes_nothing_and_reads_no_admin_routes(
    server: ServerProcess, alices: dict[str, str]
) -> None:
    before = state_of(server)
    with client_of(server, "carol") as carol:
        for method, path, tail in operations(server):
            for url, body in requests_for(method, path, tail, alices):
                answer = carol.request(method, url, json=body)
                if method != "GET" or tail.startswith(ADMIN_READS):
                    assert answer.status_code == 403, (method, url, body, answer.text)
                    assert "forbidden" in answer.json(), answer.text
                elif tail in HIDDEN_FROM_READERS:
                    assert answer.status_code == 404, (method, url, answer.text)
                else:
                    assert answer.status_code == 200, (method, url, answer.text)
    assert state_of(server) == before


def test_members_get_403_for_administrators_actions(
    server: ServerProcess, alices: dict[str, str]
) -> None:
    before = state_of(server)
    base = "/v3/project-a"
    volume, snap = alices["volume_id"], alices["snapshot_id"]
    with client_of(server, "alice") as alice:
        for url, body in [
            (f"{base}/volumes/{volume}/action", {"os-reset_status": {"status": "error"}}),
            (f"{base}/volumes/{volume}/action", {"os-force_delete": {}}),
            (f"{base}/volumes/{volume}/action", {"os-migrate_volume": {"host": "x"}}),
            (f"{base}/volumes/{volume}/action", {"os-unmanage": None}),
            (f"{base}/snapshots/{snap}/action", {"os-force_delete": {}}),
            (f"{base}/os-volume-manage", BODIES[("POST", "/os-volume-manage")][0]),
            (f"{base}/os-services/failover_host", {"host": "basalt@file"}),
            (f"{base}/os-services/disable", {"host": "basalt@file", "binary": "cinder-volume"}),
        ]:
            answer = (
                alice.post(url, json=body)
                if "os-services" not in url
                else alice.put(url, json=body)
            )
            assert answer.status_code == 403, (url, body, answer.text)
        assert alice.get(f"{base}/os-services").status_code == 403
        assert alice.get(f"{base}/scheduler-stats/get_pools").status_code == 403
        assert alice.delete(f"{base}/volumes/{volume}", params={"force": "true"}).status_code == 403
    assert state_of(server) == before


def test_tokens_are_required_and_checked(server: ServerProcess) -> None:
    for headers in ({}, {"X-Auth-Token": "guessed-token"}):
        answer = httpx.get(f"{server.url}/v3/project-a/volumes", headers=headers, timeout=30)
        assert answer.status_code == 401, answer.text
        assert "unauthorized" in answer.json()
        assert answer.headers["www-authenticate"].startswith("Token")
        assert "guessed" not in answer.text
    projectless = httpx.get(f"{server.url}/v3/volumes", timeout=30)
    assert projectless.status_code == 401


def test_an_administrator_sees_every_project(server: ServerProcess, alices: dict[str, str]) -> None:
    with client_of(server, "root") as root:
        listed = root.get("/v3/ops/volumes", params={"all_tenants": "1"}).json()["volumes"]
        assert alices["volume_id"] in {v["id"] for v in listed}
        shown = root.get(f"/v3/project-a/volumes/{alices['volume_id']}")
        assert shown.status_code == 200 and "os-vol-host-attr:host" in shown.json()["volume"]

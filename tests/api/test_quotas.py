"""/os-quota-sets, /os-quota-class-sets and /limits against a real server with the
configured default quotas (10 volumes, 10 snapshots, 1000 GiB), and the `cinder` quota
commands of python-cinderclient, unchanged.

Callers (noauth): ``admin:ops`` is an administrator, ``alice:<project>`` a member,
``carol:<project>`` a reader. Each test works in a project of its own.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cinder import run_cinder
from tests.support.server import ServerProcess, start_server

pytestmark = pytest.mark.slow
CINDER = Path(sys.executable).with_name("cinder")
ADMIN = {"X-Auth-Token": "admin:ops"}
BASE_LIMITS = {"volumes": 10, "snapshots": 10, "gigabytes": 1000, "per_volume_gigabytes": -1}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = start_server(
        tmp_path_factory.mktemp("quotas") / "data",
        env={"BASALT_API__READER_USERS": '["carol"]'},
        unlimited_quotas=False,
    )
    yield process
    process.stop()


def member(project: str) -> dict[str, str]:
    return {"X-Auth-Token": f"alice:{project}"}


def reader(project: str) -> dict[str, str]:
    return {"X-Auth-Token": f"carol:{project}"}


def call(
    server: ServerProcess,
    method: str,
    path: str,
    headers: dict[str, str],
    body: Any = None,
    **params: str,
) -> httpx.Response:
    return httpx.request(
        method, server.url + path, headers=headers, json=body, params=params or None, timeout=30
    )


def limits_of(server: ServerProcess, project: str) -> dict[str, Any]:
    answer = call(server, "GET", f"/v3/ops/os-quota-sets/{project}", ADMIN)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()["quota_set"]
    return body


def create_volume(server: ServerProcess, project: str, size: int = 1) -> httpx.Response:
    return call(
        server, "POST", f"/v3/{project}/volumes", member(project), {"volume": {"size": size}}
    )


def test_members_and_readers_read_their_quota_in_cinders_shape(server: ServerProcess) -> None:
    assert create_volume(server, "p-read", 3).status_code == 202
    for headers in (member("p-read"), reader("p-read")):
        shown = call(server, "GET", "/v3/p-read/os-quota-sets/p-read", headers)
        assert shown.status_code == 200, shown.text
        quota = shown.json()["quota_set"]
        assert quota["id"] == "p-read"
        assert {k: quota[k] for k in BASE_LIMITS} == BASE_LIMITS
        assert quota["volumes___DEFAULT__"] == -1 and quota["gigabytes___DEFAULT__"] == -1
    usage = call(server, "GET", "/v3/os-quota-sets/p-read", member("p-read"), usage="True")
    assert usage.status_code == 200, usage.text  # the project-less URL, as cinderclient uses it
    lines = usage.json()["quota_set"]
    assert lines["volumes"] == {"limit": 10, "in_use": 1, "reserved": 0, "allocated": 0}
    assert lines["gigabytes"] == {"limit": 1000, "in_use": 3, "reserved": 0, "allocated": 0}
    assert lines["gigabytes___DEFAULT__"]["in_use"] == 3
    defaults = call(server, "GET", "/v3/p-read/os-quota-sets/p-read/defaults", reader("p-read"))
    assert defaults.json()["quota_set"] == {**limits_of(server, "p-read"), "id": "p-read"}


def test_only_administrators_change_quotas_and_nobody_reads_anothers(
    server: ServerProcess,
) -> None:
    body = {"quota_set": {"volumes": 99}}
    for method, path, headers in [
        ("PUT", "/v3/p-who/os-quota-sets/p-who", member("p-who")),
        ("PUT", "/v3/p-who/os-quota-sets/p-who", reader("p-who")),
        ("DELETE", "/v3/p-who/os-quota-sets/p-who", member("p-who")),
        ("GET", "/v3/p-who/os-quota-class-sets/default", member("p-who")),
        ("PUT", "/v3/p-who/os-quota-class-sets/default", member("p-who")),
        ("GET", "/v3/p-who/os-quota-sets/p-else", member("p-who")),
        ("GET", "/v3/p-who/os-quota-sets/p-else/defaults", member("p-who")),
        ("GET", "/v3/p-else/os-quota-sets/p-else", member("p-who")),
        ("GET", "/v3/p-who/limits?tenant_id=p-else", member("p-who")),
    ]:
        json_body = {"quota_class_set": {"volumes": 99}} if "class" in path else body
        answer = call(server, method, path, headers, json_body if method == "PUT" else None)
        assert answer.status_code == 403, (method, path, answer.text)
        assert "forbidden" in answer.json()
    assert limits_of(server, "p-who")["volumes"] == 10
    assert call(server, "GET", "/v3/ops/os-quota-class-sets/default", ADMIN).json() == {
        "quota_class_set": {**BASE_LIMITS, "id": "default", **_type_defaults(server)}
    }


def _type_defaults(server: ServerProcess) -> dict[str, int]:
    quota = limits_of(server, "p-none")
    return {k: v for k, v in quota.items() if k not in BASE_LIMITS and k != "id"}


def test_an_administrator_sets_and_resets_a_projects_limits(server: ServerProcess) -> None:
    path = "/v3/ops/os-quota-sets/p-set"
    updated = call(server, "PUT", path, ADMIN, {"quota_set": {"tenant_id": "p-set", "volumes": 2}})
    assert updated.status_code == 200, updated.text
    assert "id" not in updated.json()["quota_set"]  # as Cinder answers an update
    assert updated.json()["quota_set"]["volumes"] == 2
    assert limits_of(server, "p-set")["volumes"] == 2
    assert limits_of(server, "p-set")["snapshots"] == 10
    deleted = call(server, "DELETE", path, ADMIN)
    assert (deleted.status_code, deleted.content) == (200, b"")
    assert limits_of(server, "p-set")["volumes"] == 10


def test_a_request_past_the_quota_is_413_over_limit_and_makes_nothing(
    server: ServerProcess,
) -> None:
    set_to = {"quota_set": {"volumes": 1, "gigabytes": 3}}
    assert call(server, "PUT", "/v3/ops/os-quota-sets/p-full", ADMIN, set_to).status_code == 200
    volume = create_volume(server, "p-full", 2).json()["volume"]
    before = call(server, "GET", "/v3/p-full/volumes/detail", member("p-full")).json()
    refused = create_volume(server, "p-full")
    assert refused.status_code == 413, refused.text
    assert refused.json() == {
        "overLimit": {
            "code": 413,
            "message": "quota exceeded for volumes in project p-full: limit 1, in use 1, "
            "requested 1",
            "basalt_code": "quota_exceeded",
            "hint": "free some of it, or ask an administrator to raise the quota "
            "(os-quota-sets, basalt quota set)",
        }
    }
    snapshot = call(
        server,
        "POST",
        "/v3/p-full/snapshots",
        member("p-full"),
        {"snapshot": {"volume_id": volume["id"]}},
    )
    assert snapshot.status_code == 413 and "gigabytes" in snapshot.json()["overLimit"]["message"]
    extend = call(
        server,
        "POST",
        f"/v3/p-full/volumes/{volume['id']}/action",
        member("p-full"),
        {"os-extend": {"new_size": 4}},
    )
    assert extend.status_code == 413, extend.text
    assert "limit 3 GiB, in use 2 GiB, requested 2 GiB" in extend.json()["overLimit"]["message"]
    after = call(server, "GET", "/v3/p-full/volumes/detail", member("p-full")).json()
    assert after == before
    assert call(server, "GET", "/v3/p-full/snapshots", member("p-full")).json()["snapshots"] == []


@pytest.mark.parametrize(
    "body, words",
    [
        ({"quota_set": {"volumes": -2}}, "invalid quota_set.volumes: -2 is negative"),
        ({"quota_set": {"volumes": 5, "snapshots": -10}}, "quota_set.snapshots: -10 is negative"),
        ({"quota_set": {"backups": 5}}, "unknown resource 'backups' (Basalt has no backups"),
        ({"quota_set": {"volumes_nosuchtype": 5}}, "unknown resource 'volumes_nosuchtype'"),
        ({"quota_set": {"volumes": "lots"}}, "'lots' is not a whole number"),
        ({"quota_set": {"volumes": 2**31}}, "above the largest limit"),
        ({"quota_set": {"volumes": 0}}, "0 is below the 1 project p-bad already uses"),
        ({"quota_set": {}}, "names no resource"),
        ({"quota_set": {"tenant_id": "p-bad"}}, "names no resource"),
        ({"quota_set": {"tenant_id": "p-other", "volumes": 5}}, "not the project of the URL"),
        ({"quota_set": 5}, "must be an object"),
        ({"quota_set": {"volumes": 5}, "extra": 1}, "extra"),
        ({"volumes": 5}, "quota_set"),
    ],
)
def test_bad_quota_input_is_400_naming_the_problem_and_changes_nothing(
    server: ServerProcess, body: Any, words: str
) -> None:
    if not call(server, "GET", "/v3/p-bad/volumes", member("p-bad")).json()["volumes"]:
        assert create_volume(server, "p-bad").status_code == 202
    before = limits_of(server, "p-bad")
    answer = call(server, "PUT", "/v3/ops/os-quota-sets/p-bad", ADMIN, body)
    assert answer.status_code == 400, answer.text
    assert words in answer.json()["badRequest"]["message"]
    assert limits_of(server, "p-bad") == before


def test_bad_query_values_and_class_names(server: ServerProcess) -> None:
    usage = call(server, "GET", "/v3/p-q/os-quota-sets/p-q", member("p-q"), usage="maybe")
    assert usage.status_code == 400 and "usage" in usage.json()["badRequest"]["message"]
    below = call(
        server,
        "PUT",
        "/v3/ops/os-quota-sets/p-q",
        ADMIN,
        {"quota_set": {"volumes": 1}},
        skip_validation="perhaps",
    )
    assert below.status_code == 400 and limits_of(server, "p-q")["volumes"] == 10
    gold = call(server, "GET", "/v3/ops/os-quota-class-sets/gold", ADMIN)
    assert (
        gold.status_code == 404
        and "one quota class, default" in gold.json()["itemNotFound"]["hint"]
    )
    negative = call(
        server,
        "PUT",
        "/v3/ops/os-quota-class-sets/default",
        ADMIN,
        {"quota_class_set": {"volumes": -3}},
    )
    assert negative.status_code == 400
    assert (
        call(server, "GET", "/v3/ops/os-quota-class-sets/default", ADMIN).json()["quota_class_set"][
            "volumes"
        ]
        == 10
    )


def test_skip_validation_sets_a_limit_below_the_usage(server: ServerProcess) -> None:
    assert create_volume(server, "p-skip").status_code == 202
    body = {"quota_set": {"volumes": 0}}
    refused = call(
        server, "PUT", "/v3/ops/os-quota-sets/p-skip", ADMIN, body, skip_validation="False"
    )
    assert refused.status_code == 400
    taken = call(server, "PUT", "/v3/ops/os-quota-sets/p-skip", ADMIN, body, skip_validation="true")
    assert taken.status_code == 200 and limits_of(server, "p-skip")["volumes"] == 0
    assert create_volume(server, "p-skip").status_code == 413


def test_limits_show_the_absolute_limits_and_usage(server: ServerProcess) -> None:
    assert create_volume(server, "p-lim", 5).status_code == 202
    for path, headers, params in [
        ("/v3/p-lim/limits", reader("p-lim"), {}),
        ("/v3/limits", member("p-lim"), {}),
        ("/v3/ops/limits", ADMIN, {"tenant_id": "p-lim"}),
    ]:
        answer = call(server, "GET", path, headers, **params)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "limits": {
                "rate": [],
                "absolute": {
                    "maxTotalVolumes": 10,
                    "maxTotalSnapshots": 10,
                    "maxTotalVolumeGigabytes": 1000,
                    "totalVolumesUsed": 1,
                    "totalSnapshotsUsed": 0,
                    "totalGigabytesUsed": 5,
                },
            }
        }


def test_the_default_class_is_every_projects_fallback(server: ServerProcess) -> None:
    body = {"quota_class_set": {"snapshots": 7}}
    updated = call(server, "PUT", "/v3/ops/os-quota-class-sets/default", ADMIN, body)
    assert updated.status_code == 200, updated.text
    assert updated.json()["quota_class_set"]["snapshots"] == 7
    try:
        assert limits_of(server, "p-class")["snapshots"] == 7
        defaults = call(server, "GET", "/v3/os-quota-sets/p-class/defaults", member("p-class"))
        assert defaults.json()["quota_set"]["snapshots"] == 7
    finally:
        restore = {"quota_class_set": {"snapshots": 10}}
        call(server, "PUT", "/v3/ops/os-quota-class-sets/default", ADMIN, restore)


def cinder(
    server: ServerProcess, user: str, project: str, *args: str
) -> subprocess.CompletedProcess[str]:
    argv = [str(CINDER), "--os-auth-type", "noauth", "--os-endpoint", f"{server.url}/v3"]
    argv += ["--os-user-id", user, "--os-project-id", project, *args]
    return run_cinder(argv, timeout=60)


def table(output: str) -> dict[str, list[str]]:
    """cinderclient's table rows by their first cell."""
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2:
            rows[cells[0]] = cells[1:]
    return rows


def test_the_cinder_quota_commands(server: ServerProcess) -> None:
    shown = cinder(server, "alice", "p-cc", "quota-show", "p-cc")
    assert shown.returncode == 0, shown.stderr
    assert table(shown.stdout)["volumes"] == ["10"]
    assert table(shown.stdout)["gigabytes"] == ["1000"]
    updated = cinder(server, "admin", "ops", "quota-update", "--volumes", "3", "p-cc")
    assert updated.returncode == 0, updated.stderr
    assert table(updated.stdout)["volumes"] == ["3"]
    assert limits_of(server, "p-cc")["volumes"] == 3
    refused = cinder(server, "alice", "p-cc", "quota-update", "--volumes", "30", "p-cc")
    assert refused.returncode != 0 and "403" in refused.stderr
    defaults = cinder(server, "alice", "p-cc", "quota-defaults", "p-cc")
    assert table(defaults.stdout)["volumes"] == ["10"]
    for _ in range(3):
        assert cinder(server, "alice", "p-cc", "create", "1").returncode == 0
    usage = cinder(server, "alice", "p-cc", "quota-usage", "p-cc")
    assert table(usage.stdout)["volumes"] == [
        "3",
        "0",
        "3",
        "0",
    ]  # in use, reserved, limit, allocated
    limits = cinder(server, "alice", "p-cc", "absolute-limits")
    assert limits.returncode == 0, limits.stderr
    assert table(limits.stdout)["maxTotalVolumes"] == ["3"]
    assert table(limits.stdout)["totalVolumesUsed"] == ["3"]
    beyond = cinder(server, "alice", "p-cc", "create", "1")
    assert beyond.returncode != 0
    assert "quota exceeded for volumes in project p-cc: limit 3, in use 3, requested 1" in (
        beyond.stderr
    )
    assert "HTTP 413" in beyond.stderr
    assert len(call(server, "GET", "/v3/p-cc/volumes", member("p-cc")).json()["volumes"]) == 3
    assert cinder(server, "admin", "ops", "quota-delete", "p-cc").returncode == 0
    assert limits_of(server, "p-cc")["volumes"] == 10
    klass = cinder(server, "admin", "ops", "quota-class-show", "default")
    assert table(klass.stdout)["snapshots"] == ["10"]

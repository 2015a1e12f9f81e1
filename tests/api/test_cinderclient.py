"""python-cinderclient, unchanged, against a real `basalt serve` (noauth, project-less URLs).

The `cinder` command line is run as a user would run it, each command in a process of
its own (forked from one that has imported cinderclient, tests.support.cinder); every
step is checked against what the server holds, through Basalt's own REST view.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.cinder import run_cinder
from tests.support.content import head
from tests.support.server import ServerProcess, start_server

pytestmark = pytest.mark.slow
CINDER = Path(sys.executable).with_name("cinder")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    if not CINDER.exists() and shutil.which("cinder") is None:
        pytest.fail("python-cinderclient is a dev dependency: run uv sync")
    process = start_server(tmp_path_factory.mktemp("cinder") / "data")
    yield process
    process.stop()


def cinder(server: ServerProcess, *args: str) -> str:
    done = cinder_as(server, "basalt", *args)
    assert done.returncode == 0, f"cinder {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


def field(table: str, name: str) -> str:
    """A value from cinderclient's Property/Value table."""
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] == name:
            return cells[1]
    raise AssertionError(f"{name} not in\n{table}")


def held(server: ServerProcess, kind: str, resource_id: str) -> dict[str, object]:
    response = httpx.get(f"{server.project_url}/{kind}s/{resource_id}", timeout=30)
    if response.status_code == 404:
        return {}
    body: dict[str, object] = response.json()[kind]
    return body


def test_the_cinder_cli_manages_a_volume_lifecycle(server: ServerProcess) -> None:
    created = cinder(server, "create", "--name", "cc-vol", "--metadata", "tier=gold", "1")
    volume_id = field(created, "id")
    assert held(server, "volume", volume_id)["name"] == "cc-vol"
    assert held(server, "volume", volume_id)["metadata"] == {"tier": "gold"}
    assert volume_id in cinder(server, "list")
    assert field(cinder(server, "show", volume_id), "status") == "available"

    cinder(server, "rename", volume_id, "cc-renamed")
    assert held(server, "volume", volume_id)["name"] == "cc-renamed"
    cinder(server, "extend", volume_id, "2")
    assert held(server, "volume", volume_id)["size"] == 2
    cinder(server, "metadata", volume_id, "set", "owner=ops")
    assert held(server, "volume", volume_id)["metadata"] == {"tier": "gold", "owner": "ops"}
    cinder(server, "metadata", volume_id, "unset", "tier")
    assert held(server, "volume", volume_id)["metadata"] == {"owner": "ops"}

    snap = cinder(server, "snapshot-create", "--name", "cc-snap", volume_id)
    snapshot_id = field(snap, "id")
    assert held(server, "snapshot", snapshot_id)["volume_id"] == volume_id
    assert snapshot_id in cinder(server, "snapshot-list")
    restored = cinder(server, "create", "--snapshot-id", snapshot_id, "--name", "cc-from", "2")
    restored_id = field(restored, "id")
    assert held(server, "volume", restored_id)["snapshot_id"] == snapshot_id

    cinder(server, "delete", restored_id)
    cinder(server, "snapshot-delete", snapshot_id)
    _wait_gone(server, "snapshot", snapshot_id)
    cinder(server, "delete", volume_id)
    _wait_gone(server, "volume", volume_id)
    assert json.loads(httpx.get(f"{server.project_url}/volumes", timeout=30).text)["volumes"] == []


def _wait_gone(server: ServerProcess, kind: str, resource_id: str) -> None:
    import time

    deadline = time.monotonic() + 30
    while held(server, kind, resource_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not held(server, kind, resource_id), f"{kind} {resource_id} is still there"


def cinder_as(server: ServerProcess, user: str, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [
        str(CINDER),
        "--os-auth-type",
        "noauth",
        "--os-endpoint",
        f"{server.url}/v3",
        "--os-user-id",
        user,
        "--os-project-id",
        "basalt",
        *args,
    ]
    return run_cinder(argv, timeout=60)


def rows(table: str) -> list[list[str]]:
    """The data rows of a cinderclient table."""
    found = []
    for line in table.splitlines():
        if line.startswith("|"):
            found.append([c.strip() for c in line.strip().strip("|").split("|")])
    return found[1:]


def test_the_cinder_cli_lists_and_manages_a_file_as_admin(server: ServerProcess) -> None:
    pool = server.data_dir / "pools" / "file" / "default" / "volumes"
    with (pool / "legacy-disk.raw").open("wb") as image:
        image.truncate(1536 * 1024 * 1024)  # 1.5 GiB: manage rounds up to 2
        image.seek(0)
        image.write(b"legacy data")
    host = "basalt@file#default"

    listed = rows(cinder(server, "manageable-list", host))
    (entry,) = [r for r in listed if "legacy-disk.raw" in r[0]]
    assert entry[1:3] == ["2", "True"]  # size rounded up, safe to manage
    member = cinder_as(server, "alice", "manageable-list", host)
    assert member.returncode != 0 and "403" in member.stderr + member.stdout

    managed = cinder(
        server, "manage", "--name", "adopted", "--metadata", "from=legacy", host, "legacy-disk.raw"
    )
    volume_id = field(managed, "id")
    view = held(server, "volume", volume_id)
    assert (view["name"], view["size"], view["metadata"]) == ("adopted", 2, {"from": "legacy"})
    assert head(pool / f"{volume_id}.raw", 11) == b"legacy data"
    assert not (pool / "legacy-disk.raw").exists()
    assert all("legacy-disk.raw" not in r[0] for r in rows(cinder(server, "manageable-list", host)))
    refused = cinder_as(server, "alice", "manage", host, "not-there.raw")
    assert refused.returncode != 0 and "403" in refused.stderr + refused.stdout
    cinder(server, "delete", volume_id)
    _wait_gone(server, "volume", volume_id)


def test_the_cinder_cli_manages_types_and_qos(server: ServerProcess) -> None:
    gold_id = rows(cinder(server, "type-create", "--description", "fast disks", "gold"))[0][0]
    cinder(
        server, "type-key", "gold", "set", "volume_backend_name=file", "storage_protocol=<in> iSCSI"
    )
    listed = cinder(server, "extra-specs-list")
    assert "gold" in listed and "volume_backend_name" in listed
    kinds = httpx.get(f"{server.project_url}/types/{gold_id}", timeout=30).json()["volume_type"]
    assert kinds["extra_specs"] == {"volume_backend_name": "file", "storage_protocol": "<in> iSCSI"}

    qos = cinder(server, "qos-create", "host-limits", "consumer=front-end", "total_iops_sec=500")
    qos_id = field(qos, "id")
    cinder(server, "qos-associate", qos_id, gold_id)
    assert "gold" in cinder(server, "qos-get-association", qos_id)
    shown = httpx.get(f"{server.project_url}/types/{gold_id}", timeout=30).json()["volume_type"]
    assert shown["qos_specs_id"] == qos_id

    cinder(server, "type-create", "nowhere")
    cinder(server, "type-key", "nowhere", "set", "volume_backend_name=elsewhere")
    refused = cinder_as(server, "basalt", "create", "--volume-type", "nowhere", "1")
    assert refused.returncode != 0
    assert "1 fail capabilities (volume_backend_name=elsewhere)" in refused.stderr
    cinder(server, "type-delete", "nowhere")

    created = cinder(server, "create", "--volume-type", "gold", "--name", "typed", "1")
    volume_id = field(created, "id")
    assert held(server, "volume", volume_id)["volume_type"] == "gold"
    assert held(server, "volume", volume_id)["volume_type_id"] == gold_id
    in_use = cinder_as(server, "basalt", "type-delete", "gold")
    assert in_use.returncode != 0 and "1 volume" in in_use.stderr + in_use.stdout
    cinder(server, "delete", volume_id)
    _wait_gone(server, "volume", volume_id)
    cinder(server, "qos-disassociate", qos_id, gold_id)
    cinder(server, "qos-delete", qos_id)
    cinder(server, "type-delete", "gold")
    assert "gold" not in cinder(server, "type-list")

    private = rows(cinder(server, "type-create", "--is-public", "false", "private"))[0][0]
    cinder(server, "type-access-add", "--volume-type", private, "--project-id", "other")
    assert "other" in cinder(server, "type-access-list", "--volume-type", private)
    member = cinder_as(server, "alice", "type-create", "mine")
    assert member.returncode != 0 and "403" in member.stderr + member.stdout


def cinder_in(server: ServerProcess, user: str, project: str, *args: str) -> str:
    """Run the cinder CLI as ``user`` of ``project`` (noauth) and return its output."""
    argv = [
        str(CINDER),
        "--os-auth-type",
        "noauth",
        "--os-endpoint",
        f"{server.url}/v3",
        "--os-user-id",
        user,
        "--os-project-id",
        project,
        *args,
    ]
    done = run_cinder(argv, timeout=60)
    if done.returncode != 0:
        raise AssertionError(f"cinder {' '.join(args)} as {user}: {done.stdout}{done.stderr}")
    return done.stdout


def seen_by(server: ServerProcess, user: str, project: str, path: str) -> httpx.Response:
    headers = {"X-Auth-Token": f"{user}:{project}"}
    return httpx.get(f"{server.url}/v3/{project}{path}", headers=headers, timeout=30)


def test_the_cinder_cli_transfers_a_volume_to_another_project(server: ServerProcess) -> None:
    volume_id = field(cinder_in(server, "alice", "pa", "create", "--name", "gift", "1"), "id")
    snapshot_id = field(cinder_in(server, "alice", "pa", "snapshot-create", volume_id), "id")
    assert seen_by(server, "alice", "pa", f"/snapshots/{snapshot_id}").status_code == 200

    offered = cinder_in(server, "alice", "pa", "transfer-create", "--name", "to-b", volume_id)
    transfer_id, key = field(offered, "id"), field(offered, "auth_key")
    assert field(offered, "volume_id") == volume_id and len(key) == 32
    assert held(server, "volume", volume_id)["status"] == "awaiting-transfer"
    assert [r[:3] for r in rows(cinder_in(server, "alice", "pa", "transfer-list"))] == [
        [transfer_id, volume_id, "to-b"]
    ]
    shown = cinder_in(server, "alice", "pa", "transfer-show", transfer_id)
    assert field(shown, "name") == "to-b" and key not in shown and "auth_key" not in shown
    assert rows(cinder_in(server, "bob", "pb", "transfer-list")) == []
    with pytest.raises(AssertionError, match="404"):
        cinder_in(server, "bob", "pb", "transfer-accept", transfer_id, "0" * 32)

    accepted = cinder_in(server, "bob", "pb", "transfer-accept", transfer_id, key)

    assert (field(accepted, "id"), field(accepted, "volume_id")) == (transfer_id, volume_id)
    volume = held(server, "volume", volume_id)
    assert (volume["os-vol-tenant-attr:tenant_id"], volume["user_id"]) == ("pb", "bob")
    assert volume["status"] == "available"
    snapshot = held(server, "snapshot", snapshot_id)
    assert snapshot["os-extended-snapshot-attributes:project_id"] == "pb"
    assert seen_by(server, "alice", "pa", f"/volumes/{volume_id}").status_code == 404
    assert seen_by(server, "alice", "pa", f"/snapshots/{snapshot_id}").status_code == 404
    assert volume_id in cinder_in(server, "bob", "pb", "list")
    assert snapshot_id in cinder_in(server, "bob", "pb", "snapshot-list")
    assert volume_id not in cinder_in(server, "alice", "pa", "list")
    assert rows(cinder_in(server, "alice", "pa", "transfer-list")) == []
    with pytest.raises(AssertionError, match="404"):
        cinder_in(server, "carl", "pc", "transfer-accept", transfer_id, key)  # used

    again = field(cinder_in(server, "bob", "pb", "transfer-create", volume_id), "id")
    cinder_in(server, "bob", "pb", "transfer-delete", again)
    assert held(server, "volume", volume_id)["status"] == "available"
    assert rows(cinder_in(server, "bob", "pb", "transfer-list")) == []


def test_the_cinder_cli_manages_groups_and_group_snapshots(server: ServerProcess) -> None:
    def cinder314(*args: str) -> str:
        return cinder(server, "--os-volume-api-version", "3.14", *args)

    def show(path: str) -> httpx.Response:
        headers = {"OpenStack-API-Version": "volume 3.14"}
        return httpx.get(f"{server.project_url}/{path}", headers=headers, timeout=30)

    created = cinder314("group-type-create", "cc-gt")
    kind_id = next(line.split("|")[1].strip() for line in created.splitlines() if "cc-gt" in line)
    cinder314("group-type-key", "cc-gt", "set", "consistent_group_snapshot_enabled=<is> True")
    assert "consistent_group_snapshot_enabled" in cinder314("group-specs-list")
    group_id = field(cinder314("group-create", "cc-gt", "__DEFAULT__", "--name", "cc-g"), "id")
    assert show(f"groups/{group_id}").json()["group"]["group_type"] == kind_id
    members = [field(cinder(server, "create", "--name", f"m{i}", "1"), "id") for i in range(2)]
    cinder314("group-update", group_id, "--add-volumes", ",".join(members))
    listed = show(f"groups/{group_id}?list_volume=true").json()["group"]["volumes"]
    assert sorted(listed) == sorted(members)
    assert "cc-g" in cinder314("group-list")

    gsnap = cinder314("group-snapshot-create", group_id, "--name", "cc-gs")
    gsnap_id = field(gsnap, "id")
    assert show(f"group_snapshots/{gsnap_id}").json()["group_snapshot"]["status"] == "available"
    assert gsnap_id in cinder314("group-snapshot-list")
    restored = cinder314("group-create-from-src", "--group-snapshot", gsnap_id, "--name", "cc-r")
    restored_id = field(restored, "id")
    assert show(f"groups/{restored_id}").json()["group"]["group_snapshot_id"] == gsnap_id

    cinder314("group-snapshot-delete", gsnap_id)
    assert show(f"group_snapshots/{gsnap_id}").status_code == 404
    cinder314("group-delete", "--delete-volumes", group_id, restored_id)
    for gone in (group_id, restored_id):
        assert show(f"groups/{gone}").status_code == 404
    assert all(held(server, "volume", m) == {} for m in members)
    cinder314("group-type-delete", "cc-gt")


def test_the_cinder_cli_lists_one_project_for_an_administrator(server: ServerProcess) -> None:
    volume_id = field(cinder(server, "create", "--name", "tenant-listed", "1"), "id")
    listed = cinder(server, "list", "--all-tenants", "--tenant", "basalt")
    assert volume_id in listed
    other = cinder(server, "list", "--all-tenants", "--tenant", "no-such-project")
    assert volume_id not in other
    unknown = cinder_as(server, "basalt", "list", "--filters", "size=1")
    assert unknown.returncode != 0 and "size" in unknown.stderr

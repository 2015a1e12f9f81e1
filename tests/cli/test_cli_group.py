"""`basalt group-type|group|group-snapshot ...` against a fresh data directory."""

from __future__ import annotations

from tests.cli.test_cli import (  # noqa: F401  (fixtures)
    Run,
    RunJson,
    data_dir,
    new_volume,
    run,
    run_json,
)


def test_a_group_is_made_filled_snapshotted_copied_and_deleted(run: Run, run_json: RunJson) -> None:  # noqa: F811
    kind = run_json(
        "group-type", "create", "cg", "--property", "consistent_group_snapshot_enabled=<is> True"
    )
    assert kind["group_specs"] == {"consistent_group_snapshot_enabled": "<is> True"}
    assert [t["name"] for t in run_json("group-type", "list")] == ["cg"]
    group = run_json("group", "create", "cg", "__DEFAULT__", "--name", "db", "--wait")
    assert group["status"] == "available" and group["backend"] == "file"
    volumes = [new_volume(run_json) for _ in range(2)]
    ids = ",".join(v["id"] for v in volumes)
    run_json("group", "update", group["id"], "--add-volumes", ids)
    shown = run_json("group", "show", group["id"])
    assert sorted(shown["volumes"]) == sorted(v["id"] for v in volumes)

    gsnap = run_json("group-snapshot", "create", group["id"], "--name", "n", "--wait")
    assert gsnap["status"] == "available" and set(gsnap["cut"]["members"]) == set(shown["volumes"])
    assert len(run_json("group-snapshot", "show", gsnap["id"])["snapshots"]) == 2
    assert "n" in run("group-snapshot", "list").stdout
    copy = run_json("group", "create-from-src", "--group-snapshot", gsnap["id"], "--wait")
    assert copy["group_snapshot_id"] == gsnap["id"]

    refused = run("group", "delete", group["id"], code=5)
    assert "group snapshot" in refused.stderr
    in_group = run("volume", "delete", volumes[0]["id"], code=5)
    assert "is in group" in in_group.stderr
    run_json("group-snapshot", "delete", gsnap["id"], "--wait")
    run_json("group", "delete", group["id"], "--delete-volumes", "--wait")
    run_json("group", "delete", copy["id"], "--delete-volumes", "--wait")
    assert run_json("group", "list") == [] and run_json("volume", "list") == []
    run("group-type", "delete", "cg")
    assert run_json("group-type", "list") == []

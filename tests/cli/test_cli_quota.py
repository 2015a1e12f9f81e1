"""`basalt quota show|usage|set|reset`: the limits the REST API shows, changed the same way."""

from __future__ import annotations

from tests.cli.test_cli import (  # noqa: F401  (fixtures)
    Run,
    RunJson,
    data_dir,
    run,
    run_json,
)


def test_show_set_usage_and_reset(run: Run, run_json: RunJson) -> None:  # noqa: F811
    shown = run_json("quota", "show")
    assert shown["project_id"] == "basalt"
    assert (shown["volumes"], shown["snapshots"], shown["gigabytes"]) == (10, 10, 1000)
    assert shown["per_volume_gigabytes"] == -1 and shown["volumes___DEFAULT__"] == -1
    updated = run_json("quota", "set", "basalt", "--volumes", "1", "--gigabytes", "-1")
    assert (updated["volumes"], updated["gigabytes"]) == (1, -1)
    run_json("volume", "create", "--size", "2", "--wait")
    refused = run("volume", "create", "--size", "1", code=7)
    assert "quota exceeded for volumes in project basalt: limit 1, in use 1, requested 1" in (
        refused.stderr
    )
    assert "hint: free some of it" in refused.stderr
    usage = {row["resource"]: row for row in run_json("quota", "usage", "basalt")}
    assert usage["volumes"] == {"resource": "volumes", "in_use": 1, "reserved": 0, "limit": 1}
    assert usage["gigabytes___DEFAULT__"]["in_use"] == 2
    table = run("quota", "usage").stdout
    assert "volumes" in table and "unlimited" in table
    typed = run_json("quota", "set", "basalt", "--volume-type", "__DEFAULT__", "--volumes", "4")
    assert typed["volumes___DEFAULT__"] == 4
    assert run_json("quota", "reset", "basalt")["volumes"] == 10
    assert run_json("quota", "show", "other-project")["project_id"] == "other-project"


def test_bad_limits_exit_4_and_change_nothing(run: Run, run_json: RunJson) -> None:  # noqa: F811
    run_json("volume", "create", "--size", "1", "--wait")
    for args, words in [
        (("--volumes", "-2"), "invalid quota_set.volumes: -2 is negative"),
        (("--volumes", "0"), "0 is below the 1 project basalt already uses"),
        (("--volume-type", "gold", "--volumes", "1"), "unknown resource 'volumes_gold'"),
    ]:
        error = run_json("quota", "set", "basalt", *args, code=4)["error"]
        assert error["code"] == "invalid_input" and words in error["message"]
    assert run_json("quota", "show")["volumes"] == 10
    assert "at least one limit" in run("quota", "set", "basalt", code=2).stderr
    both = run(
        "quota", "set", "basalt", "--volume-type", "x", "--per-volume-gigabytes", "1", code=2
    )
    assert "no per-type limit" in both.stderr
    assert run_json("quota", "set", "basalt", "--volumes", "0", "--skip-validation")["volumes"] == 0

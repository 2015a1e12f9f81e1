"""`basalt service freeze|thaw|failover|failback|replication|replicate` and
`basalt volume replication` on a file backend with a replication target."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import (  # noqa: F401  (fixtures)
    Run,
    RunJson,
    data_dir,
    run,
    run_json,
)


@pytest.fixture(autouse=True)
def replicated_backend(
    data_dir: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backends = [
        {
            "name": "file",
            "pools": {"default": str(tmp_path / "primary")},
            "replication_targets": [
                {"backend_id": "dr", "pools": {"default": str(tmp_path / "dr")}}
            ],
        }
    ]
    monkeypatch.setenv("BASALT_BACKENDS", json.dumps(backends))


def test_replicate_fail_over_and_back_from_the_command_line(
    run: Run,  # noqa: F811
    run_json: RunJson,  # noqa: F811
    tmp_path: Path,
) -> None:
    run_json("type", "create", "replicated", "--property", "replication_enabled=<is> True")
    volume = run_json("volume", "create", "--size", "1", "--type", "replicated", "--wait")
    assert volume["replication_status"] == "enabled"
    assert run_json("volume", "replication", volume["id"])["last_sync_at"] is None
    [shipped] = run_json("service", "replicate", "file")
    assert shipped["syncs"] == 1 and shipped["target_id"] == "dr"
    assert (tmp_path / "dr" / "volumes" / f"{volume['id']}.raw").is_file()
    assert "dr" in run("service", "replication", "basalt@file").stdout

    assert run_json("service", "freeze", "file")["frozen"] is True
    refused = run("volume", "extend", volume["id"], "2", code=5)
    assert "frozen" in refused.stderr
    refused = run("service", "failover", "file", code=5)
    assert "frozen" in refused.stderr
    assert run_json("service", "thaw", "file")["frozen"] is False

    unknown = run("service", "failover", "file", "--backend-id", "nowhere", code=5)
    assert "nowhere" in unknown.stderr
    over = run_json("service", "failover", "file", "--backend-id", "dr", "--wait")
    assert (over["replication_status"], over["active_backend_id"]) == ("failed-over", "dr")
    listed = run_json("service", "list", "--binary", "cinder-volume")
    assert listed[0]["active_backend_id"] == "dr"
    assert run_json("volume", "show", volume["id"])["replication_status"] == "failed-over"
    twice = run("service", "failover", "file", code=5)
    assert "already" in twice.stderr
    back = run_json("service", "failback", "file", "--wait")
    assert back["active_backend_id"] is None
    assert run_json("volume", "show", volume["id"])["replication_status"] == "enabled"


def test_fail_one_group_over_and_back_from_the_command_line(
    run: Run,  # noqa: F811
    run_json: RunJson,  # noqa: F811
    tmp_path: Path,
) -> None:
    run_json("type", "create", "replicated", "--property", "replication_enabled=<is> True")
    spec = "consistent_group_replication_enabled=<is> True"
    run_json("group-type", "create", "replicated-group", "--property", spec)
    group = run_json("group", "create", "replicated-group", "replicated", "--wait")
    assert group["replication_status"] == "disabled"
    volume = run_json(
        "volume", "create", "--size", "1", "--type", "replicated", "--group", group["id"], "--wait"
    )
    outside = run_json("volume", "create", "--size", "1", "--type", "replicated", "--wait")
    refused = run("group", "failover-replication", group["id"], code=5)
    assert "disabled" in refused.stderr
    assert run_json("group", "enable-replication", group["id"])["replication_status"] == "enabled"
    [target] = run_json("group", "replication-targets", group["id"])
    assert target["backend_id"] == "dr"
    run_json("service", "replicate", "file")

    failed = run_json("group", "failover-replication", group["id"], "--wait")
    assert (failed["status"], failed["replication_status"]) == ("available", "failed-over")
    shown = run_json("group", "show", group["id"])
    assert (shown["replication_status"], shown["replication_target"]) == ("failed-over", "dr")
    assert run_json("volume", "show", volume["id"])["replication_status"] == "failed-over"
    assert run_json("volume", "show", outside["id"])["replication_status"] == "enabled"
    assert "failed-over" in run("group", "list").stdout

    back = run_json(
        "group", "failover-replication", group["id"], "--secondary-backend-id", "default", "--wait"
    )
    assert (back["replication_status"], back["replication_target"]) == ("enabled", None)
    assert run_json("group", "disable-replication", group["id"])["replication_status"] == (
        "disabled"
    )

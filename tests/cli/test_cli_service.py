"""`basalt service list|disable|enable`: the same services the REST API shows."""

from __future__ import annotations

from tests.cli.test_cli import (  # noqa: F401  (fixtures)
    Run,
    RunJson,
    data_dir,
    run,
    run_json,
)


def test_list_disable_and_enable_a_backend(run: Run, run_json: RunJson) -> None:  # noqa: F811
    listed = run_json("service", "list")
    assert [(s["binary"], s["host"], s["status"], s["state"]) for s in listed] == [
        ("cinder-scheduler", "basalt", "enabled", "up"),
        ("cinder-volume", "basalt@file", "enabled", "up"),
    ]
    disabled = run_json("service", "disable", "file", "--reason", "new disks")
    assert (disabled["host"], disabled["status"], disabled["disabled_reason"]) == (
        "basalt@file",
        "disabled",
        "new disks",
    )
    refused = run("volume", "create", "--size", "1", code=7)
    assert "backend file is disabled (new disks)" in refused.stderr
    table = run("service", "list", "--binary", "cinder-volume").stdout
    assert "basalt@file" in table and "new disks" in table and "cinder-scheduler" not in table
    assert run_json("service", "enable", "basalt@file")["status"] == "enabled"
    assert run_json("volume", "create", "--size", "1", "--wait")["backend"] == "file"


def test_unknown_backends_exit_3(run: Run) -> None:  # noqa: F811
    result = run("service", "disable", "nope", code=3)
    assert "basalt@nope" in result.stderr and "basalt@file" in result.stderr

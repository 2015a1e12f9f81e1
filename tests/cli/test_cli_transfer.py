"""`basalt transfer create|list|show|accept|delete` against a fresh data directory."""

from __future__ import annotations

from click.testing import CliRunner

from basalt.cli.main import cli
from tests.cli.test_cli import (  # noqa: F401  (fixtures)
    Run,
    RunJson,
    data_dir,
    new_volume,
    run,
    run_json,
)


def test_offer_list_show_and_accept_into_another_project(run: Run, run_json: RunJson) -> None:  # noqa: F811
    volume = new_volume(run_json)
    run_json("snapshot", "create", volume["id"], "--wait")
    created = run_json("transfer", "create", volume["id"], "--name", "to-web")
    key = created["auth_key"]
    assert (created["volume_id"], created["name"], created["source_project_id"]) == (
        volume["id"],
        "to-web",
        "basalt",
    )
    assert run_json("volume", "show", volume["id"])["status"] == "awaiting-transfer"
    listed = run_json("transfer", "list")
    shown = run_json("transfer", "show", created["id"])
    assert listed == [shown] and shown == {k: v for k, v in created.items() if k != "auth_key"}
    for text in (run("transfer", "list").stdout, run("transfer", "show", created["id"]).stdout):
        assert key not in text and "crypt_hash" not in text, text
    assert not {"salt", "crypt_hash", "auth_key"} & set(shown)
    assert "to-web" in run("transfer", "list").stdout

    refused = run("transfer", "accept", created["id"], "0" * 32, "--project", "web", code=3)
    assert "no open volume transfer has this id and auth key" in refused.stderr
    own = run("transfer", "accept", created["id"], key, code=4)
    assert "caller's own" in own.stderr

    moved = run_json(
        "transfer", "accept", created["id"], key, "--project", "web", "--user", "ann", "--wait"
    )
    assert (moved["id"], moved["project_id"], moved["user_id"]) == (volume["id"], "web", "ann")
    assert moved["status"] == "available" and moved["operation_id"]
    assert {s["project_id"] for s in run_json("snapshot", "list", "--all-projects")} == {"web"}
    assert run_json("transfer", "list", "--all-projects") == []
    run("transfer", "show", created["id"], code=3)


def test_delete_cancels_and_the_key_can_come_from_stdin(
    run: Run,  # noqa: F811
    run_json: RunJson,  # noqa: F811
    data_dir: object,  # noqa: F811
) -> None:
    volume = new_volume(run_json)
    first = run_json("transfer", "create", volume["id"], "--no-snapshots")
    assert first["no_snapshots"] is True
    gone = run_json("transfer", "delete", first["id"])
    assert (gone["id"], gone["status"]) == (first["id"], "deleted")
    assert run_json("volume", "show", volume["id"])["status"] == "available"
    run("transfer", "delete", first["id"], code=3)

    second = run_json("transfer", "create", volume["id"])
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(data_dir), "transfer", "accept", second["id"], "-", "--project", "p2"],
        input=second["auth_key"] + "\n",
    )
    assert result.exit_code == 0, result.stderr
    assert run_json("volume", "show", volume["id"])["project_id"] == "p2"

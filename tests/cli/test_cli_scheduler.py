"""`basalt scheduler explain`, `volume create` placement options, `volume retype` and
`volume migrate`, over two `file` backends from a basalt.toml in the working directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_cli import (  # noqa: F401  (fixtures)
    Run,
    RunJson,
    data_dir,
    run,
    run_json,
)


@pytest.fixture
def two_backends(data_dir: Path) -> None:  # noqa: F811
    root = data_dir.parent
    (root / "basalt.toml").write_text(
        '[[backends]]\nname = "fast"\nvolume_backend_name = "gold"\n'
        f'pools = {{ p1 = "{root / "f1"}" }}\n'
        '[[backends]]\nname = "slow"\navailability_zone = "az2"\n'
        f'pools = {{ p1 = "{root / "s1"}" }}\n'
    )


@pytest.mark.usefixtures("two_backends")
def test_explain_place_retype_and_migrate(run: Run, run_json: RunJson) -> None:  # noqa: F811
    run("type", "create", "gold", "--property", "volume_backend_name=gold")
    run("type", "create", "plain")
    table = run("scheduler", "explain", "--size", "2", "--type", "gold").stdout
    assert "chosen: basalt@fast#p1" in table
    assert "basalt@slow#p1" in table and "volume_backend_name=gold: reports 'slow'" in table
    explained = run_json("scheduler", "explain", "--size", "2", "--zone", "az2")
    assert explained["chosen"] == "basalt@slow#p1"

    refused = run("volume", "create", "--size", "1", "--type", "gold", "--zone", "az2", code=7)
    assert "2 fail" not in refused.stderr and "1 fail availability_zone" in refused.stderr
    assert "basalt@slow#p1" in refused.stderr and run_json("volume", "list") == []

    volume = run_json(
        "volume", "create", "--size", "1", "--type", "plain", "--zone", "az2", "--wait"
    )
    assert volume["backend"] == "slow"
    beside = run_json("volume", "create", "--size", "1", "--same-host", volume["id"], "--wait")
    assert beside["backend"] == "slow"
    away = run_json("volume", "create", "--size", "1", "--different-host", volume["id"], "--wait")
    assert away["backend"] == "fast"

    never = run("volume", "retype", volume["id"], "gold", code=4)
    assert "cannot take type gold where it is (slow#p1)" in never.stderr
    moved = run_json(
        "volume", "retype", volume["id"], "gold", "--migration-policy", "on-demand", "--wait"
    )
    assert (moved["backend"], moved["migration_status"]) == ("fast", "success")
    back = run_json("volume", "migrate", beside["id"], "fast#p1", "--wait")
    assert (back["backend"], back["pool"]) == ("fast", "p1")
    same = run("volume", "migrate", beside["id"], "fast#p1", code=4)
    assert "already" in same.stderr

"""`basalt volume attach|connection|attachments|detach` against a real tgtd.

The CLI leaves its tgtd running when it exits (an attach must outlive the command);
the next command adopts it, and the fixture stops it by the PID in its pid file.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from basalt.cli.main import cli
from tests.support.iscsi import (
    free_control_port,
    free_tcp_port,
    login_error,
    require_iscsi,
    stop_tgtd_of,
)

pytestmark = pytest.mark.slow
INITIATOR = "iqn.2026-11.test.cli:host1"
Run = Callable[..., Any]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    """Run `basalt --data-dir D ARGS`; with ``json=True`` add --json and parse stdout."""
    require_iscsi()
    for name in list(os.environ):
        if name.startswith("BASALT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    control_port = free_control_port()
    env = {
        "BASALT_ISCSI__PORTALS": json.dumps([f"127.0.0.1:{free_tcp_port()}"]),
        "BASALT_ISCSI__CONTROL_PORT": str(control_port),
    }
    data_dir = tmp_path / "data"
    runner = CliRunner()

    def invoke(args: str, *, code: int = 0, as_json: bool = False) -> Any:
        argv = ["--data-dir", str(data_dir), *shlex.split(args), *(["--json"] if as_json else [])]
        result = runner.invoke(cli, argv, env=env)
        assert result.exit_code == code, (
            f"basalt {args} exited {result.exit_code}, wanted {code}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}\nexception: {result.exception!r}"
        )
        return json.loads(result.stdout) if as_json else result

    try:
        yield invoke
    finally:
        stop_tgtd_of(data_dir, control_port)


def test_attach_prints_usable_connection_info_and_detach_removes_the_export(run: Run) -> None:
    volume = run("volume create --size 1 --wait", as_json=True)
    attached = run(f"volume attach {volume['id']} --host h1 --initiator {INITIATOR}", as_json=True)
    assert attached["status"] == "attached"
    info = attached["connection_info"]
    assert info["driver_volume_type"] == "iscsi"
    data = info["data"]
    where = {
        "portal": data["target_portal"],
        "iqn": data["target_iqn"],
        "user": data["auth_username"],
        "secret": data["auth_password"],
    }
    assert login_error(**where, initiator=INITIATOR) == ""  # the tgtd outlived the command
    assert run(f"volume show {volume['id']}", as_json=True)["status"] == "in-use"
    (listed,) = run(f"volume attachments {volume['id']}", as_json=True)
    assert listed["status"] == "attached" and listed["connector"]["initiator"] == INITIATOR
    table = run(f"volume attachments {volume['id']}").stdout
    assert data["auth_password"] not in table

    again = run(f"volume connection {volume['id']} --host h1 --initiator {INITIATOR}", as_json=True)
    assert again["connection_info"] == info  # idempotent for the same host

    assert "detached" in run(f"volume detach {volume['id']}").stdout
    assert run(f"volume show {volume['id']}", as_json=True)["status"] == "available"
    assert login_error(**where, initiator=INITIATOR) != ""


def test_bad_attach_requests_exit_with_clear_codes(run: Run) -> None:
    volume = run("volume create --size 1 --wait", as_json=True)
    missing = run(f"volume attach {volume['id']} --host h1", code=4)
    assert "connector.initiator" in missing.stderr
    bad = run(f"volume attach {volume['id']} --host h1 --initiator iqn.nope", code=4)
    assert "is not an iSCSI name" in bad.stderr
    assert "not attached" in run(f"volume detach {volume['id']}", code=5).stderr
    run("volume attach 3f1c0a9e-2a54-4bd7-8a7b-6a8d0f3f0000 --initiator " + INITIATOR, code=3)
    assert run(f"volume show {volume['id']}", as_json=True)["status"] == "available"

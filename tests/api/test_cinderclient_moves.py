"""python-cinderclient against a Basalt with two backends: scheduler hints, migrate
and retype (refused in place, then with migration on demand), each checked against
what the server holds.

Backend ``fast`` (volume_backend_name ``gold``, pools p1 and p2) and backend
``slow`` are `file` backends in the server's data directory.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.api.test_cinderclient import _wait_gone, cinder, cinder_as, field, held
from tests.support.server import ServerProcess, start_server

WAIT = 60.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("moves")
    backends = [
        {
            "name": "fast",
            "volume_backend_name": "gold",
            "pools": {"p1": str(root / "f1"), "p2": str(root / "f2")},
        },
        {"name": "slow", "pools": {"p1": str(root / "s1")}},
    ]
    process = start_server(root / "data", env={"BASALT_BACKENDS": json.dumps(backends)})
    yield process
    process.stop()


def settled(server: ServerProcess, volume_id: str, **expected: object) -> dict[str, object]:
    deadline = time.monotonic() + WAIT
    while True:
        volume = held(server, "volume", volume_id)
        if all(volume.get(k) == v for k, v in expected.items()) or time.monotonic() > deadline:
            assert {k: volume.get(k) for k in expected} == expected
            return volume


def backend_of(volume: dict[str, object]) -> str:
    return str(volume["os-vol-host-attr:host"]).split("@", 1)[1].split("#", 1)[0]


def test_hints_migrate_and_retype_through_the_cinder_cli(server: ServerProcess) -> None:
    cinder(server, "type-create", "gold")
    cinder(server, "type-key", "gold", "set", "volume_backend_name=gold")
    cinder(server, "type-create", "plain")

    volume_id = field(cinder(server, "create", "--volume-type", "plain", "--name", "mv", "1"), "id")
    volume = settled(server, volume_id, status="available")
    if backend_of(volume) != "slow":
        cinder(server, "migrate", volume_id, "basalt@slow#p1")
        volume = settled(server, volume_id, status="available", migration_status="success")
    assert volume["os-vol-host-attr:host"] == "basalt@slow#p1"

    beside = field(cinder(server, "create", "--hint", f"same_host={volume_id}", "1"), "id")
    assert backend_of(settled(server, beside, status="available")) == "slow"
    away = field(cinder(server, "create", "--hint", f"different_host={volume_id}", "1"), "id")
    assert backend_of(settled(server, away, status="available")) == "fast"

    refused = cinder_as(server, "basalt", "retype", volume_id, "gold")
    assert refused.returncode != 0
    assert "volume_backend_name" in refused.stderr and "gold" in refused.stderr
    assert held(server, "volume", volume_id)["volume_type"] == "plain"

    cinder(server, "retype", "--migration-policy", "on-demand", volume_id, "gold")
    moved = settled(server, volume_id, status="available", volume_type="gold")
    assert backend_of(moved) == "fast" and moved["migration_status"] == "success"

    same = cinder_as(server, "basalt", "retype", volume_id, "gold")
    assert same.returncode != 0 and "already" in same.stderr
    for made in (volume_id, beside, away):
        cinder(server, "delete", made)
    for made in (volume_id, beside, away):
        _wait_gone(server, "volume", made)
    assert httpx.get(f"{server.project_url}/volumes", timeout=30).json()["volumes"] == []

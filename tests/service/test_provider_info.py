"""At start, Basalt takes the provider locations a backend reports (SolidFire's
update_provider_info): a volume moved to another account behind Basalt's back is
found where it now is, with an event saying so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from basalt_emulators.solidfire import SolidFireBackend
from basalt_emulators.solidfire.transport import SolidFireTransport

from ..integration.test_solidfire_service import open_basalt

WAIT = 30


def element(backend: SolidFireBackend, method: str, params: dict[str, Any]) -> Any:
    """One Element call, as an administrator at the array's console would make it."""
    with httpx.Client(transport=SolidFireTransport(backend), auth=("admin", "admin")) as rpc:
        reply = rpc.post("https://sf.test/json-rpc/9.0", json={"method": method, "params": params})
    return reply.json()["result"]


def test_a_volume_moved_behind_basalts_back_is_found_at_the_next_start(tmp_path: Path) -> None:
    backend = SolidFireBackend(tmp_path / "cluster")
    with open_basalt(tmp_path, backend) as b:
        volume = b.volumes.create(size_gib=1).wait(timeout=WAIT)
        snapshot = b.snapshots.create(volume.id).wait(timeout=WAIT)
        assert b.last_reconcile is not None and b.last_reconcile.provider_locations == []
    (found,) = [v for v in backend.active_volumes() if v["name"] == f"UUID-{volume.id}"]
    moved_to = element(backend, "AddAccount", {"username": "restored-by-hand"})["accountID"]
    element(backend, "ModifyVolume", {"volumeID": found["volumeID"], "accountID": moved_to})

    with open_basalt(tmp_path, backend) as b:
        assert b.last_reconcile is not None
        assert b.last_reconcile.provider_locations == [f"volume {volume.id}"]
        now = b.volumes.get(volume.id)
        assert now.provider_location != volume.provider_location
        assert str(moved_to) in str(now.provider_location).split()
        notes = [e.message for e in b.volumes.events(volume.id)]
        assert any(m.startswith("provider location ") for m in notes)
        assert b.snapshots.get(snapshot.id).provider_location == snapshot.provider_location
    with open_basalt(tmp_path, backend) as b:
        assert b.last_reconcile is not None and b.last_reconcile.provider_locations == []

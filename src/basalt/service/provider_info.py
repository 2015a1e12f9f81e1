"""At start, bring stored provider locations up to date with what the backends say.

A driver that implements SupportsProviderInfo (SolidFire: two listings whatever the
number of objects) reports the volumes and snapshots whose handle on the array no
longer matches the one Basalt stored (a volume moved to another account behind
Basalt's back, a cluster restored under a new UUID). Each change is saved with an
event naming the old and the new location; a backend that cannot be listed is
logged and skipped, so a down array does not stop Basalt from starting.
"""

from __future__ import annotations

import logging

from basalt.drivers.base import SupportsProviderInfo
from basalt.errors import BasaltError
from basalt.model import EventKind, SnapshotStatus
from basalt.persistence.base import Database
from basalt.service.journal import record
from basalt.service.pools import PoolService
from basalt.service.refs import snapshot_ref, volume_ref

log = logging.getLogger(__name__)


def refresh_provider_info(db: Database, pools: PoolService) -> list[str]:
    """Ask every backend that can tell for changed provider locations, and store them.

    Args:
        db: the store.
        pools: the backends.

    Returns:
        ``volume <id>`` / ``snapshot <id>`` for each location changed.
    """
    changed: list[str] = []
    for backend in pools.backend_names:
        driver = pools.driver(backend)
        if not isinstance(driver, SupportsProviderInfo):
            continue  # read nothing at start for backends that cannot tell
        with db.transaction(write=False) as tx:
            mine = {v.id: v for v in tx.volumes.on_backend(backend)}
            snaps = [
                s for s in tx.snapshots.in_statuses(list(SnapshotStatus)) if s.volume_id in mine
            ]
        try:
            volume_updates, snapshot_updates = driver.update_provider_info(
                [volume_ref(v) for v in mine.values()],
                [snapshot_ref(s, mine[s.volume_id].pool) for s in snaps],
            )
        except BasaltError as exc:
            log.warning("backend %s: provider locations not checked: %s", backend, exc)
            continue
        with db.transaction() as tx:
            for volume_id, location in sorted(volume_updates.items()):
                volume = tx.volumes.get(volume_id)
                if volume is None or volume.provider_location == location:
                    continue
                note = f"provider location {volume.provider_location} -> {location}"
                volume.provider_location = location
                tx.volumes.save(volume)
                record(
                    tx,
                    resource_kind="volume",
                    resource_id=volume.id,
                    kind=EventKind.NOTE,
                    message=note,
                )
                changed.append(f"volume {volume_id}")
            for snapshot_id, location in sorted(snapshot_updates.items()):
                snapshot = tx.snapshots.get(snapshot_id)
                if snapshot is None or snapshot.provider_location == location:
                    continue
                note = f"provider location {snapshot.provider_location} -> {location}"
                snapshot.provider_location = location
                tx.snapshots.save(snapshot)
                record(
                    tx,
                    resource_kind="snapshot",
                    resource_id=snapshot.id,
                    kind=EventKind.NOTE,
                    message=note,
                )
                changed.append(f"snapshot {snapshot_id}")
    return changed

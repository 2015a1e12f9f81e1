"""State of an emulated SolidFire cluster: `SolidFireBackend`.

The class is built in layers, one module per kind of object, each on top of the last:
state (tables, identity, lookups) -> accounts -> volumes -> snapshots -> access_groups ->
pairing. Every wire call runs under `backend.lock`.
"""

from __future__ import annotations

from typing import Any

from basalt_emulators.solidfire import views
from basalt_emulators.solidfire.models.pairing import PairingOps
from basalt_emulators.solidfire.models.records import VolumeStatus


class SolidFireBackend(PairingOps):
    """One emulated Element cluster.

    Construct it with a data directory (volume and snapshot bytes live there as sparse
    files, one per object), then talk to it through `SolidFireTransport` or `serve_https`.
    `faults`, `call_counts`, `volume_path()` and `snapshot_path()` are for tests; so are
    the listing helpers below, which return the objects in their Element wire shape.
    """

    def active_volumes(self) -> list[dict[str, Any]]:
        """Active volumes, as ListActiveVolumes returns them."""
        with self.lock:
            records = self.list_volume_records(status=VolumeStatus.ACTIVE)
            return [views.volume_view(self, v) for v in records]

    def deleted_volumes(self) -> list[dict[str, Any]]:
        """Deleted (not yet purged) volumes, as ListDeletedVolumes returns them."""
        with self.lock:
            records = self.list_volume_records(status=VolumeStatus.DELETED)
            return [views.volume_view(self, v) for v in records]

    def accounts(self) -> list[dict[str, Any]]:
        """Accounts, as ListAccounts returns them."""
        with self.lock:
            return [views.account_view(self, a) for a in self.list_account_records()]

    def snapshots(self) -> list[dict[str, Any]]:
        """Snapshots (group members included), as ListSnapshots returns them."""
        with self.lock:
            return [views.snapshot_view(self, s) for _, s in sorted(self.snapshots_by_id.items())]

    def group_snapshots(self) -> list[dict[str, Any]]:
        """Group snapshots, as ListGroupSnapshots returns them."""
        with self.lock:
            groups = sorted(self.group_snapshots_by_id.items())
            return [views.group_snapshot_view(self, g) for _, g in groups]

    def access_groups(self) -> list[dict[str, Any]]:
        """Volume access groups, as ListVolumeAccessGroups returns them."""
        with self.lock:
            groups = sorted(self.access_groups_by_id.items())
            return [views.access_group_view(self, g) for _, g in groups]


__all__ = ["SolidFireBackend"]

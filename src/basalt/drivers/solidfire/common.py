"""What every part of the SolidFire driver shares: the client, the cluster, lookups.

:class:`SolidFireCommon` holds the state; the volume, copy and manage parts
(driver.py, copies.py, manage.py) build on it. Basalt's objects are found by
name (``<volume_prefix><id>``), never by a remembered Element id alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from basalt.drivers.base import VolumeDriver
from basalt.drivers.solidfire.array import ElementArray
from basalt.drivers.solidfire.client import HIGHEST_VERSION, SolidFireClient
from basalt.drivers.solidfire.errors import SolidFireVersionError
from basalt.drivers.solidfire.naming import MANAGED_NAME, Naming, parse_provider_id, provider_id
from basalt.drivers.solidfire.objects import (
    ClusterInfo,
    ElementSnapshot,
    ElementVolume,
    version_tuple,
)
from basalt.drivers.solidfire.options import SolidFireOptions
from basalt.drivers.types import SnapshotRef, VolumeRef
from basalt.errors import DriverError, PoolNotFoundError


class SolidFireCommon(VolumeDriver):
    """The client, the cluster's identity and the lookups every part uses."""

    def __init__(
        self,
        *,
        backend_name: str,
        client: SolidFireClient,
        options: SolidFireOptions | None = None,
    ) -> None:
        super().__init__(backend_name=backend_name)
        self.options = options or SolidFireOptions()
        self.naming: Naming = self.options.naming
        self.client = client
        self.array = ElementArray(
            client,
            poll_interval_seconds=self.options.poll_interval_seconds,
            settle_seconds=self.options.settle_seconds,
        )
        self._cluster: ClusterInfo | None = None

    # -- cluster -------------------------------------------------------------------

    @property
    def cluster(self) -> ClusterInfo:
        """What setup learned about the cluster (read on first use if setup did not run).

        Raises:
            SolidFireError: the cluster could not be read.
        """
        if self._cluster is None:
            self._cluster = self.read_cluster()
        return self._cluster

    def read_cluster(
        self, client: SolidFireClient | None = None, array: ElementArray | None = None
    ) -> ClusterInfo:
        """Read the cluster's identity and API version and check the version.

        Args:
            client, array: another cluster's (a replication target); default: this one's.

        Returns:
            The cluster's identity (GetClusterInfo + GetClusterVersionInfo).

        Raises:
            SolidFireVersionError: the cluster's API is older than HIGHEST_VERSION.
            SolidFireError: the cluster could not be read.
        """
        client, array = client or self.client, array or self.array
        info = client.call("GetClusterInfo")
        version = client.call("GetClusterVersionInfo")
        try:
            cluster = ClusterInfo.from_replies(info, version)
            speaks = version_tuple(cluster.api_version)
        except ValueError as exc:
            raise array.malformed("GetClusterInfo/GetClusterVersionInfo", str(exc)) from exc
        if speaks < version_tuple(HIGHEST_VERSION):
            raise SolidFireVersionError(
                self.backend_name,
                f"the cluster speaks Element API {cluster.api_version}; "
                f"Basalt needs {HIGHEST_VERSION} or later",
                method="GetClusterVersionInfo",
                hint="upgrade the cluster's Element software",
            )
        return cluster

    def check_pool(self, pool: str) -> None:
        """Refuse a pool name other than the cluster's one pool.

        Raises:
            PoolNotFoundError: ``pool`` is not this backend's pool.
        """
        if pool != self.options.pool_name:
            raise PoolNotFoundError(
                pool, hint=f"backend {self.backend_name} has pools ['{self.options.pool_name}']"
            )

    def find_volumes(self, volume: VolumeRef, *, active_only: bool = True) -> list[ElementVolume]:
        """The volumes Basalt knows as ``volume`` (by claimed name), lowest id first.

        Looks the name up first; a managed volume keeps its own Element name and is
        found among its project account's volumes by its ``basalt-name`` attribute.

        Raises:
            DriverError: the lookup failed.
        """
        name = self.naming.volume_name(volume.id)
        found = self.array.volumes_named(name, active_only=active_only)
        owned = [v for v in found if v.claimed_name == name]
        if owned:
            return owned
        account = self.array.account(self.naming.account_name(volume.project_id))
        if account is None:
            return []
        candidates = self.array.volumes_of_account(account.account_id, active_only=active_only)
        return [v for v in candidates if v.claimed_name == name]

    def require_volume(self, volume: VolumeRef, *, action: str) -> ElementVolume:
        """The active volume Basalt knows as ``volume``.

        Raises:
            DriverError: there is none.
        """
        found = self.find_volumes(volume)
        if not found:
            raise DriverError(
                self.backend_name,
                f"cannot {action} volume {volume.id}: the cluster has no active volume "
                f"named {self.naming.volume_name(volume.id)}",
            )
        return found[0]

    def find_snapshots(self, snapshot: SnapshotRef) -> list[ElementSnapshot]:
        """The snapshots carrying ``snapshot``'s name (its volume's first, when known), or
        the group snapshot member its provider_location names.

        Raises:
            DriverError: the lookup failed.
        """
        name = self.naming.snapshot_name(snapshot.id)
        parsed = parse_provider_id(snapshot.provider_location)
        if parsed is not None:
            on_volume = self.array.snapshots(parsed[1])
            found = sorted((s for s in on_volume if s.name == name), key=lambda s: s.snapshot_id)
            if found:
                return found
            # A member of a group snapshot carries the group's name: its id finds it.
            member = [s for s in on_volume if s.snapshot_id == parsed[0] and s.group_id]
            if member:
                return member
        return self.array.snapshots_named(name)

    def rerun(self, name: str, size_bytes: int) -> ElementVolume | None:
        """The volume a finished earlier run made under ``name``, if any.

        Raises:
            DriverError: it exists with another size than ``size_bytes``.
        """
        owned = [v for v in self.array.volumes_named(name) if v.claimed_name == name]
        existing = owned[0] if owned else None
        if existing is not None and existing.total_size_bytes != size_bytes:
            raise DriverError(
                self.backend_name,
                f"volume {name} exists with {existing.total_size_bytes} bytes, "
                f"not the {size_bytes} bytes asked for",
                hint="an object with this id exists already; delete it or use a new id",
            )
        return existing

    def create_volume_once(self, method: str, params: Mapping[str, Any], name: str) -> int:
        """CreateVolume or CloneVolume that makes exactly one volume called ``name``.

        Returns:
            The new volume's id.

        Raises:
            SolidFireError: the cluster refused, or no answer came within the budget.
        """

        def same_name() -> list[int]:
            return [v.volume_id for v in self.array.volumes_named(name)]

        def remove(volume_id: int) -> None:
            for found in self.array.volumes_named(name, active_only=False):
                if found.volume_id == volume_id:
                    self.array.delete_volume(found)

        return self.array.create_once(method, params, key="volumeID", find=same_name, remove=remove)

    def volume_location(self, volume_id: int, account_id: int) -> str:
        """A volume's provider_location: ``"<volumeID> <accountID> <cluster uuid>"``."""
        return provider_id(volume_id, account_id, self.cluster.uuid)


def new_attributes(name: str, volume_id: str, *, is_clone: bool) -> dict[str, str]:
    """The attributes a new volume carries on the cluster.

    Args:
        name: its Basalt name (also its Element name).
        volume_id: the Basalt volume id.
        is_clone: whether it is a copy of a volume or snapshot.

    Returns:
        ``basalt-name`` (so a copy never inherits its source's claim), ``uuid``,
        ``is_clone`` and ``created_at`` (ISO 8601, UTC).
    """
    return {
        MANAGED_NAME: name,
        "uuid": volume_id,
        "is_clone": str(is_clone),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }

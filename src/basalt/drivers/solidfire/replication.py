"""Replication on Element: volume pairing with a second cluster, which the arrays run.

Basalt sets replication up and switches sides; the arrays copy the data
(asynchronous pairing: the target lags by what the link has not carried yet).

- Clusters are paired once (StartClusterPairing on the primary,
  CompleteClusterPairing on the target) when the first volume is replicated.
- A replicated volume gets a twin on the target: the same name (``UUID-<id>``) and
  size in the same project account (made there on first use), access
  ``replicationTarget``, then StartVolumePairing on the primary and
  CompleteVolumePairing on the target. Later calls of ``replicate_volume`` only
  check the pair; the bytes shipped are the array's, which Element does not report
  per interval, so a shipment counts none (method ``array``).
- Failover: the twins become ``readWrite`` and the primary volumes
  ``replicationTarget`` (when the primary answers), and the driver serves from the
  target cluster: connection info, snapshots and every later call go there.
  Failback: the reverse. With asynchronous pairing, what the link had not carried
  when the sides are switched stays on the side that loses it: the same recovery
  point the seed's driver gives.
- Freeze and thaw hold nothing on the array (the service refuses control-plane
  changes while frozen).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from basalt.drivers.solidfire.array import ElementArray
from basalt.drivers.solidfire.client import SolidFireClient
from basalt.drivers.solidfire.common import SolidFireCommon, new_attributes
from basalt.drivers.solidfire.objects import ClusterInfo, ElementVolume
from basalt.drivers.types import ProgressCallback, ReplicationTarget, Shipment, VolumeRef
from basalt.errors import BasaltError, DriverError, NotSupportedError

READ_WRITE, REPLICATION_TARGET = "readWrite", "replicationTarget"
PAIRING_MODE = "Async"


@dataclass
class Site:
    """One cluster the backend can serve from."""

    client: SolidFireClient
    array: ElementArray
    cluster: ClusterInfo | None = None


@dataclass(frozen=True)
class TargetCluster:
    """A replication target: another Element cluster."""

    backend_id: str
    interval_seconds: float
    site: Site


class SolidFireReplication(SolidFireCommon):
    """SupportsReplication on Element (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._targets: dict[str, TargetCluster] = {}
        self._active: str | None = None
        self._primary = Site(self.client, self.array)
        """The backend's own cluster (the driver's client and array point at the serving one)."""

    def add_replication_target(
        self, backend_id: str, client: SolidFireClient, *, interval_seconds: float
    ) -> None:
        """Name a cluster volumes can be replicated to (from the backend's settings)."""
        array = ElementArray(
            client,
            poll_interval_seconds=self.options.poll_interval_seconds,
            settle_seconds=self.options.settle_seconds,
        )
        self._targets[backend_id] = TargetCluster(backend_id, interval_seconds, Site(client, array))

    def replication_targets(self) -> tuple[ReplicationTarget, ...]:
        """The configured target clusters."""
        return tuple(
            ReplicationTarget(t.backend_id, t.interval_seconds) for t in self._targets.values()
        )

    def active_backend_id(self) -> str | None:
        """The target cluster served from now (None: the primary)."""
        return self._active

    def replicate_volume(self, volume: VolumeRef, backend_id: str) -> Shipment:
        """Pair the volume with a twin on the target the first time; later, check the pair.

        Raises:
            NotSupportedError: no such target. DriverError: a cluster refused.
        """
        target = self._target(backend_id)
        primary = self._primary
        source = self._volume_on(primary, volume, "replicate")
        if source.paired and self._named_on(target.site, volume) is not None:
            return Shipment(bytes_shipped=0, ranges=0, full=False, method="array")
        self._pair_clusters(primary, target.site)
        twin = self._named_on(target.site, volume) or self._make_twin(target.site, volume, source)
        if not source.paired:
            key = primary.client.call(
                "StartVolumePairing", {"volumeID": source.volume_id, "mode": PAIRING_MODE}
            )["volumePairingKey"]
            target.site.client.call(
                "CompleteVolumePairing", {"volumeID": twin.volume_id, "volumePairingKey": key}
            )
        return Shipment(bytes_shipped=0, ranges=0, full=True, method="array")

    def delete_replica(self, volume: VolumeRef, backend_id: str) -> None:
        """Unpair the volume and delete its twin on the target (gone already is fine).

        Raises:
            NotSupportedError: no such target. DriverError: a cluster refused.
        """
        target = self._target(backend_id)
        primary = self._primary
        source = self._named_on(primary, volume)
        if source is not None and source.paired:
            primary.client.call("RemoveVolumePair", {"volumeID": source.volume_id})
        twin = self._named_on(target.site, volume)
        if twin is not None:
            target.site.client.call("RemoveVolumePair", {"volumeID": twin.volume_id})
            target.site.array.delete_volume(twin)

    def failover(self, backend_id: str, volumes: Sequence[VolumeRef]) -> Sequence[str]:
        """Make the twins writable, the primaries targets (when reachable), and serve
        from the target cluster. Idempotent.

        Raises:
            NotSupportedError: no such target. DriverError: a twin is missing or the
                target refused.
        """
        target = self._target(backend_id)
        lines = []
        for volume in volumes:
            twin = self._named_on(target.site, volume)
            if twin is None:
                raise DriverError(
                    self.backend_name,
                    f"volume {volume.id} has no twin on target {backend_id}: never replicated",
                )
            if twin.access != READ_WRITE:
                self._set_access(target.site, twin.volume_id, READ_WRITE)
            lines.append(f"volume {volume.id}: served from {backend_id}")
            try:
                source = self._named_on(self._primary, volume)
                if source is not None and source.access != REPLICATION_TARGET:
                    self._set_access(self._primary, source.volume_id, REPLICATION_TARGET)
            except BasaltError as exc:  # the primary may be the cluster that was lost
                lines.append(f"volume {volume.id}: primary not changed ({exc})")
        self.serve_from(backend_id)
        return lines

    def failback(
        self, backend_id: str, volumes: Sequence[VolumeRef], *, progress: ProgressCallback
    ) -> int:
        """Make the primaries writable and the twins targets again, and serve from the
        primary. The arrays carry the data; Basalt copies none (returns 0).

        Raises:
            NotSupportedError: no such target. DriverError: a cluster refused (the
                backend still serves from the target).
        """
        target = self._target(backend_id)
        primary = self._primary
        progress(0, len(volumes))
        for done, volume in enumerate(volumes, start=1):
            twin = self._named_on(target.site, volume)
            source = self._volume_on(primary, volume, "fail back")
            if twin is not None and twin.access != REPLICATION_TARGET:
                self._set_access(target.site, twin.volume_id, REPLICATION_TARGET)
            if source.access != READ_WRITE:
                self._set_access(primary, source.volume_id, READ_WRITE)
            progress(done, len(volumes))
        self.serve_from(None)
        return 0

    def serve_from(self, backend_id: str | None) -> None:
        """Send every later call to the target cluster (None: to the primary).

        Raises:
            NotSupportedError: no such target.
        """
        site = self._primary if backend_id is None else self._target(backend_id).site
        if site.cluster is None:
            site.cluster = self._read_cluster_of(site)
        self.client, self.array, self._cluster = site.client, site.array, site.cluster
        self._active = backend_id

    def freeze(self) -> None:
        """Nothing to hold on the array."""

    def thaw(self) -> None:
        """Nothing to release on the array."""

    # -- helpers -------------------------------------------------------------------

    def _target(self, backend_id: str) -> TargetCluster:
        found = self._targets.get(backend_id)
        if found is None:
            raise NotSupportedError(self.backend_name, f"replication to {backend_id!r}")
        return found

    def _read_cluster_of(self, site: Site) -> ClusterInfo:
        return self.read_cluster(site.client, site.array)

    def _volume_on(self, site: Site, volume: VolumeRef, action: str) -> ElementVolume:
        found = self._named_on(site, volume)
        if found is None:
            raise DriverError(
                self.backend_name, f"cannot {action} volume {volume.id}: not on the cluster"
            )
        return found

    def _named_on(self, site: Site, volume: VolumeRef) -> ElementVolume | None:
        return site.array.volume_named(self.naming.volume_name(volume.id))

    def _make_twin(self, site: Site, volume: VolumeRef, source: ElementVolume) -> ElementVolume:
        name = self.naming.volume_name(volume.id)
        account = site.array.ensure_account(self.naming.account_name(volume.project_id))
        params: dict[str, Any] = {
            "name": name,
            "accountID": account.account_id,
            "totalSize": source.total_size_bytes,
            "enable512e": self.options.emulate_512,
            "attributes": new_attributes(name, volume.id, is_clone=False),
        }
        volume_id = site.array.create_once(
            "CreateVolume",
            params,
            key="volumeID",
            find=lambda: [v.volume_id for v in site.array.volumes_named(name)],
        )
        self._set_access(site, volume_id, REPLICATION_TARGET)
        made = site.array.volume_by_id(volume_id)
        if made is None:
            raise DriverError(self.backend_name, f"twin of volume {volume.id} vanished")
        return made

    def _pair_clusters(self, primary: Site, target: Site) -> None:
        if target.cluster is None:
            target.cluster = self._read_cluster_of(target)
        pairs = primary.client.call("ListClusterPairs", {}).get("clusterPairs", [])
        if any(p.get("clusterUUID") == target.cluster.uuid for p in pairs):
            return
        key = primary.client.call("StartClusterPairing", {})["clusterPairingKey"]
        target.client.call("CompleteClusterPairing", {"clusterPairingKey": key})

    def _set_access(self, site: Site, volume_id: int, access: str) -> None:
        site.client.call("ModifyVolume", {"volumeID": volume_id, "access": access})

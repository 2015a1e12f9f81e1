"""Cluster pairs, volume pairs, and on-demand copying of paired volumes' bytes.

Not emulated: continuous replication. Bytes move only when a test calls
`sync_replication()`, from each paired volume that is not a replication target to its
remote volume that is one. Snapshots flagged for remote replication are not sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from basalt_emulators.core.sparse import copy_sparse
from basalt_emulators.solidfire.errors import PairingAlreadyExistsError, VolumeNotPairedError
from basalt_emulators.solidfire.models.access_groups import AccessGroupOps
from basalt_emulators.solidfire.models.records import Access, PairingMode, Volume, VolumeStatus
from basalt_emulators.solidfire.models.registry import REGISTRY, VolumeLink
from basalt_emulators.solidfire.models.state import ClusterState


@dataclass(frozen=True)
class ClusterPairInfo:
    """One of this cluster's cluster pairs, as ListClusterPairs reports it."""

    cluster_pair_id: int
    cluster_pair_uuid: str
    remote: ClusterState | None
    status: str


@dataclass(frozen=True)
class VolumePairInfo:
    """One pair of a local volume, as the volume's `volumePairs` reports it."""

    link: VolumeLink
    cluster_pair_id: int
    remote: ClusterState | None
    remote_volume_id: int
    remote_volume_name: str


class PairingOps(AccessGroupOps):
    """Start/Complete cluster and volume pairing, ListClusterPairs, RemoveClusterPair,
    RemoveVolumePair, ModifyVolumePair."""

    def start_cluster_pairing(self) -> tuple[str, int]:
        """Open a cluster pair here; the key completes it on the other cluster.

        Returns:
            The clusterPairingKey and this cluster's clusterPairID.
        """
        pair_id = self.new_id("clusterPair")
        return REGISTRY.start_cluster(self, cluster_pair_id=pair_id), pair_id

    def complete_cluster_pairing(self, key: str) -> int:
        """Complete, here, a cluster pair opened on another cluster.

        Args:
            key: the clusterPairingKey from the other cluster.

        Returns:
            This cluster's clusterPairID.

        Raises:
            InvalidPairingKeyError: unknown, used, or this cluster's own key.
            PairingAlreadyExistsError: the clusters are already paired.
        """
        pair_id = self.new_id("clusterPair")
        REGISTRY.complete_cluster(self, key=key, cluster_pair_id=pair_id)
        return pair_id

    def cluster_pairs(self) -> list[ClusterPairInfo]:
        """This cluster's cluster pairs, oldest first.

        Returns:
            One entry per pair; `remote` is None while the pair is only requested.
        """
        pairs = []
        for link, end in REGISTRY.cluster_links_of(self):
            other = link.completer if end is link.starter else link.starter
            remote = other.live() if other else None
            status = "Connected" if remote else ("Requested" if other is None else "Disconnected")
            pairs.append(ClusterPairInfo(end.cluster_pair_id, link.uuid, remote, status))
        return sorted(pairs, key=lambda p: p.cluster_pair_id)

    def remove_cluster_pair(self, cluster_pair_id: int) -> None:
        """Remove this cluster's side of a cluster pair (its volume pairs are kept).

        Args:
            cluster_pair_id: this cluster's clusterPairID.

        Raises:
            ClusterPairIDDoesNotExistError: no such pair here.
        """
        REGISTRY.remove_cluster_end(self, cluster_pair_id)

    def start_volume_pairing(self, volume_id: int, *, mode: PairingMode) -> str:
        """Open a volume pair from an active, unpaired volume.

        Args:
            volume_id: the source volume.
            mode: the replication mode.

        Returns:
            The volumePairingKey.

        Raises:
            VolumeIDDoesNotExistError: no such active volume.
            PairingAlreadyExistsError: the volume is already paired.
        """
        self.get_active_volume(volume_id)
        if REGISTRY.volume_links_of(self, volume_id):
            raise PairingAlreadyExistsError(f"Volume {volume_id} is already paired.")
        return REGISTRY.start_volume(self, volume_id=volume_id, mode=mode)

    def complete_volume_pairing(self, volume_id: int, *, key: str) -> None:
        """Pair an active volume here with the volume that opened `key`.

        Args:
            volume_id: the local volume (usually in replicationTarget access).
            key: the volumePairingKey from the other cluster.

        Raises:
            VolumeIDDoesNotExistError: no such active volume.
            InvalidPairingKeyError: unknown, used, or this cluster's own key.
            MVIPNotPairedError: the clusters are not paired.
            PairingAlreadyExistsError: either volume is already paired.
        """
        self.get_active_volume(volume_id)
        REGISTRY.complete_volume(self, volume_id=volume_id, key=key)

    def remove_volume_pair(self, volume_id: int) -> None:
        """Remove this side of a volume's pair; an unpaired volume is left as it is.

        Args:
            volume_id: the volume.

        Raises:
            VolumeIDDoesNotExistError: no such volume.
        """
        self.get_volume(volume_id)
        REGISTRY.remove_volume_end(self, volume_id)

    def modify_volume_pair(
        self, volume_id: int, *, paused_manual: bool | None, mode: PairingMode | None
    ) -> None:
        """Pause or resume a volume pair, or change its mode (seen from both sides).

        Args:
            volume_id: a paired volume.
            paused_manual: pause (True) or resume (False) replication.
            mode: the new replication mode.

        Raises:
            VolumeIDDoesNotExistError: no such volume.
            VolumeNotPairedError: the volume has no pair.
        """
        self.get_volume(volume_id)
        links = REGISTRY.volume_links_of(self, volume_id)
        if not links:
            raise VolumeNotPairedError(volume_id)
        for link, _ in links:
            link.paused = link.paused if paused_manual is None else paused_manual
            link.mode = mode or link.mode

    def volume_pairs(self, volume_id: int) -> list[VolumePairInfo]:
        """The pairs of a local volume.

        Args:
            volume_id: the volume.

        Returns:
            One entry per pair.
        """
        pairs = []
        for link, other in REGISTRY.volume_links_of(self, volume_id):
            remote = other.ref()
            end = REGISTRY.cluster_end(self, remote) if remote else None
            remote_volume = remote.volumes_by_id.get(other.volume_id) if remote else None
            pairs.append(
                VolumePairInfo(
                    link=link,
                    cluster_pair_id=end.cluster_pair_id if end else 0,
                    remote=remote,
                    remote_volume_id=other.volume_id,
                    remote_volume_name=remote_volume.name if remote_volume else "",
                )
            )
        return pairs

    def paired_volume_records(
        self, *, start_volume_id: int = 0, limit: int | None = None
    ) -> list[Volume]:
        """Active volumes that have a pair, by ascending ID.

        Args:
            start_volume_id: the first ID to include.
            limit: the most volumes to return.

        Returns:
            The volumes.
        """
        active = self.list_volume_records(
            start_volume_id=start_volume_id, status=VolumeStatus.ACTIVE
        )
        paired = [v for v in active if REGISTRY.volume_links_of(self, v.volume_id)]
        return paired[:limit] if limit is not None else paired

    def sync_replication(self) -> int:
        """Copy the bytes of this cluster's paired source volumes to their remote targets.

        A copy happens for each unpaused, non-SnapshotsOnly pair whose local volume is
        active and not a replication target while the remote one is active and is.

        Returns:
            How many volumes were copied.
        """
        with self.lock:
            jobs = [
                (self.volume_path(v.volume_id), pair.remote, pair.remote_volume_id)
                for v in self.volumes_by_id.values()
                if v.status is VolumeStatus.ACTIVE and v.access is not Access.REPLICATION_TARGET
                for pair in self.volume_pairs(v.volume_id)
                if pair.remote and not pair.link.paused
                and pair.link.mode is not PairingMode.SNAPSHOTS_ONLY
            ]  # fmt: skip
        copied = 0
        for source, remote, remote_volume_id in jobs:
            if isinstance(remote, PairingOps) and remote.receive_replica(remote_volume_id, source):
                copied += 1
        return copied

    def receive_replica(self, volume_id: int, source: Path) -> bool:
        """Overwrite a local replication-target volume with `source`'s bytes.

        Args:
            volume_id: the local target volume.
            source: the remote volume's file.

        Returns:
            Whether the copy happened (the volume is active and a replication target).
        """
        with self.lock:
            volume = self.volumes_by_id.get(volume_id)
            if volume is None or volume.status is not VolumeStatus.ACTIVE:
                return False
            if volume.access is not Access.REPLICATION_TARGET:
                return False
            copy_sparse(source, self.volume_path(volume_id), size_bytes=volume.total_size_bytes)
            return True

    def _forget_pairs(self) -> None:
        REGISTRY.forget(self)

    def _forget_volume_pairs(self, volume_id: int) -> None:
        REGISTRY.remove_volume_end(self, volume_id)

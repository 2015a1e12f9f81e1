"""The in-process "network" between emulated clusters: pairing keys and pair links.

Two `SolidFireBackend` objects in one process pair through the module-wide `REGISTRY`,
keyed by the pairing keys that StartClusterPairing / StartVolumePairing hand out. Links
keep weak references, so a backend that is dropped simply disappears from its pairs.
Each side of a pair is removed separately, as on the array (RemoveClusterPair and
RemoveVolumePair are run on both clusters); a link goes when both sides are gone.

The registry never takes a backend's lock, so a call holding one backend's lock can use
it without risk of deadlock.
"""

from __future__ import annotations

import secrets
import threading
import uuid
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from basalt_emulators.solidfire.errors import (
    ClusterPairIDDoesNotExistError,
    InvalidPairingKeyError,
    MVIPNotPairedError,
    PairingAlreadyExistsError,
)
from basalt_emulators.solidfire.models.records import PairingMode

if TYPE_CHECKING:
    from basalt_emulators.solidfire.models.state import ClusterState


@dataclass(eq=False)
class ClusterEnd:
    """One cluster's side of a cluster pair."""

    ref: weakref.ReferenceType[ClusterState]
    cluster_pair_id: int
    removed: bool = False

    def live(self) -> ClusterState | None:
        """The cluster, unless this side was removed or the cluster is gone."""
        return None if self.removed else self.ref()


@dataclass(eq=False)
class ClusterLink:
    """A cluster pair: started on one cluster, completed on the other."""

    uuid: str
    starter: ClusterEnd
    completer: ClusterEnd | None = None

    def ends(self) -> list[ClusterEnd]:
        """The sides that exist so far."""
        return [self.starter] + ([self.completer] if self.completer else [])


@dataclass(eq=False)
class VolumeEnd:
    """One volume's side of a volume pair."""

    ref: weakref.ReferenceType[ClusterState]
    volume_id: int
    removed: bool = False

    def live(self) -> ClusterState | None:
        """The volume's cluster, unless this side was removed or the cluster is gone."""
        return None if self.removed else self.ref()


@dataclass(eq=False)
class VolumeLink:
    """A volume pair between two clusters."""

    uuid: str
    mode: PairingMode
    ends: tuple[VolumeEnd, VolumeEnd]
    paused: bool = False


@dataclass(frozen=True)
class _VolumeKey:
    ref: weakref.ReferenceType[ClusterState]
    volume_id: int
    mode: PairingMode


class PairingRegistry:
    """Pairing keys and links between the clusters of this process (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cluster_keys: dict[str, ClusterLink] = {}
        self._volume_keys: dict[str, _VolumeKey] = {}
        self._cluster_links: list[ClusterLink] = []
        self._volume_links: list[VolumeLink] = []

    def start_cluster(self, cluster: ClusterState, *, cluster_pair_id: int) -> str:
        """Open a cluster pair on `cluster`; the key completes it on another cluster."""
        key = secrets.token_hex(32)
        link = ClusterLink(str(uuid.uuid4()), ClusterEnd(weakref.ref(cluster), cluster_pair_id))
        with self._lock:
            self._cluster_keys[key] = link
            self._cluster_links.append(link)
        return key

    def complete_cluster(self, cluster: ClusterState, *, key: str, cluster_pair_id: int) -> None:
        """Complete the cluster pair that `key` opened.

        Raises:
            InvalidPairingKeyError: unknown or used key, or a key of this same cluster.
            PairingAlreadyExistsError: the two clusters are already paired.
        """
        with self._lock:
            link = self._cluster_keys.get(key)
            starter = link.starter.live() if link else None
            if link is None or starter is None or starter is cluster:
                raise InvalidPairingKeyError()
            if self._cluster_end(cluster, starter) is not None:
                raise PairingAlreadyExistsError("The clusters are already paired.")
            del self._cluster_keys[key]
            link.completer = ClusterEnd(weakref.ref(cluster), cluster_pair_id)

    def cluster_links_of(self, cluster: ClusterState) -> list[tuple[ClusterLink, ClusterEnd]]:
        """The cluster pairs `cluster` still has, with its own side of each."""
        with self._lock:
            return [
                (link, end)
                for link in self._cluster_links
                for end in link.ends()
                if end.live() is cluster
            ]

    def cluster_end(self, cluster: ClusterState, remote: ClusterState) -> ClusterEnd | None:
        """`cluster`'s side of a connected pair with `remote`, if there is one."""
        with self._lock:
            return self._cluster_end(cluster, remote)

    def remove_cluster_end(self, cluster: ClusterState, cluster_pair_id: int) -> None:
        """Remove `cluster`'s side of one cluster pair.

        Raises:
            ClusterPairIDDoesNotExistError: `cluster` has no pair with this ID.
        """
        with self._lock:
            for link in self._cluster_links:
                for end in link.ends():
                    if end.live() is cluster and end.cluster_pair_id == cluster_pair_id:
                        end.removed = True
                        self._cleanup()
                        return
        raise ClusterPairIDDoesNotExistError(cluster_pair_id)

    def start_volume(self, cluster: ClusterState, *, volume_id: int, mode: PairingMode) -> str:
        """Open a volume pair from a volume of `cluster`."""
        key = secrets.token_hex(32)
        with self._lock:
            self._volume_keys[key] = _VolumeKey(weakref.ref(cluster), volume_id, mode)
        return key

    def complete_volume(self, cluster: ClusterState, *, volume_id: int, key: str) -> None:
        """Pair a volume of `cluster` with the volume whose key this is.

        Raises:
            InvalidPairingKeyError: unknown or used key, or a key of this same cluster.
            MVIPNotPairedError: the two clusters are not paired.
            PairingAlreadyExistsError: either volume is already paired.
        """
        with self._lock:
            pending = self._volume_keys.get(key)
            source = pending.ref() if pending else None
            if pending is None or source is None or source is cluster:
                raise InvalidPairingKeyError()
            if self._cluster_end(cluster, source) is None:
                raise MVIPNotPairedError("The volume's cluster is not paired with this cluster.")
            if self._volume_ends(cluster, volume_id) or self._volume_ends(
                source, pending.volume_id
            ):
                raise PairingAlreadyExistsError("The volume is already paired.")
            del self._volume_keys[key]
            ends = (
                VolumeEnd(pending.ref, pending.volume_id),
                VolumeEnd(weakref.ref(cluster), volume_id),
            )
            self._volume_links.append(VolumeLink(str(uuid.uuid4()), pending.mode, ends))

    def volume_links_of(
        self, cluster: ClusterState, volume_id: int
    ) -> list[tuple[VolumeLink, VolumeEnd]]:
        """The pairs a volume still has, each with the other side."""
        with self._lock:
            return [
                (link, link.ends[1] if end is link.ends[0] else link.ends[0])
                for link in self._volume_links
                for end in link.ends
                if end.live() is cluster and end.volume_id == volume_id
            ]

    def remove_volume_end(self, cluster: ClusterState, volume_id: int) -> None:
        """Remove a volume's side of its pairs, and its unused keys (a no-op when unpaired)."""
        with self._lock:
            for end in self._volume_ends(cluster, volume_id):
                end.removed = True
            self._volume_keys = {
                k: v
                for k, v in self._volume_keys.items()
                if not (v.ref() is cluster and v.volume_id == volume_id)
            }
            self._cleanup()

    def forget(self, cluster: ClusterState) -> None:
        """Remove every side and key of `cluster` (on reset)."""
        with self._lock:
            for link in self._cluster_links:
                for end in link.ends():
                    end.removed = end.removed or end.ref() is cluster
            for vlink in self._volume_links:
                for vend in vlink.ends:
                    vend.removed = vend.removed or vend.ref() is cluster
            self._cluster_keys = {
                k: v for k, v in self._cluster_keys.items() if v.starter.ref() is not cluster
            }
            self._volume_keys = {
                k: v for k, v in self._volume_keys.items() if v.ref() is not cluster
            }
            self._cleanup()

    def _cluster_end(self, cluster: ClusterState, remote: ClusterState) -> ClusterEnd | None:
        for link in self._cluster_links:
            if link.completer is None:
                continue
            starter, completer = link.starter.live(), link.completer.live()
            if starter is cluster and completer is remote:
                return link.starter
            if completer is cluster and starter is remote:
                return link.completer
        return None

    def _volume_ends(self, cluster: ClusterState, volume_id: int) -> list[VolumeEnd]:
        return [
            end
            for link in self._volume_links
            for end in link.ends
            if end.live() is cluster and end.volume_id == volume_id
        ]

    def _cleanup(self) -> None:
        self._cluster_links = [
            link for link in self._cluster_links if any(e.live() for e in link.ends())
        ]
        self._volume_links = [
            link for link in self._volume_links if any(e.live() for e in link.ends)
        ]
        self._cluster_keys = {
            k: link for k, link in self._cluster_keys.items() if link.starter.live() is not None
        }


REGISTRY = PairingRegistry()

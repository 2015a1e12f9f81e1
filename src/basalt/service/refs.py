"""Model -> driver references (the only place that builds them)."""

from __future__ import annotations

from collections.abc import Mapping

from basalt.drivers.types import SnapshotRef, VolumeRef
from basalt.model import Snapshot, Volume


def volume_ref(volume: Volume, *, qos: Mapping[str, str] | None = None) -> VolumeRef:
    """What the driver gets for ``volume``; ``qos``: its type's back-end QoS specs, for the
    calls that apply them (create, copy, extend, retype)."""
    return VolumeRef(
        id=volume.id,
        size_gib=volume.size_gib,
        pool=volume.pool,
        project_id=volume.project_id,
        provider_location=volume.provider_location,
        qos=dict(qos or {}),
    )


def snapshot_ref(snapshot: Snapshot, pool: str) -> SnapshotRef:
    """What the driver gets for ``snapshot`` (which lives in its volume's pool)."""
    return SnapshotRef(
        id=snapshot.id,
        volume_id=snapshot.volume_id,
        size_gib=snapshot.size_gib,
        pool=pool,
        project_id=snapshot.project_id,
        provider_location=snapshot.provider_location,
    )

"""Cluster pairing and volume pairing calls."""

from __future__ import annotations

from typing import Any

from basalt_emulators.solidfire import views
from basalt_emulators.solidfire.models import SolidFireBackend
from basalt_emulators.solidfire.models.records import PairingMode
from basalt_emulators.solidfire.params import Params


def start_cluster_pairing(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """StartClusterPairing -> {clusterPairingKey, clusterPairID}."""
    key, pair_id = backend.start_cluster_pairing()
    return {"clusterPairingKey": key, "clusterPairID": pair_id}


def complete_cluster_pairing(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """CompleteClusterPairing {clusterPairingKey} -> {clusterPairID}."""
    pair_id = backend.complete_cluster_pairing(params.req_str("clusterPairingKey"))
    return {"clusterPairID": pair_id}


def list_cluster_pairs(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """ListClusterPairs -> {clusterPairs}."""
    return {"clusterPairs": [views.cluster_pair_view(p) for p in backend.cluster_pairs()]}


def remove_cluster_pair(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """RemoveClusterPair {clusterPairID} -> {}."""
    backend.remove_cluster_pair(params.req_int("clusterPairID"))
    return {}


def start_volume_pairing(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """StartVolumePairing {volumeID, mode?} -> {volumePairingKey}."""
    key = backend.start_volume_pairing(
        params.req_int("volumeID"), mode=params.opt_enum("mode", PairingMode) or PairingMode.ASYNC
    )
    return {"volumePairingKey": key}


def complete_volume_pairing(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """CompleteVolumePairing {volumeID, volumePairingKey} -> {}."""
    backend.complete_volume_pairing(
        params.req_int("volumeID"), key=params.req_str("volumePairingKey")
    )
    return {}


def remove_volume_pair(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """RemoveVolumePair {volumeID} -> {} (also for a volume that has no pair)."""
    backend.remove_volume_pair(params.req_int("volumeID"))
    return {}


def modify_volume_pair(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """ModifyVolumePair {volumeID, pausedManual?, mode?} -> {}."""
    backend.modify_volume_pair(
        params.req_int("volumeID"),
        paused_manual=params.opt_flag("pausedManual"),
        mode=params.opt_enum("mode", PairingMode),
    )
    return {}


def list_active_paired_volumes(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """ListActivePairedVolumes {startVolumeID?, limit?} -> {volumes}."""
    records = backend.paired_volume_records(
        start_volume_id=params.opt_int("startVolumeID") or 0, limit=params.opt_int("limit")
    )
    return {"volumes": [views.volume_view(backend, v) for v in records]}


HANDLERS = {
    "StartClusterPairing": start_cluster_pairing,
    "CompleteClusterPairing": complete_cluster_pairing,
    "ListClusterPairs": list_cluster_pairs,
    "RemoveClusterPair": remove_cluster_pair,
    "StartVolumePairing": start_volume_pairing,
    "CompleteVolumePairing": complete_volume_pairing,
    "RemoveVolumePair": remove_volume_pair,
    "ModifyVolumePair": modify_volume_pair,
    "ListActivePairedVolumes": list_active_paired_volumes,
}

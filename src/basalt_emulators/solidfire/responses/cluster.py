"""Cluster-wide calls: identity, version, capacity, limits, async results."""

from __future__ import annotations

from typing import Any

from basalt_emulators.solidfire import views
from basalt_emulators.solidfire.models import SolidFireBackend
from basalt_emulators.solidfire.params import Params


def get_cluster_info(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """GetClusterInfo -> {clusterInfo}."""
    return {"clusterInfo": views.cluster_info_view(backend)}


def get_cluster_version_info(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """GetClusterVersionInfo -> {clusterAPIVersion, clusterVersion, ...}."""
    return views.version_info_view(backend)


def get_api(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """GetAPI -> {currentVersion, supportedVersions}."""
    supported = ["1.0", "2.0", "3.0", "4.0", "5.0", "6.0", "7.0", "8.0", "9.0", "10.0"]
    supported += ["11.0", "12.0", backend.api_version]
    return {"currentVersion": backend.api_version, "supportedVersions": supported}


def get_cluster_capacity(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """GetClusterCapacity -> {clusterCapacity}."""
    return {"clusterCapacity": views.cluster_capacity_view(backend)}


def get_limits(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """GetLimits -> the limits the emulator enforces."""
    limits = backend.limits
    return {
        "secretLengthMin": limits.secret_length_min,
        "secretLengthMax": limits.secret_length_max,
        "volumeSizeMin": limits.volume_size_min_bytes,
        "volumeSizeMax": limits.volume_size_max_bytes,
        "snapshotsPerVolumeMax": limits.snapshots_per_volume_max,
        "volumesPerGroupSnapshotMax": limits.volumes_per_group_snapshot_max,
        "volumeAccessGroupCountMax": limits.access_group_count_max,
        "initiatorsPerVolumeAccessGroupCountMax": limits.initiators_per_access_group_max,
        "volumesPerVolumeAccessGroupCountMax": limits.volumes_per_access_group_max,
        "volumeAccessGroupsPerInitiatorCountMax": limits.access_groups_per_initiator_max,
        "volumeMinIOPSMin": limits.min_iops_min,
        "volumeMinIOPSMax": limits.min_iops_max,
        "volumeMaxIOPSMin": limits.max_iops_min,
        "volumeMaxIOPSMax": limits.max_iops_max,
        "volumeBurstIOPSMax": limits.burst_iops_max,
        "volumeNameLengthMax": limits.name_length_max,
        "accountNameLengthMax": limits.name_length_max,
    }


def get_default_qos(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """GetDefaultQoS -> {minIOPS, maxIOPS, burstIOPS}."""
    return {"minIOPS": 50, "maxIOPS": 15000, "burstIOPS": 15000}


def get_async_result(backend: SolidFireBackend, params: Params) -> dict[str, Any]:
    """GetAsyncResult {asyncHandle} -> {status: "complete", result, ...}."""
    return views.async_result_view(backend.get_async_result(params.req_int("asyncHandle")))


HANDLERS = {
    "GetClusterInfo": get_cluster_info,
    "GetClusterVersionInfo": get_cluster_version_info,
    "GetAPI": get_api,
    "GetClusterCapacity": get_cluster_capacity,
    "GetLimits": get_limits,
    "GetDefaultQoS": get_default_qos,
    "GetAsyncResult": get_async_result,
}

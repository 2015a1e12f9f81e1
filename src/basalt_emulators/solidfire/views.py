"""Element API object shapes: how each record looks on the wire (field names and types)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from basalt_emulators.core.sparse import allocated_bytes
from basalt_emulators.solidfire.models.records import (
    AccessGroup,
    Account,
    AsyncResult,
    GroupSnapshot,
    Snapshot,
    Volume,
    now_iso,
)

if TYPE_CHECKING:
    from basalt_emulators.solidfire.models import SolidFireBackend
    from basalt_emulators.solidfire.models.pairing import ClusterPairInfo, VolumePairInfo

BLOCK_BYTES = 4096
JSON = dict[str, Any]


def account_view(backend: SolidFireBackend, account: Account) -> JSON:
    """The Element `account` object."""
    return {
        "accountID": account.account_id,
        "username": account.username,
        "status": account.status,
        "initiatorSecret": account.initiator_secret,
        "targetSecret": account.target_secret,
        "attributes": dict(account.attributes),
        "volumes": backend.account_volume_ids(account.account_id),
        "storageContainerID": "00000000-0000-0000-0000-000000000000",
        "enableChap": True,
    }


def volume_view(backend: SolidFireBackend, volume: Volume) -> JSON:
    """The Element `volume` object (sizes in bytes, times as ISO strings)."""
    device = f"{backend.unique_id.encode().hex():0>8}{volume.volume_id:08x}"
    return {
        "volumeID": volume.volume_id,
        "name": volume.name,
        "accountID": volume.account_id,
        "access": str(volume.access),
        "attributes": dict(volume.attributes),
        "blockSize": BLOCK_BYTES,
        "createTime": volume.create_time,
        "deleteTime": volume.delete_time,
        "purgeTime": volume.purge_time,
        "enable512e": volume.enable512e,
        "enableSnapMirrorReplication": False,
        "iqn": volume.iqn,
        "qos": qos_view(volume),
        "qosPolicyID": None,
        "scsiEUIDeviceID": f"{device}f47acc0100000000",
        "scsiNAADeviceID": f"6f47acc1000000000{device}",
        "sliceCount": 1,
        "status": str(volume.status),
        "totalSize": volume.total_size_bytes,
        "virtualVolumeID": None,
        "volumeAccessGroups": backend.access_group_ids_of(volume.volume_id),
        "volumePairs": [volume_pair_view(p) for p in backend.volume_pairs(volume.volume_id)],
        "volumeUUID": volume.volume_uuid,
        "currentProtectionScheme": "doubleHelix",
        "fifoSize": 24,
        "minFifoSize": 0,
        "lastAccessTime": None,
        "lastAccessTimeIO": None,
    }


def qos_view(volume: Volume) -> JSON:
    """The Element `qos` object of a volume."""
    return {
        "minIOPS": volume.qos.min_iops,
        "maxIOPS": volume.qos.max_iops,
        "burstIOPS": volume.qos.burst_iops,
        "burstTime": volume.qos.burst_time,
        "curve": {"4096": 100, "8192": 160, "16384": 270, "32768": 500, "65536": 1000},
    }


def volume_pair_view(pair: VolumePairInfo) -> JSON:
    """One entry of a volume's `volumePairs`."""
    state = "PausedManual" if pair.link.paused else "Active"
    return {
        "clusterPairID": pair.cluster_pair_id,
        "remoteVolumeID": pair.remote_volume_id,
        "remoteSliceID": pair.remote_volume_id,
        "remoteVolumeName": pair.remote_volume_name,
        "volumePairUUID": pair.link.uuid,
        "remoteReplication": {
            "mode": str(pair.link.mode),
            "pauseLimit": 3145728000,
            "remoteServiceID": 0,
            "resumeDetails": "",
            "snapshotReplication": {"state": "Idle", "stateDetails": ""},
            "state": state,
            "stateDetails": "",
        },
    }


def volume_stats_view(backend: SolidFireBackend, volume: Volume) -> JSON:
    """The Element `volumeStats` object (I/O counters are zero; blocks are measured)."""
    used = allocated_bytes(backend.volume_path(volume.volume_id))
    non_zero = min(used, volume.total_size_bytes) // BLOCK_BYTES
    return {
        "volumeID": volume.volume_id,
        "accountID": volume.account_id,
        "volumeSize": volume.total_size_bytes,
        "nonZeroBlocks": non_zero,
        "zeroBlocks": volume.total_size_bytes // BLOCK_BYTES - non_zero,
        "volumeUtilization": 0.0,
        "actualIOPS": 0,
        "averageIOPSize": 0,
        "burstIOPSCredit": 0,
        "clientQueueDepth": 0,
        "latencyUSec": 0,
        "readBytes": 0,
        "readLatencyUSec": 0,
        "readOps": 0,
        "writeBytes": 0,
        "writeLatencyUSec": 0,
        "writeOps": 0,
        "throttle": 0.0,
        "unalignedReads": 0,
        "unalignedWrites": 0,
        "timestamp": now_iso(),
        "volumeAccessGroups": backend.access_group_ids_of(volume.volume_id),
    }


def snapshot_view(backend: SolidFireBackend, snapshot: Snapshot) -> JSON:
    """The Element `snapshot` object."""
    volume = backend.volumes_by_id.get(snapshot.volume_id)
    return {
        "snapshotID": snapshot.snapshot_id,
        "volumeID": snapshot.volume_id,
        "volumeName": volume.name if volume else "",
        "name": snapshot.name,
        "checksum": snapshot.checksum,
        "enableRemoteReplication": snapshot.enable_remote_replication,
        "expirationReason": "None",
        "expirationTime": None,
        "remoteStatuses": [],
        "status": "done",
        "snapshotUUID": snapshot.snapshot_uuid,
        "instanceSnapshotUUID": snapshot.snapshot_uuid,
        "totalSize": snapshot.total_size_bytes,
        "groupID": snapshot.group_id,
        "groupSnapshotUUID": snapshot.group_snapshot_uuid,
        "createTime": snapshot.create_time,
        "instanceCreateTime": snapshot.create_time,
        "virtualVolumeID": None,
        "attributes": dict(snapshot.attributes),
        "snapMirrorLabel": "",
    }


def group_snapshot_view(backend: SolidFireBackend, group: GroupSnapshot) -> JSON:
    """The Element `groupSnapshot` object (members are full snapshot objects)."""
    return {
        "groupSnapshotID": group.group_snapshot_id,
        "groupSnapshotUUID": group.group_snapshot_uuid,
        "name": group.name,
        "members": [
            snapshot_view(backend, backend.snapshots_by_id[m])
            for m in group.member_ids
            if m in backend.snapshots_by_id
        ],
        "createTime": group.create_time,
        "status": "done",
        "enableRemoteReplication": group.enable_remote_replication,
        "attributes": dict(group.attributes),
        "remoteStatuses": [],
    }


def access_group_view(backend: SolidFireBackend, group: AccessGroup) -> JSON:
    """The Element `volumeAccessGroup` object."""
    return {
        "volumeAccessGroupID": group.access_group_id,
        "name": group.name,
        "initiators": list(group.initiators),
        "initiatorIDs": [backend.initiator_id(i) for i in group.initiators],
        "volumes": list(group.volume_ids),
        "deletedVolumes": list(group.deleted_volume_ids),
        "attributes": dict(group.attributes),
        "virtualNetworkIDs": [],
        "virtualNetworkTags": [],
    }


def cluster_pair_view(pair: ClusterPairInfo) -> JSON:
    """The Element `clusterPair` object (remote fields are empty while requested)."""
    remote = pair.remote
    return {
        "clusterPairID": pair.cluster_pair_id,
        "clusterPairUUID": pair.cluster_pair_uuid,
        "clusterName": remote.cluster_name if remote else "",
        "clusterUUID": remote.cluster_uuid if remote else "",
        "mvip": remote.mvip if remote else "",
        "version": remote.cluster_version if remote else "",
        "status": pair.status,
        "latency": 1 if remote else 0,
        "attributes": {},
    }


def async_result_view(result: AsyncResult) -> JSON:
    """The GetAsyncResult reply."""
    return {
        "status": result.status,
        "resultType": result.result_type,
        "result": dict(result.result),
        "createTime": result.create_time,
        "lastUpdateTime": result.create_time,
    }


def cluster_info_view(backend: SolidFireBackend) -> JSON:
    """The Element `clusterInfo` object."""
    return {
        "attributes": {},
        "defaultProtectionScheme": "doubleHelix",
        "enableVirtualVolumes": False,
        "encryptionAtRestState": "disabled",
        "ensemble": [backend.mvip],
        "mvip": backend.mvip,
        "mvipInterface": "team1G",
        "mvipNodeID": 1,
        "mvipVlanTag": "0",
        "name": backend.cluster_name,
        "repCount": 2,
        "softwareEncryptionAtRestState": "disabled",
        "supportedProtectionSchemes": ["doubleHelix"],
        "svip": backend.svip,
        "svipInterface": "team10G",
        "svipNodeID": 1,
        "svipVlanTag": "0",
        "uniqueID": backend.unique_id,
        "uuid": backend.cluster_uuid,
    }


def version_info_view(backend: SolidFireBackend) -> JSON:
    """The GetClusterVersionInfo reply."""
    return {
        "clusterAPIVersion": backend.api_version,
        "clusterVersion": backend.cluster_version,
        "clusterVersionInfo": [
            {"nodeID": 1, "nodeInternalRevision": "", "nodeVersion": backend.cluster_version}
        ],
        "softwareVersionInfo": {
            "currentVersion": backend.cluster_version,
            "nodeID": 0,
            "packageName": "",
            "pendingVersion": backend.cluster_version,
            "startTime": "",
        },
    }


def cluster_capacity_view(backend: SolidFireBackend) -> JSON:
    """The Element `clusterCapacity` object, measured from the volumes and their files.

    provisionedSpace is the sum of the sizes of volumes not yet purged; usedSpace is what
    the volume and snapshot files really occupy on disk.
    """
    provisioned = sum(v.total_size_bytes for v in backend.volumes_by_id.values())
    volume_used = sum(allocated_bytes(backend.volume_path(i)) for i in backend.volumes_by_id)
    snapshot_used = sum(allocated_bytes(backend.snapshot_path(i)) for i in backend.snapshots_by_id)
    used = volume_used + snapshot_used
    non_zero = volume_used // BLOCK_BYTES
    return {
        "activeBlockSpace": used,
        "activeSessions": 0,
        "averageIOPS": 0,
        "clusterRecentIOSize": 0,
        "currentIOPS": 0,
        "maxIOPS": 200000,
        "maxOverProvisionableSpace": backend.max_provisioned_space_bytes,
        "maxProvisionedSpace": backend.max_provisioned_space_bytes,
        "maxUsedMetadataSpace": backend.max_used_space_bytes // 10,
        "maxUsedSpace": backend.max_used_space_bytes,
        "nonZeroBlocks": non_zero,
        "peakActiveSessions": 0,
        "peakIOPS": 0,
        "provisionedSpace": provisioned,
        "snapshotNonZeroBlocks": snapshot_used // BLOCK_BYTES,
        "timestamp": now_iso(),
        "totalOps": 0,
        "uniqueBlocks": (volume_used + snapshot_used) // BLOCK_BYTES,
        "uniqueBlocksUsedSpace": used,
        "usedMetadataSpace": 0,
        "usedMetadataSpaceInSnapshots": 0,
        "usedSpace": used,
        "zeroBlocks": max(provisioned // BLOCK_BYTES - non_zero, 0),
        "compressionPercent": 100,
        "deDuplicationPercent": 100,
        "thinProvisioningPercent": (100 * provisioned // used) if used else 100,
    }

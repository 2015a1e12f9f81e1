"""The ``solidfire`` backend: volumes on a NetApp SolidFire (Element) cluster.

One cluster is one pool. Each project's volumes live in its own Element account
(the CHAP identity), made on first use; Basalt's volumes and snapshots are named
``<volume_prefix><id>`` and found by name (:mod:`~basalt.drivers.solidfire.naming`).
Calls go through :class:`~basalt.drivers.solidfire.client.SolidFireClient`
(retries) and :class:`~basalt.drivers.solidfire.array.ElementArray` (lookups,
creates that never make two objects). Snapshots and copies are in copies.py,
manage/unmanage in manage.py, transfers in transfer.py. The seed method -> Basalt method table is in
docs/drivers/solidfire.md.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from basalt.drivers.solidfire.access import AccessGroups
from basalt.drivers.solidfire.client import RetryPolicy, SolidFireClient
from basalt.drivers.solidfire.common import new_attributes
from basalt.drivers.solidfire.groups import SolidFireGroups
from basalt.drivers.solidfire.manage import SolidFireManage
from basalt.drivers.solidfire.naming import Naming, parse_provider_id, provider_id
from basalt.drivers.solidfire.objects import ClusterInfo
from basalt.drivers.solidfire.options import SolidFireOptions
from basalt.drivers.solidfire.qos import element_qos
from basalt.drivers.solidfire.replication import SolidFireReplication
from basalt.drivers.solidfire.transfer import SolidFireTransfer
from basalt.drivers.types import (
    GIB,
    BackendStats,
    ConnectionInfo,
    Connector,
    DriverUpdate,
    ExportSpec,
    PoolStats,
    SnapshotRef,
    StoredObjects,
    VolumeRef,
)
from basalt.errors import DriverError, InvalidInputError

if TYPE_CHECKING:
    from basalt.config import ReplicationTargetSettings, SolidFireSettings

log = logging.getLogger(__name__)


class SolidFireDriver(SolidFireManage, SolidFireGroups, SolidFireTransfer, SolidFireReplication):
    """Volumes, snapshots and clones on one Element cluster over JSON-RPC.

    Also implements :class:`basalt.drivers.base.SupportsManage` (volumes; see
    manage.py for snapshots) and ``SupportsTransfer`` (transfer.py). Connect returns
    the account's CHAP; with ``enable_vag`` access groups admit the attached initiators.
    """

    driver_name = "solidfire"
    driver_version = "1.0.0"
    vendor_name = "NetApp SolidFire"

    @classmethod
    def from_settings(
        cls,
        backend_name: str,
        settings: SolidFireSettings,
        targets: Sequence[ReplicationTargetSettings] = (),
    ) -> SolidFireDriver:
        """Build the driver and its client from a backend's ``[solidfire]`` settings.

        Args:
            backend_name: the backend's name.
            settings: its validated SolidFire settings.
            targets: replication targets (each another cluster's settings).

        Returns:
            A driver that has not called the cluster yet (``setup`` does).
        """
        options = SolidFireOptions(
            pool_name=settings.pool_name,
            naming=Naming(
                volume_prefix=settings.volume_prefix, account_prefix=settings.account_prefix
            ),
            emulate_512=settings.emulate_512,
            enable_vag=settings.enable_vag,
            poll_interval_seconds=settings.poll_interval_seconds,
            settle_seconds=settings.create_settle_seconds,
        )
        driver = cls(
            backend_name=backend_name, client=_client(backend_name, settings), options=options
        )
        for target in targets:
            assert target.solidfire is not None  # BackendSettings checked it
            driver.add_replication_target(
                target.backend_id,
                _client(backend_name, target.solidfire),
                interval_seconds=target.interval_seconds,
            )
        return driver

    def setup(self) -> None:
        """Read the cluster's identity and API version (GetClusterInfo, GetClusterVersionInfo).

        Raises:
            SolidFireAuthError: the login was refused.
            SolidFireUnreachableError: the cluster does not answer.
            SolidFireVersionError: its API is older than the versions Basalt calls.
        """
        self._cluster = self.read_cluster()
        log.info(
            "backend %s: SolidFire cluster %s (%s), Element %s, API %s",
            self.backend_name,
            self._cluster.name,
            self._cluster.uuid,
            self._cluster.element_version,
            self._cluster.api_version,
        )

    def check_setup(self) -> None:
        """Check the cluster answers, accepts the login and speaks a recent enough API.

        Raises:
            DriverError: it does not; the message says which.
        """
        self.read_cluster()

    def get_stats(self) -> BackendStats:
        """One pool with the cluster's capacity (GetClusterCapacity).

        Raises:
            SolidFireError: the capacity could not be read.
        """
        capacity = self.client.call("GetClusterCapacity").get("clusterCapacity")
        if not isinstance(capacity, dict):
            raise self.array.malformed("GetClusterCapacity", "no clusterCapacity object")
        try:
            max_used = _bytes(capacity, "maxUsedSpace")
            used = _bytes(capacity, "usedSpace")
        except ValueError as exc:
            raise self.array.malformed("GetClusterCapacity", str(exc)) from exc
        provisioned = capacity.get("provisionedSpace")
        if not isinstance(provisioned, int):
            provisioned = sum(v.total_size_bytes for v in self.array.active_volumes())
        pool = PoolStats(
            name=self.options.pool_name,
            total_capacity_gib=max_used / GIB,
            free_capacity_gib=max(0, max_used - used) / GIB,
            provisioned_capacity_gib=provisioned / GIB,
            thin_provisioning=True,
            reflink=False,
            location=f"solidfire://{self.cluster.mvip}/{self.cluster.uuid}",
            capabilities=_capabilities(capacity, self.cluster),
        )
        return BackendStats(
            backend_name=self.backend_name,
            vendor_name=self.vendor_name,
            driver_version=self.driver_version,
            storage_protocol="iSCSI",
            pools=(pool,),
        )

    # -- volumes -------------------------------------------------------------------

    def create_volume(self, volume: VolumeRef) -> DriverUpdate:
        """CreateVolume in the project's account; a finished re-run is fine.

        Raises:
            PoolNotFoundError: the volume's pool is not this cluster's.
            DriverError: a volume of that name exists with another size, or the
                cluster refused.
        """
        self.check_pool(volume.pool)
        name = self.naming.volume_name(volume.id)
        account = self.array.ensure_account(self.naming.account_name(volume.project_id))
        existing = self.rerun(name, volume.size_bytes)
        if existing is None:
            params: dict[str, object] = {
                "name": name,
                "accountID": account.account_id,
                "sliceCount": 1,
                "totalSize": volume.size_bytes,
                "enable512e": self.options.emulate_512,
                "attributes": new_attributes(name, volume.id, is_clone=False),
            }
            qos = element_qos(volume.qos, size_gib=volume.size_gib)
            if qos is not None:
                params["qos"] = qos
            volume_id = self.create_volume_once("CreateVolume", params, name)
        else:
            volume_id = existing.volume_id
        return DriverUpdate(provider_location=self.volume_location(volume_id, account.account_id))

    def delete_volume(self, volume: VolumeRef) -> None:
        """DeleteVolume then PurgeDeletedVolume for every volume Basalt knows as it; none is fine.

        Raises:
            DriverError: the cluster refused.
        """
        for found in self.find_volumes(volume, active_only=False):
            self.array.delete_volume(found)

    def extend_volume(self, volume: VolumeRef, new_size_gib: int) -> None:
        """ModifyVolume{totalSize}; succeeds if it is that size already; never shrinks.

        Raises:
            DriverError: the volume is missing or larger than ``new_size_gib``.
        """
        found = self.require_volume(volume, action="extend")
        new_bytes = new_size_gib * GIB
        if new_bytes < found.total_size_bytes:
            raise DriverError(
                self.backend_name,
                f"volume {volume.id} holds {found.total_size_bytes} bytes; "
                f"refusing to shrink it to {new_size_gib} GiB",
                hint="volumes can only grow",
            )
        if new_bytes > found.total_size_bytes:
            params: dict[str, object] = {"volumeID": found.volume_id, "totalSize": new_bytes}
            qos = element_qos(volume.qos, size_gib=new_size_gib)
            if qos is not None:  # scaled IOPS follow the size
                params["qos"] = qos
            self.client.call("ModifyVolume", params)

    def retype(
        self, volume: VolumeRef, *, new_specs: Mapping[str, str], new_qos: Mapping[str, str]
    ) -> bool:
        """ModifyVolume{qos} with the new type's QoS, or the cluster's default QoS
        (GetDefaultQoS) when the new type has none (SupportsRetype).

        Raises:
            InvalidInputError: the new QoS specs make no Element qos object.
            DriverError: the volume is missing, or the cluster refused.
        """
        qos = element_qos(new_qos, size_gib=volume.size_gib)
        found = self.require_volume(volume, action="retype")
        if qos is None:
            defaults = self.client.call("GetDefaultQoS", {})
            qos = {key: int(str(defaults[key])) for key in ("minIOPS", "maxIOPS", "burstIOPS")}
        self.client.call("ModifyVolume", {"volumeID": found.volume_id, "qos": qos})
        return True

    def check_qos(self, specs: Mapping[str, str], *, size_gib: int) -> None:
        """Check a type's back-end QoS specs make an Element qos object (SupportsQoS).

        Raises:
            InvalidInputError: an unknown preset, a value that is not a whole number, or
                min > max > burst.
        """
        element_qos(specs, size_gib=size_gib)

    def volume_exists(self, volume: VolumeRef) -> bool:
        """Whether an active volume is known to Basalt as ``volume``.

        Raises:
            DriverError: the lookup failed.
        """
        return bool(self.find_volumes(volume))

    # -- crash recovery ------------------------------------------------------------

    def cleanup_incomplete(self) -> Sequence[str]:
        """Nothing to do: Element makes each object in one call, whole or not at all.

        Returns:
            An empty list.
        """
        return []

    def list_stored_objects(self) -> StoredObjects:
        """The ids of every active volume (by claimed name) and snapshot under Basalt's naming.

        Raises:
            DriverError: the cluster could not be listed.
        """
        volume_ids = {self.naming.basalt_id(v.claimed_name) for v in self.array.active_volumes()}
        snapshot_ids = {self.naming.basalt_id(s.name) for s in self.array.snapshots()}
        members = self.group_member_ids()  # named after their group, not themselves
        return StoredObjects(
            volume_ids=frozenset(i for i in volume_ids if i is not None),
            snapshot_ids=frozenset(i for i in snapshot_ids | members if i is not None),
        )

    def update_provider_info(
        self, volumes: Sequence[VolumeRef], snapshots: Sequence[SnapshotRef]
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The provider ids that changed since they were stored (reconciliation asks at start).

        Two listings (ListActiveVolumes, ListSnapshots) however many objects there
        are; meant for reconciliation at start, as the seed's driver does it.

        Args:
            volumes: volumes with the provider_location Basalt stored.
            snapshots: snapshots likewise.

        Returns:
            (volume id -> new provider_location, snapshot id -> new provider_location),
            only for objects found on the cluster whose location differs.

        Raises:
            DriverError: the cluster could not be listed.
        """
        on_cluster = {v.claimed_name: v for v in self.array.active_volumes()}
        volume_updates: dict[str, str] = {}
        for ref in volumes:
            found = on_cluster.get(self.naming.volume_name(ref.id))
            if found is not None:
                location = self.volume_location(found.volume_id, found.account_id)
                if location != ref.provider_location:
                    volume_updates[ref.id] = location
        listed = self.array.snapshots()
        where = {(s.snapshot_id, s.volume_id) for s in listed}
        # Members of a group snapshot carry the group's name: only their stored id finds them.
        named = {s.name: s for s in listed if not s.group_id}
        snapshot_updates: dict[str, str] = {}
        for snap in snapshots:
            stored = parse_provider_id(snap.provider_location)
            if stored is not None and (stored[0], stored[1]) in where:
                continue
            taken = named.get(self.naming.snapshot_name(snap.id))
            if taken is not None:
                location = provider_id(taken.snapshot_id, taken.volume_id, self.cluster.uuid)
                if location != snap.provider_location:
                    snapshot_updates[snap.id] = location
        return volume_updates, snapshot_updates

    # -- connection ----------------------------------------------------------------

    def connect(
        self, volume: VolumeRef, connector: Connector, export: ExportSpec
    ) -> ConnectionInfo:
        """iSCSI connection info with the volume's account CHAP.

        Element authenticates initiators by the account's CHAP secrets, so the
        project's Basalt credentials in ``export`` are not used. With
        ``enable_vag`` the volume also joins the access group of every initiator
        in ``export`` (initiator ACLs on the array).

        Raises:
            InvalidInputError: a local attach was asked (an array has no local device).
            DriverError: the volume or its account is missing.
        """
        if connector.do_local_attach:
            raise InvalidInputError(
                "connector.do_local_attach",
                f"backend {self.backend_name} is a SolidFire array: it has no local devices",
                hint="connect over iSCSI (give the connector an initiator)",
            )
        found = self.require_volume(volume, action="connect")
        if self.options.enable_vag:
            AccessGroups(self.array).admit(found.volume_id, export.initiators)
        account = self.array.account(self.naming.account_name(volume.project_id))
        if account is None or account.account_id != found.account_id:
            account = self.array.account_by_id(found.account_id)
        if account is None:
            raise DriverError(
                self.backend_name, f"volume {volume.id}: account {found.account_id} is missing"
            )
        portal = self.cluster.iscsi_portal
        data: dict[str, object] = {
            "target_discovered": False,
            "target_iqn": found.iqn,
            "target_portal": portal,
            "target_lun": 0,
            "auth_method": "CHAP",
            "auth_username": account.username,
            "auth_password": account.target_secret,
            "volume_id": volume.id,
            "discard": True,
            "access_mode": "ro" if export.read_only else "rw",
            "encrypted": False,
            "qos_specs": None,
        }
        return ConnectionInfo("iscsi", data)

    def disconnect(
        self, volume: VolumeRef, connector: Connector | None, remaining: ExportSpec
    ) -> None:
        """With ``enable_vag``, take the volume out of the access groups of initiators
        that no longer need it; otherwise nothing to undo (access is the account's CHAP).

        Raises:
            SolidFireError: a call failed.
        """
        if not self.options.enable_vag:
            return
        for found in self.find_volumes(volume):
            if connector is None:
                AccessGroups(self.array).release(found.volume_id, None)
            elif connector.initiator and connector.initiator not in remaining.initiators:
                AccessGroups(self.array).release(found.volume_id, [connector.initiator])

    def ensure_exports(self, exports: Mapping[str, tuple[VolumeRef, ExportSpec]]) -> Sequence[str]:
        """The array keeps accounts, volumes and access groups across restarts; with
        ``enable_vag`` make sure each attached initiator's group holds its volumes.

        Raises:
            SolidFireError: a call failed.
        """
        if not self.options.enable_vag:
            return []
        changes: list[str] = []
        groups = AccessGroups(self.array)
        for volume_id, (ref, spec) in exports.items():
            found = self.find_volumes(ref)
            if not found:
                changes.append(f"volume {volume_id} is missing on the cluster; not exported")
                continue
            groups.admit(found[0].volume_id, spec.initiators)
        return changes


def _bytes(capacity: Mapping[str, Any], key: str) -> int:
    value = capacity.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"clusterCapacity.{key} is {value!r}, not a byte count")
    return value


def _capabilities(capacity: Mapping[str, Any], cluster: ClusterInfo) -> dict[str, object]:
    keys = ("maxProvisionedSpace", "uniqueBlocksUsedSpace", "currentIOPS", "maxIOPS")
    found: dict[str, object] = {key: capacity[key] for key in keys if key in capacity}
    found.update(cluster_uuid=cluster.uuid, api_version=cluster.api_version, qos=True)
    return found


def _client(backend_name: str, settings: SolidFireSettings) -> SolidFireClient:
    return SolidFireClient(
        backend_name=backend_name,
        url=settings.endpoint,
        login=settings.login,
        password=settings.password.get_secret_value(),
        verify=settings.verify,
        transport=settings.transport,
        timeout_seconds=settings.timeout_seconds,
        retry=RetryPolicy(
            attempts=settings.retry_attempts,
            total_seconds=settings.retry_total_seconds,
            initial_delay_seconds=settings.retry_initial_delay_seconds,
        ),
    )

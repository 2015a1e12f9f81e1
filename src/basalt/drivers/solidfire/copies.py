"""Snapshots and copies on an Element cluster: CreateSnapshot and CloneVolume.

A snapshot is named ``<volume_prefix><snapshot id>`` and found by name; its
provider_location is ``"<snapshotID> <volumeID> <cluster uuid>"``. Clones of a
volume and volumes from a snapshot are both one CloneVolume (with ``snapshotID``
for the latter) into the new volume's project account, at the new size: the
array copies nothing up front, so progress goes from 0 to the total at once.
"""

from __future__ import annotations

from typing import Any

from basalt.drivers.solidfire.common import SolidFireCommon, new_attributes
from basalt.drivers.solidfire.naming import provider_id
from basalt.drivers.solidfire.qos import element_qos
from basalt.drivers.types import GIB, DriverUpdate, ProgressCallback, SnapshotRef, VolumeRef
from basalt.errors import DriverError


class SolidFireCopies(SolidFireCommon):
    """create/delete snapshot, clone_volume, create_volume_from_snapshot, snapshot_exists,
    revert_volume_to_snapshot."""

    def create_snapshot(self, snapshot: SnapshotRef, volume: VolumeRef) -> DriverUpdate:
        """CreateSnapshot of the volume, named after the snapshot; a finished re-run is fine.

        Raises:
            DriverError: the volume is missing, or the cluster refused.
        """
        found = self.require_volume(volume, action="snapshot")
        name = self.naming.snapshot_name(snapshot.id)

        def same_name() -> list[int]:
            return [s.snapshot_id for s in self.array.snapshots_named(name, found.volume_id)]

        existing = same_name()
        snapshot_id = (
            existing[0]
            if existing
            else self.array.create_once(
                "CreateSnapshot",
                {"volumeID": found.volume_id, "name": name},
                key="snapshotID",
                find=same_name,
                remove=self.array.delete_snapshot,
            )
        )
        location = provider_id(snapshot_id, found.volume_id, self.cluster.uuid)
        return DriverUpdate(provider_location=location)

    def delete_snapshot(self, snapshot: SnapshotRef) -> None:
        """DeleteSnapshot for every snapshot of its name; none is fine.

        Raises:
            DriverError: the cluster refused.
        """
        for found in self.find_snapshots(snapshot):
            self.array.delete_snapshot(found.snapshot_id)

    def create_volume_from_snapshot(
        self, volume: VolumeRef, snapshot: SnapshotRef, *, progress: ProgressCallback
    ) -> DriverUpdate:
        """CloneVolume of the snapshot's volume at the snapshot, at the new size.

        Raises:
            DriverError: the snapshot is missing or larger than the new volume, or
                the cluster refused.
        """
        found = self.find_snapshots(snapshot)
        if not found:
            raise DriverError(
                self.backend_name,
                f"cannot create volume {volume.id} from snapshot {snapshot.id}: "
                f"no snapshot named {self.naming.snapshot_name(snapshot.id)} on the cluster",
            )
        source = found[0]
        return self._clone(
            volume,
            source_volume_id=source.volume_id,
            snapshot_id=source.snapshot_id,
            source_bytes=source.total_size_bytes or snapshot.size_gib * GIB,
            source_label=f"snapshot {snapshot.id}",
            progress=progress,
        )

    def revert_volume_to_snapshot(
        self, volume: VolumeRef, snapshot: SnapshotRef, *, progress: ProgressCallback
    ) -> None:
        """RollbackToSnapshot (saveCurrentState false), then ModifyVolume back to the
        volume's size when the snapshot is smaller (a rollback takes the snapshot's size).

        A re-run repeats both calls, so a crash between them is finished by the next
        start; if the ModifyVolume is refused the volume holds the snapshot's data at
        the snapshot's size, and the error says so.

        Raises:
            DriverError: the volume or the snapshot is missing, or the cluster refused.
        """
        found = self.require_volume(volume, action="revert")
        snapshots = [s for s in self.find_snapshots(snapshot) if s.volume_id == found.volume_id]
        if not snapshots:
            raise DriverError(
                self.backend_name,
                f"cannot revert volume {volume.id}: no snapshot named "
                f"{self.naming.snapshot_name(snapshot.id)} of it on the cluster",
            )
        progress(0, volume.size_bytes)
        self.client.call(
            "RollbackToSnapshot",
            {
                "volumeID": found.volume_id,
                "snapshotID": snapshots[0].snapshot_id,
                "saveCurrentState": False,
            },
        )
        snapshot_bytes = snapshots[0].total_size_bytes or snapshot.size_gib * GIB
        if volume.size_bytes > snapshot_bytes:
            try:
                self.client.call(
                    "ModifyVolume", {"volumeID": found.volume_id, "totalSize": volume.size_bytes}
                )
            except DriverError as exc:
                raise DriverError(
                    self.backend_name,
                    f"volume {volume.id} was rolled back to snapshot {snapshot.id} but could "
                    f"not be grown back to {volume.size_gib} GiB: {exc.message}",
                    hint="revert again once the cluster accepts ModifyVolume",
                ) from exc
        progress(volume.size_bytes, volume.size_bytes)

    def snapshot_exists(self, snapshot: SnapshotRef) -> bool:
        """Whether a snapshot carries the snapshot's name.

        Raises:
            DriverError: the lookup failed.
        """
        return bool(self.find_snapshots(snapshot))

    def clone_volume(
        self, volume: VolumeRef, source: VolumeRef, *, progress: ProgressCallback
    ) -> DriverUpdate:
        """CloneVolume of the source into the project's account, at the new size.

        Raises:
            DriverError: the source is missing or larger than the new volume, or
                the cluster refused.
        """
        found = self.require_volume(source, action="clone")
        return self._clone(
            volume,
            source_volume_id=found.volume_id,
            snapshot_id=None,
            source_bytes=found.total_size_bytes,
            source_label=f"volume {source.id}",
            progress=progress,
        )

    def _clone(
        self,
        volume: VolumeRef,
        *,
        source_volume_id: int,
        snapshot_id: int | None,
        source_bytes: int,
        source_label: str,
        progress: ProgressCallback,
    ) -> DriverUpdate:
        self.check_pool(volume.pool)
        if volume.size_bytes < source_bytes:
            raise DriverError(
                self.backend_name,
                f"cannot copy {source_label} ({source_bytes} bytes) into volume {volume.id}: "
                f"{volume.size_gib} GiB is smaller",
                hint="ask for at least the source's size",
            )
        name = self.naming.volume_name(volume.id)
        account = self.array.ensure_account(self.naming.account_name(volume.project_id))
        progress(0, volume.size_bytes)
        existing = self.rerun(name, volume.size_bytes)
        if existing is None:
            params: dict[str, Any] = {
                "volumeID": source_volume_id,
                "name": name,
                "newAccountID": account.account_id,
                "newSize": volume.size_bytes,
                "attributes": new_attributes(name, volume.id, is_clone=True),
            }
            if snapshot_id is not None:
                params["snapshotID"] = snapshot_id
            volume_id = self.create_volume_once("CloneVolume", params, name)
        else:
            volume_id = existing.volume_id
        qos = element_qos(volume.qos, size_gib=volume.size_gib)
        if qos is not None:  # CloneVolume copies the source's QoS; the new type's wins
            self.client.call("ModifyVolume", {"volumeID": volume_id, "qos": qos})
        progress(volume.size_bytes, volume.size_bytes)
        return DriverUpdate(provider_location=self.volume_location(volume_id, account.account_id))

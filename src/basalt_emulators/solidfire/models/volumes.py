"""Volumes: create, modify, delete/restore/purge, clone; their bytes are sparse files."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from basalt_emulators.core.sparse import copy_sparse, create_sparse, remove_file, resize_sparse
from basalt_emulators.solidfire.errors import (
    InvalidParameterError,
    InvalidParameterTypeError,
    VolumeShrinkProhibitedError,
)
from basalt_emulators.solidfire.models.accounts import AccountOps
from basalt_emulators.solidfire.models.records import (
    Access,
    AsyncResult,
    Limits,
    QoS,
    Volume,
    VolumeStatus,
    now_iso,
)

SIZE_ROUNDING_BYTES = 1024 * 1024
_QOS_FIELDS = {"minIOPS": "min_iops", "maxIOPS": "max_iops", "burstIOPS": "burst_iops"}


def merge_qos(base: QoS, changes: Mapping[str, Any] | None, limits: Limits) -> QoS:
    """`base` with the wire QoS fields in `changes` applied, checked against the limits.

    Args:
        base: the current (or default) settings.
        changes: a wire `qos` object (minIOPS, maxIOPS, burstIOPS, burstTime); may be empty.
        limits: the cluster limits.

    Returns:
        The new settings.

    Raises:
        InvalidParameterTypeError: a value is not an integer.
        InvalidParameterError: a value is out of range, or min <= max <= burst fails.
    """
    qos = QoS(base.min_iops, base.max_iops, base.burst_iops, base.burst_time)
    for wire_name, value in (changes or {}).items():
        if wire_name not in _QOS_FIELDS and wire_name != "burstTime":
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidParameterTypeError(f"qos.{wire_name}", "integer")
        setattr(qos, _QOS_FIELDS.get(wire_name, "burst_time"), value)
    checks = [
        (limits.min_iops_min <= qos.min_iops <= limits.min_iops_max, "minIOPS"),
        (limits.max_iops_min <= qos.max_iops <= limits.max_iops_max, "maxIOPS"),
        (qos.burst_iops <= limits.burst_iops_max, "burstIOPS"),
    ]
    for ok, name in checks:
        if not ok:
            raise InvalidParameterError(f"qos.{name} is out of range")
    if not qos.min_iops <= qos.max_iops <= qos.burst_iops:
        raise InvalidParameterError("qos must satisfy minIOPS <= maxIOPS <= burstIOPS")
    return qos


@dataclass(frozen=True)
class CloneOutcome:
    """What CloneVolume reports: the new volume, the clone job and its async handle."""

    volume: Volume
    clone_id: int
    async_handle: int


class VolumeOps(AccountOps):
    """CreateVolume, ModifyVolume, DeleteVolume, RestoreDeletedVolume, PurgeDeletedVolume,
    CloneVolume."""

    def create_volume(
        self,
        *,
        name: str,
        account_id: int,
        total_size_bytes: int,
        enable512e: bool = False,
        qos: Mapping[str, Any] | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> Volume:
        """Create an empty (all holes) volume.

        Args:
            name: the volume name (names need not be unique).
            account_id: the owner.
            total_size_bytes: the size; rounded up to a whole MiB.
            enable512e: whether 512-byte sectors are emulated.
            qos: a wire `qos` object (missing fields: the defaults).
            attributes: free-form attributes.

        Returns:
            The new volume.

        Raises:
            AccountIDDoesNotExistError: no such account.
            InvalidParameterError: bad name, size or QoS.
        """
        self.check_name(name, what="volume")
        self.get_account(account_id)
        size = self._checked_size(total_size_bytes)
        volume = self._new_volume(
            name=name,
            account_id=account_id,
            total_size_bytes=size,
            enable512e=enable512e,
            qos=merge_qos(QoS(), qos, self.limits),
            attributes=dict(attributes or {}),
            access=Access.READ_WRITE,
        )
        create_sparse(self.volume_path(volume.volume_id), size_bytes=size)
        return volume

    def modify_volume(
        self,
        volume_id: int,
        *,
        account_id: int | None = None,
        access: Access | None = None,
        attributes: dict[str, Any] | None = None,
        qos: Mapping[str, Any] | None = None,
        total_size_bytes: int | None = None,
    ) -> Volume:
        """Change an active volume; everything is checked before anything changes.

        Args:
            volume_id: the volume to change.
            account_id: move the volume to this account.
            access: the new access mode.
            attributes: replaces the attributes.
            qos: a wire `qos` object merged into the current settings.
            total_size_bytes: the new size (it may only grow).

        Returns:
            The changed volume.

        Raises:
            VolumeIDDoesNotExistError: no such active volume.
            AccountIDDoesNotExistError: no such account.
            VolumeShrinkProhibitedError: the new size is smaller.
            InvalidParameterError: bad size or QoS.
        """
        volume = self.get_active_volume(volume_id)
        if account_id is not None:
            self.get_account(account_id)
        new_qos = merge_qos(volume.qos, qos, self.limits) if qos is not None else volume.qos
        new_size = self._grown_size(volume, total_size_bytes)
        if new_size != volume.total_size_bytes:
            resize_sparse(self.volume_path(volume_id), size_bytes=new_size)
        volume.total_size_bytes, volume.qos = new_size, new_qos
        volume.account_id = account_id if account_id is not None else volume.account_id
        volume.access = access or volume.access
        if attributes is not None:
            volume.attributes = dict(attributes)
        return volume

    def delete_volume(self, volume_id: int) -> Volume:
        """Mark an active volume deleted (restorable until purged).

        Args:
            volume_id: the volume to delete.

        Returns:
            The deleted volume.

        Raises:
            VolumeIDDoesNotExistError: no such active volume.
        """
        volume = self.get_active_volume(volume_id)
        volume.status = VolumeStatus.DELETED
        volume.delete_time = volume.purge_time = now_iso()
        for group in self.access_groups_by_id.values():
            if volume_id in group.volume_ids:
                group.volume_ids.remove(volume_id)
                group.deleted_volume_ids.append(volume_id)
        return volume

    def restore_deleted_volume(self, volume_id: int) -> Volume:
        """Bring a deleted volume back to active.

        Args:
            volume_id: the deleted volume.

        Returns:
            The restored volume.

        Raises:
            VolumeIDDoesNotExistError: no such deleted volume.
        """
        volume = self.get_volume(volume_id, status=VolumeStatus.DELETED)
        volume.status = VolumeStatus.ACTIVE
        volume.delete_time = volume.purge_time = ""
        for group in self.access_groups_by_id.values():
            if volume_id in group.deleted_volume_ids:
                group.deleted_volume_ids.remove(volume_id)
                group.volume_ids.append(volume_id)
        return volume

    def purge_deleted_volume(self, volume_id: int) -> None:
        """Destroy a deleted volume, its bytes, its snapshots and its pairings.

        Args:
            volume_id: the deleted volume.

        Raises:
            VolumeIDDoesNotExistError: no such deleted volume.
        """
        self.get_volume(volume_id, status=VolumeStatus.DELETED)
        for snapshot in [s for s in self.snapshots_by_id.values() if s.volume_id == volume_id]:
            self.discard_snapshot(snapshot.snapshot_id)
        for group in self.access_groups_by_id.values():
            if volume_id in group.deleted_volume_ids:
                group.deleted_volume_ids.remove(volume_id)
        del self.volumes_by_id[volume_id]
        remove_file(self.volume_path(volume_id))
        self._forget_volume_pairs(volume_id)

    def clone_volume(
        self,
        volume_id: int,
        *,
        name: str,
        new_account_id: int | None = None,
        new_size_bytes: int | None = None,
        access: Access | None = None,
        snapshot_id: int | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> CloneOutcome:
        """Copy a volume (or one of its snapshots) into a new volume; done at once.

        Args:
            volume_id: the source volume.
            name: the clone's name.
            new_account_id: the clone's owner (default: the source's).
            new_size_bytes: the clone's size (default and minimum: the source's).
            access: the clone's access (default: the source's).
            snapshot_id: clone this snapshot of the source instead of its current bytes.
            attributes: the clone's attributes (default: a copy of the source's).

        Returns:
            The clone, the clone job ID and the async handle (already complete).

        Raises:
            VolumeIDDoesNotExistError: no such active volume.
            SnapshotIDDoesNotExistError: no such snapshot of that volume.
            AccountIDDoesNotExistError: no such account.
            InvalidParameterError: bad name, or a size below the source's.
        """
        source = self.get_active_volume(volume_id)
        self.check_name(name, what="volume")
        account_id = new_account_id if new_account_id is not None else source.account_id
        self.get_account(account_id)
        bytes_path, size = self._clone_source(source, snapshot_id, new_size_bytes)
        clone = self._new_volume(
            name=name,
            account_id=account_id,
            total_size_bytes=size,
            enable512e=source.enable512e,
            qos=QoS(**vars(source.qos)),
            attributes=dict(attributes if attributes is not None else source.attributes),
            access=access or source.access,
        )
        copy_sparse(bytes_path, self.volume_path(clone.volume_id), size_bytes=size)
        return self._finish_clone(clone)

    def list_volume_records(
        self,
        *,
        start_volume_id: int = 0,
        limit: int | None = None,
        status: VolumeStatus | None = None,
    ) -> list[Volume]:
        """Volumes by ascending ID, from `start_volume_id`, at most `limit`.

        Args:
            start_volume_id: the first ID to include.
            limit: the most volumes to return.
            status: keep only volumes in this state.

        Returns:
            The volumes.
        """
        found = [
            v
            for i, v in sorted(self.volumes_by_id.items())
            if i >= start_volume_id and (status is None or v.status is status)
        ]
        return found[:limit] if limit is not None else found

    def discard_snapshot(self, snapshot_id: int) -> None:
        """Drop a snapshot, its bytes and its group membership (the snapshot mixin overrides)."""
        self.snapshots_by_id.pop(snapshot_id, None)
        remove_file(self.snapshot_path(snapshot_id))

    def _forget_volume_pairs(self, volume_id: int) -> None:
        """Drop a purged volume's pairings (the pairing mixin overrides)."""

    def _clone_source(
        self, source: Volume, snapshot_id: int | None, new_size_bytes: int | None
    ) -> tuple[Path, int]:
        """The file a clone copies and the clone's size (never below the source's)."""
        bytes_path, source_size = self.volume_path(source.volume_id), source.total_size_bytes
        if snapshot_id is not None:
            snapshot = self.get_snapshot(snapshot_id, volume_id=source.volume_id)
            bytes_path, source_size = self.snapshot_path(snapshot_id), snapshot.total_size_bytes
        size = self._checked_size(new_size_bytes) if new_size_bytes else source_size
        if size < source_size:
            raise InvalidParameterError("newSize may not be smaller than the source volume")
        return bytes_path, size

    def _grown_size(self, volume: Volume, total_size_bytes: int | None) -> int:
        """The size ModifyVolume asks for, refused when it would shrink the volume."""
        if total_size_bytes is None:
            return volume.total_size_bytes
        size = self._checked_size(total_size_bytes)
        if size < volume.total_size_bytes:
            raise VolumeShrinkProhibitedError(volume.volume_id)
        return size

    def _checked_size(self, size_bytes: int) -> int:
        size = -(-size_bytes // SIZE_ROUNDING_BYTES) * SIZE_ROUNDING_BYTES
        low, high = self.limits.volume_size_min_bytes, self.limits.volume_size_max_bytes
        if not low <= size <= high:
            raise InvalidParameterError(f"totalSize must be between {low} and {high} bytes")
        return size

    def _new_volume(self, *, name: str, **fields: Any) -> Volume:
        volume_id = self.new_id("volume")
        volume = Volume(
            volume_id=volume_id,
            name=name,
            iqn=f"iqn.2010-01.com.solidfire:{self.unique_id}.{name.lower()}.{volume_id}",
            volume_uuid=str(uuid.uuid4()),
            **fields,
        )
        self.volumes_by_id[volume_id] = volume
        return volume

    def _finish_clone(self, clone: Volume) -> CloneOutcome:
        clone_id = self.new_id("clone")
        handle = self.new_id("asyncHandle")
        self.async_results[handle] = AsyncResult(
            handle=handle,
            result_type="Clone",
            result={"cloneID": clone_id, "volumeID": clone.volume_id, "message": "Clone complete."},
        )
        return CloneOutcome(volume=clone, clone_id=clone_id, async_handle=handle)

"""Snapshots, group snapshots and rollback; snapshot bytes are sparse copies of the volume."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from basalt_emulators.core.sparse import copy_sparse
from basalt_emulators.solidfire.errors import (
    ExceededLimitError,
    InvalidParameterError,
    MaxSnapshotsPerVolumeExceededError,
)
from basalt_emulators.solidfire.models.records import (
    NO_GROUP_UUID,
    GroupSnapshot,
    Snapshot,
    Volume,
    now_iso,
)
from basalt_emulators.solidfire.models.volumes import VolumeOps


class SnapshotOps(VolumeOps):
    """CreateSnapshot, DeleteSnapshot, RollbackToSnapshot, CreateGroupSnapshot,
    DeleteGroupSnapshot."""

    def create_snapshot(
        self,
        volume_id: int,
        *,
        name: str | None = None,
        attributes: dict[str, Any] | None = None,
        enable_remote_replication: bool = False,
    ) -> Snapshot:
        """Copy an active volume's current bytes into a new snapshot.

        Args:
            volume_id: the volume.
            name: the snapshot name (default: the current time, as the array does).
            attributes: free-form attributes.
            enable_remote_replication: recorded only; snapshots are not sent to a pair.

        Returns:
            The new snapshot.

        Raises:
            VolumeIDDoesNotExistError: no such active volume.
            MaxSnapshotsPerVolumeExceededError: the volume has too many snapshots.
        """
        volume = self.get_active_volume(volume_id)
        self._check_snapshot_room([volume_id])
        return self._take_snapshot(
            volume,
            name=name or now_iso(),
            attributes=attributes,
            enable_remote_replication=enable_remote_replication,
        )

    def delete_snapshot(self, snapshot_id: int) -> None:
        """Delete a snapshot (also when it belongs to a group snapshot).

        Args:
            snapshot_id: the snapshot.

        Raises:
            SnapshotIDDoesNotExistError: no such snapshot.
        """
        self.get_snapshot(snapshot_id)
        self.discard_snapshot(snapshot_id)

    def discard_snapshot(self, snapshot_id: int) -> None:
        """Drop a snapshot, its bytes and its group membership (empty groups go too).

        Args:
            snapshot_id: the snapshot; unknown IDs are ignored.
        """
        for group in list(self.group_snapshots_by_id.values()):
            if snapshot_id in group.member_ids:
                group.member_ids.remove(snapshot_id)
                if not group.member_ids:
                    del self.group_snapshots_by_id[group.group_snapshot_id]
        super().discard_snapshot(snapshot_id)

    def rollback_to_snapshot(
        self,
        volume_id: int,
        *,
        snapshot_id: int,
        save_current_state: bool,
        name: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> Snapshot | None:
        """Make the volume's bytes and size those of one of its snapshots.

        Args:
            volume_id: the volume.
            snapshot_id: a snapshot of that volume.
            save_current_state: first snapshot the current bytes.
            name: the name of that saved snapshot.
            attributes: the attributes of that saved snapshot.

        Returns:
            The snapshot of the previous state, when one was saved.

        Raises:
            VolumeIDDoesNotExistError: no such active volume.
            SnapshotIDDoesNotExistError: no such snapshot of that volume.
            MaxSnapshotsPerVolumeExceededError: no room to save the current state.
        """
        volume = self.get_active_volume(volume_id)
        snapshot = self.get_snapshot(snapshot_id, volume_id=volume_id)
        saved = None
        if save_current_state:
            self._check_snapshot_room([volume_id])
            saved = self._take_snapshot(volume, name=name or now_iso(), attributes=attributes)
        size = snapshot.total_size_bytes
        copy_sparse(self.snapshot_path(snapshot_id), self.volume_path(volume_id), size_bytes=size)
        volume.total_size_bytes = size
        return saved

    def create_group_snapshot(
        self,
        volume_ids: list[int],
        *,
        name: str | None = None,
        attributes: dict[str, Any] | None = None,
        enable_remote_replication: bool = False,
    ) -> GroupSnapshot:
        """Snapshot several active volumes at one instant; members share the group's name.

        Args:
            volume_ids: the volumes (distinct, at least one).
            name: the group snapshot's name (default: the current time).
            attributes: free-form attributes.
            enable_remote_replication: recorded only.

        Returns:
            The group snapshot.

        Raises:
            InvalidParameterError: no volume, or a volume twice.
            ExceededLimitError: too many volumes.
            VolumeIDDoesNotExistError: a volume is not active.
            MaxSnapshotsPerVolumeExceededError: a volume is full of snapshots.
        """
        if not volume_ids or len(set(volume_ids)) != len(volume_ids):
            raise InvalidParameterError("volumes must list distinct volume IDs")
        if len(volume_ids) > self.limits.volumes_per_group_snapshot_max:
            raise ExceededLimitError("Exceeded maximum number of volumes per group snapshot")
        volumes = [self.get_active_volume(v) for v in volume_ids]
        self._check_snapshot_room(volume_ids)
        group = GroupSnapshot(
            group_snapshot_id=self.new_id("groupSnapshot"),
            name=name or now_iso(),
            group_snapshot_uuid=str(uuid.uuid4()),
            member_ids=[],
            attributes=dict(attributes or {}),
            enable_remote_replication=enable_remote_replication,
        )
        for volume in volumes:
            self._add_member(group, volume)
        self.group_snapshots_by_id[group.group_snapshot_id] = group
        return group

    def _add_member(self, group: GroupSnapshot, volume: Volume) -> None:
        member = self._take_snapshot(
            volume,
            name=group.name,
            attributes=group.attributes,
            enable_remote_replication=group.enable_remote_replication,
        )
        member.group_id = group.group_snapshot_id
        member.group_snapshot_uuid = group.group_snapshot_uuid
        group.member_ids.append(member.snapshot_id)

    def delete_group_snapshot(self, group_snapshot_id: int, *, save_members: bool) -> None:
        """Delete a group snapshot, and its member snapshots unless `save_members`.

        Args:
            group_snapshot_id: the group snapshot.
            save_members: keep the members as ordinary snapshots.

        Raises:
            GroupSnapshotIDDoesNotExistError: no such group snapshot.
        """
        group = self.get_group_snapshot(group_snapshot_id)
        del self.group_snapshots_by_id[group_snapshot_id]
        for snapshot_id in group.member_ids:
            if save_members:
                member = self.snapshots_by_id[snapshot_id]
                member.group_id = 0
                member.group_snapshot_uuid = NO_GROUP_UUID
            else:
                self.discard_snapshot(snapshot_id)

    def _check_snapshot_room(self, volume_ids: list[int]) -> None:
        limit = self.limits.snapshots_per_volume_max
        for volume_id in volume_ids:
            count = sum(1 for s in self.snapshots_by_id.values() if s.volume_id == volume_id)
            if count >= limit:
                raise MaxSnapshotsPerVolumeExceededError(volume_id, limit)

    def _take_snapshot(
        self,
        volume: Volume,
        *,
        name: str,
        attributes: dict[str, Any] | None,
        enable_remote_replication: bool = False,
    ) -> Snapshot:
        snapshot = Snapshot(
            snapshot_id=self.new_id("snapshot"),
            volume_id=volume.volume_id,
            name=name,
            total_size_bytes=volume.total_size_bytes,
            snapshot_uuid=str(uuid.uuid4()),
            attributes=dict(attributes or {}),
            enable_remote_replication=enable_remote_replication,
            checksum="0x" + secrets.token_hex(4),
        )
        copy_sparse(
            self.volume_path(volume.volume_id),
            self.snapshot_path(snapshot.snapshot_id),
            size_bytes=volume.total_size_bytes,
        )
        self.snapshots_by_id[snapshot.snapshot_id] = snapshot
        return snapshot

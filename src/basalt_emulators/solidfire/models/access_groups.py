"""Volume access groups: which initiators (IQNs) may see which volumes."""

from __future__ import annotations

from typing import Any

from basalt_emulators.solidfire.errors import (
    AlreadyInVolumeAccessGroupError,
    DuplicateUsernameError,
    ExceededLimitError,
    NotInVolumeAccessGroupError,
)
from basalt_emulators.solidfire.models.records import AccessGroup
from basalt_emulators.solidfire.models.snapshots import SnapshotOps


class AccessGroupOps(SnapshotOps):
    """CreateVolumeAccessGroup, Add/Remove initiators and volumes, DeleteVolumeAccessGroup."""

    def create_access_group(
        self,
        name: str,
        *,
        initiators: list[str] | None = None,
        volume_ids: list[int] | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> AccessGroup:
        """Create a volume access group.

        Args:
            name: a unique name.
            initiators: IQNs to admit (each may be in one group only).
            volume_ids: active volumes to expose.
            attributes: free-form attributes.

        Returns:
            The new group.

        Raises:
            DuplicateUsernameError: the name is taken (the array's own error name for it).
            ExceededLimitError: too many groups, initiators or volumes, or an initiator is
                already in another group (the message names it).
            VolumeIDDoesNotExistError: a volume is not active.
        """
        self.check_name(name, what="volume access group")
        if any(g.name == name for g in self.access_groups_by_id.values()):
            raise DuplicateUsernameError(name)
        if len(self.access_groups_by_id) >= self.limits.access_group_count_max:
            raise ExceededLimitError("Exceeded maximum number of VolumeAccessGroups")
        group = AccessGroup(access_group_id=0, name=name, attributes=dict(attributes or {}))
        new_initiators = self._admissible_initiators(group, initiators or [])
        new_volumes = self._admissible_volumes(group, volume_ids or [])
        group.access_group_id = self.new_id("volumeAccessGroup")
        self._admit(group, new_initiators, new_volumes)
        self.access_groups_by_id[group.access_group_id] = group
        return group

    def add_initiators(self, access_group_id: int, initiators: list[str]) -> AccessGroup:
        """Admit more initiators (all or none).

        Args:
            access_group_id: the group.
            initiators: IQNs not yet in any group.

        Returns:
            The changed group.

        Raises:
            VolumeAccessGroupIDDoesNotExistError: no such group.
            AlreadyInVolumeAccessGroupError: an initiator is already in this group.
            ExceededLimitError: the group is full or an initiator is in another group.
        """
        group = self.get_access_group(access_group_id)
        self._admit(group, self._admissible_initiators(group, initiators), [])
        return group

    def remove_initiators(self, access_group_id: int, initiators: list[str]) -> AccessGroup:
        """Remove initiators (all or none).

        Args:
            access_group_id: the group.
            initiators: IQNs in this group.

        Returns:
            The changed group.

        Raises:
            VolumeAccessGroupIDDoesNotExistError: no such group.
            NotInVolumeAccessGroupError: an initiator is not in this group.
        """
        group = self.get_access_group(access_group_id)
        wanted = [i.lower() for i in initiators]
        missing = [i for i in wanted if i not in group.initiators]
        if missing:
            raise NotInVolumeAccessGroupError(f"Initiators {missing} are not in the group")
        group.initiators = [i for i in group.initiators if i not in wanted]
        return group

    def add_volumes(self, access_group_id: int, volume_ids: list[int]) -> AccessGroup:
        """Expose more active volumes (all or none).

        Args:
            access_group_id: the group.
            volume_ids: active volumes not yet in this group.

        Returns:
            The changed group.

        Raises:
            VolumeAccessGroupIDDoesNotExistError: no such group.
            VolumeIDDoesNotExistError: a volume is not active.
            AlreadyInVolumeAccessGroupError: a volume is already in this group.
            ExceededLimitError: the group is full.
        """
        group = self.get_access_group(access_group_id)
        self._admit(group, [], self._admissible_volumes(group, volume_ids))
        return group

    def remove_volumes(self, access_group_id: int, volume_ids: list[int]) -> AccessGroup:
        """Stop exposing volumes (all or none).

        Args:
            access_group_id: the group.
            volume_ids: volumes in this group.

        Returns:
            The changed group.

        Raises:
            VolumeAccessGroupIDDoesNotExistError: no such group.
            NotInVolumeAccessGroupError: a volume is not in this group.
        """
        group = self.get_access_group(access_group_id)
        missing = [v for v in volume_ids if v not in group.volume_ids]
        if missing:
            raise NotInVolumeAccessGroupError(f"Volumes {missing} are not in the group")
        group.volume_ids = [v for v in group.volume_ids if v not in volume_ids]
        return group

    def delete_access_group(self, access_group_id: int) -> None:
        """Delete a group (its volumes and initiators are untouched).

        Args:
            access_group_id: the group.

        Raises:
            VolumeAccessGroupIDDoesNotExistError: no such group.
        """
        self.get_access_group(access_group_id)
        del self.access_groups_by_id[access_group_id]

    def access_group_ids_of(self, volume_id: int) -> list[int]:
        """IDs of the groups exposing this volume.

        Args:
            volume_id: the volume.

        Returns:
            Group IDs in ascending order.
        """
        return sorted(
            g.access_group_id
            for g in self.access_groups_by_id.values()
            if volume_id in g.volume_ids or volume_id in g.deleted_volume_ids
        )

    def initiator_id(self, initiator: str) -> int:
        """The stable ID the cluster gives an initiator name.

        Args:
            initiator: the IQN.

        Returns:
            Its initiatorID.
        """
        if initiator not in self.initiator_ids:
            self.initiator_ids[initiator] = len(self.initiator_ids) + 1
        return self.initiator_ids[initiator]

    def _admissible_initiators(self, group: AccessGroup, initiators: list[str]) -> list[str]:
        originals: dict[str, str] = {}
        for initiator in initiators:
            originals.setdefault(initiator.lower(), initiator)
        wanted = list(originals)
        for iqn, original in originals.items():
            if iqn in group.initiators:
                raise AlreadyInVolumeAccessGroupError(
                    f"Initiator {original} is already in the group"
                )
            if self._groups_holding(iqn) >= self.limits.access_groups_per_initiator_max:
                raise ExceededLimitError(
                    f"Exceeded maximum number of VolumeAccessGroups per Initiator: {original}"
                )
        if len(group.initiators) + len(wanted) > self.limits.initiators_per_access_group_max:
            raise ExceededLimitError("Exceeded maximum number of Initiators per VolumeAccessGroup")
        return wanted

    def _admissible_volumes(self, group: AccessGroup, volume_ids: list[int]) -> list[int]:
        wanted = list(dict.fromkeys(volume_ids))
        for volume_id in wanted:
            self.get_active_volume(volume_id)
            if volume_id in group.volume_ids:
                raise AlreadyInVolumeAccessGroupError(f"Volume {volume_id} is already in the group")
        if len(group.volume_ids) + len(wanted) > self.limits.volumes_per_access_group_max:
            raise ExceededLimitError("Exceeded maximum number of Volumes per VolumeAccessGroup")
        return wanted

    def _admit(self, group: AccessGroup, initiators: list[str], volume_ids: list[int]) -> None:
        for iqn in initiators:
            self.initiator_id(iqn)
            group.initiators.append(iqn)
        group.volume_ids.extend(volume_ids)

    def _groups_holding(self, iqn: str) -> int:
        return sum(1 for g in self.access_groups_by_id.values() if iqn in g.initiators)

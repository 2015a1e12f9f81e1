"""Groups on an Element cluster: the array keeps no group object; a group snapshot is
one CreateGroupSnapshot, which the array takes at one instant for every member.

- create/update/delete of a group keep nothing on the array (update checks that
  the volumes it adds are there).
- A group snapshot is named after its first member's snapshot
  (``<volume_prefix><snapshot id>``); Element gives every member snapshot the
  group's name, so members are told apart by volume, and each Basalt snapshot's
  provider_location (``"<snapshotID> <volumeID> <cluster uuid>"``) finds it.
  A re-run after a lost reply finds the group snapshot by that name instead of
  taking a second one.
- A group from a group snapshot clones each member snapshot (CloneVolume with
  ``snapshotID``); from a source group it first takes a temporary group snapshot
  (``...-tmp``) so that the copies are one cut, clones from it, and deletes it.
  Either way a failure deletes the volumes already made.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from basalt.drivers.solidfire.copies import SolidFireCopies
from basalt.drivers.solidfire.naming import provider_id
from basalt.drivers.solidfire.objects import ElementSnapshot, ElementVolume
from basalt.drivers.types import (
    GIB,
    GroupCut,
    GroupRef,
    MemberCopy,
    ProgressCallback,
    SnapshotRef,
    VolumeRef,
)
from basalt.errors import DriverError

TEMPORARY_SUFFIX = "-tmp"
MEMBERS_ATTRIBUTE = "basalt-members"
"""A group snapshot's attribute: Element volume id -> the Basalt snapshot id of its member
(members carry the group's name, so this is how listings tell them apart)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class SolidFireGroups(SolidFireCopies):
    """SupportsGroups on Element: CreateGroupSnapshot, ListSnapshots, CloneVolume."""

    def create_group(self, group: GroupRef) -> None:
        """Nothing to make: Element has no group object."""

    def update_group(
        self, group: GroupRef, *, add: Sequence[VolumeRef], remove: Sequence[VolumeRef]
    ) -> None:
        """Nothing to change on the array; the volumes added must be on it.

        Raises:
            DriverError: an added volume is missing from the cluster.
        """
        for volume in add:
            self.require_volume(volume, action=f"add to group {group.id}")

    def delete_group(self, group: GroupRef) -> None:
        """Nothing to remove: Element has no group object."""

    def create_group_snapshot(
        self, group: GroupRef, members: Sequence[tuple[SnapshotRef, VolumeRef]]
    ) -> GroupCut:
        """One CreateGroupSnapshot of every member volume.

        Raises:
            DriverError: a member volume is missing, or the cluster refused.
        """
        if not members:
            raise DriverError(self.backend_name, f"group {group.id}: no member to snapshot")
        started = utcnow()
        element_ids = [self.require_volume(v, action="snapshot").volume_id for _, v in members]
        name = self.naming.snapshot_name(members[0][0].id)
        taken = self._group_members(name, element_ids)
        if taken is None:
            claimed = {
                str(element_id): snapshot.id
                for (snapshot, _), element_id in zip(members, element_ids, strict=True)
            }
            self.array.create_once(
                "CreateGroupSnapshot",
                {
                    "name": name,
                    "volumes": element_ids,
                    "attributes": {MEMBERS_ATTRIBUTE: claimed},
                },
                key="groupSnapshotID",
                find=lambda: self._group_ids(name, element_ids),
                remove=self._delete_group_snapshot,
            )
            taken = self._group_members(name, element_ids)
        if taken is None:
            raise DriverError(
                self.backend_name, f"group snapshot {name} is not on the cluster after creating"
            )
        finished = utcnow()
        copies = tuple(
            MemberCopy(
                volume_id=volume.id,
                copy_id=snapshot.id,
                provider_location=provider_id(
                    taken[element_id].snapshot_id, element_id, self.cluster.uuid
                ),
                captured_at=finished,
            )
            for (snapshot, volume), element_id in zip(members, element_ids, strict=True)
        )
        return GroupCut(
            members=copies, quiesced=True, pause_ms=0.0, started_at=started, finished_at=finished
        )

    def delete_group_snapshot(self, group: GroupRef, snapshots: Sequence[SnapshotRef]) -> None:
        """DeleteSnapshot of every member snapshot; those gone already are fine.

        Raises:
            DriverError: the cluster refused.
        """
        for snapshot in snapshots:
            for found in self.find_snapshots(snapshot):
                self.array.delete_snapshot(found.snapshot_id)

    def create_group_from_src(
        self,
        group: GroupRef,
        members: Sequence[tuple[VolumeRef, VolumeRef | SnapshotRef]],
        *,
        progress: ProgressCallback,
    ) -> GroupCut:
        """CloneVolume of each source as one cut (see the module docstring).

        Raises:
            DriverError: a source is missing, a new volume is smaller than its source,
                or the cluster refused (the volumes already made are deleted).
        """
        if not members:
            raise DriverError(self.backend_name, f"group {group.id}: no member to create")
        started = utcnow()
        total = sum(volume.size_bytes for volume, _ in members)
        progress(0, total)
        temporary: str | None = None
        made: list[VolumeRef] = []
        copies: list[MemberCopy] = []
        try:
            points, temporary = self._points_of(members)
            for (volume, source), (element_volume, snapshot_id, source_bytes) in zip(
                members, points, strict=True
            ):
                update = self._clone(
                    volume,
                    source_volume_id=element_volume,
                    snapshot_id=snapshot_id,
                    source_bytes=source_bytes,
                    source_label=f"{_kind(source)} {source.id}",
                    progress=lambda _done, _total: None,
                )
                made.append(volume)
                copies.append(
                    MemberCopy(
                        volume_id=source.volume_id
                        if isinstance(source, SnapshotRef)
                        else source.id,
                        copy_id=volume.id,
                        provider_location=update.provider_location,
                        captured_at=utcnow(),
                    )
                )
                progress(sum(v.size_bytes for v in made), total)
        except Exception:
            for volume in made:
                self.delete_volume(volume)
            raise
        finally:
            if temporary is not None:
                for group_id in self._group_ids(temporary, None):
                    self._delete_group_snapshot(group_id)
        return GroupCut(
            members=tuple(copies),
            quiesced=True,
            pause_ms=0.0,
            started_at=started,
            finished_at=utcnow(),
        )

    def _points_of(
        self, members: Sequence[tuple[VolumeRef, VolumeRef | SnapshotRef]]
    ) -> tuple[list[tuple[int, int, int]], str | None]:
        """(volume id, snapshot id, bytes) to clone each new volume from, and the name of
        the temporary group snapshot taken of source volumes (None: sources were
        snapshots)."""
        sources = [source for _, source in members]
        if all(isinstance(s, SnapshotRef) for s in sources):
            points = []
            for source in sources:
                assert isinstance(source, SnapshotRef)
                found = self.find_snapshots(source)
                if not found:
                    raise DriverError(
                        self.backend_name, f"snapshot {source.id} is not on the cluster"
                    )
                size = found[0].total_size_bytes or source.size_gib * GIB
                points.append((found[0].volume_id, found[0].snapshot_id, size))
            return points, None
        volumes: list[ElementVolume] = []
        for source in sources:
            if not isinstance(source, VolumeRef):
                raise DriverError(
                    self.backend_name, "a group is made from volumes or from snapshots, not both"
                )
            volumes.append(self.require_volume(source, action="copy"))
        name = self.naming.volume_name(members[0][0].id) + TEMPORARY_SUFFIX
        element_ids = [v.volume_id for v in volumes]
        self.array.create_once(
            "CreateGroupSnapshot",
            {"name": name, "volumes": element_ids},
            key="groupSnapshotID",
            find=lambda: self._group_ids(name, element_ids),
            remove=self._delete_group_snapshot,
        )
        taken = self._group_members(name, element_ids)
        if taken is None:
            raise DriverError(self.backend_name, f"temporary group snapshot {name} vanished")
        points = [
            (v.volume_id, taken[v.volume_id].snapshot_id, v.total_size_bytes) for v in volumes
        ]
        return points, name

    def _group_members(
        self, name: str, element_ids: Sequence[int]
    ) -> dict[int, ElementSnapshot] | None:
        """The member snapshot of each volume in the group snapshot called ``name`` (the
        lowest group id when a lost reply left two), or None when there is none whole."""
        groups: dict[int, dict[int, ElementSnapshot]] = {}
        for element_id in element_ids:
            for snapshot in self.array.snapshots_named(name, element_id):
                if snapshot.group_id:
                    groups.setdefault(snapshot.group_id, {})[element_id] = snapshot
        whole = [g for g in sorted(groups) if len(groups[g]) == len(element_ids)]
        return groups[whole[0]] if whole else None

    def _group_ids(self, name: str, element_ids: Sequence[int] | None) -> list[int]:
        """Ids of the group snapshots called ``name`` (of these volumes, when given)."""
        listed = self.client.call("ListGroupSnapshots", {})
        found = []
        for raw in listed.get("groupSnapshots", []):
            if raw.get("name") != name:
                continue
            volumes = {int(m["volumeID"]) for m in raw.get("members", [])}
            if element_ids is None or volumes == set(element_ids):
                found.append(int(raw["groupSnapshotID"]))
        return sorted(found)

    def group_member_ids(self) -> set[str]:
        """The Basalt snapshot ids of every member of a group snapshot Basalt took.

        Raises:
            DriverError: the cluster could not be listed.
        """
        found: set[str] = set()
        for raw in self.client.call("ListGroupSnapshots", {}).get("groupSnapshots", []):
            claimed = (raw.get("attributes") or {}).get(MEMBERS_ATTRIBUTE)
            if not isinstance(claimed, dict):
                continue
            for member in raw.get("members", []):
                basalt_id = claimed.get(str(member.get("volumeID")))
                if isinstance(basalt_id, str):
                    found.add(basalt_id)
        return found

    def _delete_group_snapshot(self, group_snapshot_id: int) -> None:
        self.client.call(
            "DeleteGroupSnapshot", {"groupSnapshotID": group_snapshot_id, "saveMembers": False}
        )


def _kind(source: VolumeRef | SnapshotRef) -> str:
    return "snapshot" if isinstance(source, SnapshotRef) else "volume"

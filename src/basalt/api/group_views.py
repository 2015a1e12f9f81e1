"""Group types, groups and group snapshots: the response views (plain dicts, Cinder's
shapes) and the closed models that document them for OpenAPI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from basalt.api.responses import Shape, Timestamp
from basalt.api.schemas import stamp
from basalt.model import Volume
from basalt.model.group import Group, GroupSnapshot, GroupType


def group_type_view(group_type: GroupType) -> dict[str, object]:
    """One group type."""
    return {
        "id": group_type.id,
        "name": group_type.name,
        "description": group_type.description,
        "is_public": group_type.is_public,
        "group_specs": dict(group_type.group_specs),
    }


def group_summary(group: Group) -> dict[str, object]:
    """A group in a plain listing."""
    return {"id": group.id, "name": group.name}


def group_detail(
    group: Group, *, volumes: Mapping[str, Sequence[Volume]] | None = None
) -> dict[str, object]:
    """One group with every field Cinder shows (3.13, 3.14's sources, 3.58's project);
    ``volumes`` (3.25's ``list_volume``): the ids of each group's volumes."""
    view: dict[str, object] = {
        "id": group.id,
        "name": group.name,
        "description": group.description,
        "status": str(group.status),
        "availability_zone": group.availability_zone,
        "created_at": stamp(group.created_at),
        "group_type": group.group_type_id,
        "volume_types": list(group.volume_type_ids),
        "group_snapshot_id": group.group_snapshot_id,
        "source_group_id": group.source_group_id,
        "project_id": group.project_id,
        "replication_status": group.replication_status or "disabled",
    }
    if volumes is not None:
        view["volumes"] = [v.id for v in volumes.get(group.id, ())]
    return view


def group_snapshot_summary(snapshot: GroupSnapshot) -> dict[str, object]:
    """A group snapshot in a plain listing."""
    return {"id": snapshot.id, "name": snapshot.name}


def group_snapshot_detail(snapshot: GroupSnapshot) -> dict[str, object]:
    """One group snapshot."""
    return {
        "id": snapshot.id,
        "name": snapshot.name,
        "description": snapshot.description,
        "status": str(snapshot.status),
        "group_id": snapshot.group_id,
        "group_type_id": snapshot.group_type_id,
        "created_at": stamp(snapshot.created_at),
        "project_id": snapshot.project_id,
    }


class GroupTypeView(Shape):
    id: str
    name: str
    description: str | None
    is_public: bool
    group_specs: dict[str, str]


class OneGroupType(Shape):
    group_type: GroupTypeView


class GroupTypeList(Shape):
    group_types: list[GroupTypeView]


class GroupSpecs(Shape):
    group_specs: dict[str, str]


class GroupItem(Shape):
    id: str
    name: str | None


class GroupView(GroupItem):
    description: str | None
    status: str
    availability_zone: str
    created_at: Timestamp
    group_type: str
    volume_types: list[str]
    group_snapshot_id: str | None
    source_group_id: str | None
    project_id: str
    replication_status: str
    volumes: list[str] | None = None


class OneGroup(Shape):
    group: GroupView


class ReplicationTargetView(Shape):
    backend_id: str
    interval_seconds: float
    """How often the group's volumes are shipped there (Basalt's; Cinder leaves the
    other keys to the driver)."""


class ReplicationTargets(Shape):
    replication_targets: list[ReplicationTargetView]


class GroupList(Shape):
    groups: list[GroupItem]


class GroupDetailList(Shape):
    groups: list[GroupView]


class GroupSnapshotItem(Shape):
    id: str
    name: str | None


class GroupSnapshotView(GroupSnapshotItem):
    description: str | None
    status: str
    group_id: str
    group_type_id: str
    created_at: Timestamp
    project_id: str


class OneGroupSnapshot(Shape):
    group_snapshot: GroupSnapshotView


class GroupSnapshotList(Shape):
    group_snapshots: list[GroupSnapshotItem]


class GroupSnapshotDetailList(Shape):
    group_snapshots: list[GroupSnapshotView]

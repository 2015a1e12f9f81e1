"""Volume access groups (VAGs): initiator ACLs on an Element cluster, when enabled.

Off by default, as in the seed's driver (``sf_enable_vag``): access is then the
account's CHAP alone. When on, each host initiator has one group named after its
IQN (each run of characters other than letters and digits becomes ``-``), made
on its first connect with ``{"created-by": "basalt"}`` in its attributes; a
volume is in the groups of the initiators attached to it. A group Basalt made is
deleted when its last volume leaves it; groups made by others are only edited.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from basalt.drivers.solidfire.array import ElementArray
from basalt.drivers.solidfire.errors import (
    SolidFireConflictError,
    SolidFireLimitError,
    SolidFireNotFoundError,
)
from basalt.errors import DriverError

log = logging.getLogger(__name__)
MARK = {"created-by": "basalt"}
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")
MAX_NAME = 64


def group_name(initiator: str) -> str:
    """The access group name for an initiator IQN, as the seed's driver derives it."""
    return _NOT_ALNUM.sub("-", initiator)[:MAX_NAME]


@dataclass(frozen=True, slots=True)
class AccessGroup:
    """One volume access group as ListVolumeAccessGroups reports it."""

    group_id: int
    name: str
    initiators: frozenset[str]
    volume_ids: frozenset[int]
    ours: bool

    @classmethod
    def from_reply(cls, item: object) -> AccessGroup:
        """Parse one ``volumeAccessGroups`` entry.

        Raises:
            ValueError: a field is missing or has the wrong type.
        """
        if not isinstance(item, dict):
            raise ValueError("an access group is not an object")
        group_id, name = item.get("volumeAccessGroupID"), item.get("name")
        if not isinstance(group_id, int) or not isinstance(name, str):
            raise ValueError("volumeAccessGroupID or name is missing")
        initiators, volumes = item.get("initiators", []), item.get("volumes", [])
        if not isinstance(initiators, list) or not isinstance(volumes, list):
            raise ValueError(f"group {group_id}: initiators or volumes is not a list")
        attributes = item.get("attributes") or {}
        return cls(
            group_id=group_id,
            name=name,
            initiators=frozenset(str(i).lower() for i in initiators),
            volume_ids=frozenset(int(v) for v in volumes),
            ours=isinstance(attributes, dict) and attributes.get("created-by") == "basalt",
        )


class AccessGroups:
    """Adds volumes to and removes them from their initiators' access groups."""

    def __init__(self, array: ElementArray) -> None:
        self.array = array

    def groups(self) -> list[AccessGroup]:
        """Every access group on the cluster.

        Raises:
            SolidFireError: the listing failed.
        """
        return self.array.read(
            "ListVolumeAccessGroups", {}, "volumeAccessGroups", AccessGroup.from_reply
        )

    def admit(self, volume_id: int, initiators: Iterable[str]) -> None:
        """Put the volume in the group of each initiator, making groups as needed.

        Raises:
            DriverError: an initiator is in another group, or a group is full.
            SolidFireError: a call failed.
        """
        wanted = {i.lower() for i in initiators}
        if not wanted:
            return
        existing = self.groups()
        for initiator in sorted(wanted):
            group = _group_of(existing, initiator)
            if group is None:
                self._create(volume_id, initiator)
            elif volume_id not in group.volume_ids:
                self._call(
                    "AddVolumesToVolumeAccessGroup",
                    {"volumeAccessGroupID": group.group_id, "volumes": [volume_id]},
                    initiator,
                )

    def release(self, volume_id: int, initiators: Iterable[str] | None) -> None:
        """Take the volume out of these initiators' groups (of every group when None).

        Raises:
            SolidFireError: a call failed.
        """
        names = None if initiators is None else {i.lower() for i in initiators}
        for group in self.groups():
            if volume_id not in group.volume_ids:
                continue
            if names is not None and not (group.initiators & names):
                continue
            try:
                self.array.client.call(
                    "RemoveVolumesFromVolumeAccessGroup",
                    {"volumeAccessGroupID": group.group_id, "volumes": [volume_id]},
                )
            except SolidFireNotFoundError:
                continue  # already out, or the group is gone
            if group.ours and group.volume_ids == {volume_id}:
                self._delete(group)

    def _create(self, volume_id: int, initiator: str) -> None:
        params = {
            "name": group_name(initiator),
            "initiators": [initiator],
            "volumes": [volume_id],
            "attributes": dict(MARK),
        }
        try:
            self.array.client.call("CreateVolumeAccessGroup", params)
        except SolidFireLimitError as exc:
            raise _limit_error(self.array.backend_name, initiator, exc) from exc
        except SolidFireConflictError:
            # Made concurrently (same name): add the volume to that one.
            group = _group_of(self.groups(), initiator)
            if group is None:
                raise
            self._call(
                "AddVolumesToVolumeAccessGroup",
                {"volumeAccessGroupID": group.group_id, "volumes": [volume_id]},
                initiator,
            )

    def _delete(self, group: AccessGroup) -> None:
        try:
            self.array.client.call(
                "DeleteVolumeAccessGroup", {"volumeAccessGroupID": group.group_id}
            )
        except SolidFireNotFoundError:
            return

    def _call(self, method: str, params: dict[str, object], initiator: str) -> None:
        try:
            self.array.client.call(method, params)
        except SolidFireConflictError:
            return  # already there
        except SolidFireLimitError as exc:
            raise _limit_error(self.array.backend_name, initiator, exc) from exc


def _group_of(groups: list[AccessGroup], initiator: str) -> AccessGroup | None:
    """The group holding this initiator, else the one named after it."""
    lowered = initiator.lower()
    for group in groups:
        if lowered in group.initiators:
            return group
    name = group_name(initiator)
    return next((g for g in groups if g.name == name), None)


def _limit_error(backend: str, initiator: str, cause: SolidFireLimitError) -> DriverError:
    return DriverError(
        backend,
        f"cannot admit initiator {initiator}: {cause}",
        hint="an initiator can be in one access group only, and a group holds at most "
        "64 initiators and 2000 volumes (GetLimits)",
    )
